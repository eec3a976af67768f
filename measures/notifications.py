"""E-mails about consultation rounds and feedback, written to the outbox.

Called by services inside their transaction. Round e-mails carry a
``once_key``: the opening leaves once per round and person, a reminder once
per round, network, closing date and person, however often the periodic
tasks run and whatever is changed on the round in between.
"""

from collections import defaultdict

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concertation.lib.emails import absolute_url
from measures.models import ConsultationRound, Feedback, Measure
from networks.models import Membership
from outbox.services import Email, email_queue, emails_queue

# The kinds of e-mail written here, named in the outbox's admin (registered from MeasuresConfig.ready).
EMAIL_KINDS = {
    "round_opening": _("Ouverture d'une consultation"),
    "round_reminder": _("Rappel avant la clôture d'une consultation"),
    "feedback_response": _("Réponse à un retour de terrain"),
}


def _recipients(network_ids):
    return (
        Membership.objects.active()
        .filing()
        .filter(network_id__in=network_ids, user__is_active=True)
        .select_related("user", "network")
        .order_by("network__name", "pk")
    )


def _round_link(consultation) -> str:
    return absolute_url(reverse("measures:round_detail", args=[consultation.pk]))


def round_opening_emails_queue(*, consultation: ConsultationRound) -> int:
    """Tell every representative and coordinator of the invited networks, once
    per person (networks invited since the opening are told on the next call).
    Returns how many e-mails were queued."""
    measures = list(consultation.measures.order_by("number"))
    networks_of = defaultdict(list)
    people = {}
    for membership in _recipients(consultation.networks.values("pk")):
        people[membership.user_id] = membership.user
        networks_of[membership.user_id].append(membership.network.name)
    emails = [
        Email(
            to=person.email,
            template="round_opening",
            about=consultation,
            once_key=f"round:{consultation.pk}:opening:{person.pk}",
            context={
                "round": consultation,
                "person": person,
                "networks": networks_of[person.pk],
                "measures": measures,
                "link": _round_link(consultation),
            },
        )
        for person in people.values()
    ]
    return len(emails_queue(emails))


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


def round_reminder_emails_queue(*, consultation: ConsultationRound, cause: str | None = None) -> int:
    """Remind the people of the networks that have not answered on every measure.

    Once per network, closing date and person; ``cause`` names another
    occasion (an agent's "relancer maintenant" at a given minute)."""
    missing = networks_missing_answers(consultation)
    due_on = timezone.localdate(consultation.closes_at).isoformat()
    occasion = f"{due_on}" if cause is None else f"{due_on}:{cause}"
    emails = [
        Email(
            to=membership.user.email,
            template="round_reminder",
            about=consultation,
            once_key=f"round:{consultation.pk}:reminder:{membership.network_id}:{occasion}:{membership.user_id}",
            context={
                "round": consultation,
                "network": membership.network,
                "person": membership.user,
                "missing": missing[membership.network_id],
                "link": _round_link(consultation),
            },
        )
        for membership in _recipients(list(missing))
    ]
    return len(emails_queue(emails))


def feedback_response_email_queue(*, feedback: Feedback) -> None:
    """Tell the author that the administration answered their feedback."""
    email_queue(
        to=feedback.author.email,
        template="feedback_response",
        about=feedback,
        context={"feedback": feedback, "link": absolute_url(feedback.get_absolute_url())},
    )
