"""The outbox through the real parts: PostgreSQL, Redis, Celery worker
processes and an SMTP server on loopback that can refuse, slow down, stop."""

import os
import signal
import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from networks import services as network_services
from outbox.models import OutboxMessage
from outbox.services import Email, emails_queue
from outbox.tasks import send_outbox_batch, sweep_outbox
from tests.helpers import wait_until
from tests.real_services import start_worker

pytestmark = pytest.mark.worker
Status = OutboxMessage.Status


def _queue(addresses, *, template="membership_added"):
    """Commit one e-mail per address, as a service would."""
    with transaction.atomic():
        return emails_queue(
            [
                Email(to=address, template=template, context={"network": {"name": "Réseau Alpha"}})
                for address in addresses
            ]
        )


def _settled():
    return not OutboxMessage.objects.filter(status__in=[Status.QUEUED, Status.SENDING]).exists()


def _time_passes(**delta):
    """What the clock would do: every retry and every lease falls due."""
    past = timezone.now() - timedelta(hours=2)
    OutboxMessage.objects.filter(status=Status.QUEUED).update(next_attempt_at=past)
    OutboxMessage.objects.filter(status=Status.SENDING).update(lease_expires_at=past)


@contextmanager
def broker_unreachable():
    """The portal's connection to Redis fails (the worker keeps its own)."""
    from concertation.celery import app

    def reset_pools():
        # kombu keeps a pool per broker address: forgetting ours makes the next publish use the current one.
        app._pool = None
        app.amqp._producer_pool = None

    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        reset_pools()


def test_it_delivers_everything_once_after_an_smtp_outage_longer_than_any_retry_limit(real_worker, smtp_server):
    addresses = [f"panne{n}@ville.example" for n in range(20)]
    smtp_server.stop()
    try:
        _queue(addresses)
        wait_until(lambda: OutboxMessage.objects.filter(attempts=1, status=Status.QUEUED).count() == 20)
        # Ten sweeps while the server is down: well past the six retries (25 minutes) of before.
        for attempt in range(2, 12):
            _time_passes()
            sweep_outbox.delay()
            wait_until(
                lambda attempt=attempt: (
                    OutboxMessage.objects.filter(attempts=attempt, status=Status.QUEUED).count() == 20
                ),
                what=f"attempt {attempt}",
            )
        message = OutboxMessage.objects.first()
        assert "Connection" in message.last_error and message.next_attempt_at > timezone.now() + timedelta(minutes=30)
    finally:
        smtp_server.start()
    _time_passes()
    sweep_outbox.delay()
    real_worker.wait_for_count(20)
    wait_until(_settled)
    assert Counter(m["To"] for m in real_worker.messages) == Counter(addresses)
    assert OutboxMessage.objects.filter(status=Status.SENT, attempts=12).count() == 20


def test_messages_committed_while_redis_is_unreachable_leave_once_it_is_back(real_worker, coordinator_a, network_a):
    with broker_unreachable():
        started = time.monotonic()
        outcome = network_services.invitation_send(
            inviter=coordinator_a, network=network_a, email="sans-redis@ville.example", role="representative"
        )
        assert time.monotonic() - started < 5  # the request is not held up by the broker
    message = OutboxMessage.objects.about(outcome.invitation).get()
    assert message.status == Status.QUEUED
    time.sleep(1)
    assert real_worker.delivered_to("sans-redis@ville.example") == []
    _time_passes()
    sweep_outbox.delay()  # what beat does every minute
    delivered = real_worker.wait_for("sans-redis@ville.example")
    assert "Invitation à rejoindre le réseau Réseau Alpha" in delivered["Subject"]
    wait_until(_settled)
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_one_address_refused_for_good_does_not_stop_the_others(real_worker, smtp_server, client, staff):
    addresses = [f"personne{n}@ville.example" for n in range(50)]
    smtp_server.handler.refused.add("personne17@ville.example")
    _queue(addresses)
    real_worker.wait_for_count(49)
    wait_until(_settled)
    assert len(real_worker.messages) == 49
    failed = OutboxMessage.objects.get(status=Status.FAILED)
    assert failed.to_email == "personne17@ville.example"
    assert "550" in failed.last_error and failed.attempts == 1
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 49

    client.force_login(staff)
    page = client.get(reverse("admin:outbox_outboxmessage_changelist"), {"status__exact": "failed"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "personne17@ville.example" in body and "550 5.1.1 Mailbox unavailable" in body
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "1 courriel n'a pas pu être remis." in dashboard

    # The address is fixed on the server's side: staff send it again from the admin.
    smtp_server.handler.refused.clear()
    client.post(
        reverse("admin:outbox_outboxmessage_changelist"), {"action": "send_again", "_selected_action": [failed.pk]}
    )
    real_worker.wait_for("personne17@ville.example")
    wait_until(_settled)
    failed.refresh_from_db()
    assert failed.status == Status.SENT


def test_a_worker_killed_mid_fan_out_loses_nothing_and_repeats_at_most_its_batch(
    celery_worker_process, real_worker, smtp_server
):
    from django.conf import settings

    addresses = [f"masse{n}@ville.example" for n in range(500)]
    smtp_server.handler.delay_seconds = 0.01
    # This worker alone consumes while the session's worker pauses its queue.
    from concertation.celery import app

    app.control.cancel_consumer(settings.CELERY_TASK_DEFAULT_QUEUE, reply=True)
    doomed = start_worker(smtp_server)
    try:
        _queue(addresses)
        real_worker.wait_for_count(120)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        at_kill = real_worker.count()
        assert at_kill < 500
        in_flight = OutboxMessage.objects.filter(status=Status.SENDING).count()
        assert in_flight <= settings.OUTBOX_BATCH_SIZE
    finally:
        if doomed.poll() is None:
            doomed.kill()
        app.control.add_consumer(settings.CELERY_TASK_DEFAULT_QUEUE, reply=True)
    # The next worker takes up the queued batches; the sweep, once the dead
    # worker's lease has run out, takes up the batch it held.
    _time_passes()
    sweep_outbox.delay()
    real_worker.wait_for_count(500, timeout=120)
    wait_until(_settled, timeout=120)
    received = Counter(m["To"] for m in real_worker.messages)
    assert set(received) == set(addresses)
    repeated = [address for address, times in received.items() if times > 1]
    assert len(repeated) <= settings.OUTBOX_BATCH_SIZE
    assert all(times <= 2 for times in received.values())
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 500
    # A repeat carries the Message-ID of the first delivery, so it can be recognised.
    for address in repeated:
        copies = real_worker.delivered_to(address)
        assert len({copy["Message-ID"] for copy in copies}) == 1


def test_the_same_batch_run_twice_sends_each_message_once(real_worker):
    ids = [message.pk for message in _queue([f"double{n}@ville.example" for n in range(5)])]
    send_outbox_batch.delay(ids)
    send_outbox_batch.delay(ids)
    real_worker.wait_for_count(5)
    wait_until(_settled)
    time.sleep(1)  # room for a wrongful second delivery to arrive
    assert sorted(m["To"] for m in real_worker.messages) == sorted(f"double{n}@ville.example" for n in range(5))


def test_nothing_leaves_for_a_rolled_back_change(real_worker, coordinator_a, network_a):
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        network_services.invitation_send(
            inviter=coordinator_a, network=network_a, email="annule@ville.example", role="representative"
        )
        raise Abandoned
    network_services.invitation_send(
        inviter=coordinator_a, network=network_a, email="garde@ville.example", role="representative"
    )
    real_worker.wait_for("garde@ville.example")
    _time_passes()
    sweep_outbox.delay()
    time.sleep(1)
    assert real_worker.delivered_to("annule@ville.example") == []
    assert not OutboxMessage.objects.filter(to_email="annule@ville.example").exists()


def test_the_periodic_sweep_records_its_run(real_worker):
    from outbox.models import SweepRun

    before = timezone.now()
    sweep_outbox.delay()
    wait_until(lambda: (SweepRun.last("outbox") or before) > before)
    assert os.environ.get("CELERY_TASK_ALWAYS_EAGER") != "true"
