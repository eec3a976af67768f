import json
import time
from datetime import date, datetime, timedelta

import rules
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Exists, OuterRef
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from concertation.lib import audit
from concertation.lib.dates import PARIS, date_format
from networks import services
from networks.access import inside_required
from networks.forms import AcceptInvitationForm, InvitationForm, territory_label
from networks.models import (
    TERRITORY_SEARCH_MAX_LENGTH,
    Invitation,
    Membership,
    Network,
    Territory,
    User,
    normalize_email_address,
)
from networks.personal_data import personal_data_for
from networks.tokens import InvitationLinkError, read_invitation_token
from outbox.models import OutboxMessage

MEMBERS_PER_PAGE = 50


def _get_network_for_user(request, slug: str, permission: str | None = None) -> Network:
    """The active network named by ``slug``; 404 if unknown, 403 without ``permission``."""
    network = get_object_or_404(Network.objects.active(), slug=slug)
    if permission and not request.user.has_perm(permission, network):
        raise PermissionDenied
    return network


def network_list(request):
    networks = Network.objects.active().with_member_counts().order_by("family", "name")
    families = [
        {"label": label, "networks": [n for n in networks if n.family == value]}
        for value, label in Network.Family.choices
    ]
    return render(request, "networks/network_list.html", {"families": [f for f in families if f["networks"]]})


def network_detail(request, slug):
    network = _get_network_for_user(request, slug)
    user = request.user
    context = {
        "network": network,
        "can_view_members": user.has_perm("networks.read_members", network),
        "can_view_contacts": user.has_perm("networks.read_member_contacts", network),
        "can_invite": user.has_perm("networks.invite_member", network),
        "can_manage": user.has_perm("networks.manage_members", network),
    }
    if context["can_view_members"]:
        members = (
            Membership.objects.active()
            .filter(network=network, user__is_active=True)
            .select_related("user", "territory")
            .order_by("role", "user__full_name", "user__email")
        )
        context["members_page"] = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    if context["can_invite"]:
        context["pending_invitations"] = (
            Invitation.objects.pending()
            .filter(network=network)
            .select_related("invited_by", "territory")
            .prefetch_related("emails")
            .order_by("-created_at")[:50]
        )
    return render(request, "networks/network_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def invite(request, slug):
    network = _get_network_for_user(request, slug, "networks.invite_member")
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = services.invitation_send(
            inviter=request.user,
            network=network,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            full_name=form.cleaned_data["full_name"],
            territory=form.territory,
        )
        email = form.cleaned_data["email"]
        if outcome.kind == "invited":
            messages.success(request, _("Invitation envoyée à %(email)s.") % {"email": email})
        elif outcome.kind == "added":
            messages.success(
                request,
                _("%(email)s avait déjà un compte : la personne a été ajoutée au réseau et prévenue par courriel.")
                % {"email": email},
            )
        else:
            messages.info(request, _("%(email)s est déjà membre de ce réseau.") % {"email": email})
        return redirect(network)
    return render(request, "networks/invite.html", {"network": network, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def deactivate_member(request, slug, membership_id):
    network = _get_network_for_user(request, slug, "networks.manage_members")
    membership = get_object_or_404(
        Membership.objects.active().select_related("user", "network"), pk=membership_id, network=network
    )
    if not rules.has_perm("networks.deactivate_membership", request.user, membership):
        raise PermissionDenied
    if request.method == "POST":
        services.membership_deactivate(actor=request.user, membership=membership)
        messages.success(
            request,
            _("%(name)s ne fait plus partie du réseau %(network)s.")
            % {"name": membership.user.get_full_name(), "network": network.name},
        )
        return redirect(network)
    return render(request, "networks/deactivate_member.html", {"network": network, "membership": membership})


def _get_pending_invitation(request, slug, invitation_id) -> Invitation:
    network = _get_network_for_user(request, slug, "networks.invite_member")
    return get_object_or_404(
        Invitation.objects.pending().select_related("network", "territory"), pk=invitation_id, network=network
    )


def _invitations_resent_in_the_last_hour(user) -> int:
    """Invitation e-mails of the last hour that were not an invitation's first,
    about the invitations ``user`` sent last. Counted in the database, which
    holds them anyway, so that the limit holds with the cache down."""
    emails = OutboxMessage.objects.filter(kind="invitation", about_type=ContentType.objects.get_for_model(Invitation))
    earlier = emails.filter(about_id=OuterRef("about_id"), pk__lt=OuterRef("pk"))
    return (
        emails.filter(
            created_at__gte=timezone.now() - timedelta(hours=1),
            about_id__in=Invitation.objects.filter(invited_by=user).values("pk"),
        )
        .filter(Exists(earlier))
        .count()
    )


@login_required
@require_http_methods(["POST"])
def resend_invitation(request, slug, invitation_id):
    invitation = _get_pending_invitation(request, slug, invitation_id)
    limit = settings.INVITATION_RESENDS_PER_HOUR
    if _invitations_resent_in_the_last_hour(request.user) >= limit:
        messages.error(
            request,
            _(
                "Vous avez déjà renvoyé %(limit)s invitations au cours de la dernière heure. "
                "Réessayez plus tard : l'invitation adressée à %(email)s n'a pas été renvoyée."
            )
            % {"limit": limit, "email": invitation.email},
        )
        return redirect(invitation.network)
    services.invitation_resend(inviter=request.user, invitation=invitation)
    messages.success(request, _("Invitation renvoyée à %(email)s, avec un nouveau lien.") % {"email": invitation.email})
    return redirect(invitation.network)


@login_required
@require_http_methods(["GET", "POST"])
def cancel_invitation(request, slug, invitation_id):
    invitation = _get_pending_invitation(request, slug, invitation_id)
    if request.method == "POST":
        services.invitation_revoke(invitation=invitation)
        messages.success(request, _("L'invitation adressée à %(email)s est annulée.") % {"email": invitation.email})
        return redirect(invitation.network)
    return render(request, "networks/cancel_invitation.html", {"invitation": invitation})


INVALID_LINK_STATUS = {"invalid": 400, "expired": 410, "used": 410, "revoked": 410}


def _invalid_link_page(request, error: InvitationLinkError):
    return render(
        request,
        "networks/invitation_invalid.html",
        {"reason": error.reason},
        status=INVALID_LINK_STATUS[error.reason],
    )


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    try:
        invitation = read_invitation_token(token)
    except InvitationLinkError as error:
        return _invalid_link_page(request, error)
    if request.user.is_authenticated and request.user.email != invitation.email:
        return render(request, "networks/invitation_other_account.html", {"invitation": invitation}, status=403)

    has_account = User.objects.filter(email=normalize_email_address(invitation.email)).exists()
    form = (
        None
        if has_account
        else AcceptInvitationForm(
            request.POST or None, email=invitation.email, initial={"full_name": invitation.full_name}
        )
    )
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            outcome = services.invitation_accept(
                token=token,
                full_name=form.cleaned_data["full_name"] if form else "",
                password=form.cleaned_data["password1"] if form else "",
            )
        except InvitationLinkError as error:
            # Used or revoked between the page and the submission.
            return _invalid_link_page(request, error)
        messages.success(request, _("Bienvenue dans le réseau %(network)s.") % {"network": outcome.network.name})
        if outcome.existing_account and not request.user.is_authenticated:
            messages.info(request, _("Connectez-vous avec votre mot de passe habituel."))
            return redirect("account_login")
        if not request.user.is_authenticated:
            login(request, outcome.user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("dashboard")
    return render(
        request,
        "networks/accept_invitation.html",
        {"invitation": invitation, "form": form, "has_account": has_account},
    )


TERRITORY_RESULTS = 20
# Searches one person may run per minute (typing sends one a few keystrokes apart).
TERRITORY_SEARCHES_PER_MINUTE = 120


@inside_required
@require_http_methods(["GET"])
def territory_search(request):
    """The official territories matching ``?q=`` (name, accents ignored, or code), for the
    territory fields' suggestions: at most ``TERRITORY_RESULTS``, each with the text the
    field accepts (``value``). Members and agents only; bounded per person and minute."""
    key = f"territory-search:{request.user.pk}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # the cache lost the key (or is down): let the search through
        count = 0
    if count > TERRITORY_SEARCHES_PER_MINUTE:
        return JsonResponse({"error": _("Trop de recherches : patientez une minute.")}, status=429)
    query = request.GET.get("q", "")[:TERRITORY_SEARCH_MAX_LENGTH]
    found = list(Territory.objects.search(query)[: TERRITORY_RESULTS + 1])
    results = [
        {"value": territory_label(t), "label": territory_label(t), "level": t.get_level_display(), "code": t.code}
        for t in found[:TERRITORY_RESULTS]
    ]
    response = JsonResponse({"results": results, "more": len(found) > TERRITORY_RESULTS})
    response["Cache-Control"] = "private, max-age=60"
    return response


# --- A person's own data (RGPD, right of access) ----------------------------------


def _readable(value) -> str:
    """A value of ``personal_data_for`` as the readable page writes it (escaped by the template)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, date):
        return date_format(value, "DATE_FORMAT")
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


# The audit trail records each reading of a person's data (concertation.lib.audit).
PERSONAL_DATA_EXPORTED = gettext_lazy("Données exportées : données personnelles")


@login_required
@never_cache
@require_http_methods(["GET"])
def my_data(request):
    """The signed-in person's data, section by section, on one readable page."""
    data = personal_data_for(request.user)
    audit.record(request.user, PERSONAL_DATA_EXPORTED, by=request.user, detail=gettext_lazy("page « Mes données »"))
    sections = [
        {
            "key": section["key"],
            "label": section["label"],
            "items": [
                [(label, _readable(item.get(key))) for key, label in section["fields"].items()]
                for item in section["items"]
            ],
        }
        for section in data["sections"]
    ]
    return render(
        request,
        "networks/my_data.html",
        {"sections": sections, "exported_at": data["exported_at"]},
    )


class ParisTimeJSONEncoder(DjangoJSONEncoder):
    """Moments written in Paris time with their offset (« 2026-12-02T14:00:00+01:00 »), as the
    readable page shows them, rather than in UTC."""

    def default(self, o):
        if isinstance(o, datetime) and timezone.is_aware(o):
            o = o.astimezone(PARIS)
        return super().default(o)


@login_required
@never_cache
@require_http_methods(["GET"])
def my_data_json(request):
    """The same data as a JSON file to download (dates in ISO 8601, UTF-8 text)."""
    data = personal_data_for(request.user)
    audit.record(request.user, PERSONAL_DATA_EXPORTED, by=request.user, detail=gettext_lazy("fichier JSON"))
    body = json.dumps(data, cls=ParisTimeJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="mes-donnees-concertation-{stamp}.json"'
    return response
