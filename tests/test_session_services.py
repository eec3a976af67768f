"""Sessions' use cases: scheduling, inviting, changes, cancellation, reminders, answers, attendance."""

from datetime import timedelta
from email import message_from_bytes

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from outbox.models import OutboxMessage
from tests.factories import MembershipFactory, UserFactory
from workgroups import services
from workgroups.models import Session, SessionInvitation, SessionReminder
from workgroups.tokens import AnswerLinkError, make_answer_token, read_answer_token


def _ics_of(message) -> icalendar.Calendar:
    """The calendar attached to a sent e-mail, parsed back."""
    parsed = message_from_bytes(message.message().as_bytes())
    parts = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))


def _invite(session, by, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.session_invite_group(session=session, by=by)


def test_a_lead_schedules_a_session_with_its_agenda_and_reminders(group, lead, measure):
    starts = timezone.now() + timedelta(days=20)
    session = services.session_create(
        group=group,
        by=lead,
        title="Emplois francs",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        format=Session.Format.HYBRID,
        place="Salle 2",
        online_url="https://visio.example/abc",
        agenda=({"title": "Bilan", "measure": measure, "duration_minutes": 30}, {"title": "Suites"}),
    )
    assert [i.title for i in session.agenda_items.all()] == ["Bilan", "Suites"]
    assert sorted(SessionReminder.objects.filter(session=session).values_list("due_at", flat=True)) == [
        starts - timedelta(days=7),
        starts - timedelta(days=1),
    ]
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"ends_at_delta": -timedelta(hours=1)}, "ends_at"),
        ({"start_delta": -timedelta(days=11)}, "starts_at"),
        ({"format": Session.Format.ONLINE, "online_url": ""}, "online_url"),
    ],
)
def test_bad_schedules_are_refused_and_nothing_is_written(group, lead, changes, field):
    starts = timezone.now() + timedelta(days=10) + changes.get("start_delta", timedelta())
    with pytest.raises(ValidationError) as error:
        services.session_create(
            group=group,
            by=lead,
            title="X",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2) + changes.get("ends_at_delta", timedelta()) * 3,
            format=changes.get("format", Session.Format.IN_PERSON),
            place="Salle",
            online_url=changes.get("online_url", ""),
        )
    assert field in error.value.message_dict
    assert Session.objects.count() == 0


def test_a_representative_or_another_groups_lead_cannot_schedule(group, other_group, alice):
    starts = timezone.now() + timedelta(days=3)
    for person in (alice, other_group.leads.get()):
        with pytest.raises(PermissionDenied):
            services.session_create(
                group=group, by=person, title="X", starts_at=starts, ends_at=starts + timedelta(hours=1), place="S"
            )


def test_inviting_the_group_invites_its_networks_members_once_with_a_calendar_file(
    session, lead, alice, coordinator_a, bob, django_capture_on_commit_callbacks
):
    _invite(session, lead, django_capture_on_commit_callbacks)
    invited = set(SessionInvitation.objects.filter(session=session).values_list("user__email", flat=True))
    assert invited == {alice.email, coordinator_a.email}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(invited)
    calendar = _ics_of(mail.outbox[0])
    assert calendar["METHOD"] == "REQUEST"
    event = calendar.events[0]
    assert str(event["UID"]) == session.calendar_uid()
    assert event["SEQUENCE"] == 0
    assert event.start == session.starts_at
    assert str(event.start.tzinfo) == "Europe/Paris"
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Paris"
    # Each invitee's file names only them: the invitation list is not shared.
    assert str(event["ATTENDEE"]) == f"mailto:{mail.outbox[0].to[0]}"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    # Run twice (a redelivered task): nobody is invited or e-mailed twice.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_invitations_fan_out(session_id=session.pk)
    assert mail.outbox == []
    assert SessionInvitation.objects.filter(session=session).count() == 2


def test_a_coordinator_names_who_attends_for_the_network(
    session, lead, alice, coordinator_a, django_capture_on_commit_callbacks
):
    services.delegates_set(
        group=session.group, network=alice.memberships.get().network, by=coordinator_a, users=[alice]
    )
    _invite(session, lead, django_capture_on_commit_callbacks)
    assert [m.to[0] for m in mail.outbox] == [alice.email]


def test_moving_a_session_updates_calendars_and_reminders(session, lead, alice, django_capture_on_commit_callbacks):
    _invite(session, lead, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    new_start = session.starts_at + timedelta(days=2, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        changes = services.session_update(
            session=session, by=lead, starts_at=new_start, ends_at=new_start + timedelta(hours=2)
        )
    assert {c.field for c in changes} == {"starts_at", "ends_at"}
    [message] = mail.outbox
    assert "modifiée" in message.subject
    event = _ics_of(message).events[0]
    assert (str(event["UID"]), event["SEQUENCE"]) == (session.calendar_uid(), 1)
    assert event.start == new_start
    assert set(SessionReminder.objects.filter(session=session).values_list("due_at", flat=True)) == {
        new_start - timedelta(days=7),
        new_start - timedelta(days=1),
    }


def test_adding_an_agenda_item_sends_nothing(session, lead, alice, django_capture_on_commit_callbacks):
    _invite(session, lead, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.agenda_save(session=session, by=lead, items=[{"title": "Tour de table"}])
    assert mail.outbox == []
    session.refresh_from_db()
    assert session.sequence == 0


def test_cancelling_sends_a_cancel_and_keeps_the_session(session, lead, alice, django_capture_on_commit_callbacks):
    _invite(session, lead, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_cancel(session=session, by=lead, reason="Grève des transports")
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    [message] = mail.outbox
    calendar = _ics_of(message)
    assert calendar["METHOD"] == "CANCEL"
    assert calendar.events[0]["SEQUENCE"] == 1
    assert calendar.events[0]["STATUS"] == "CANCELLED"
    assert "Grève des transports" in message.body
    assert not SessionReminder.objects.filter(session=session, skipped_at__isnull=True, sent_at__isnull=True).exists()


def test_reminders_go_once_to_those_who_have_not_declined(
    session, lead, alice, coordinator_a, django_capture_on_commit_callbacks
):
    _invite(session, lead, django_capture_on_commit_callbacks)
    services.invitation_answer(
        invitation=SessionInvitation.objects.get(session=session, user=coordinator_a),
        answer=SessionInvitation.Answer.DECLINED,
    )
    mail.outbox.clear()
    week_before = session.starts_at - timedelta(days=7) + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send_due(now=week_before) == 1
        assert services.reminders_send_due(now=week_before) == 0
    assert [m.to[0] for m in mail.outbox] == [alice.email]
    assert "Rappel" in mail.outbox[0].subject
    # Past the start, nothing more leaves.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send_due(now=session.starts_at + timedelta(minutes=1)) == 0


def test_answer_links_answer_their_own_invitation_until_the_start(
    session, lead, alice, django_capture_on_commit_callbacks
):
    _invite(session, lead, django_capture_on_commit_callbacks)
    invitation = SessionInvitation.objects.get(session=session, user=alice)
    token = make_answer_token(invitation)
    assert read_answer_token(token) == invitation
    with pytest.raises(AnswerLinkError):
        read_answer_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    services.invitation_answer(invitation=invitation, answer="accepted", comment="Je viendrai")
    invitation.refresh_from_db()
    assert (invitation.answer, invitation.comment) == ("accepted", "Je viendrai")
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(minutes=1), ends_at=timezone.now() + timedelta(hours=1)
    )
    with pytest.raises(ValidationError):
        services.invitation_answer(invitation=invitation, answer="declined")


def test_duplicate_invitation_is_refused(session, lead, alice, django_capture_on_commit_callbacks):
    _invite(session, lead, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="a déjà une invitation"):
        services.session_invite_person(session=session, by=lead, user=alice)


def test_attendance_with_a_walk_in_and_the_session_held(session, lead, alice, django_capture_on_commit_callbacks):
    _invite(session, lead, django_capture_on_commit_callbacks)
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )
    visitor = UserFactory(email="visiteur@example.org")
    MembershipFactory(user=visitor, network=session.group.networks.get())  # of the group, not invited
    invitation = SessionInvitation.objects.get(session=session, user=alice)
    services.attendance_record(
        session=session, by=lead, present_ids=[invitation.pk], walk_ins=[visitor], mark_held=True
    )
    session.refresh_from_db()
    assert session.status == Session.Status.HELD
    assert set(
        SessionInvitation.objects.filter(session=session, attended=True).values_list("user__email", flat=True)
    ) == {
        alice.email,
        visitor.email,
    }


def test_people_who_left_their_network_lose_the_link_and_the_updates(
    session, lead, alice, coordinator_a, django_capture_on_commit_callbacks
):
    _invite(session, lead, django_capture_on_commit_callbacks)
    alice.memberships.update(is_active=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_update(session=session, by=lead, place="Salle du conseil")
    assert [m.to[0] for m in mail.outbox] == [coordinator_a.email]
    assert not alice.has_perm("workgroups.read_online_link", session)
    with pytest.raises(ValidationError):
        services.invitation_answer(
            invitation=SessionInvitation.objects.get(session=session, user=alice), answer="accepted"
        )


def test_a_named_participant_who_left_no_longer_speaks_for_the_network(
    session, lead, alice, coordinator_a, django_capture_on_commit_callbacks
):
    network = alice.memberships.get().network
    services.delegates_set(group=session.group, network=network, by=coordinator_a, users=[alice])
    alice.memberships.update(is_active=False)
    _invite(session, lead, django_capture_on_commit_callbacks)
    # Her network is invited whole again, and she is not.
    assert [m.to[0] for m in mail.outbox] == [coordinator_a.email]


def test_a_withdrawn_person_who_was_told_gets_a_cancellation_without_the_link(
    session, lead, alice, django_capture_on_commit_callbacks
):
    Session.objects.filter(pk=session.pk).update(format=Session.Format.HYBRID, online_url="https://visio.example/s")
    session.refresh_from_db()
    _invite(session, lead, django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(kind="session_invitation").update(status=OutboxMessage.Status.SENT)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_invitation_withdraw(
            invitation=SessionInvitation.objects.get(session=session, user=alice), by=lead
        )
    [message] = mail.outbox
    calendar = _ics_of(message)
    assert calendar["METHOD"] == "CANCEL"
    assert b"visio.example" not in calendar.to_ical()
    assert "visio.example" not in message.body


def test_a_withdrawn_person_never_told_hears_nothing_and_their_failed_e_mail_cannot_be_resent(
    session, lead, alice, django_capture_on_commit_callbacks
):
    invitation = services.session_invite_person(session=session, by=lead, user=alice)
    OutboxMessage.objects.update(status=OutboxMessage.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_invitation_withdraw(invitation=invitation, by=lead)
    assert mail.outbox == []
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxMessage.Status.CANCELLED}


def test_a_broker_down_at_the_click_loses_nothing_and_the_periodic_resume_invites(
    session, lead, alice, coordinator_a, django_capture_on_commit_callbacks, monkeypatch
):
    from workgroups import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis est injoignable")

    monkeypatch.setattr(tasks.invite_session_group, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_invite_group(session=session, by=lead)  # the lead's click succeeds
    assert SessionInvitation.objects.count() == 0
    monkeypatch.undo()
    Session.objects.filter(pk=session.pk).update(fan_out_requested_at=timezone.now() - timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sessions_fan_out_resume() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([alice.email, coordinator_a.email])
    session.refresh_from_db()
    assert session.fanned_out_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sessions_fan_out_resume() == 0


def test_the_fan_out_commits_by_chunks(session, lead, network_a, django_capture_on_commit_callbacks):
    for n in range(5):
        MembershipFactory(user=UserFactory(email=f"membre{n}@alpha.example"), network=network_a)
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.session_invitations_fan_out(session_id=session.pk, chunk=2) == 5
    assert len(callbacks) == 3  # one delivery hand-off per committed chunk
    assert len(mail.outbox) == 5


def test_reminders_due_together_send_only_the_nearest(session, lead, alice, django_capture_on_commit_callbacks):
    _invite(session, lead, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    # Beat was down for a week: both reminders are due at once.
    with django_capture_on_commit_callbacks(execute=True):
        services.reminders_send_due(now=session.starts_at - timedelta(hours=2))
    assert len(mail.outbox) == 1
    assert SessionReminder.objects.filter(session=session, skipped_at__isnull=False).count() == 1


def test_session_e_mails_still_waiting_at_the_start_are_cancelled_not_sent_late(session, lead, alice):
    from outbox.delivery import expire_too_late

    services.session_invite_person(session=session, by=lead, user=alice)
    [message] = OutboxMessage.objects.all()
    assert message.not_after == session.starts_at
    assert OutboxMessage.objects.due(session.starts_at - timedelta(minutes=1)).count() == 1
    assert OutboxMessage.objects.due(session.starts_at + timedelta(minutes=1)).count() == 0
    assert expire_too_late(now=session.starts_at + timedelta(minutes=1)) == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.CANCELLED


def test_an_update_keeps_the_answer_given_in_the_calendar(session, lead, alice, django_capture_on_commit_callbacks):
    _invite(session, lead, django_capture_on_commit_callbacks)
    services.invitation_answer(invitation=SessionInvitation.objects.get(session=session, user=alice), answer="accepted")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_update(session=session, by=lead, place="Salle du conseil")
    [message] = [m for m in mail.outbox if m.to == [alice.email]]
    assert _ics_of(message).events[0]["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"


def test_someone_withdrawn_who_came_anyway_stays_recorded_as_present(session, lead, alice):
    invitation = services.session_invite_person(session=session, by=lead, user=alice)
    services.session_invitation_withdraw(invitation=invitation, by=lead)
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )
    services.attendance_record(session=session, by=lead, present_ids=[], walk_ins=[alice])
    invitation.refresh_from_db()
    assert (invitation.source, invitation.attended, invitation.withdrawn_at) == ("walk_in", True, None)
    # Saved again with her ticked, as the attendance page lists her now.
    services.attendance_record(session=session, by=lead, present_ids=[invitation.pk])
    invitation.refresh_from_db()
    assert invitation.attended is True


def test_moving_a_session_earlier_moves_the_deadline_of_what_still_waits(session, lead, alice):
    services.session_invite_person(session=session, by=lead, user=alice)
    new_start = session.starts_at - timedelta(days=8)
    services.session_update(session=session, by=lead, starts_at=new_start, ends_at=new_start + timedelta(hours=2))
    assert set(OutboxMessage.objects.values_list("not_after", flat=True)) == {new_start}


def test_a_bounced_invitation_keeps_its_reason_after_the_start(session, lead, alice):
    from outbox.delivery import expire_too_late

    services.session_invite_person(session=session, by=lead, user=alice)
    OutboxMessage.objects.update(status=OutboxMessage.Status.FAILED, last_error="550 5.1.1 mailbox unknown")
    expire_too_late(now=session.starts_at + timedelta(minutes=1))
    assert OutboxMessage.objects.get().last_error == "550 5.1.1 mailbox unknown"


def test_cancelling_lets_a_waiting_withdrawal_leave(session, lead, alice, coordinator_a):
    invitation = services.session_invite_person(session=session, by=lead, user=alice)
    OutboxMessage.objects.update(status=OutboxMessage.Status.SENT)
    services.session_invitation_withdraw(invitation=invitation, by=lead)
    services.session_cancel(session=session, by=lead)
    withdrawal = OutboxMessage.objects.get(kind="session_withdrawal")
    assert withdrawal.status == OutboxMessage.Status.QUEUED


def test_the_command_sends_what_beat_would(session, lead, alice, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    _invite(session, lead, django_capture_on_commit_callbacks)
    SessionReminder.objects.filter(session=session, offset_minutes=7 * 24 * 60).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now() - timedelta(days=1))
    mail.outbox.clear()
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_session_reminders", stdout=out)
    assert "1 rappel(s) de séance" in out.getvalue()
    [reminder] = mail.outbox
    assert reminder.to == [alice.email] and "Rappel" in reminder.subject


def test_an_update_made_from_english_pages_is_written_in_french(
    session, lead, alice, django_capture_on_commit_callbacks
):
    from django.utils import translation

    _invite(session, lead, django_capture_on_commit_callbacks)
    services.invitation_answer(invitation=SessionInvitation.objects.get(session=session, user=alice), answer="accepted")
    mail.outbox.clear()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.session_update(session=session, by=lead, title="Emplois francs : bilan")
    [message] = mail.outbox
    assert "- Intitulé : Emplois francs : premiers retours → Emplois francs : bilan" in message.body
    assert "Votre réponse actuelle : je participerai." in message.body
    assert "Title" not in message.body


def test_the_file_sent_to_someone_taken_off_says_cancelled(session, lead, alice, django_capture_on_commit_callbacks):
    invitation = services.session_invite_person(session=session, by=lead, user=alice)
    OutboxMessage.objects.update(status=OutboxMessage.Status.SENT)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_invitation_withdraw(invitation=invitation, by=lead)
    event = _ics_of(mail.outbox[0]).events[0]
    assert event["STATUS"] == "CANCELLED"
