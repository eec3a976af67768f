"""Delivery of the outbox by Celery: thin tasks that take ids."""

from celery import shared_task


@shared_task
def send_outbox_batch(message_ids: list[int]) -> int:
    """Send these messages (those still due) over one SMTP connection."""
    from outbox.delivery import deliver

    return deliver(message_ids=message_ids).sent


@shared_task
def sweep_outbox() -> int:
    """Periodic: queue every message that is due (retries, and what a stopped
    worker or broker left behind). Returns how many messages were queued."""
    from outbox.delivery import expire_too_late, sweep
    from outbox.models import SweepRun
    from outbox.services import dispatch

    SweepRun.record("outbox")
    expire_too_late()
    due = sweep()
    dispatch(due)
    return len(due)
