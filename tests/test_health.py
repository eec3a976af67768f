from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from concertation.celery import app
from concertation.lib import health
from outbox.models import OutboxMessage, SweepRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_checks():
    health.forget_kept_results()
    yield
    health.forget_kept_results()


@pytest.fixture
def workers(settings):
    """Tasks go to the broker; the workers' answers to `inspect` are stubbed and counted."""
    app.conf.task_always_eager = False
    answers = {f"celery@web-{settings.CELERY_TASK_DEFAULT_QUEUE}": [{"name": settings.CELERY_TASK_DEFAULT_QUEUE}]}
    inspector = mock.Mock()
    inspector.active_queues.return_value = answers
    with mock.patch.object(app.control, "inspect", return_value=inspector) as inspect:
        inspect.answers = answers
        yield inspect


def test_it_reports_the_database_and_redis(client, settings):
    response = client.get(reverse("healthz") + "?checks=database,redis")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["redis"] == ("ok" if settings.REDIS_URL else "not configured")
    assert set(response.json()["checks"]) == {"database", "redis"}


def test_it_answers_503_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz") + "?checks=redis")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"redis": "error: ConnectionError"}}


@pytest.mark.django_db(transaction=True)
def test_it_answers_503_when_the_database_is_down(client):
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")  # nothing listens there
    try:
        response = client.get(reverse("healthz") + "?checks=database,redis")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["database"] == "error: OperationalError"


def test_celery_is_reported_in_process_when_tasks_run_eagerly(client):
    assert client.get(reverse("healthz") + "?checks=celery").json()["checks"]["celery"] == "in-process"


def test_it_asks_the_workers_once_per_period_however_many_calls(client, workers, settings):
    settings.HEALTHZ_WORKER_CHECK_SECONDS = 30
    answers = [client.get(reverse("healthz") + "?checks=celery") for _ in range(20)]
    assert {response.status_code for response in answers} == {200}
    assert answers[-1].json()["checks"]["celery"] == f"ok (1 worker(s) on {settings.CELERY_TASK_DEFAULT_QUEUE})"
    assert workers.call_count == 1


def test_it_asks_the_workers_again_once_the_period_is_over(client, workers, settings):
    settings.HEALTHZ_WORKER_CHECK_SECONDS = 30
    client.get(reverse("healthz") + "?checks=celery")
    later = mock.Mock(monotonic=mock.Mock(return_value=health.time.monotonic() + 31))
    with mock.patch.object(health, "time", later):
        client.get(reverse("healthz") + "?checks=celery")
        client.get(reverse("healthz") + "?checks=celery")
    assert workers.call_count == 2


def test_a_worker_on_another_queue_does_not_count(client, workers, settings):
    workers.answers.clear()
    workers.answers["celery@other-app"] = [{"name": "another-portal"}]
    response = client.get(reverse("healthz") + "?checks=celery")
    assert response.status_code == 503
    assert response.json()["checks"]["celery"] == (
        f"error: no worker consumes the queue {settings.CELERY_TASK_DEFAULT_QUEUE} (1 other worker(s) answered)"
    )


def test_it_reports_the_outbox_backlog_and_beats_last_run(client, workers):
    now = timezone.now()
    OutboxMessage.objects.create(kind="invitation", to_email="a@alpha.example", subject="s", body_text="b")
    OutboxMessage.objects.create(
        kind="invitation", to_email="b@alpha.example", subject="s", body_text="b", created_at=now - timedelta(hours=2)
    )
    OutboxMessage.objects.create(
        kind="invitation", to_email="c@alpha.example", subject="s", body_text="b", status=OutboxMessage.Status.FAILED
    )
    OutboxMessage.objects.create(
        kind="invitation", to_email="d@alpha.example", subject="s", body_text="b", status=OutboxMessage.Status.SENT
    )
    SweepRun.record("outbox", now=now - timedelta(seconds=42))
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert list(checks) == ["database", "redis", "cache", "celery", "outbox", "sessions", "minutes", "reports", "beat"]
    assert checks["minutes"] == {"pdfs_late": 0, "pdfs_failed": 0}
    assert checks["outbox"]["unsent"] == 2
    assert 7200 <= checks["outbox"]["oldest_unsent_seconds"] < 7260
    assert checks["outbox"]["failed"] == 1
    assert checks["beat"]["state"] == "ok"
    assert 42 <= checks["beat"]["seconds_ago"] < 100
    assert checks["beat"]["last_run"].startswith(str((now - timedelta(seconds=42)).year))


def test_a_late_beat_makes_the_report_an_error(client, workers, settings):
    settings.HEALTHZ_BEAT_LATE_SECONDS = 300
    SweepRun.record("outbox", now=timezone.now() - timedelta(minutes=6))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["beat"]["state"] == "late"


def test_a_beat_that_never_ran_makes_the_report_an_error(client, workers):
    response = client.get(reverse("healthz") + "?checks=beat")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"] == {"last_run": None, "seconds_ago": None, "state": "never ran"}


def test_an_empty_outbox_reports_no_backlog(client):
    response = client.get(reverse("healthz") + "?checks=outbox")
    assert response.status_code == 200
    assert response.json()["checks"]["outbox"] == {"unsent": 0, "oldest_unsent_seconds": None, "failed": 0}


def test_unknown_check_names_give_the_whole_report(client):
    response = client.get(reverse("healthz") + "?checks=nothing")
    assert "database" in response.json()["checks"]
    assert "outbox" in response.json()["checks"]


@pytest.mark.worker
def test_it_sees_a_running_worker_on_the_portals_queue(client, real_worker, settings):
    SweepRun.record("outbox")
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["celery"] == f"ok (1 worker(s) on {settings.CELERY_TASK_DEFAULT_QUEUE})"


def test_it_reports_group_invitations_and_reminders_left_behind(client, session):
    from workgroups.models import Session, SessionReminder

    long_ago = timezone.now() - timedelta(minutes=20)
    assert client.get(reverse("healthz") + "?checks=sessions").json()["checks"]["sessions"] == {
        "fan_outs_late": 0,
        "reminders_late": 0,
    }
    Session.objects.filter(pk=session.pk).update(fan_out_requested_at=long_ago)
    SessionReminder.objects.filter(session=session).update(due_at=long_ago)
    response = client.get(reverse("healthz") + "?checks=sessions")
    assert response.status_code == 200  # information, not a failure: the work resumes by itself
    assert response.json()["checks"]["sessions"] == {"fan_outs_late": 1, "reminders_late": 2}
