"""A lead's work on sessions, in the portal: schedule, agenda, invitations,
cancellation and attendance. Staff may do the same; other people only read
the session page. Every write goes through ``workgroups.services``."""

from collections import Counter

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from measures.models import Measure
from networks.models import Network
from workgroups import services
from workgroups.access import _get_group_for_user, _get_invitation_for_user, _get_session_for_user, groups_required
from workgroups.forms import (
    AgendaFormSet,
    AnswerForm,
    AttendanceForm,
    InvitationFilterForm,
    InviteePersonForm,
    SessionCancelForm,
    SessionForm,
    measure_label,
    my_answer_label,
)
from workgroups.models import MinutesVersion, Session, SessionInvitation

INVITATIONS_PER_PAGE = 50


def _candidates(request, session):
    """Whom the person may add to a session by address: anyone for staff, the group's people for a lead."""
    return None if request.user.is_staff else services.group_people(session.group)


def _message_of(error: ValidationError) -> str:
    return " ".join(error.messages)


def _refuse_unless_editable(request, session):
    """A cancelled or held session no longer changes: say so and go back to its page."""
    if request.user.has_perm("workgroups.edit_scheduled_session", session):
        return None
    if session.status == Session.Status.CANCELLED:
        messages.error(request, _("Cette séance a été annulée : elle ne peut plus être modifiée."))
    else:
        messages.error(request, _("Cette séance est marquée comme tenue : elle ne peut plus être modifiée."))
    return redirect(session)


# --- Schedule ------------------------------------------------------------------


@groups_required
@require_http_methods(["GET", "POST"])
def session_create(request, pk):
    group = _get_group_for_user(request, pk, manage=True)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(group=group, by=request.user, **form.values())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(
                request,
                _(
                    "Séance programmée. Construisez maintenant son ordre du jour ; "
                    "rien n'est envoyé tant que vous n'invitez pas."
                ),
            )
            return redirect("workgroups:agenda_edit", pk=session.pk)
    return render(request, "workgroups/session_form.html", {"form": form, "group": group, "session": None})


@groups_required
@require_http_methods(["GET", "POST"])
def session_edit(request, pk):
    session = _get_session_for_user(request, pk, manage=True)
    if refused := _refuse_unless_editable(request, session):
        return refused
    form = SessionForm(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        values = form.changed_values()
        if not values:
            messages.info(request, _("Aucune modification : la séance reste telle quelle."))
            return redirect(session)
        try:
            changes = services.session_update(session=session, by=request.user, **values)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            session.refresh_from_db()
            if changes and session.invitations_sent_at:
                messages.success(
                    request,
                    _("Séance modifiée. Les personnes invitées ont reçu une mise à jour (%(what)s).")
                    % {"what": ", ".join(change.label for change in changes)},
                )
            elif changes:
                messages.success(
                    request,
                    _("Séance modifiée. Les invitations ne sont pas encore parties : personne n'a été prévenu."),
                )
            else:
                messages.success(request, _("Rappels modifiés. Ce changement n'est pas envoyé aux personnes invitées."))
            return redirect(session)
    return render(request, "workgroups/session_form.html", {"form": form, "group": session.group, "session": session})


# --- Reading -------------------------------------------------------------------


def _attendance(session, *, by_network: bool) -> dict | None:
    """Who came to a held session: how many, and for leads and staff how many per network."""
    if session.status != Session.Status.HELD:
        return None
    present = SessionInvitation.objects.filter(session=session, attended=True)
    if not by_network:
        return {"count": present.count(), "by_network": None}
    counts = Counter(present.values_list("network__name", flat=True).order_by())
    return {
        "count": sum(counts.values()),
        "by_network": sorted(counts.items(), key=lambda row: (row[0] is None, row[0] or "")),
    }


@groups_required
def session_detail(request, pk):
    session = _get_session_for_user(request, pk)
    user = request.user
    # Before its invitations leave, a session is its leads' draft.
    if session.invitations_sent_at is None and not Session.objects.filter(pk=session.pk).announced_to(user).exists():
        raise Http404
    # Only a standing invitation is answered here (withdrawn, or left the network: none).
    invitation = SessionInvitation.objects.standing().filter(session=session, user=user).first()
    can_manage = user.has_perm("workgroups.manage_session", session)
    may_answer = invitation is not None and session.status == Session.Status.SCHEDULED and not session.has_started
    context = {
        "session": session,
        "group": session.group,
        "agenda": list(session.agenda_items.select_related("measure")),
        "invitation": invitation,
        "my_answer_label": my_answer_label(invitation.answer) if invitation else "",
        "answer_form": AnswerForm(initial={"answer": invitation.answer, "comment": invitation.comment})
        if may_answer
        else None,
        "show_link": user.has_perm("workgroups.read_online_link", session),
        **_minutes_context(user, session),
        "can_manage": can_manage,
        "can_edit": user.has_perm("workgroups.edit_scheduled_session", session),
        "can_cancel": can_manage and session.status == Session.Status.SCHEDULED and session.ends_at > timezone.now(),
        "can_record_attendance": can_manage and session.status != Session.Status.CANCELLED and session.has_started,
        "counts": SessionInvitation.objects.current().filter(session=session).answer_counts() if can_manage else None,
        "attendance": _attendance(session, by_network=can_manage),
    }
    return render(request, "workgroups/session_detail.html", context)


def _minutes_context(user, session) -> dict:
    """What the session page says of its minutes: the latest published version
    for those who may read it, the draft for those who write it."""
    latest = MinutesVersion.objects.filter(minutes__session=session).order_by("-number").first()
    return {
        "latest_minutes": latest if latest and user.has_perm("workgroups.read_minutes_version", latest) else None,
        "may_edit_minutes": user.has_perm("workgroups.edit_minutes", session)
        and session.status != Session.Status.CANCELLED
        and session.has_started,
    }


# --- Agenda ----------------------------------------------------------------------


@groups_required
@require_http_methods(["GET", "POST"])
def agenda_edit(request, pk):
    session = _get_session_for_user(request, pk, manage=True)
    if refused := _refuse_unless_editable(request, session):
        return refused
    measures = list(Measure.objects.select_related("roadmap").order_by("roadmap__pk", "number"))
    items = list(session.agenda_items.select_related("measure"))
    initial = [
        {
            "pk": item.pk,
            "title": item.title,
            "duration_minutes": item.duration_minutes,
            "presenter": item.presenter,
            "measure": measure_label(item.measure) if item.measure else "",
        }
        for item in items
    ]
    formset = AgendaFormSet(request.POST or None, initial=initial, form_kwargs={"measures": measures}, prefix="agenda")
    if request.method == "POST" and formset.is_valid():
        move = request.POST.get("move", "")
        items = formset.items_in_order(move)
        try:
            services.agenda_save(session=session, by=request.user, items=items)
        except ValidationError as error:
            messages.error(request, _message_of(error))
        else:
            messages.success(request, _("Ordre du jour enregistré. Il n'est pas envoyé aux personnes invitées."))
            url = reverse("workgroups:agenda_edit", args=[session.pk])
            if move:
                # Back to the item that moved, where it now stands.
                return redirect(f"{url}#agenda-item-{formset.moved_index(items, move)}")
            if request.POST.get("stay"):
                return redirect(url)
            return redirect(session)
    return render(
        request,
        "workgroups/agenda_edit.html",
        {"session": session, "group": session.group, "formset": formset, "measures": measures},
    )


# --- Invitations -------------------------------------------------------------------


def _fan_out_progress(session) -> dict | None:
    """Where the group's invitation stands: how many of the people it reaches
    have their invitation. ``None`` unless the group itself was invited (people
    invited one by one are not the group's invitation)."""
    if session.fan_out_requested_at is None or session.status != Session.Status.SCHEDULED or session.has_started:
        return None
    expected = set(services.group_invitees(session.group))
    invited = set(SessionInvitation.objects.filter(session=session).values_list("user_id", flat=True))
    missing = len(expected - invited)
    if not missing:
        return None
    return {
        "expected": len(expected),
        "done": len(expected) - missing,
        "missing": missing,
        # Asked for and not finished: the task is at work (or will be resumed by beat).
        "running": session.fanned_out_at is None,
    }


def _invitations_context(request, session, person_form):
    invitations = SessionInvitation.objects.filter(session=session, withdrawn_at__isnull=True)
    networks = Network.objects.filter(pk__in=invitations.values("network")).order_by("name")
    filter_form = InvitationFilterForm(request.GET or None, networks=networks)
    listed = invitations.select_related("user", "network").order_by(
        "network__name", "user__full_name", "user__email", "pk"
    )
    if filter_form.is_valid():
        network = filter_form.cleaned_data["reseau"]
        if network == "aucun":
            listed = listed.filter(network__isnull=True)
        elif network:
            listed = listed.filter(network_id=int(network))
        if filter_form.cleaned_data["reponse"]:
            listed = listed.filter(answer=filter_form.cleaned_data["reponse"])
    page = Paginator(listed, INVITATIONS_PER_PAGE).get_page(request.GET.get("page"))
    by_network = Counter(invitations.current().values_list("network__name", flat=True).order_by())
    may_invite = request.user.has_perm("workgroups.edit_scheduled_session", session) and not session.has_started
    counts = invitations.current().answer_counts()
    walk_in_count = invitations.filter(source=SessionInvitation.Source.WALK_IN).count()
    return {
        "session": session,
        "group": session.group,
        "counts": counts,
        # Nobody on the list yet: no filters, no zero counts, just what to do.
        "is_empty": not (counts["total"] or walk_in_count),
        "walk_in_count": walk_in_count,
        "by_network": sorted(by_network.items(), key=lambda row: (row[0] is None, row[0] or "")),
        "page_obj": page,
        "filter_form": filter_form,
        "person_form": person_form if may_invite else None,
        "may_invite": may_invite,
        "progress": _fan_out_progress(session),
    }


@groups_required
@require_http_methods(["GET", "POST"])
def session_invitations(request, pk):
    session = _get_session_for_user(request, pk, manage=True)
    person_form = InviteePersonForm(request.POST or None, candidates=_candidates(request, session))
    if request.method == "POST":
        if not request.user.has_perm("workgroups.edit_scheduled_session", session):
            messages.error(request, _("Cette séance n'est plus programmée : on ne peut plus y inviter."))
            return redirect("workgroups:session_invitations", pk=session.pk)
        if session.has_started:
            messages.error(request, _("Cette séance a commencé : on ne peut plus y inviter."))
            return redirect("workgroups:session_invitations", pk=session.pk)
        if person_form.is_valid():
            try:
                invitation = services.session_invite_person(session=session, by=request.user, user=person_form.user)
            except ValidationError as error:
                person_form.add_error("email", error)
            else:
                messages.success(
                    request,
                    _("Invitation envoyée à %(person)s.") % {"person": invitation.user.public_name},
                )
                return redirect("workgroups:session_invitations", pk=session.pk)
    return render(
        request,
        "workgroups/session_invitations.html",
        _invitations_context(request, session, person_form),
    )


def _group_invitation_summary(session) -> dict:
    """Who inviting the group reaches now, leaving out people already invited."""
    invitees = services.group_invitees(session.group)
    # Everyone with a row, withdrawn people included: the group's invitation leaves them be.
    already = set(SessionInvitation.objects.filter(session=session).values_list("user_id", flat=True))
    by_network = Counter()
    people = []
    for user_pk, (user, network, source) in invitees.items():
        if user_pk in already:
            continue
        if source == SessionInvitation.Source.PERSON:
            people.append(user.public_name)
        else:
            by_network[network.name if network else _("sans réseau")] += 1
    total = sum(by_network.values()) + len(people)
    return {"total": total, "by_network": sorted(by_network.items()), "people": sorted(people)}


@groups_required
@require_http_methods(["GET", "POST"])
def invite_group(request, pk):
    session = _get_session_for_user(request, pk, manage=True)
    if refused := _refuse_unless_editable(request, session):
        return refused
    if session.has_started:
        messages.error(request, _("Cette séance a commencé : on ne peut plus y inviter."))
        return redirect("workgroups:session_invitations", pk=session.pk)
    if request.method == "POST":
        try:
            services.session_invite_group(session=session, by=request.user)
        except ValidationError as error:
            messages.error(request, _message_of(error))
        else:
            messages.success(
                request,
                _(
                    "Invitations en cours d'envoi. Chaque personne reçoit un courriel avec le fichier d'agenda ; "
                    "les réponses s'affichent ici au fil de l'eau."
                ),
            )
        return redirect("workgroups:session_invitations", pk=session.pk)
    return render(
        request,
        "workgroups/invite_group.html",
        {"session": session, "group": session.group, "summary": _group_invitation_summary(session)},
    )


@groups_required
@require_http_methods(["GET", "POST"])
def invitation_withdraw(request, pk, invitation_pk):
    session = _get_session_for_user(request, pk, manage=True)
    invitation = _get_invitation_for_user(request, session, invitation_pk)
    if refused := _refuse_unless_editable(request, session):
        return refused
    if not invitation.is_current:
        messages.info(request, _("Cette personne n'est pas (ou plus) invitée."))
        return redirect("workgroups:session_invitations", pk=session.pk)
    if request.method == "POST":
        try:
            services.session_invitation_withdraw(invitation=invitation, by=request.user)
        except ValidationError as error:
            messages.error(request, _message_of(error))
        else:
            messages.success(
                request,
                _("%(person)s ne fait plus partie des personnes invitées.") % {"person": invitation.user.public_name},
            )
        return redirect("workgroups:session_invitations", pk=session.pk)
    return render(request, "workgroups/invitation_withdraw.html", {"session": session, "invitation": invitation})


# --- Cancellation ----------------------------------------------------------------------


@groups_required
@require_http_methods(["GET", "POST"])
def session_cancel(request, pk):
    session = _get_session_for_user(request, pk, manage=True)
    if session.status != Session.Status.SCHEDULED:
        messages.error(request, _("Seule une séance programmée peut être annulée."))
        return redirect(session)
    form = SessionCancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_cancel(session=session, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.error(request, _message_of(error))
        else:
            if session.invitations_sent_at:
                messages.success(request, _("Séance annulée. Les personnes invitées ont reçu une annulation."))
            else:
                messages.success(request, _("Séance annulée. Personne n'avait encore été invité."))
        return redirect(session)
    return render(request, "workgroups/session_cancel.html", {"session": session, "form": form})


# --- Attendance ----------------------------------------------------------------------------


@groups_required
@require_http_methods(["GET", "POST"])
def attendance_edit(request, pk):
    session = _get_session_for_user(request, pk, manage=True)
    if session.status == Session.Status.CANCELLED:
        messages.error(request, _("Cette séance a été annulée : pas de présences à relever."))
        return redirect(session)
    if not session.has_started:
        messages.error(request, _("Les présences se relèvent une fois la séance commencée."))
        return redirect(session)
    invitations = list(
        SessionInvitation.objects.filter(session=session, withdrawn_at__isnull=True)
        .select_related("user", "network")
        .order_by("network__name", "user__full_name", "user__email", "pk")
    )
    recorded = any(invitation.attended is not None for invitation in invitations)
    if recorded:
        present = [invitation.pk for invitation in invitations if invitation.attended]
    else:
        present = [
            invitation.pk for invitation in invitations if invitation.answer == SessionInvitation.Answer.ACCEPTED
        ]
    form = AttendanceForm(
        request.POST or None,
        candidates=_candidates(request, session),
        invitations=invitations,
        initial={"present": present, "mark_held": session.status == Session.Status.HELD},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.attendance_record(
                session=session,
                by=request.user,
                present_ids=data["present"],
                walk_ins=data["walk_ins"],
                mark_held=data["mark_held"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            count = len(data["present"]) + len(data["walk_ins"])
            text = ngettext(
                "Présences enregistrées : %(count)d personne.", "Présences enregistrées : %(count)d personnes.", count
            ) % {"count": count}
            if data["mark_held"]:
                text += " " + _("La séance est marquée comme tenue.")
            messages.success(request, text)
            return redirect(session)
    checked = {str(pk) for pk in (form["present"].value() or [])}
    rows = [(invitation, str(invitation.pk) in checked) for invitation in invitations]
    return render(
        request,
        "workgroups/attendance_edit.html",
        {"session": session, "group": session.group, "form": form, "rows": rows, "recorded": recorded},
    )
