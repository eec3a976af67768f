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
