"""Round reports in operation: one attempt at a time (the lease), automatic requests limited to rounds closed
lately and to a few per run, a request that finds a report in preparation reuses it, /healthz's count of late
and failed reports, and the errors the operators see in the logs."""

import logging
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from measures import reports
from measures.models import ConsultationRound, RoundReport
from measures.tasks import REPORT_TIME_LIMIT, render_round_report, request_round_reports
from tests.factories import RoundFactory

ALREADY = "Un rapport est déjà en préparation pour cette consultation."


@pytest.fixture
def closed_round(open_round):
    ConsultationRound.objects.filter(pk=open_round.pk).update(
        opens_at=timezone.now() - timedelta(days=10), closes_at=timezone.now() - timedelta(minutes=1)
    )
    open_round.refresh_from_db()
    return open_round


@pytest.fixture
def queued(monkeypatch):
    """The reports whose rendering is queued (nothing is rendered)."""
    ids = []
    monkeypatch.setattr(reports, "_queue_render", ids.append)
    return ids


def _broken_pdf(monkeypatch):
    calls = []

    def broken(html):
        calls.append(html)
        raise RuntimeError("Pango a rendu l'âme")

    monkeypatch.setattr(reports, "html_to_pdf", broken)
    return calls


# --- A. The lease ------------------------------------------------------------------------------


def test_a_report_queued_or_being_rendered_is_not_queued_again_a_lost_or_dead_one_is(closed_round, queued):
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    dead_start = now - timedelta(seconds=REPORT_TIME_LIMIT) - reports.REPORT_LEASE_MARGIN - timedelta(minutes=1)

    def report(**fields):
        return RoundReport.objects.create(round=closed_round, **fields)

    rendering = report(requested_at=hour_ago, attempts=1, started_at=now - timedelta(minutes=2))
    # Started 7 minutes ago: past the hard limit (5 min 30 s) but within the margin.
    overrunning = report(requested_at=hour_ago, attempts=1, started_at=now - timedelta(minutes=7))
    waiting_for_its_retry = report(
        requested_at=hour_ago, attempts=1, started_at=now - timedelta(minutes=2), error="RuntimeError: x"
    )
    just_asked = report(requested_at=now - timedelta(minutes=5))
    lost = report(requested_at=now - timedelta(minutes=11))
    dead = report(requested_at=hour_ago, attempts=2, started_at=dead_start)
    assert reports.round_reports_resume() == 2
    assert sorted(queued) == sorted([lost.pk, dead.pk])
    for item in (rendering, overrunning, waiting_for_its_retry, just_asked, lost, dead):
        item.refresh_from_db()
        assert item.status == RoundReport.Status.PENDING


def test_a_dead_attempt_is_rendered_again_by_the_periodic_task(closed_round, django_capture_on_commit_callbacks):
    started = timezone.now() - timedelta(seconds=REPORT_TIME_LIMIT) - reports.REPORT_LEASE_MARGIN - timedelta(seconds=5)
    dead = RoundReport.objects.create(
        round=closed_round, requested_at=started, attempts=1, started_at=started, requested_by=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        # The closed round has a report (the dead one): only the resume queues anything.
        assert request_round_reports.apply().get() == 1
    dead.refresh_from_db()
    assert dead.status == RoundReport.Status.READY and dead.attempts == 2, dead.error
    assert dead.started_at > started


def test_the_render_skips_a_report_another_attempt_holds(closed_round, monkeypatch):
    calls = _broken_pdf(monkeypatch)
    now = timezone.now()
    held = RoundReport.objects.create(round=closed_round, attempts=1, started_at=now - timedelta(minutes=1))
    assert render_round_report.apply(args=[held.pk]).get() == RoundReport.Status.PENDING
    held.refresh_from_db()
    assert held.attempts == 1 and held.status == RoundReport.Status.PENDING and not held.error
    assert calls == []  # nothing rendered, no attempt used


def test_the_render_takes_up_a_report_whose_attempt_ended(closed_round, monkeypatch):
    now = timezone.now()
    expired = RoundReport.objects.create(
        round=closed_round, attempts=1, started_at=now - timedelta(seconds=REPORT_TIME_LIMIT + 1)
    )
    failed_before = RoundReport.objects.create(
        round=closed_round, attempts=1, started_at=now - timedelta(minutes=1), error="RuntimeError: x"
    )
    for report in (expired, failed_before):
        assert render_round_report.apply(args=[report.pk]).get() == RoundReport.Status.READY
        report.refresh_from_db()
        assert report.attempts == 2 and report.file and not report.error


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_report_render_it_once(closed_round, monkeypatch):
    """One task renders (held in WeasyPrint), a second one for the same report arrives meanwhile: it skips."""
    rendering, release = threading.Event(), threading.Event()
    real = reports.html_to_pdf

    def slow(html):
        rendering.set()
        assert release.wait(10)
        return real(html)

    monkeypatch.setattr(reports, "html_to_pdf", slow)
    report = RoundReport.objects.create(round=closed_round)
    outcomes = []

    def first_worker():
        try:
            outcomes.append(reports.round_report_render(report_id=report.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert rendering.wait(10)
        second = reports.round_report_render(report_id=report.pk)
        assert second.status == RoundReport.Status.PENDING and not second.error
        report.refresh_from_db()
        assert report.attempts == 1 and report.started_at is not None
    finally:
        release.set()
        thread.join(30)
    assert outcomes[0].status == RoundReport.Status.READY
    report.refresh_from_db()
    assert report.status == RoundReport.Status.READY and report.attempts == 1


# --- B. Automatic requests: recent rounds, a few per run -----------------------------------------


def test_the_periodic_task_asks_for_recent_rounds_only_and_a_few_per_run(
    settings, queued, staff, django_capture_on_commit_callbacks
):
    settings.ROUND_REPORT_AUTO_DAYS = 7
    now = timezone.now()

    def closed(days, title):
        return RoundFactory(title=title, opens_at=now - timedelta(days=days + 30), closes_at=now - timedelta(days=days))

    recent = [closed(days, f"Récente {days}") for days in (1, 2, 3, 4)]
    old = closed(30, "Ancienne")
    still_open = RoundFactory(title="Ouverte")
    with django_capture_on_commit_callbacks(execute=True):
        assert request_round_reports.apply().get() == reports.ROUND_REPORTS_PER_TICK == 3
    # The longest closed first.
    assert set(RoundReport.objects.values_list("round_id", flat=True)) == {r.pk for r in recent[1:]}
    with django_capture_on_commit_callbacks(execute=True):
        assert request_round_reports.apply().get() == 1
        assert request_round_reports.apply().get() == 0
    assert len(queued) == 4 and RoundReport.objects.count() == 4
    assert not old.reports.exists() and not still_open.reports.exists()
    # On demand, an older round gets its report.
    assert reports.round_report_request(consultation=old, by=staff).reused is False
    assert old.reports.count() == 1
    # The window follows the setting.
    settings.ROUND_REPORT_AUTO_DAYS = 60
    RoundReport.objects.filter(round=old).delete()
    assert request_round_reports.apply().get() == 1 and old.reports.exists()


# --- B. A request finds a report in preparation ---------------------------------------------------


def test_a_request_reuses_the_report_in_preparation(closed_round, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = reports.round_report_request(consultation=closed_round, by=staff)
        again = reports.round_report_request(consultation=closed_round, by=None)
    assert first.reused is False and again.reused is True and again.pk == first.pk
    assert len(callbacks) == 1 and closed_round.reports.count() == 1
    # A report given up (every attempt used), failed or ready does not stand in the way.
    RoundReport.objects.filter(pk=first.pk).update(attempts=reports.REPORT_MAX_ATTEMPTS)
    RoundReport.objects.create(round=closed_round, status=RoundReport.Status.FAILED)
    RoundReport.objects.create(round=closed_round, status=RoundReport.Status.READY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fresh = reports.round_report_request(consultation=closed_round, by=staff)
    assert fresh.reused is False and fresh.pk != first.pk and len(callbacks) == 1


def test_the_round_page_says_a_report_is_already_in_preparation(
    client, staff, closed_round, django_capture_on_commit_callbacks
):
    pending = RoundReport.objects.create(round=closed_round)
    client.force_login(staff)
    url = reverse("measures:round_report_create", args=[closed_round.pk])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, follow=True)
    assert response.status_code == 200 and ALREADY in response.content.decode()
    assert callbacks == [] and list(closed_round.reports.all()) == [pending]
    # Once it is ready, asking makes a new one.
    RoundReport.objects.filter(pk=pending.pk).update(status=RoundReport.Status.READY)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(url, follow=True).content.decode()
    assert "Un nouveau rapport est en préparation" in page and ALREADY not in page
    assert closed_round.reports.count() == 2


def test_the_rounds_admin_says_a_report_is_already_in_preparation(
    agent_client, closed_round, django_capture_on_commit_callbacks
):
    other = RoundFactory(
        title="Consultation d'hiver",
        opens_at=timezone.now() - timedelta(days=20),
        closes_at=timezone.now() - timedelta(days=1),
    )
    pending = RoundReport.objects.create(round=closed_round)
    url = reverse("admin:measures_consultationround_changelist")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = agent_client.post(
            url, {"action": "generate_report", "_selected_action": [closed_round.pk, other.pk]}, follow=True
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert "« Consultation d&#x27;automne » : un rapport est déjà en préparation pour cette consultation." in page
    assert "« Consultation d&#x27;hiver » : le rapport est en préparation" in page
    assert list(closed_round.reports.all()) == [pending] and other.reports.count() == 1 and len(callbacks) == 1


# --- C. /healthz ------------------------------------------------------------------------------------


def test_healthz_counts_late_and_lately_failed_reports(client, closed_round):
    url = reverse("healthz") + "?checks=reports"
    assert client.get(url).json()["checks"]["reports"] == {"late": 0, "failed_last_7_days": 0}
    now = timezone.now()
    RoundReport.objects.create(round=closed_round, requested_at=now - timedelta(minutes=11))
    RoundReport.objects.create(round=closed_round, requested_at=now - timedelta(minutes=5))
    RoundReport.objects.create(
        round=closed_round, requested_at=now - timedelta(days=1), status=RoundReport.Status.FAILED
    )
    RoundReport.objects.create(
        round=closed_round, requested_at=now - timedelta(days=8), status=RoundReport.Status.FAILED
    )
    RoundReport.objects.create(
        round=closed_round, requested_at=now - timedelta(hours=1), status=RoundReport.Status.READY
    )
    response = client.get(url)
    # Information, not a failure (like the minutes' PDFs): the work resumes by itself.
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.json()["checks"]["reports"] == {"late": 1, "failed_last_7_days": 1}
    assert "reports" in client.get(reverse("healthz")).json()["checks"]


# --- D. Errors in the logs ------------------------------------------------------------------------------


def test_the_last_failed_attempt_is_logged_as_an_error_with_its_traceback(closed_round, monkeypatch, caplog):
    _broken_pdf(monkeypatch)
    report = RoundReport.objects.create(round=closed_round, attempts=reports.REPORT_MAX_ATTEMPTS - 1)
    with caplog.at_level(logging.WARNING, logger="measures.reports"):
        assert render_round_report.apply(args=[report.pk]).get() == RoundReport.Status.FAILED
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert f"round report {report.pk} (round {closed_round.pk})" in message and "Pango a rendu l'âme" in message
    assert errors[0].exc_info and errors[0].exc_info[0] is RuntimeError


def test_an_attempt_that_is_not_the_last_is_only_a_warning(closed_round, monkeypatch, caplog):
    _broken_pdf(monkeypatch)
    report = RoundReport.objects.create(round=closed_round)
    with caplog.at_level(logging.WARNING, logger="measures.reports"):
        outcome = reports.round_report_render(report_id=report.pk)
    assert outcome.status == RoundReport.Status.PENDING and outcome.error
    assert [record.levelno for record in caplog.records] == [logging.WARNING]


def test_the_periodic_task_giving_a_report_up_logs_an_error(closed_round, queued, caplog):
    worn_out = RoundReport.objects.create(
        round=closed_round, requested_at=timezone.now() - timedelta(hours=1), attempts=reports.REPORT_MAX_ATTEMPTS
    )
    with caplog.at_level(logging.ERROR, logger="measures.reports"):
        assert reports.round_reports_resume() == 0
    worn_out.refresh_from_db()
    assert worn_out.status == RoundReport.Status.FAILED
    assert [record.getMessage() for record in caplog.records] == [
        f"round report {worn_out.pk} (round {closed_round.pk}) failed: every attempt was interrupted"
    ]
