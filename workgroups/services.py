"""Writes with side effects on working groups and their sessions.

One function per use case, inside a transaction; e-mails are outbox rows
written in the same transaction (``workgroups.notifications``). Inviting a
whole group is fanned out by a Celery task queued on commit, so the lead's
request returns at once whatever the group's size.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from concertation.lib import audit
from concertation.lib.dates import date_format
from networks.models import Membership, Network, User
from outbox.models import OutboxMessage
from outbox.services import emails_cancel_unsent
from workgroups import notifications
from workgroups.models import (
    DEFAULT_REMINDER_OFFSETS,
    AgendaItem,
    CalendarFeed,
    MinutesVersion,
    NetworkDelegate,
    Session,
    SessionInvitation,
    SessionReminder,
    WorkingGroup,
    new_answer_key,
)

# Why the audit trail's rows were written (concertation.lib.audit).
SESSION_SCHEDULED = gettext_lazy("Séance programmée")
SESSION_CHANGED = gettext_lazy("Séance modifiée")
SESSION_CANCELLED = gettext_lazy("Séance annulée")
SESSION_HELD = gettext_lazy("Séance tenue")
SESSION_GROUP_INVITED = gettext_lazy("Groupe invité à la séance")

logger = logging.getLogger(__name__)

# What a calendar must hear about: a change to one of these sends an update.
CALENDAR_FIELDS = ("title", "starts_at", "ends_at", "format", "place", "online_url")
EDITABLE_FIELDS = (*CALENDAR_FIELDS, "reminder_offsets")
# People invited per transaction of a group's fan-out: one outbox batch, so
# the first e-mails leave as soon as the first chunk commits.
FAN_OUT_CHUNK = 50
# Invitation e-mails one person may receive for one session within an hour.
REINVITES_PER_HOUR = 3
# Reminders: from half an hour to 90 days before the start, five at most.
REMINDER_MIN_MINUTES, REMINDER_MAX_MINUTES = 30, 90 * 24 * 60


def _require(user, perm, obj=None):
    if not user.has_perm(perm, obj):
        raise PermissionDenied


def session_schedule_check(*, starts_at, ends_at, format, place, online_url, allow_past=False):
    errors = {}
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = _("La fin doit venir après le début.")
    if starts_at and not allow_past and starts_at <= timezone.now():
        errors["starts_at"] = _("Cette date est passée : une séance se programme à l'avance.")
    if format in (Session.Format.ONLINE, Session.Format.HYBRID) and not online_url:
        errors["online_url"] = _("Une séance en ligne ou hybride a besoin d'un lien de connexion.")
    if format in (Session.Format.IN_PERSON, Session.Format.HYBRID) and not place:
        errors["place"] = _("Indiquez le lieu de la séance.")
    if errors:
        raise ValidationError(errors)


def reminder_offsets_check(offsets) -> list[int]:
    offsets = sorted({int(offset) for offset in offsets}, reverse=True)
    if any(offset < REMINDER_MIN_MINUTES or offset > REMINDER_MAX_MINUTES for offset in offsets):
        raise ValidationError({"reminder_offsets": _("Un rappel se place entre 30 minutes et 90 jours avant.")})
    if len(offsets) > 5:
        raise ValidationError({"reminder_offsets": _("Cinq rappels au plus.")})
    return offsets


# --- Sessions ----------------------------------------------------------------


@transaction.atomic
def session_create(
    *,
    group: WorkingGroup,
    by: User,
    title: str,
    starts_at,
    ends_at,
    format: str = Session.Format.IN_PERSON,
    place: str = "",
    online_url: str = "",
    reminder_offsets=None,
    agenda: tuple[dict, ...] = (),
) -> Session:
    """Schedule a session of ``group``. Nothing is sent until the lead invites."""
    _require(by, "workgroups.manage_group_sessions", group)
    if not group.is_active:
        raise ValidationError(_("Ce groupe de travail n'est plus actif."))
    session_schedule_check(starts_at=starts_at, ends_at=ends_at, format=format, place=place, online_url=online_url)
    offsets = reminder_offsets_check(DEFAULT_REMINDER_OFFSETS if reminder_offsets is None else reminder_offsets)
    with audit.change(SESSION_SCHEDULED, by=by):
        session = Session.objects.create(
            group=group,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            format=format,
            place=place,
            online_url=online_url,
            reminder_offsets=offsets,
            created_by=by,
        )
    for position, item in enumerate(agenda, start=1):
        AgendaItem.objects.create(session=session, position=position, **item)
    reminders_sync(session=session)
    return session


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str


def _describe(session: Session, field: str) -> str:
    value = getattr(session, field)
    if field in ("starts_at", "ends_at"):
        return date_format(timezone.localtime(value), "l j F Y, H:i")
    if field == "format":
        return session.get_format_display()
    return value or "—"


def _changes(before: Session, after: Session) -> list[Change]:
    changes = []
    for field in CALENDAR_FIELDS:
        if getattr(before, field) != getattr(after, field):
            label = str(Session._meta.get_field(field).verbose_name)
            # The link itself is for invitees' eyes only: the e-mail says it changed and gives it.
            changes.append(Change(field, label, _describe(before, field), _describe(after, field)))
    return changes


@transaction.atomic
def session_update(*, session: Session, by: User, **values) -> list[Change]:
    """Change a scheduled session. A change of time, place, link, format or
    title moves its calendar sequence on and sends every invitee an update
    saying what changed; moving it recomputes its reminders. Returns the changes."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    _require(by, "workgroups.edit_scheduled_session", session)
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    before = Session.objects.get(pk=session.pk)
    for field, value in values.items():
        setattr(session, field, value)
    moved = before.starts_at != session.starts_at
    session_schedule_check(
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        format=session.format,
        place=session.place,
        online_url=session.online_url,
        # A session under way may get a new link or end later; only a new start must be ahead.
        allow_past=not moved,
    )
    if "reminder_offsets" in values:
        session.reminder_offsets = reminder_offsets_check(values["reminder_offsets"])
    with translation.override(settings.LANGUAGE_CODE):
        # Written into French e-mails, whatever language the lead's pages are in.
        changes = _changes(before, session)
    if changes and session.invitations_sent_at:
        session.sequence += 1
    with audit.change(SESSION_CHANGED, by=by):
        session.save()
    if moved or "reminder_offsets" in values:
        reminders_sync(session=session)
    if moved:
        # What still waits must not leave after the new start (nor be held back by the old one).
        OutboxMessage.objects.filter(
            about_type=ContentType.objects.get_for_model(SessionInvitation),
            about_id__in=SessionInvitation.objects.filter(session=session).values("pk"),
            kind__in=["session_invitation", "session_update", "session_reminder"],
            status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED],
        ).update(not_after=session.starts_at)
    if changes and session.invitations_sent_at:
        notifications.session_update_emails_queue(
            session=session, invitations=_current_invitations(session), changes=changes
        )
    return changes


@transaction.atomic
def session_cancel(*, session: Session, by: User, reason: str = "") -> Session:
    """Cancel a session: it stays, marked cancelled; every invitee receives a
    cancelling calendar entry; unsent reminders and e-mails are dropped."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    _require(by, "workgroups.manage_session", session)
    if session.status != Session.Status.SCHEDULED:
        raise ValidationError(_("Seule une séance programmée peut être annulée."))
    if session.ends_at <= timezone.now():
        raise ValidationError(_("Cette séance est terminée : elle ne peut plus être annulée."))
    if MinutesVersion.objects.filter(minutes__session=session).exists():
        raise ValidationError(_("Cette séance a un compte rendu publié : elle a eu lieu et ne peut plus être annulée."))
    session.status = Session.Status.CANCELLED
    session.cancelled_at = timezone.now()
    session.cancellation_reason = reason.strip()[:500]
    session.sequence += 1
    with audit.change(SESSION_CANCELLED, by=by):
        session.save()
    SessionReminder.objects.filter(session=session, sent_at__isnull=True, skipped_at__isnull=True).update(
        skipped_at=timezone.now()
    )
    invitations = _current_invitations(session)
    # A withdrawal still waiting goes on: it is what takes the session out of that person's calendar.
    emails_cancel_unsent(about=SessionInvitation.objects.filter(session=session), keep_kinds=["session_withdrawal"])
    if session.invitations_sent_at:
        notifications.session_cancellation_emails_queue(session=session, invitations=invitations)
    return session


def _current_invitations(session: Session) -> list[SessionInvitation]:
    """Standing invitations: those the session's e-mails go to."""
    return list(
        SessionInvitation.objects.standing().filter(session=session).select_related("user", "network", "session__group")
    )


# --- Agenda --------------------------------------------------------------------


@transaction.atomic
def agenda_save(*, session: Session, by: User, items: list[dict]) -> list[AgendaItem]:
    """Replace the agenda with ``items`` in their order (dicts with ``pk`` for
    existing items, ``title``, ``duration_minutes``, ``presenter``, ``measure``).
    The agenda is the lead's working document: changing it sends nothing."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    _require(by, "workgroups.edit_scheduled_session", session)
    existing = {item.pk: item for item in session.agenda_items.all()}
    kept = []
    for position, values in enumerate(items, start=1):
        values = dict(values)
        pk = values.pop("pk", None)
        item = existing.get(pk) if pk else None
        if item is None:
            item = AgendaItem(session=session)
        for field, value in values.items():
            setattr(item, field, value)
        item.position = position
        item.save()
        kept.append(item)
    AgendaItem.objects.filter(session=session).exclude(pk__in=[item.pk for item in kept]).delete()
    return kept


# --- Reminders -------------------------------------------------------------------


def reminders_sync(*, session: Session) -> None:
    """Make the reminder rows follow the session's start and offsets. Rows
    already sent stay as they are (a reminder never leaves twice)."""
    offsets = set(session.reminder_offsets or [])
    rows = {row.offset_minutes: row for row in SessionReminder.objects.filter(session=session)}
    for offset, row in rows.items():
        if offset not in offsets and row.sent_at is None:
            row.delete()
    for offset in offsets:
        due_at = session.starts_at - timedelta(minutes=offset)
        row = rows.get(offset)
        if row is None:
            SessionReminder.objects.create(session=session, offset_minutes=offset, due_at=due_at)
        elif row.sent_at is None:
            # Conditional: the reminder task may have sent this row meanwhile; a sent row stays sent.
            SessionReminder.objects.filter(pk=row.pk, sent_at__isnull=True).update(due_at=due_at, skipped_at=None)


def reminders_send_due(*, now=None, limit: int = 200) -> int:
    """Periodic: send the reminders whose time has come, to invitees who have
    not declined, one session per transaction. A reminder is skipped when its
    session was cancelled, has started, or was not yet announced at its due
    time; when several of a session's reminders are due together (the session
    was moved closer, or beat was down), only the nearest leaves. Returns the
    e-mails queued."""
    now = now or timezone.now()
    queued = 0
    for _round in range(limit):
        with transaction.atomic():
            reminder = (
                SessionReminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(sent_at__isnull=True, skipped_at__isnull=True, due_at__lte=now)
                .select_related("session__group")
                .order_by("due_at")
                .first()
            )
            if reminder is None:
                return queued
            session = reminder.session
            due_together = list(
                SessionReminder.objects.select_for_update(skip_locked=True)
                .filter(session=session, sent_at__isnull=True, skipped_at__isnull=True, due_at__lte=now)
                .order_by("offset_minutes")
            )
            nearest, superseded = due_together[0], due_together[1:]
            for row in superseded:
                row.skipped_at = now
                row.save(update_fields=["skipped_at"])
            announced_in_time = session.invitations_sent_at and session.invitations_sent_at <= nearest.due_at
            if session.status != Session.Status.SCHEDULED or session.starts_at <= now or not announced_in_time:
                nearest.skipped_at = now
                nearest.save(update_fields=["skipped_at"])
                logger.info("sessions: reminder %s of session %s skipped", nearest.pk, session.pk)
                continue
            invitations = [i for i in _current_invitations(session) if i.answer != SessionInvitation.Answer.DECLINED]
            sent = notifications.session_reminder_emails_queue(
                session=session, invitations=invitations, cause=f"reminder:{nearest.pk}"
            )
            nearest.sent_at = now
            nearest.save(update_fields=["sent_at"])
            logger.info("sessions: reminder %s of session %s sent to %d people", nearest.pk, session.pk, sent)
            queued += sent
    return queued


@transaction.atomic
def reminder_send_now(*, session: Session, by: User) -> int:
    """Staff: remind the invitees who have not declined, now (once per minute at most)."""
    _require(by, "workgroups.manage_session", session)
    if session.status != Session.Status.SCHEDULED or session.has_started:
        raise ValidationError(_("On ne rappelle qu'une séance programmée et pas encore commencée."))
    invitations = [i for i in _current_invitations(session) if i.answer != SessionInvitation.Answer.DECLINED]
    minute = timezone.now().strftime("%Y%m%d%H%M")
    return notifications.session_reminder_emails_queue(session=session, invitations=invitations, cause=f"now:{minute}")


# --- Invitations ------------------------------------------------------------------


def _check_invitable(session: Session):
    if session.status != Session.Status.SCHEDULED:
        raise ValidationError(_("Cette séance n'est plus programmée : on ne peut plus y inviter."))
    if session.has_started:
        raise ValidationError(_("Cette séance a commencé : on ne peut plus y inviter."))


@transaction.atomic
def session_invite_group(*, session: Session, by: User) -> Session:
    """Invite the whole group: recorded now, fanned out by a task on commit.
    Inviting again reaches only people who joined since."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    _require(by, "workgroups.edit_scheduled_session", session)
    _check_invitable(session)
    now = timezone.now()
    session.invitations_sent_at = session.invitations_sent_at or now
    session.fan_out_requested_at, session.fanned_out_at = now, None
    with audit.change(SESSION_GROUP_INVITED, by=by):
        session.save(update_fields=["invitations_sent_at", "fan_out_requested_at", "fanned_out_at", "updated_at"])
    transaction.on_commit(lambda: _publish_fan_out(session.pk))
    return session


def _publish_fan_out(session_id: int) -> None:
    """A broker that is down is not the lead's problem: the request succeeds,
    and the periodic resume (``sessions_fan_out_resume``) queues it later."""
    from workgroups.tasks import invite_session_group

    try:
        invite_session_group.delay(session_id)
    except Exception as exc:  # noqa: BLE001 - broker unreachable: resumed by beat
        logger.warning("sessions: fan-out of session %s left for the periodic resume: %s", session_id, exc)


def sessions_fan_out_resume(*, grace_minutes: int = 5) -> int:
    """Periodic: queue again the group invitations requested more than
    ``grace_minutes`` ago and not finished (broker down, worker killed)."""
    late = timezone.now() - timedelta(minutes=grace_minutes)
    pending = list(
        Session.objects.scheduled()
        .filter(fanned_out_at__isnull=True, fan_out_requested_at__lte=late, starts_at__gt=timezone.now())
        .values_list("pk", flat=True)
    )
    for session_id in pending:
        _publish_fan_out(session_id)
    return len(pending)


def group_invitees(group: WorkingGroup) -> dict[int, tuple[User, Network | None, str]]:
    """Who the group's invitation reaches: per member network its named
    delegates if it has any, else its active members; then the member people.
    Keyed by person, with the network they come for."""
    invitees: dict[int, tuple[User, Network | None, str]] = {}
    networks = list(group.member_networks().order_by("name"))
    delegates = {}
    running = Membership.objects.active().filter(user=OuterRef("user"), network=OuterRef("network"))
    # A named person who left the network no longer speaks for it; a network
    # whose named people all left is invited whole again.
    for delegate in (
        NetworkDelegate.objects.filter(group=group, network__in=networks, user__is_active=True)
        .filter(Exists(running))
        .select_related("user")
    ):
        delegates.setdefault(delegate.network_id, []).append(delegate.user)
    memberships = (
        Membership.objects.active()
        .filter(network__in=networks)
        .exclude(network__in=list(delegates))
        .select_related("user", "network")
        .order_by("network__name", "pk")
    )
    by_pk = {network.pk: network for network in networks}
    for network_pk, users in delegates.items():
        for user in users:
            if user.is_active:
                invitees.setdefault(user.pk, (user, by_pk[network_pk], SessionInvitation.Source.NETWORK))
    for membership in memberships:
        invitees.setdefault(membership.user_id, (membership.user, membership.network, SessionInvitation.Source.NETWORK))
    people = [user for user in group.people.filter(is_active=True) if user.pk not in invitees]
    network_of = _networks_of(people)
    for user in people:
        invitees[user.pk] = (user, network_of.get(user.pk), SessionInvitation.Source.PERSON)
    return invitees


def _networks_of(users) -> dict[int, Network]:
    """Each person's first active network, in one query."""
    networks: dict[int, Network] = {}
    memberships = Membership.objects.active().filter(user__in=users).select_related("network").order_by("pk")
    for membership in memberships:
        networks.setdefault(membership.user_id, membership.network)
    return networks


def group_people(group: WorkingGroup):
    """Everyone a lead may call on: the group's leads, its named people, the
    active members of its member networks and the administration's agents.
    Staff may invite any active account."""
    memberships = Membership.objects.active().filter(network__in=group.member_networks())
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(led_working_groups=group)
            | Q(working_groups=group)
            | Q(pk__in=memberships.values("user"))
            | Q(is_staff=True)
        )
        .distinct()
    )


def _check_may_call_on(*, group: WorkingGroup, by: User, users) -> None:
    if by.is_staff:
        return
    allowed = set(group_people(group).filter(pk__in=[user.pk for user in users]).values_list("pk", flat=True))
    if any(user.pk not in allowed for user in users):
        raise ValidationError(_("Seuls les membres du groupe peuvent être ajoutés par l'animation."))


def _network_of(user: User) -> Network | None:
    membership = Membership.objects.active().filter(user=user).select_related("network").order_by("pk").first()
    return membership.network if membership else None


def session_invitations_fan_out(*, session_id: int, chunk: int = FAN_OUT_CHUNK) -> int:
    """The task's work: one invitation per person of the group, and its e-mail,
    by chunks that commit one after the other, so the first e-mails leave while
    the next are written and the lead's edits never wait long for the session.
    Rows and e-mails of a chunk commit together: a session change meanwhile
    reaches exactly those already invited. Safe to run twice: people already
    invited are left alone. Returns how many e-mails were queued."""
    started = time.monotonic()
    session = Session.objects.select_related("group").filter(pk=session_id).first()
    if session is None:
        return 0
    invitees = group_invitees(session.group)
    queued = 0
    existing = set(SessionInvitation.objects.filter(session_id=session_id).values_list("user_id", flat=True))
    while True:
        with transaction.atomic():
            session = Session.objects.select_for_update().select_related("group").filter(pk=session_id).first()
            if session is None or session.status != Session.Status.SCHEDULED or session.has_started:
                return queued
            # Rows added meanwhile by another run are skipped by the unique constraint and the once_keys.
            todo = [pk for pk in invitees if pk not in existing][:chunk]
            existing.update(todo)
            if not todo:
                session.fanned_out_at = timezone.now()
                session.save(update_fields=["fanned_out_at"])
                logger.info(
                    "sessions: session %s invited %d people in %.1f s", session_id, queued, time.monotonic() - started
                )
                return queued
            SessionInvitation.objects.bulk_create(
                [
                    SessionInvitation(
                        session=session, user=invitees[pk][0], network=invitees[pk][1], source=invitees[pk][2]
                    )
                    for pk in todo
                ],
                ignore_conflicts=True,
            )
            invitations = list(
                SessionInvitation.objects.standing()
                .filter(session=session, user_id__in=todo)
                .select_related("user", "network", "session__group")
            )
            queued += notifications.session_invitation_emails_queue(session=session, invitations=invitations)


@transaction.atomic
def session_invite_person(*, session: Session, by: User, user: User) -> SessionInvitation:
    """The lead adds one person to a session, and the invitation leaves now."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    _require(by, "workgroups.edit_scheduled_session", session)
    _check_invitable(session)
    if not user.is_active:
        raise ValidationError(_("Ce compte est désactivé."))
    _check_may_call_on(group=session.group, by=by, users=[user])
    invitation = SessionInvitation.objects.filter(session=session, user=user).first()
    if invitation is not None and invitation.is_current:
        raise ValidationError(_("%(person)s a déjà une invitation à cette séance.") % {"person": user.public_name})
    if invitation is not None:
        # Adding and withdrawing someone in a loop would flood their mailbox.
        recent = OutboxMessage.objects.about(invitation).filter(
            kind="session_invitation", created_at__gte=timezone.now() - timedelta(hours=1)
        )
        if recent.count() >= REINVITES_PER_HOUR:
            raise ValidationError(
                _("%(person)s a déjà reçu plusieurs invitations à cette séance dans l'heure : réessayez plus tard.")
                % {"person": user.public_name}
            )
    if invitation is None:
        invitation = SessionInvitation(session=session, user=user)
    invitation.source = SessionInvitation.Source.ADDED
    invitation.network = invitation.network or _network_of(user)
    invitation.withdrawn_at = None
    invitation.answer, invitation.answered_at, invitation.comment = SessionInvitation.Answer.PENDING, None, ""
    invitation.key = new_answer_key()  # an earlier link stays dead
    invitation.invited_at = timezone.now()
    invitation.save()
    if session.invitations_sent_at is None:
        session.invitations_sent_at = timezone.now()
        session.save(update_fields=["invitations_sent_at", "updated_at"])
    notifications.session_invitation_emails_queue(session=session, invitations=[invitation])
    return invitation


@transaction.atomic
def session_invitation_withdraw(*, invitation: SessionInvitation, by: User) -> SessionInvitation:
    """The lead takes one person off a session: their answer link stops
    working, and their calendar receives a cancellation if they were told."""
    invitation = (
        SessionInvitation.objects.select_for_update().select_related("session__group", "user").get(pk=invitation.pk)
    )
    _require(by, "workgroups.edit_scheduled_session", invitation.session)
    if not invitation.is_current:
        raise ValidationError(_("Cette personne n'est pas (ou plus) invitée."))
    emails_cancel_unsent(about=invitation)
    # Their calendar holds the session only if an invitation e-mail has left (or is leaving).
    was_told = (
        OutboxMessage.objects.about(invitation)
        .filter(kind="session_invitation", status__in=[OutboxMessage.Status.SENT, OutboxMessage.Status.SENDING])
        .exists()
    )
    withdrawn_key = invitation.key
    invitation.withdrawn_at = timezone.now()
    invitation.key = new_answer_key()
    invitation.save(update_fields=["withdrawn_at", "key"])
    if was_told:
        notifications.session_withdrawal_email_queue(invitation=invitation, cause_key=withdrawn_key)
    return invitation


@transaction.atomic
def invitation_answer(*, invitation: SessionInvitation, answer: str, comment: str = "") -> SessionInvitation:
    """Record a person's answer, from the e-mail link or the portal."""
    invitation = SessionInvitation.objects.select_for_update().select_related("session").get(pk=invitation.pk)
    session = invitation.session
    if not SessionInvitation.objects.standing().filter(pk=invitation.pk).exists():
        raise ValidationError(_("Votre invitation à cette séance a été retirée."))
    if session.status == Session.Status.CANCELLED:
        raise ValidationError(_("Cette séance a été annulée : il n'y a plus de réponse à donner."))
    if session.has_started:
        raise ValidationError(_("Cette séance a commencé : les réponses sont closes."))
    if answer not in (
        SessionInvitation.Answer.ACCEPTED,
        SessionInvitation.Answer.TENTATIVE,
        SessionInvitation.Answer.DECLINED,
    ):
        raise ValidationError(_("Choisissez une réponse."))
    invitation.answer = answer
    invitation.comment = comment.strip()[:500]
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["answer", "comment", "answered_at"])
    return invitation


# --- Attendance ---------------------------------------------------------------------


@transaction.atomic
def attendance_record(*, session: Session, by: User, present_ids, walk_ins=(), mark_held: bool = False) -> Session:
    """After the session: who came among the invitees (``present_ids`` are
    invitation ids), people who came without an invitation (``walk_ins``,
    accounts), and optionally mark the session held."""
    session = Session.objects.select_for_update().get(pk=session.pk)
    _require(by, "workgroups.manage_session", session)
    if session.status == Session.Status.CANCELLED:
        raise ValidationError(_("Cette séance a été annulée : pas de présences à relever."))
    if not session.has_started:
        raise ValidationError(_("Les présences se relèvent une fois la séance commencée."))
    present_ids = {int(pk) for pk in present_ids}
    invitations = SessionInvitation.objects.filter(session=session)
    unknown = present_ids - set(invitations.values_list("pk", flat=True))
    if unknown:
        raise ValidationError(_("Une personne cochée ne fait pas partie de cette séance."))
    invitations.filter(pk__in=present_ids).update(attended=True)
    absent = invitations.exclude(pk__in=present_ids)
    # Someone recorded as having come uninvited, then unticked, did not come at all.
    absent.filter(source=SessionInvitation.Source.WALK_IN).delete()
    absent.update(attended=False)
    walk_ins = list(walk_ins)
    _check_may_call_on(group=session.group, by=by, users=walk_ins)
    for user in walk_ins:
        invitation, created = SessionInvitation.objects.get_or_create(
            session=session,
            user=user,
            defaults={"source": SessionInvitation.Source.WALK_IN, "network": _network_of(user), "attended": True},
        )
        if not created and invitation.withdrawn_at is not None:
            # Withdrawn, yet came: recorded as having come uninvited, so the attendance list shows them.
            invitation.source, invitation.withdrawn_at, invitation.attended = (
                SessionInvitation.Source.WALK_IN,
                None,
                True,
            )
            invitation.save(update_fields=["source", "withdrawn_at", "attended"])
        elif not created and not invitation.attended:
            invitation.attended = True
            invitation.save(update_fields=["attended"])
    if mark_held and session.status != Session.Status.HELD:
        session.status = Session.Status.HELD
        session.held_at = timezone.now()
        with audit.change(SESSION_HELD, by=by):
            session.save(update_fields=["status", "held_at", "updated_at"])
    return session


# --- Delegates and calendar feeds -----------------------------------------------------


@transaction.atomic
def delegates_set(*, group: WorkingGroup, network: Network, by: User, users) -> list[NetworkDelegate]:
    """A network's coordinator names who attends the group's sessions for the
    network (an empty list: every active member again)."""
    _require(by, "workgroups.name_delegates", network)
    if network not in group.member_networks():
        raise ValidationError(_("Ce réseau ne fait pas partie du groupe."))
    users = list(users)
    members = set(Membership.objects.active().filter(network=network).values_list("user_id", flat=True))
    if any(user.pk not in members for user in users):
        raise ValidationError(_("Ne désignez que des membres actifs du réseau."))
    NetworkDelegate.objects.filter(group=group, network=network).exclude(user__in=users).delete()
    existing = set(NetworkDelegate.objects.filter(group=group, network=network).values_list("user_id", flat=True))
    return [
        NetworkDelegate.objects.create(group=group, network=network, user=user, named_by=by)
        for user in users
        if user.pk not in existing
    ]


def calendar_feed_for(user: User) -> CalendarFeed:
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def calendar_feed_reset(*, user: User) -> CalendarFeed:
    """Draw a new secret address: the previous one stops working at once."""
    feed = calendar_feed_for(user)
    feed.token = new_answer_key()
    feed.created_at = timezone.now()
    feed.save(update_fields=["token", "created_at"])
    return feed
