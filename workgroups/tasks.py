"""Background work for sessions: thin tasks that take ids and call a service."""

from celery import shared_task


@shared_task
def invite_session_group(session_id: int) -> int:
    """Fan a group's invitation out: invitation rows and their e-mails. Safe to run twice."""
    from workgroups.services import session_invitations_fan_out

    return session_invitations_fan_out(session_id=session_id)


@shared_task
def send_session_reminders() -> int:
    """Periodic: the reminders whose due time has come."""
    from workgroups.services import reminders_send_due

    return reminders_send_due()


@shared_task
def resume_session_fan_outs() -> int:
    """Periodic: group invitations whose task never ran (broker down) or never finished."""
    from workgroups.services import sessions_fan_out_resume

    return sessions_fan_out_resume()


# Its own time limits: a document that would take minutes is stopped (and counted as a
# failed attempt), never left to starve the queue. ``minutes_pdf_resume`` gives a PDF up
# only once its last attempt can no longer be running (``PDF_GIVEN_UP_AFTER``).
PDF_SOFT_TIME_LIMIT = 120
PDF_TIME_LIMIT = 150
# The n-th retry waits n times this many seconds.
PDF_RETRY_SECONDS = 30


# PDF_MAX_ATTEMPTS - 1 retries.
@shared_task(bind=True, max_retries=2, soft_time_limit=PDF_SOFT_TIME_LIMIT, time_limit=PDF_TIME_LIMIT)
def render_minutes_pdf(self, version_id: int) -> str:
    """Render a published version's PDF, then send it. A failed render is tried
    again after a pause, a few times; the version then shows the failure."""
    from workgroups.minutes_services import minutes_pdf_render

    outcome = minutes_pdf_render(version_id=version_id)
    # Run in-process (the embedded run), a retry would raise out of .delay(): try again here.
    while self.request.is_eager and outcome.status == "pending" and outcome.error:
        outcome = minutes_pdf_render(version_id=version_id)
    if outcome.status == "pending" and outcome.error:
        raise self.retry(countdown=PDF_RETRY_SECONDS * (self.request.retries + 1))
    return outcome.status


@shared_task
def resume_minutes_pdfs() -> int:
    """Periodic: PDFs of published minutes left pending (broker down, worker killed)."""
    from workgroups.minutes_services import minutes_pdf_resume

    return minutes_pdf_resume()
