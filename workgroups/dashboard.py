"""Panels the working groups contribute: the personal dashboard's and a measure's page's.

Registered from ``WorkgroupsConfig.ready`` in ``concertation.lib.dashboard``;
each runs a fixed number of queries whatever the number of sessions."""

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from workgroups.models import AgendaItem, Session, SessionInvitation

PANEL_LIMIT = 10


def my_sessions_panel(request) -> dict:
    """Sessions to answer, the person's upcoming sessions, and for leads the
    sessions whose attendance is still to be recorded."""
    user = request.user
    if not user.has_perm("workgroups.read_groups"):
        return {"visible": False}
    now = timezone.now()
    to_answer = list(
        SessionInvitation.objects.standing()
        .filter(
            user=user,
            answer=SessionInvitation.Answer.PENDING,
            session__status=Session.Status.SCHEDULED,
            session__starts_at__gt=now,
        )
        .select_related("session__group")
        .order_by("session__starts_at")[:PANEL_LIMIT]
    )
    my_answer = SessionInvitation.objects.standing().filter(session=OuterRef("pk"), user=user).values("answer")[:1]
    invited_and_coming = Q(
        pk__in=SessionInvitation.objects.standing()
        .filter(
            user=user,
            answer__in=(SessionInvitation.Answer.ACCEPTED, SessionInvitation.Answer.TENTATIVE),
        )
        .values("session")
    )
    leads = Q(group__leads=user, group__is_active=True)
    upcoming = list(
        Session.objects.scheduled()
        .filter(ends_at__gte=now)
        .filter(Q(pk__in=Session.objects.filter(leads).values("pk")) | invited_and_coming)
        # A draft (invitations not left) only for its group's leads, marked as such.
        .announced_to(user)
        .annotate(my_answer=Subquery(my_answer))
        .select_related("group")
        .order_by("starts_at")[:PANEL_LIMIT]
    )
    awaiting_attendance = list(
        Session.objects.scheduled()
        .filter(starts_at__lte=now, pk__in=Session.objects.filter(leads).values("pk"))
        .select_related("group")
        .order_by("-starts_at")[:PANEL_LIMIT]
    )
    return {
        "visible": True,
        "to_answer": to_answer,
        "upcoming": upcoming,
        "awaiting_attendance": awaiting_attendance,
        "is_lead": bool(awaiting_attendance) or user.led_working_groups.filter(is_active=True).exists(),
    }


def measure_sessions_panel(request, measure) -> dict:
    """On a measure's page: the sessions whose agenda discusses it, upcoming
    first, for people who read the groups. Never the online link."""
    user = request.user
    if not user.has_perm("workgroups.read_groups"):
        return {"visible": False}
    sessions = Session.objects.filter(pk__in=AgendaItem.objects.filter(measure=measure).values("session"))
    if not user.is_staff:
        sessions = sessions.filter(group__is_active=True)
    # Drafts (invitations not left) only for their group's leads and staff.
    sessions = list(
        sessions.announced_to(user)
        .upcoming_first()
        .select_related("group")
        .only(
            "pk",
            "title",
            "starts_at",
            "ends_at",
            "status",
            "format",
            "invitations_sent_at",
            "group__title",
            "group__is_plenary",
        )
    )
    return {
        "visible": True,
        "upcoming": [s for s in sessions if not s.is_past],
        "past": [s for s in sessions if s.is_past],
    }
