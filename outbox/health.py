"""What /healthz shows of the outbox: its backlog, and beat's last sweep."""

from django.conf import settings
from django.utils import timezone

from concertation.lib.health import Unhealthy, register_check
from outbox.models import OutboxMessage, SweepRun


def _seconds_since(moment) -> int | None:
    return None if moment is None else max(0, round((timezone.now() - moment).total_seconds()))


def outbox_backlog() -> dict:
    """E-mails waiting (the age of the oldest) and e-mails refused for good.
    Information for the operators, never a failure: a backlog may be an SMTP
    server down, which the outbox rides out."""
    unsent = OutboxMessage.objects.unsent()
    oldest = unsent.order_by("created_at").values_list("created_at", flat=True).first()
    return {
        "unsent": unsent.count(),
        "oldest_unsent_seconds": _seconds_since(oldest),
        "failed": OutboxMessage.objects.failed().count(),
    }


def beat_last_run() -> dict:
    """When beat last ran the outbox sweep (every 60 s): late, retries and
    whatever the broker lost wait. Not checked when tasks run in-process."""
    from concertation.celery import app

    if app.conf.task_always_eager:
        return {"last_run": None, "state": "in-process"}
    ran_at = SweepRun.last("outbox")
    report = {"last_run": ran_at.isoformat() if ran_at else None, "seconds_ago": _seconds_since(ran_at)}
    if ran_at is None:
        raise Unhealthy({**report, "state": "never ran"})
    if report["seconds_ago"] > settings.HEALTHZ_BEAT_LATE_SECONDS:
        raise Unhealthy({**report, "state": "late"})
    return {**report, "state": "ok"}


def register_checks() -> None:
    register_check(name="outbox", run=outbox_backlog, order=50)
    register_check(name="beat", run=beat_last_run, order=60)
