"""The outbox's rules, with Django's in-memory mail (the real parts are in
test_outbox_delivery.py)."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from outbox import delivery
from outbox.models import OutboxMessage
from outbox.services import Email, dispatch, email_queue, emails_queue

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
CONTEXT = {"network": {"name": "Réseau Alpha"}, "link": "http://testserver/"}


def _queue(to="lea@ville.example", **kwargs):
    return email_queue(to=to, template="membership_added", context=CONTEXT, **kwargs)


def test_it_stores_the_rendered_e_mail_and_sends_it_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue()
        assert mail.outbox == []  # nothing leaves before the commit
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 1 and message.sent_at is not None
    [sent] = mail.outbox
    assert sent.to == ["lea@ville.example"] and "Réseau Alpha" in sent.body
    assert sent.extra_headers["Message-ID"] == message.message_id
    assert message.message_id.startswith("<") and message.message_id.endswith(">") and "@" in message.message_id


def test_an_e_mail_with_a_once_key_is_queued_once():
    assert _queue(once_key="round:1:opening:7") is not None
    assert _queue(once_key="round:1:opening:7") is None
    created = emails_queue(
        [
            Email(to="a@ville.example", template="membership_added", context=CONTEXT, once_key="k"),
            Email(to="a@ville.example", template="membership_added", context=CONTEXT, once_key="k"),
        ]
    )
    assert len(created) == 1
    assert OutboxMessage.objects.count() == 2


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"no such user")}), True),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (451, b"try later")}), False),
        (smtplib.SMTPDataError(552, b"message too big"), True),
        (smtplib.SMTPDataError(421, b"closing"), False),
        (smtplib.SMTPSenderRefused(553, b"sender not allowed", "portal@x.example"), False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False),
        (smtplib.SMTPServerDisconnected("gone"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
    ],
)
def test_it_tells_permanent_refusals_from_temporary_failures(error, permanent):
    assert delivery.is_permanent(error) is permanent


def test_temporary_failures_are_retried_with_a_growing_delay_that_never_gives_up(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS = 60, 3600
    delays = [OutboxMessage(attempts=n).retry_delay() for n in (1, 2, 3, 7, 50)]
    hour = timedelta(hours=1)
    assert delays == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), hour, hour]


def test_a_failing_message_waits_and_the_next_ones_still_leave():
    first, second = _queue("refuse@ville.example"), _queue("ok@ville.example")

    def send(messages):
        if messages[0].to == ["refuse@ville.example"]:
            raise smtplib.SMTPRecipientsRefused({"refuse@ville.example": (452, b"mailbox full")})
        mail.outbox.extend(messages)
        return 1

    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=send):
        report = delivery.deliver(message_ids=[first.pk, second.pk])
    assert (report.sent, report.deferred, report.failed) == (1, 1, 0)
    first.refresh_from_db()
    assert first.status == Status.QUEUED and "452 mailbox full" in first.last_error
    assert first.next_attempt_at > timezone.now()
    assert [m.to for m in mail.outbox] == [["ok@ville.example"]]


def test_a_message_left_sending_by_a_dead_worker_is_due_again_once_its_lease_expires():
    message = _queue()
    first_token, first_ids = delivery.claim(message_ids=[message.pk])
    assert first_ids == [message.pk]
    assert delivery.claim(message_ids=[message.pk])[1] == []  # held by the first worker
    assert not OutboxMessage.objects.due().exists()
    OutboxMessage.objects.filter(pk=message.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert list(OutboxMessage.objects.due()) == [message]
    # Another worker takes it up; the first, come back to life, no longer writes to it.
    second_token, second_ids = delivery.claim(message_ids=[message.pk])
    assert second_ids == [message.pk] and second_token != first_token
    delivery._mark_sent([message.pk], first_token)
    message.refresh_from_db()
    assert message.status == Status.SENDING and message.claim == second_token


def test_a_broker_that_is_down_leaves_the_messages_for_the_sweep(caplog):
    message = _queue()
    with mock.patch("outbox.tasks.send_outbox_batch.delay", side_effect=OperationalError("Connection refused")):
        assert dispatch([message.pk]) == 0
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert "left for the sweep" in caplog.text


def test_nothing_is_stored_for_a_rolled_back_change():
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue()
        raise RuntimeError
    assert not OutboxMessage.objects.exists()


def test_agents_read_the_outbox_and_send_failed_messages_again(agent_client, django_capture_on_commit_callbacks):
    failed = _queue("retour@ville.example")
    OutboxMessage.objects.filter(pk=failed.pk).update(status=Status.FAILED, last_error="550 5.1.1 unknown")
    sent = _queue("deja@ville.example")
    OutboxMessage.objects.filter(pk=sent.pk).update(status=Status.SENT)

    changelist = reverse("admin:outbox_outboxmessage_changelist")
    page = agent_client.get(changelist, {"status__exact": "failed"}).content.decode()
    assert "retour@ville.example" in page and "550 5.1.1 unknown" in page and "deja@ville.example" not in page
    assert agent_client.get(reverse("admin:outbox_outboxmessage_add")).status_code == 403
    assert agent_client.get(reverse("admin:outbox_outboxmessage_delete", args=[failed.pk])).status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            changelist, {"action": "send_again", "_selected_action": [failed.pk, sent.pk]}, follow=True
        )
    body = response.content.decode()
    assert "1 courriel remis en file d&#x27;envoi." in body
    assert "1 courriel déjà envoyé, en cours d&#x27;envoi ou annulé n&#x27;a pas été renvoyé." in body
    failed.refresh_from_db()
    assert failed.status == Status.SENT
    assert [m.to for m in mail.outbox] == [["retour@ville.example"]]


def test_the_dashboard_counts_failed_e_mails_for_agents_only(client, staff, alice):
    message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(status=Status.FAILED)
    client.force_login(staff)
    assert "1 courriel n'a pas pu être remis." in client.get(reverse("dashboard")).content.decode()
    client.force_login(alice)
    assert "Courriels sortants" not in client.get(reverse("dashboard")).content.decode()


def test_people_who_are_not_agents_cannot_open_the_outbox(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.get(reverse("admin:outbox_outboxmessage_changelist"))
    assert response.status_code == 302


def test_agents_do_not_see_the_personal_links_of_the_e_mails(agent_client, coordinator_a, network_a):
    from networks import services

    invitation = services.invitation_send(
        inviter=coordinator_a, network=network_a, email="nina@ville.example", role="representative"
    ).invitation
    message = OutboxMessage.objects.about(invitation).get()
    link = next(word for word in message.body_text.split() if "/invitation/" in word)
    page = agent_client.get(reverse("admin:outbox_outboxmessage_change", args=[message.pk])).content.decode()
    assert "[lien personnel masqué]" in page
    assert link not in page and link.rsplit("/invitation/", 1)[1].strip("/") not in page


def test_mail_waiting_for_an_old_address_follows_the_person_to_the_new_one(staff, alice):
    from networks.services import user_change_email

    message = _queue("alice@alpha.example")
    user_change_email(user=alice, new_email="alice@nouvelle.example", changed_by=staff)
    message.refresh_from_db()
    assert message.to_email == "alice@nouvelle.example"
