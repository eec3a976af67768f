"""The groups' pages: the list, a group's page, and a coordinator naming who attends for their network."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Min, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from networks.models import Membership, Network, User
from workgroups import services
from workgroups.access import _get_group_for_user, groups_required
from workgroups.models import NetworkDelegate, Session, WorkingGroup

SESSIONS_PER_PAGE = 20


@groups_required
def group_list(request):
    """Active groups (every group for staff), the person's own first."""
    user = request.user
    now = timezone.now()
    groups = WorkingGroup.objects.all() if user.is_staff else WorkingGroup.objects.active()
    groups = groups.annotate(
        network_count=Count("networks", filter=Q(networks__is_active=True), distinct=True),
        next_session_at=Min(
            "sessions__starts_at",
            filter=Q(sessions__starts_at__gte=now, sessions__status=Session.Status.SCHEDULED),
        ),
        # A draft's date is for its leads and staff only.
        next_announced_at=Min(
            "sessions__starts_at",
            filter=Q(
                sessions__starts_at__gte=now,
                sessions__status=Session.Status.SCHEDULED,
                sessions__invitations_sent_at__isnull=False,
            ),
        ),
    ).order_by("-is_plenary", "title")  # aggregate queries leave Meta.ordering out
    mine = set(WorkingGroup.objects.of_person(user).values_list("pk", flat=True))
    led = set(WorkingGroup.objects.led_by(user).values_list("pk", flat=True))
    active_networks = Network.objects.active().count()
    rows = []
    for group in groups:
        group.is_mine = group.pk in mine
        group.is_led = group.pk in led
        if not (user.is_staff or group.is_led):
            group.next_session_at = group.next_announced_at
        if group.is_plenary:
            group.network_count = active_networks
        rows.append(group)
    # Stable sort: the person's groups first, each part in the model's order (plenary, then by title).
    rows.sort(key=lambda g: not g.is_mine)
    return render(request, "workgroups/group_list.html", {"groups": rows, "has_own": bool(mine)})


@groups_required
def group_detail(request, pk):
    group = _get_group_for_user(request, pk)
    user = request.user
    can_manage = user.has_perm("workgroups.manage_group_sessions", group)
    networks = list(group.member_networks().order_by("name"))
    delegates: dict[int, list[User]] = {}
    for delegate in (
        NetworkDelegate.objects.filter(group=group, network__in=networks)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    ):
        delegates.setdefault(delegate.network_id, []).append(delegate.user)
    if user.is_staff:
        may_name = {network.pk for network in networks}
    else:
        may_name = set(
            Membership.objects.active()
            .coordinators()
            .filter(user=user, network__in=networks)
            .values_list("network_id", flat=True)
        )
    for network in networks:
        network.delegates = delegates.get(network.pk, [])
        network.may_name_delegates = network.pk in may_name
    # Leads and staff see every session, drafts included (marked as such), with the answers;
    # members only the sessions whose invitations have left.
    sessions = Session.objects.filter(group=group)
    sessions = sessions.with_answer_counts() if can_manage else sessions.announced_to(user)
    sessions = sessions.upcoming_first()
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "workgroups/group_detail.html",
        {
            "group": group,
            "can_manage": can_manage,
            "leads": list(group.leads.order_by("full_name", "email")),
            "people": list(group.people.filter(is_active=True).order_by("full_name", "email")),
            "networks": networks,
            "measures": list(group.measures.order_by("number")),
            "page_obj": page,
            "now": timezone.now(),
        },
    )


class DelegatesForm(forms.Form):
    people = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Personnes qui participent aux séances pour le réseau"),
        help_text=gettext_lazy(
            "Cochez les personnes invitées aux séances du groupe au titre du réseau. "
            "Si vous ne cochez personne, tous les membres actifs du réseau sont invités."
        ),
        widget=forms.CheckboxSelectMultiple,
        coerce=int,
        required=False,
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["people"].choices = [(m.user_id, f"{m.user.public_name} — {m.get_role_display()}") for m in members]


@groups_required
@require_http_methods(["GET", "POST"])
def delegates_edit(request, pk, network_pk):
    group = _get_group_for_user(request, pk)
    network = get_object_or_404(group.member_networks(), pk=network_pk)
    if not request.user.has_perm("workgroups.name_delegates", network):
        raise PermissionDenied
    members = []
    seen = set()
    for membership in (
        Membership.objects.active()
        .filter(network=network)
        .select_related("user")
        .order_by("user__full_name", "user__email", "pk")
    ):
        if membership.user_id not in seen:
            seen.add(membership.user_id)
            members.append(membership)
    current = list(NetworkDelegate.objects.filter(group=group, network=network).values_list("user_id", flat=True))
    form = DelegatesForm(
        request.POST if request.method == "POST" else None, members=members, initial={"people": current}
    )
    if request.method == "POST" and form.is_valid():
        users = [m.user for m in members if m.user_id in set(form.cleaned_data["people"])]
        try:
            services.delegates_set(group=group, network=network, by=request.user, users=users)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if users:
                messages.success(
                    request,
                    _("Participants désignés pour le réseau %(network)s au groupe « %(group)s » : enregistrés.")
                    % {"network": network.name, "group": group.title},
                )
            else:
                messages.success(
                    request,
                    _("Tous les membres actifs du réseau %(network)s seront invités aux séances du groupe.")
                    % {"network": network.name},
                )
            return redirect(group)
    return render(
        request,
        "workgroups/delegates_edit.html",
        {"group": group, "network": network, "form": form, "members": members, "named": bool(current)},
    )
