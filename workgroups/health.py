"""What /healthz shows of sessions: group invitations and reminders that are late."""

from datetime import timedelta

from django.utils import timezone

from concertation.lib.health import register_check
from workgroups.models import MinutesVersion, Session, SessionReminder

# Beat runs the reminders and the fan-out resume every 5 minutes: past this, something is stuck.
LATE_AFTER = timedelta(minutes=15)


def sessions_backlog() -> dict:
    """Group invitations asked for and not finished, reminders due and not
    handled, past ``LATE_AFTER``. Information for the operators: the work
    resumes by itself once the worker and beat run."""
    late = timezone.now() - LATE_AFTER
    return {
        "fan_outs_late": Session.objects.scheduled()
        .filter(fan_out_requested_at__lte=late, fanned_out_at__isnull=True, starts_at__gt=timezone.now())
        .count(),
        "reminders_late": SessionReminder.objects.filter(
            sent_at__isnull=True, skipped_at__isnull=True, due_at__lte=late
        ).count(),
    }


def minutes_pdfs() -> dict:
    """Published minutes whose PDF is late (pending past ``LATE_AFTER``) or failed for good."""
    late = timezone.now() - LATE_AFTER
    versions = MinutesVersion.objects
    return {
        "pdfs_late": versions.filter(pdf_status=MinutesVersion.PdfStatus.PENDING, published_at__lte=late).count(),
        "pdfs_failed": versions.filter(pdf_status=MinutesVersion.PdfStatus.FAILED).count(),
    }


def register_checks() -> None:
    register_check(name="sessions", run=sessions_backlog, order=55)
    register_check(name="minutes", run=minutes_pdfs, order=56)
