"""Background work for rounds and feedback: thin wrappers that take ids."""

from celery import shared_task

_RETRY = {"autoretry_for": (OSError,), "retry_backoff": 30, "max_retries": 6}


@shared_task(**_RETRY)
def send_round_opening_emails(round_id: int) -> int:
    from measures.notifications import deliver_round_opening

    return deliver_round_opening(round_id=round_id)


@shared_task(**_RETRY)
def send_feedback_response_email(feedback_id: int) -> bool:
    from measures.notifications import deliver_feedback_response

    return deliver_feedback_response(feedback_id=feedback_id)


@shared_task
def announce_open_rounds() -> int:
    """Periodic: queue the opening e-mails of rounds whose opening time has come."""
    from measures.services import rounds_announce_opened

    return rounds_announce_opened()


@shared_task(**_RETRY)
def send_round_reminders() -> int:
    """Periodic: remind networks that have not answered before a round closes."""
    from measures.notifications import deliver_due_reminders

    return deliver_due_reminders()
