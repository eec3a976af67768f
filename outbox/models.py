"""Every e-mail the portal sends is first a row of the outbox.

The row is written in the transaction of the change that causes it, so an
e-mail exists exactly when its cause was committed. Celery delivers the rows
(``outbox.delivery``); a periodic sweep picks up whatever a worker or the
broker left behind.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_message_id() -> str:
    """A Message-ID drawn once per row: a repeated delivery carries the same one."""
    return f"<{uuid.uuid4().hex}@{settings.OUTBOX_MESSAGE_ID_DOMAIN}>"


class OutboxQuerySet(models.QuerySet):
    def due(self, now=None):
        """Messages a worker should send now: queued and due, or left in
        "sending" by a worker that died (its lease expired)."""
        now = now or timezone.now()
        return self.filter(
            Q(status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now)
            | Q(status=OutboxMessage.Status.SENDING, lease_expires_at__lte=now)
        ).exclude(not_after__lte=now)

    def too_late(self, now=None):
        """Messages waiting to leave whose moment has passed. Failed ones keep
        their state and reason: staff need to see the address that bounced."""
        now = now or timezone.now()
        return self.filter(
            Q(status=OutboxMessage.Status.QUEUED) | Q(status=OutboxMessage.Status.SENDING, lease_expires_at__lte=now),
            not_after__lte=now,
        )

    def unsent(self):
        return self.filter(status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING])

    def failed(self):
        return self.filter(status=OutboxMessage.Status.FAILED)

    def about(self, obj):
        return self.filter(about_type=ContentType.objects.get_for_model(obj), about_id=obj.pk)


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("En attente")
        SENDING = "sending", _("En cours d'envoi")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("En échec")
        CANCELLED = "cancelled", _("Annulé")

    kind = models.CharField(_("type"), max_length=50, db_index=True)
    to_email = models.EmailField(_("destinataire"))
    subject = models.CharField(_("objet"), max_length=255)
    body_text = models.TextField(_("texte"))
    body_html = models.TextField(_("HTML"), blank=True)
    # [{"filename", "mimetype", "content" (base64)}]: small files such as calendar invitations.
    attachments = models.JSONField(_("pièces jointes"), default=list, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True, default=new_message_id, editable=False)
    # What the e-mail is about (an invitation, a round, a feedback...), for the admin and the pages.
    about_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    about_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    # Set for e-mails that must leave once per cause (a round's opening per person...).
    once_key = models.CharField(max_length=200, unique=True, null=True, blank=True, editable=False)

    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), default=timezone.now)
    # An e-mail that has lost its point after this moment (a reminder of a
    # session that has started) is cancelled rather than sent late.
    not_after = models.DateTimeField(_("inutile après"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Drawn by each claim: a worker whose lease ran out no longer writes to rows another worker took.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        verbose_name = _("courriel")
        verbose_name_plural = _("courriels")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["about_type", "about_id"], name="outbox_about"),
        ]

    def __str__(self):
        return f"{self.subject} → {self.to_email}"

    def retry_delay(self) -> timedelta:
        """Exponential backoff after ``attempts`` failed tries, capped: a
        temporary failure is retried for as long as it takes."""
        base, cap = settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS
        return timedelta(seconds=min(cap, base * 2 ** max(self.attempts - 1, 0)))


class SweepRun(models.Model):
    """When the periodic sweep last ran: beat's heartbeat, shown by /healthz."""

    name = models.CharField(max_length=50, unique=True)
    ran_at = models.DateTimeField()

    class Meta:
        verbose_name = _("passage périodique")
        verbose_name_plural = _("passages périodiques")

    def __str__(self):
        return f"{self.name} {self.ran_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def record(cls, name: str, now=None) -> None:
        cls.objects.update_or_create(name=name, defaults={"ran_at": now or timezone.now()})

    @classmethod
    def last(cls, name: str):
        return cls.objects.filter(name=name).values_list("ran_at", flat=True).first()
