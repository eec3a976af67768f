"""What /healthz shows of round reports: those late and those that failed lately."""

from datetime import timedelta

from django.utils import timezone

from concertation.lib.health import register_check
from measures.models import RoundReport

# Failed reports are counted over this period (one that failed long ago was seen, or asked for again).
FAILED_WITHIN = timedelta(days=7)


def round_reports() -> dict:
    """Reports still pending past the periodic task's grace (``REPORT_RESUME_GRACE``:
    it queues them again) and reports failed among those asked for in the last
    ``FAILED_WITHIN``. Information for the operators, like the minutes' PDFs: the
    work resumes by itself once the worker and beat run; a failed report is asked
    for again from the round's page or its admin."""
    from measures.reports import REPORT_RESUME_GRACE

    now = timezone.now()
    reports = RoundReport.objects
    return {
        "late": reports.filter(status=RoundReport.Status.PENDING, requested_at__lte=now - REPORT_RESUME_GRACE).count(),
        "failed_last_7_days": reports.filter(
            status=RoundReport.Status.FAILED, requested_at__gt=now - FAILED_WITHIN
        ).count(),
    }


def register_checks() -> None:
    register_check(name="reports", run=round_reports, order=57)
