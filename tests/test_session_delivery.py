"""Session e-mails through the real parts: the lead's click commits, a Celery
worker process on Redis fans the invitation out and delivers the outbox to an
SMTP server on loopback; each calendar file is read back from what the server
received, as a mail client would."""

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.db import transaction
from django.utils import timezone

from outbox.models import OutboxMessage
from outbox.services import Email, emails_queue
from tests.helpers import wait_until
from workgroups import services
from workgroups.models import Session, SessionInvitation, SessionReminder
from workgroups.tasks import send_session_reminders

pytestmark = pytest.mark.worker
PARIS = ZoneInfo("Europe/Paris")
LINK = "https://visio.example/seance-emploi"
WITNESS = "temoin@ville.example"


def _settled():
    return not OutboxMessage.objects.filter(
        status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING]
    ).exists()


def _calendar_part(message):
    [part] = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    return part


def _calendar(message) -> tuple[icalendar.Calendar, bytes]:
    """The calendar attached to a delivered e-mail: parsed back, and its raw bytes."""
    raw = _calendar_part(message).get_payload(decode=True)
    return icalendar.Calendar.from_ical(raw), raw


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _subject(message) -> str:
    return " ".join(message["Subject"].split())


def _march(day, hour, minute=0) -> datetime:
    """A date of next year's March: the daylight-saving change falls on its last Sunday."""
    return datetime(timezone.now().year + 1, 3, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def invitees(group, network_b, alice, coordinator_a, bob, outsider):
    """The group with networks A and B and one member person: four invitees."""
    group.networks.add(network_b)
    group.people.add(outsider)
    return sorted([alice.email, coordinator_a.email, bob.email, outsider.email])


@pytest.fixture
def hybrid_session(group, lead, measure):
    """A hybrid session scheduled by the lead, winter time, with an agenda."""
    return services.session_create(
        group=group,
        by=lead,
        title="Emplois francs : premiers retours",
        starts_at=_march(10, 9, 30),
        ends_at=_march(10, 12),
        format=Session.Format.HYBRID,
        place="ANCT, 20 avenue de Ségur, Paris",
        online_url=LINK,
        agenda=({"title": "Bilan des emplois francs", "measure": measure, "duration_minutes": 45},),
    )


def _delivered(catcher, addresses) -> dict[str, object]:
    """Waits for the outbox to deliver one e-mail to each of ``addresses`` (sorted), and nothing
    else: the messages by recipient."""
    catcher.wait_for_count(len(addresses))
    wait_until(_settled, what="outbox settled")
    assert sorted(message["To"] for message in catcher.messages) == addresses
    return {message["To"]: message for message in catcher.messages}


def _invite_and_deliver(session, lead, catcher, invitees) -> dict[str, object]:
    """The lead's click, then every invitation delivered: the messages by recipient."""
    services.session_invite_group(session=session, by=lead)
    delivered = _delivered(catcher, invitees)
    catcher.reset()
    return delivered


def _only_the_witness_arrives(catcher) -> None:
    """Queues a witness e-mail after the task under test and waits for it: the worker (one process,
    tasks in order) has finished that task by then. Only the witness has arrived."""
    with transaction.atomic():
        emails_queue([Email(to=WITNESS, template="membership_added", context={"network": {"name": "X"}})])
    catcher.wait_for(WITNESS)
    wait_until(_settled, what="outbox settled")
    assert [message["To"] for message in catcher.messages] == [WITNESS]


def test_inviting_a_group_delivers_each_invitee_a_calendar_invitation_of_their_own(
    real_worker, hybrid_session, lead, invitees
):
    started = time.monotonic()
    services.session_invite_group(session=hybrid_session, by=lead)
    assert time.monotonic() - started < 2  # the fan-out is the worker's job, not the request's

    # Each invitee received one e-mail; the lead, not an invitee, none.
    delivered = _delivered(real_worker, invitees)
    assert real_worker.delivered_to(lead.email) == []
    assert SessionInvitation.objects.filter(session=hybrid_session).count() == len(invitees)
    year = hybrid_session.starts_at.year
    for address, message in delivered.items():
        assert _subject(message) == f"[Concertation] Invitation : Emplois francs : premiers retours, le 10 mars {year}"
        text = _text(message)
        assert "Une invitation vous est adressée pour la séance « Emplois francs : premiers retours »" in text
        assert f"10 mars {year}, 09:30 – 12:00 (heure de Paris)" in text
        assert "1. Bilan des emplois francs (45 min)" in text
        assert "http://testserver/" in text  # answer links and the session's page, on the portal's address

        part = _calendar_part(message)
        assert part.get_content_type() == "text/calendar"
        assert part.get_param("method") == "REQUEST"
        assert part.get_filename() == "invitation.ics"
        calendar, raw = _calendar(message)
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.events
        assert str(event["UID"]) == hybrid_session.calendar_uid()
        assert event["SEQUENCE"] == 0
        assert event["STATUS"] == "CONFIRMED"
        assert str(event["SUMMARY"]) == "Emplois francs : premiers retours"
        # The invitee's own address only: the file does not share the invitation list.
        assert str(event["ATTENDEE"]) == f"mailto:{address}"
        assert str(event["ORGANIZER"]).startswith("mailto:")
        # Paris time, with its time zone's rules in the file.
        assert b"DTSTART;TZID=Europe/Paris:" in raw and b"T093000" in raw
        assert event.start == _march(10, 9, 30) and str(event.start.tzinfo) == "Europe/Paris"
        assert event.end == _march(10, 12)
        assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
        # The online link goes to invitees, in the e-mail and in the calendar entry.
        assert LINK in text and LINK in str(event["LOCATION"])

    sent = OutboxMessage.objects.filter(kind="session_invitation")
    assert sent.count() == len(invitees) and set(sent.values_list("status", flat=True)) == {"sent"}
    hybrid_session.refresh_from_db()
    assert hybrid_session.invitations_sent_at is not None


def test_moving_a_session_delivers_an_update_saying_what_changed(real_worker, hybrid_session, lead, invitees):
    _invite_and_deliver(hybrid_session, lead, real_worker, invitees)

    # Moved to the last day of March: summer time by then.
    changes = services.session_update(
        session=hybrid_session, by=lead, starts_at=_march(31, 14), ends_at=_march(31, 16, 30)
    )
    assert [change.field for change in changes] == ["starts_at", "ends_at"]

    year = hybrid_session.starts_at.year
    for address, message in _delivered(real_worker, invitees).items():
        assert (
            _subject(message)
            == f"[Concertation] Séance modifiée : Emplois francs : premiers retours, le 31 mars {year}"
        )
        text = _text(message)
        assert "La séance « Emplois francs : premiers retours » a changé :" in text
        before, after = f"{_weekday(_march(10, 9))} 10 mars {year}", f"{_weekday(_march(31, 14))} 31 mars {year}"
        assert f"- Début : {before}, 09:30 → {after}, 14:00" in text
        assert f"- Fin : {before}, 12:00 → {after}, 16:30" in text

        assert _calendar_part(message).get_param("method") == "REQUEST"
        calendar, raw = _calendar(message)
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.events
        assert str(event["UID"]) == hybrid_session.calendar_uid()  # the same entry, not a new one
        assert event["SEQUENCE"] == 1
        assert str(event["ATTENDEE"]) == f"mailto:{address}"
        assert event.start == _march(31, 14) and str(event.start.tzinfo) == "Europe/Paris"
        assert b"DTSTART;TZID=Europe/Paris:" in raw and b"0331T140000" in raw
        assert event.start.utcoffset() == timedelta(hours=2)  # summer time
    hybrid_session.refresh_from_db()
    assert hybrid_session.sequence == 1


def _weekday(moment: datetime) -> str:
    return ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"][moment.weekday()]


def test_cancelling_a_session_delivers_a_cancellation_and_keeps_the_session(
    real_worker, hybrid_session, lead, invitees
):
    invitations = _invite_and_deliver(hybrid_session, lead, real_worker, invitees)
    first_sequence = _calendar(next(iter(invitations.values())))[0].events[0]["SEQUENCE"]

    services.session_cancel(session=hybrid_session, by=lead, reason="Salle indisponible")

    year = hybrid_session.starts_at.year
    for address, message in _delivered(real_worker, invitees).items():
        assert (
            _subject(message) == f"[Concertation] Séance annulée : Emplois francs : premiers retours, le 10 mars {year}"
        )
        text = _text(message)
        assert f"La séance « Emplois francs : premiers retours » du {_weekday(_march(10, 9))} 10 mars {year}" in text
        assert "est annulée" in text and "Motif : Salle indisponible" in text

        part = _calendar_part(message)
        assert part.get_param("method") == "CANCEL" and part.get_filename() == "annulation.ics"
        calendar, _raw = _calendar(message)
        assert calendar["METHOD"] == "CANCEL"
        [event] = calendar.events
        assert str(event["UID"]) == hybrid_session.calendar_uid()
        assert event["STATUS"] == "CANCELLED"
        assert event["SEQUENCE"] > first_sequence
        assert str(event["ATTENDEE"]) == f"mailto:{address}"

    # Marked cancelled, never deleted; its reminders will not leave.
    session = Session.objects.get(pk=hybrid_session.pk)
    assert session.status == Session.Status.CANCELLED and session.cancelled_at is not None
    assert session.sequence == 1
    assert not SessionReminder.objects.filter(session=session, sent_at__isnull=True, skipped_at__isnull=True).exists()


def test_a_due_reminder_is_sent_once_by_the_periodic_task_to_those_who_have_not_declined(
    real_worker, hybrid_session, lead, invitees, bob
):
    _invite_and_deliver(hybrid_session, lead, real_worker, invitees)
    declined = SessionInvitation.objects.get(session=hybrid_session, user=bob)
    services.invitation_answer(invitation=declined, answer=SessionInvitation.Answer.DECLINED)
    # The clock moves on: the seven-day reminder falls due, the invitations had left before it.
    now = timezone.now()
    Session.objects.filter(pk=hybrid_session.pk).update(invitations_sent_at=now - timedelta(hours=2))
    week_before = SessionReminder.objects.get(session=hybrid_session, offset_minutes=7 * 24 * 60)
    SessionReminder.objects.filter(pk=week_before.pk).update(due_at=now - timedelta(minutes=1))
    reminded = [address for address in invitees if address != bob.email]

    send_session_reminders.delay()  # what beat does

    year = hybrid_session.starts_at.year
    for address, message in _delivered(real_worker, reminded).items():
        assert (
            _subject(message) == f"[Concertation] Rappel : Emplois francs : premiers retours, le 10 mars {year} à 09:30"
        )
        text = _text(message)
        assert "Rappel : la séance « Emplois francs : premiers retours » approche." in text
        assert "Vous n'avez pas encore répondu." in text
        calendar, _raw = _calendar(message)
        [event] = calendar.events
        assert str(event["UID"]) == hybrid_session.calendar_uid() and event["SEQUENCE"] == 0
        assert str(event["ATTENDEE"]) == f"mailto:{address}"
    week_before.refresh_from_db()
    assert week_before.sent_at is not None
    sent_at = week_before.sent_at
    # The other reminder is not due yet.
    assert SessionReminder.objects.get(session=hybrid_session, offset_minutes=24 * 60).sent_at is None

    # Beat runs again: nothing leaves twice.
    real_worker.reset()
    send_session_reminders.delay()
    _only_the_witness_arrives(real_worker)
    assert OutboxMessage.objects.filter(kind="session_reminder").count() == len(reminded)
    week_before.refresh_from_db()
    assert week_before.sent_at == sent_at


def test_a_reminder_due_after_the_start_is_skipped_not_sent(real_worker, group, lead, invitees):
    """A session that has started by the time beat gets to its reminder: skipped, nothing leaves."""
    starts = timezone.now() + timedelta(days=3)
    session = services.session_create(
        group=group,
        by=lead,
        title="Point d'étape",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        place="Salle 4",
    )
    _invite_and_deliver(session, lead, real_worker, invitees)
    # Beat was down: the session started an hour ago and its reminder is still unsent.
    past = timezone.now() - timedelta(hours=1)
    Session.objects.filter(pk=session.pk).update(
        starts_at=past, ends_at=past + timedelta(hours=2), invitations_sent_at=past - timedelta(days=3)
    )
    SessionReminder.objects.filter(session=session).update(due_at=past - timedelta(days=1))

    send_session_reminders.delay()
    wait_until(
        lambda: not SessionReminder.objects.filter(session=session, skipped_at__isnull=True).exists(),
        what="reminders skipped",
    )
    _only_the_witness_arrives(real_worker)
    assert not SessionReminder.objects.filter(session=session, sent_at__isnull=False).exists()
