"""Background work for rounds: periodic tasks that call a service."""

from celery import shared_task


@shared_task
def announce_open_rounds() -> int:
    """Periodic: queue the opening e-mails of rounds whose opening time has come."""
    from measures.services import rounds_announce_opened

    return rounds_announce_opened()


@shared_task
def send_round_reminders() -> int:
    """Periodic: remind networks that have not answered before a round closes."""
    from measures.services import rounds_remind_due

    return rounds_remind_due()


# Its own time limits: a report that would take many minutes is stopped (and counted as a
# failed attempt), never left to starve the queue. ``measures.reports`` gives a report up
# only once its last attempt can no longer be running (``REPORT_GIVEN_UP_AFTER``).
REPORT_SOFT_TIME_LIMIT = 300
REPORT_TIME_LIMIT = 330
# The n-th retry waits n times this many seconds.
REPORT_RETRY_SECONDS = 30


# REPORT_MAX_ATTEMPTS - 1 retries.
@shared_task(bind=True, max_retries=2, soft_time_limit=REPORT_SOFT_TIME_LIMIT, time_limit=REPORT_TIME_LIMIT)
def render_round_report(self, report_id: int) -> str:
    """Render a round's report. A failed render is tried again after a pause, a
    few times; the report then shows the failure. Safe to run twice."""
    from measures.reports import round_report_render

    outcome = round_report_render(report_id=report_id)
    # Run in-process (the embedded run), a retry would raise out of .delay(): try again here.
    while self.request.is_eager and outcome.status == "pending" and outcome.error:
        outcome = round_report_render(report_id=report_id)
    if outcome.status == "pending" and outcome.error:
        raise self.retry(countdown=REPORT_RETRY_SECONDS * (self.request.retries + 1))
    return outcome.status


@shared_task
def request_round_reports() -> int:
    """Periodic: a report for each round that has closed without one, and the
    reports left pending (broker down, worker killed) queued again."""
    from measures.reports import round_reports_for_closed_rounds, round_reports_resume

    return round_reports_for_closed_rounds() + round_reports_resume()
