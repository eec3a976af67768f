"""Delivering the outbox: claim a batch, send it over one SMTP connection,
record each message's fate.

At least once: messages are marked sent in small groups right after the SMTP
server accepted them. A worker killed in between leaves them "sending"; once
its lease expires the sweep sends them again, with the same Message-ID. Concurrent
workers never claim the same row (``SELECT ... FOR UPDATE SKIP LOCKED``).
"""

import base64
import contextlib
import logging
import smtplib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email import encoders
from email.mime.base import MIMEBase
from email.mime.text import MIMEText

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from outbox.models import OutboxMessage

logger = logging.getLogger(__name__)
Status = OutboxMessage.Status


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0


def _lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def claim(*, message_ids: list[int] | None = None, limit: int | None = None, now=None) -> tuple[uuid.UUID, list[int]]:
    """Mark due messages as being sent by this worker: the claim's token and the ids it holds."""
    now = now or timezone.now()
    limit = limit or settings.OUTBOX_BATCH_SIZE
    token = uuid.uuid4()
    with transaction.atomic():
        due = OutboxMessage.objects.due(now)
        if message_ids is not None:
            due = due.filter(pk__in=message_ids)
        ids = list(due.order_by("pk").select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=Status.SENDING, claim=token, lease_expires_at=now + _lease(), attempts=F("attempts") + 1
        )
    return token, ids


def _held(token, ids):
    """The rows of a claim this worker still holds."""
    return OutboxMessage.objects.filter(pk__in=ids, status=Status.SENDING, claim=token)


def as_email_message(message: OutboxMessage, connection=None) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers={"Message-ID": message.message_id},
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        email.attach(_attachment_part(attachment))
    return email


def _attachment_part(attachment: dict) -> MIMEBase:
    """The MIME part of a stored attachment. Parameters in its type (a
    calendar's ``method=REQUEST``) are kept on the part, where calendar
    clients look for them."""
    if attachment.get("storage_path"):
        with default_storage.open(attachment["storage_path"], "rb") as handle:
            content = handle.read()
    else:
        content = base64.b64decode(attachment["content"])
    mimetype, *params = [piece.strip() for piece in attachment["mimetype"].split(";")]
    maintype, _, subtype = mimetype.partition("/")
    if maintype == "text":
        part = MIMEText(content.decode("utf-8"), subtype, "utf-8")
    else:
        part = MIMEBase(maintype, subtype)
        part.set_payload(content)
        encoders.encode_base64(part)
    for param in params:
        name, _, value = param.partition("=")
        if name and name.lower() != "charset":
            part.set_param(name, value)
    part.add_header("Content-Disposition", "attachment", filename=attachment["filename"])
    return part


def is_permanent(exc: Exception) -> bool:
    """5xx answers about this message or recipient: trying again cannot help.
    Refusals of the sender or of the login are the portal's configuration,
    which an operator fixes: those are retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _reason in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {reason.decode(errors='replace') if isinstance(reason, bytes) else reason}"
            for address, (code, reason) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {error}"
    return f"{exc.__class__.__name__}: {exc}"


def _is_connection_lost(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421  # the server is closing the connection
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _close_quietly(connection) -> None:
    with contextlib.suppress(Exception):  # a dead connection cannot be closed politely
        connection.close()


def _defer(message: OutboxMessage, reason: str, now, token) -> None:
    _held(token, [message.pk]).update(
        status=Status.QUEUED, next_attempt_at=now + message.retry_delay(), last_error=reason, lease_expires_at=None
    )


# Accepted messages are marked sent in groups: one write per group rather than
# per message. A worker killed in between repeats at most this many.
MARK_SENT_EVERY = 25


def _mark_sent(accepted: list[int], token) -> None:
    if accepted:
        _held(token, accepted).update(status=Status.SENT, sent_at=timezone.now(), last_error="", lease_expires_at=None)
        accepted.clear()


def deliver(*, message_ids: list[int] | None = None, limit: int | None = None) -> DeliveryReport:
    """Send a batch of due messages over one connection. Safe to run twice
    and concurrently: a message already sent, or claimed elsewhere, is skipped."""
    report = DeliveryReport()
    token, ids = claim(message_ids=message_ids, limit=limit)
    if not ids:
        return report
    messages = list(OutboxMessage.objects.filter(pk__in=ids).order_by("pk"))
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001 - server unreachable: every message waits for its retry
        reason, now = describe(exc), timezone.now()
        for message in messages:
            _defer(message, reason, now, token)
        report.deferred = len(messages)
        logger.warning("outbox: SMTP unreachable, %d message(s) deferred: %s", len(messages), reason)
        return report
    renewed = time.monotonic()
    accepted: list[int] = []
    try:
        for position, message in enumerate(messages):
            if time.monotonic() - renewed > settings.OUTBOX_LEASE_SECONDS / 3:
                # A slow server: keep the batch ours, accepted messages not yet marked sent included.
                _held(token, ids).update(lease_expires_at=timezone.now() + _lease())
                renewed = time.monotonic()
            try:
                connection.send_messages([as_email_message(message, connection)])
            except Exception as exc:  # noqa: BLE001 - one message's failure never stops the others
                now, reason = timezone.now(), describe(exc)
                if is_permanent(exc):
                    _held(token, [message.pk]).update(status=Status.FAILED, last_error=reason, lease_expires_at=None)
                    report.failed += 1
                    logger.warning("outbox: message %s refused for good: %s", message.pk, reason)
                    continue
                _defer(message, reason, now, token)
                report.deferred += 1
                if _is_connection_lost(exc):
                    _close_quietly(connection)
                    try:
                        connection.open()
                    except Exception:  # noqa: BLE001 - the rest of the batch waits for its retry
                        for rest in messages[position + 1 :]:
                            _defer(rest, reason, now, token)
                        report.deferred += len(messages) - position - 1
                        return report
                continue
            accepted.append(message.pk)
            report.sent += 1
            if len(accepted) >= MARK_SENT_EVERY:
                _mark_sent(accepted, token)
    finally:
        _mark_sent(accepted, token)
        _close_quietly(connection)
    return report


def expire_too_late(*, now=None) -> int:
    """Cancel the unsent messages whose moment has passed (``not_after``)."""
    now = now or timezone.now()
    expired = OutboxMessage.objects.too_late(now).update(
        status=Status.CANCELLED, lease_expires_at=None, last_error="Trop tard : le moment de ce courriel est passé."
    )
    if expired:
        logger.info("outbox: %d message(s) cancelled, too late to be useful", expired)
    return expired


def sweep(*, now=None) -> list[int]:
    """Ids of every message overdue: queued ones whose time came a while ago
    (their task was lost with the broker, or none was queued: retries) and
    those a dead worker left in "sending". The grace period spares rows whose
    task is still waiting its turn in a long fan-out."""
    overdue = (now or timezone.now()) - timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    return list(
        OutboxMessage.objects.due(overdue).order_by("pk").values_list("pk", flat=True)[: settings.OUTBOX_SWEEP_LIMIT]
    )
