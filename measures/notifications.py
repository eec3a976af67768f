"""E-mails about consultation rounds and feedback, each sent at most once.

A notice row is created per recipient (unique), locked while its message is
sent and marked sent in the same transaction: running a task twice, or two
workers at once, sends each message once.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from concertation.lib.emails import absolute_url, send_templated_email
from measures.models import ConsultationRound, Feedback, Measure, RoundNotice
from networks.models import Membership


def _recipients(network_ids):
    return (
        Membership.objects.active()
        .filing()
        .filter(network_id__in=network_ids, user__is_active=True)
        .select_related("user", "network")
    )


def _send_notice(*, consultation, kind, membership, due_on, template, context) -> bool:
    notice, _created = RoundNotice.objects.get_or_create(
        round=consultation, kind=kind, network=membership.network, due_on=due_on, recipient=membership.user
    )
    with transaction.atomic():
        locked = RoundNotice.objects.select_for_update().filter(pk=notice.pk, sent_at__isnull=True).first()
        if locked is None:
            return False
        send_templated_email(
            template=template,
            to=[membership.user.email],
            context={"round": consultation, "network": membership.network, "person": membership.user, **context},
        )
        locked.sent_at = timezone.now()
        locked.save(update_fields=["sent_at"])
    return True


def _round_link(consultation) -> str:
    return absolute_url(reverse("measures:round_detail", args=[consultation.pk]))


def deliver_round_opening(*, round_id: int) -> int:
    """Tell every representative and coordinator of the invited networks. Returns how many were sent."""
    consultation = ConsultationRound.objects.filter(pk=round_id).first()
    if consultation is None or consultation.opening_notified_at is None:
        return 0
    measures = list(consultation.measures.order_by("number"))
    due_on = timezone.localdate(consultation.closes_at)
    sent = 0
    for membership in _recipients(consultation.networks.values("pk")):
        sent += _send_notice(
            consultation=consultation,
            kind=RoundNotice.Kind.OPENING,
            membership=membership,
            due_on=due_on,
            template="round_opening",
            context={"measures": measures, "link": _round_link(consultation)},
        )
    return sent


def networks_missing_answers(consultation: ConsultationRound) -> dict[int, list[Measure]]:
    """Invited networks that have not submitted feedback on every measure, with the measures they miss."""
    measures = list(consultation.measures.order_by("number"))
    answered = {
        (network, measure) for _round, network, measure in Feedback.objects.filter(round=consultation).answered()
    }
    return {
        network_id: missing
        for network_id in consultation.networks.values_list("pk", flat=True)
        if (missing := [m for m in measures if (network_id, m.pk) not in answered])
    }


def deliver_due_reminders(*, now=None) -> int:
    """Remind the networks that have not answered, ``reminder_days`` before closing."""
    now = now or timezone.now()
    sent = 0
    rounds = ConsultationRound.objects.open_at(now).filter(reminder_days__gt=0)
    for consultation in rounds:
        if consultation.closes_at - timedelta(days=consultation.reminder_days) > now:
            continue
        missing = networks_missing_answers(consultation)
        due_on = timezone.localdate(consultation.closes_at)
        for membership in _recipients(list(missing)):
            sent += _send_notice(
                consultation=consultation,
                kind=RoundNotice.Kind.REMINDER,
                membership=membership,
                due_on=due_on,
                template="round_reminder",
                context={"missing": missing[membership.network_id], "link": _round_link(consultation)},
            )
    return sent


def deliver_feedback_response(*, feedback_id: int) -> bool:
    with transaction.atomic():
        feedback = (
            Feedback.objects.select_for_update(of=("self",))
            .select_related("author", "measure", "network", "responded_by")
            .filter(pk=feedback_id, responded_at__isnull=False)
            .filter(Q(response_notified_at__isnull=True) | Q(response_notified_at__lt=F("responded_at")))
            .first()
        )
        if feedback is None:
            return False
        send_templated_email(
            template="feedback_response",
            to=[feedback.author.email],
            context={"feedback": feedback, "link": absolute_url(feedback.get_absolute_url())},
        )
        feedback.response_notified_at = timezone.now()
        feedback.save(update_fields=["response_notified_at"])
    return True
