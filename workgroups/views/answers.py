"""Invitees' pages: answers (from the e-mail link or the portal), the session list and calendars."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, F, OuterRef, Prefetch, Q, Subquery, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from concertation.lib import ics
from workgroups import services
from workgroups.access import _get_session_for_user, groups_required
from workgroups.calendars import organizer, sessions_ics
from workgroups.filters import SessionFilter
from workgroups.forms import AnswerForm, my_answer_label
from workgroups.models import AgendaItem, CalendarFeed, Session, SessionInvitation, WorkingGroup
from workgroups.tokens import AnswerLinkError, read_answer_token

SESSIONS_PER_PAGE = 20
# A personal feed reaches this far back; everything ahead is in it.
FEED_PAST_DAYS = 92
# The column's length: a longer token is no token, and costs no query.
FEED_TOKEN_MAX_LENGTH = 64
INVALID_LINK_STATUS = {"invalid": 400, "expired": 410}


def _answer_label(value: str) -> str:
    """The invitee's own answer, in the first person (« Je participerai »): every page
    that uses it speaks to the invitee."""
    return my_answer_label(value) if value in SessionInvitation.Answer.values else ""


def _contact(request, invitation) -> dict:
    """Whom a person holding an answer link can turn to: the group's page when they
    may read it, else the sessions' organiser address (the calendar's ORGANIZER)."""
    user = request.user
    group = invitation.session.group
    may_read_group = (
        user.is_authenticated and user.has_perm("workgroups.read_groups") and (group.is_active or user.is_staff)
    )
    return {"contact_email": _organizer_email(), "contact_group": group if may_read_group else None}


def _organizer_email() -> str:
    """The sessions' organiser address, when one is configured: the default sender
    may be an address nobody reads, and a page must not send people there."""
    return organizer().email if settings.SESSION_ORGANIZER_EMAIL else ""


def _ics_response(body: bytes, *, filename: str, attachment: bool) -> HttpResponse:
    response = HttpResponse(body, content_type=ics.content_type(None))
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # What it holds is personal (the online link): never kept by a shared cache.
    patch_cache_control(response, private=True, max_age=0, must_revalidate=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- The answer link (no sign-in) --------------------------------------------------------


def _private_page(response: HttpResponse) -> HttpResponse:
    """The link's address is a credential: it must not reach the sites linked from the page
    (the online meeting's above all). ``same-origin``, not ``no-referrer``: under the latter
    browsers send ``Origin: null`` with the page's own form, which the CSRF check refuses."""
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _closed_reason(invitation: SessionInvitation) -> str | None:
    """Why the invitation can no longer be answered, if it cannot."""
    session = invitation.session
    if session.status == Session.Status.CANCELLED:
        return "cancelled"
    if not SessionInvitation.objects.standing().filter(pk=invitation.pk).exists():
        # Withdrawn by the lead, or the person left the network or lost their account.
        return "withdrawn"
    if session.has_started or session.status != Session.Status.SCHEDULED:
        return "started"
    return None


def _closed_page(request, invitation, reason, *, status=410):
    return _private_page(
        render(
            request,
            "workgroups/answer_closed.html",
            {
                "invitation": invitation,
                "session": invitation.session,
                "reason": reason,
                **_contact(request, invitation),
            },
            status=status,
        )
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def answer_by_link(request, token):
    """Answer one invitation from the e-mail's link, without signing in.

    A GET never changes anything (mail scanners open links): it shows the
    session and the form, preselected from ``?reponse=``; the POST records.
    ``?format=ics`` downloads the session's calendar entry."""
    try:
        invitation = read_answer_token(token)
    except AnswerLinkError as error:
        return _private_page(
            render(
                request,
                "workgroups/answer_invalid.html",
                {"reason": error.reason, "contact_email": _organizer_email()},
                status=INVALID_LINK_STATUS.get(error.reason, 400),
            )
        )
    session = invitation.session
    reason = _closed_reason(invitation)
    if reason is not None:
        return _closed_page(request, invitation, reason)
    if request.method != "POST" and request.GET.get("format") == "ics":
        response = _ics_response(
            sessions_ics([(session, True)], name=session.title), filename=f"seance-{session.pk}.ics", attachment=True
        )
        return _private_page(response)

    from_email_choice = False
    if request.method == "POST":
        form = AnswerForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.invitation_answer(
                    invitation=invitation,
                    answer=form.cleaned_data["answer"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError:
                # Cancelled, started or withdrawn between the page and the click.
                invitation = SessionInvitation.objects.select_related("session__group", "user").get(pk=invitation.pk)
                return _closed_page(request, invitation, _closed_reason(invitation) or "started", status=409)
            return _private_page(
                render(
                    request,
                    "workgroups/answer_done.html",
                    {
                        **_answer_page_context(request, invitation),
                        "answer_label": _answer_label(invitation.answer),
                    },
                )
            )
    else:
        preselected = request.GET.get("reponse", "")
        # Chosen in the e-mail: shown checked, and said to be not yet recorded.
        from_email_choice = preselected in dict(AnswerForm.base_fields["answer"].choices)
        if not from_email_choice:
            preselected = "" if invitation.answer == SessionInvitation.Answer.PENDING else invitation.answer
        form = AnswerForm(initial={"answer": preselected or None, "comment": invitation.comment})
    return _private_page(
        render(
            request,
            "workgroups/answer_form.html",
            {
                **_answer_page_context(request, invitation),
                "form": form,
                "unconfirmed": from_email_choice,
                "current_answer": "" if invitation.answer == SessionInvitation.Answer.PENDING else invitation.answer,
                "current_answer_label": _answer_label(invitation.answer),
            },
        )
    )


def _answer_page_context(request, invitation) -> dict:
    session = invitation.session
    return {
        "invitation": invitation,
        "session": session,
        "agenda": list(session.agenda_items.all()),
        "person": invitation.user,
        # Signed in as someone else: the link still answers for the person it was sent to, and says so.
        "other_person_signed_in": request.user.is_authenticated and request.user.pk != invitation.user_id,
        "link_path": request.path,
    }


# --- Answer from the portal ---------------------------------------------------------------


@groups_required
@require_POST
def answer_in_portal(request, pk):
    session = _get_session_for_user(request, pk)
    if not request.user.has_perm("workgroups.answer_session", session):
        raise PermissionDenied
    invitation = SessionInvitation.objects.standing().filter(session=session, user=request.user).first()
    if invitation is None:  # withdrawn since the rule was asked
        raise PermissionDenied
    form = AnswerForm(request.POST)
    if not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        messages.error(request, _("Réponse non enregistrée : %(errors)s") % {"errors": " ".join(errors)})
        return redirect(session.get_absolute_url())
    try:
        invitation = services.invitation_answer(
            invitation=invitation, answer=form.cleaned_data["answer"], comment=form.cleaned_data["comment"]
        )
    except ValidationError as error:
        messages.error(request, _("Réponse non enregistrée : %(errors)s") % {"errors": " ".join(error.messages)})
    else:
        messages.success(
            request,
            _("Réponse enregistrée : %(answer)s.") % {"answer": _answer_label(invitation.answer)},
        )
    return redirect(session.get_absolute_url())


# --- One session's calendar file ----------------------------------------------------------


@groups_required
@require_safe
def session_ics(request, pk):
    """The session as a calendar file, with its online link: for invitees, the group's leads and staff."""
    session = _get_session_for_user(request, pk)
    if not request.user.has_perm("workgroups.read_online_link", session):
        raise PermissionDenied
    session = Session.objects.select_related("group").prefetch_related("agenda_items").get(pk=session.pk)
    return _ics_response(
        sessions_ics([(session, True)], name=session.title), filename=f"seance-{session.pk}.ics", attachment=True
    )


# --- The list of one's sessions --------------------------------------------------------------


def _visible_sessions(user):
    """Sessions of the person's groups, leaving out the drafts of groups they do not lead."""
    sessions = Session.objects.visible_to(user).announced_to(user)
    if not user.is_staff:
        # Sessions of a closed group are no longer shown to members (their page answers 404).
        sessions = sessions.filter(group__is_active=True)
    return sessions


@groups_required
@require_safe
def session_list(request):
    user = request.user
    visible = _visible_sessions(user)
    groups = WorkingGroup.objects.filter(pk__in=visible.values("group")).order_by("-is_plenary", "title")
    months = visible.datetimes("starts_at", "month", order="DESC", tzinfo=timezone.get_default_timezone())
    my_answer = SessionInvitation.objects.current().filter(session=OuterRef("pk"), user=user).values("answer")[:1]
    now = timezone.now()
    # Upcoming ones soonest first, then past ones latest first.
    sessions = (
        visible.select_related("group")
        .annotate(my_answer=Subquery(my_answer))
        .upcoming_first()
        .order_by(
            "is_past",
            Case(When(ends_at__gte=now, then=F("starts_at"))).asc(nulls_last=True),
            F("starts_at").desc(),
            "pk",
        )
    )
    session_filter = SessionFilter(request.GET or None, queryset=sessions, groups=groups, months=months)
    page = Paginator(session_filter.qs, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for session in page.object_list:
        session.my_answer_label = _answer_label(session.my_answer or "")
        session.is_upcoming = session.ends_at >= now
    filtered = bool(request.GET and any(request.GET.get(name) for name in SessionFilter.base_filters))
    return render(
        request,
        "workgroups/session_list.html",
        {"filter": session_filter, "page_obj": page, "filtered": filtered},
    )


# --- Personal calendar feed ----------------------------------------------------------------


@groups_required
@require_http_methods(["GET", "HEAD", "POST"])
def calendar_settings(request):
    """The person's secret calendar address; resetting it (after a confirmation) kills the old one."""
    if request.method == "POST":
        services.calendar_feed_reset(user=request.user)
        messages.success(
            request,
            _("Nouvelle adresse créée. L'ancienne ne fonctionne plus : abonnez vos agendas à la nouvelle."),
        )
        return redirect("workgroups:calendar_settings")
    if request.GET.get("reinitialiser"):
        return render(request, "workgroups/calendar_settings_reset.html")
    feed = services.calendar_feed_for(request.user)
    feed_url = request.build_absolute_uri(reverse("workgroups:calendar_feed", args=[feed.token]))
    response = render(
        request,
        "workgroups/calendar_settings.html",
        {"feed": feed, "feed_url": feed_url, "webcal_url": "webcal://" + feed_url.split("://", 1)[1]},
    )
    # The page shows a secret address.
    patch_cache_control(response, private=True, no_store=True)
    response["Referrer-Policy"] = "same-origin"
    return response


def feed_sessions(owner) -> list[tuple[Session, bool]]:
    """The sessions of ``owner``'s feed, each with whether the owner may read its
    online link, in a fixed number of queries: the sessions they are currently
    invited to or whose group they lead (staff: the same), from three months
    back. The link follows ``workgroups.read_online_link`` (staff, the group's
    leads, invitees), decided for all the sessions at once."""
    since = timezone.now() - timedelta(days=FEED_PAST_DAYS)
    invited = SessionInvitation.objects.standing().filter(user=owner)
    led_groups = WorkingGroup.objects.led_by(owner)
    rows = Session.objects.filter(ends_at__gte=since).filter(
        Q(pk__in=invited.values("session")) | Q(group__in=led_groups.values("pk"))
    )
    if not owner.is_staff:
        rows = rows.filter(group__is_active=True)
    rows = list(
        rows.select_related("group")
        .prefetch_related(Prefetch("agenda_items", queryset=AgendaItem.objects.order_by("position", "pk")))
        .order_by("starts_at", "pk")
    )
    invited_ids = set(invited.filter(session__ends_at__gte=since).values_list("session_id", flat=True))
    led_ids = set(led_groups.values_list("pk", flat=True))
    return [(session, owner.is_staff or session.pk in invited_ids or session.group_id in led_ids) for session in rows]


@require_safe
def calendar_feed(request, token):
    """A person's sessions for their calendar application, at a secret address (no sign-in).

    It stops working when the address is reset, when the account is closed and
    when the person's access to the groups ends."""
    if not token or len(token) > FEED_TOKEN_MAX_LENGTH:
        raise Http404
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active or not feed.user.has_perm("workgroups.read_groups"):
        raise Http404
    body = sessions_ics(feed_sessions(feed.user), name=_("Mes séances — concertation"))
    response = _ics_response(body, filename="seances.ics", attachment=False)
    response["Referrer-Policy"] = "same-origin"
    return response
