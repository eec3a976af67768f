"""Putting e-mails in the outbox, and putting failed ones back in line.

Call these inside the transaction of the change that causes the e-mail: the
rows commit with it (or vanish with its rollback), and their delivery is
queued once the transaction has committed.
"""

import base64
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from concertation.lib.emails import render_templated_email
from outbox.models import OutboxMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    """A file joined to an e-mail: its bytes, stored with the row, or for a
    file many e-mails share (a published PDF), its path in media storage,
    read when the e-mail leaves, so the outbox keeps one copy, not one a row."""

    filename: str
    mimetype: str
    content: bytes = b""
    storage_path: str = ""

    def as_json(self) -> dict:
        if self.storage_path:
            return {"filename": self.filename, "mimetype": self.mimetype, "storage_path": self.storage_path}
        return {
            "filename": self.filename,
            "mimetype": self.mimetype,
            "content": base64.b64encode(self.content).decode("ascii"),
        }


@dataclass(frozen=True)
class Email:
    """One e-mail to one person, from ``templates/emails/<template>/``.

    ``once_key`` names the cause of an e-mail that must leave only once (the
    opening of a round for a person...): a second e-mail with the same key is
    not queued. ``about`` is the object the e-mail is about. ``not_after``: the
    moment after which it is cancelled rather than sent late.
    """

    to: str
    template: str
    context: dict
    about: models.Model | None = None
    once_key: str | None = None
    not_after: datetime | None = None
    attachments: tuple[Attachment, ...] = field(default=())


def emails_queue(emails: Iterable[Email]) -> list[OutboxMessage]:
    """Store the e-mails in the outbox and queue their delivery on commit.

    E-mails whose ``once_key`` is already in the outbox are skipped. Returns
    the new rows.
    """
    emails = list(emails)
    keys = [email.once_key for email in emails if email.once_key]
    taken = set(OutboxMessage.objects.filter(once_key__in=keys).values_list("once_key", flat=True)) if keys else set()
    rows, seen = [], set()
    for email in emails:
        if email.once_key and (email.once_key in taken or email.once_key in seen):
            continue
        seen.add(email.once_key)
        rows.append(_row_for(email))
    if not rows:
        return []
    try:
        with transaction.atomic():
            created = OutboxMessage.objects.bulk_create(rows)
    except IntegrityError:
        # Another transaction queued one of the same e-mails meanwhile: keep the others.
        created = []
        for row in rows:
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
                created.append(row)
            except IntegrityError:
                continue
    _dispatch_on_commit([row.pk for row in created])
    return created


def once_keys_taken(keys) -> set[str]:
    """Which of these causes already have their e-mail: lets a caller skip
    building e-mails (attachments...) that would not be queued."""
    keys = [key for key in keys if key]
    return set(OutboxMessage.objects.filter(once_key__in=keys).values_list("once_key", flat=True)) if keys else set()


def email_queue(
    *, to: str, template: str, context: dict, about=None, once_key=None, attachments=()
) -> OutboxMessage | None:
    """One e-mail: see ``emails_queue``. None when its ``once_key`` was already used."""
    created = emails_queue(
        [Email(to=to, template=template, context=context, about=about, once_key=once_key, attachments=attachments)]
    )
    return created[0] if created else None


def rendered_email_queue(*, to: str, kind: str, subject: str, text: str, html: str = "") -> OutboxMessage:
    """An e-mail another library wrote (allauth's password reset): stored and sent like the others."""
    row = OutboxMessage.objects.create(
        kind=kind, to_email=to, subject=" ".join(subject.split())[:255], body_text=text, body_html=html
    )
    _dispatch_on_commit([row.pk])
    return row


def _row_for(email: Email) -> OutboxMessage:
    rendered = render_templated_email(email.template, email.context)
    return OutboxMessage(
        kind=email.template,
        to_email=email.to,
        subject=rendered.subject[:255],
        body_text=rendered.text,
        body_html=rendered.html,
        attachments=[attachment.as_json() for attachment in email.attachments],
        about_type=ContentType.objects.get_for_model(email.about) if email.about is not None else None,
        about_id=email.about.pk if email.about is not None else None,
        once_key=email.once_key,
        not_after=email.not_after,
    )


@transaction.atomic
def emails_cancel_unsent(*, about, kind: str | None = None, keep_kinds=()) -> int:
    """Cancel the e-mails about an object (or a queryset of objects) that have
    not left yet (an invitation renewed or revoked: its earlier link no longer
    works), failed ones included, so that nobody sends them again from the admin."""
    if isinstance(about, models.QuerySet):
        mine = OutboxMessage.objects.filter(
            about_type=ContentType.objects.get_for_model(about.model), about_id__in=about.values("pk")
        )
    else:
        mine = OutboxMessage.objects.about(about)
    pending = mine.filter(status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED])
    if kind:
        pending = pending.filter(kind=kind)
    if keep_kinds:
        pending = pending.exclude(kind__in=list(keep_kinds))
    return pending.update(status=OutboxMessage.Status.CANCELLED, lease_expires_at=None)


@transaction.atomic
def messages_requeue(*, message_ids: Iterable[int]) -> int:
    """Put failed or waiting messages back in line to leave now. Sent
    messages, those being sent and cancelled ones (an invitation's earlier
    link, which no longer works) are left alone."""
    ids = list(
        OutboxMessage.objects.select_for_update()
        .filter(pk__in=list(message_ids), status__in=[OutboxMessage.Status.FAILED, OutboxMessage.Status.QUEUED])
        .values_list("pk", flat=True)
    )
    OutboxMessage.objects.filter(pk__in=ids).update(
        status=OutboxMessage.Status.QUEUED, next_attempt_at=timezone.now(), lease_expires_at=None
    )
    _dispatch_on_commit(ids)
    return len(ids)


def _dispatch_on_commit(message_ids: list[int]) -> None:
    if message_ids:
        transaction.on_commit(lambda: dispatch(message_ids))


def dispatch(message_ids: list[int]) -> int:
    """Hand the messages to the workers in batches. Returns how many batches
    were queued. A broker that is down is not an error here: the rows wait in
    the outbox and the periodic sweep queues them again."""
    from outbox.tasks import send_outbox_batch

    size = settings.OUTBOX_BATCH_SIZE
    batches = [message_ids[start : start + size] for start in range(0, len(message_ids), size)]
    for queued, batch in enumerate(batches):
        try:
            send_outbox_batch.delay(batch)
        except Exception as exc:  # noqa: BLE001 - broker unreachable: the sweep delivers later
            logger.warning("outbox: %d message(s) left for the sweep: %s", sum(map(len, batches[queued:])), exc)
            return queued
    return len(batches)
