"""The agent's cockpit in the admin: rounds with state and response rate, the
"relancer maintenant" action, invitation statuses, feedback follow-up filter."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from measures import services
from measures.models import Feedback
from networks.models import Invitation, Membership
from tests.factories import (
    FeedbackFactory,
    MeasureFactory,
    MembershipFactory,
    NetworkFactory,
    RoundFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROUNDS = reverse("admin:measures_consultationround_changelist")
INVITATIONS = reverse("admin:networks_invitation_changelist")
FEEDBACK = reverse("admin:measures_feedback_changelist")


def _rows(response):
    """The changelist's result rows, as text."""
    return response.context["cl"].result_list


def _round(measures, networks, *, opens_in=-1, closes_in=10, **kwargs):
    now = timezone.now()
    return RoundFactory(
        opens_at=now + timedelta(days=opens_in),
        closes_at=now + timedelta(days=closes_in),
        measures=measures,
        networks=networks,
        **kwargs,
    )


def _remind_now(agent_client, consultation):
    return agent_client.post(
        ROUNDS, {"action": "remind_now", "_selected_action": [consultation.pk], "confirm": "yes"}, follow=True
    ).content.decode()


# --- Rounds: columns and state filter ------------------------------------------


def test_rounds_list_shows_state_invited_networks_and_response_rate(
    agent_client, alice, bob, network_a, network_b, measure, other_measure
):
    consultation = _round([measure, other_measure], [network_a, network_b], title="Consultation d'automne")
    # Network A answered on both measures; network B on one, and a draft does not count.
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    FeedbackFactory(measure=other_measure, network=network_a, author=alice, round=consultation)
    FeedbackFactory(measure=measure, network=network_b, author=bob, round=consultation)
    FeedbackFactory(
        measure=other_measure, network=network_b, author=bob, round=consultation, status=Feedback.Status.DRAFT
    )
    _round([measure], [network_a], opens_in=3, closes_in=10, title="Consultation à venir")
    _round([measure], [], opens_in=-10, closes_in=-1, title="Consultation passée")

    response = agent_client.get(ROUNDS)

    page = response.content.decode()
    assert response.status_code == 200
    for heading in ("État", "Réseaux invités", "Taux de réponse"):
        assert heading in page
    by_title = {r.title: r for r in _rows(response)}
    assert (by_title["Consultation d'automne"].network_count, by_title["Consultation d'automne"].answered_count) == (
        2,
        1,
    )
    assert "50 % (1 sur 2)" in page
    assert by_title["Consultation passée"].response_rate is None
    for state in ("Ouverte", "À venir", "Close"):
        assert page.count(f'class="field-state_label">{state}<') == 1
    # Sortable by response rate (column 4).
    ordered = [r.title for r in _rows(agent_client.get(ROUNDS, {"o": "-4"}))]
    assert ordered.index("Consultation d'automne") < ordered.index("Consultation à venir")


@pytest.mark.parametrize(("state", "title"), [("open", "Ouverte"), ("upcoming", "À venir"), ("closed", "Passée")])
def test_rounds_filter_by_state(agent_client, measure, network_a, state, title):
    _round([measure], [network_a], title="Ouverte")
    _round([measure], [network_a], opens_in=2, title="À venir")
    _round([measure], [network_a], opens_in=-9, closes_in=-2, title="Passée")

    response = agent_client.get(ROUNDS, {"etat": state})

    assert [r.title for r in _rows(response)] == [title]


def _rounds_with_answers(count):
    for _ in range(count):
        networks = [NetworkFactory(), NetworkFactory()]
        measures = [MeasureFactory(), MeasureFactory()]
        consultation = _round(measures, networks)
        for network in networks:
            FeedbackFactory(measure=measures[0], network=network, round=consultation)


def test_rounds_list_runs_the_same_number_of_queries_at_two_sizes(agent_client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _rounds_with_answers(2)
    with CaptureQueriesContext(connection) as small:
        assert agent_client.get(ROUNDS).status_code == 200
    _rounds_with_answers(6)
    with django_assert_num_queries(len(small.captured_queries)):
        response = agent_client.get(ROUNDS)
    assert len(_rows(response)) == 8


# --- Rounds: "Relancer maintenant" ---------------------------------------------


def test_remind_now_reaches_only_the_networks_without_answers_and_may_send_again(
    agent_client, alice, bob, coordinator_a, network_a, network_b, measure, django_capture_on_commit_callbacks
):
    consultation = _round([measure], [network_a, network_b], closes_in=2, reminder_days=3)
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    with django_capture_on_commit_callbacks(execute=True):
        # The periodic reminder already went out: relancer maintenant sends anyway.
        assert services.rounds_remind_due() == 1
        page = _remind_now(agent_client, consultation)

    assert "1 courriel de relance mis en file d&#x27;envoi" in page
    assert [m.to for m in mail.outbox] == [["bob@beta.example"], ["bob@beta.example"]]
    assert "9. Emplois francs" in mail.outbox[-1].body


def test_remind_now_refuses_a_closed_round(agent_client, bob, network_b, measure, django_capture_on_commit_callbacks):
    consultation = _round([measure], [network_b], opens_in=-10, closes_in=-1, title="Consultation close")
    with django_capture_on_commit_callbacks(execute=True):
        page = _remind_now(agent_client, consultation)

    assert "« Consultation close » n&#x27;est pas ouverte" in page
    assert mail.outbox == []


def test_remind_now_says_when_everybody_answered(
    agent_client, alice, network_a, measure, django_capture_on_commit_callbacks
):
    consultation = _round([measure], [network_a], title="Consultation complète")
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    with django_capture_on_commit_callbacks(execute=True):
        page = _remind_now(agent_client, consultation)

    assert "tous les réseaux invités ont répondu" in page
    assert mail.outbox == []


def test_only_staff_may_remind_now(alice, network_b, measure):
    consultation = _round([measure], [network_b])
    with pytest.raises(PermissionDenied):
        services.round_remind_now(consultation=consultation, by=alice)


# --- Invitations: status column and filter --------------------------------------


@pytest.fixture
def invitations(network_a, staff):
    now = timezone.now()
    old = now - timedelta(days=settings.INVITATION_MAX_AGE_DAYS, hours=1)
    person = UserFactory()
    MembershipFactory(user=person, network=network_a, role=Membership.Role.OBSERVER)
    return {
        "pending": Invitation.objects.create(network=network_a, email="attente@x.example", role="observer"),
        "expired": Invitation.objects.create(
            network=network_a, email="expiree@x.example", role="observer", created_at=old
        ),
        "accepted": Invitation.objects.create(
            network=network_a, email="acceptee@x.example", role="observer", created_at=old, accepted_at=now
        ),
        "cancelled": Invitation.objects.create(
            network=network_a, email="annulee@x.example", role="observer", revoked_at=now
        ),
    }


def test_invitations_list_shows_each_status(agent_client, invitations):
    response = agent_client.get(INVITATIONS)

    page = response.content.decode()
    assert "Statut" in page
    for label in ("En attente", "Expirée", "Acceptée", "Annulée"):
        assert f">{label}<" in page


@pytest.mark.parametrize("state", ["pending", "expired", "accepted", "cancelled"])
def test_invitations_filter_by_status(agent_client, invitations, state):
    response = agent_client.get(INVITATIONS, {"statut": state})

    assert [i.email for i in _rows(response)] == [invitations[state].email]


# --- Feedback: follow-up filter -------------------------------------------------


def test_feedback_filter_by_follow_up(agent_client, staff, alice, network_a, measure):
    answered = FeedbackFactory(
        measure=measure, network=network_a, author=alice, response="Merci.", responded_at=timezone.now()
    )
    waiting = FeedbackFactory(measure=measure, network=network_a, author=alice)

    page = agent_client.get(FEEDBACK).content.decode()
    assert "suite donnée" in page and "Sans réponse" in page
    assert [f.pk for f in _rows(agent_client.get(FEEDBACK, {"suite": "oui"}))] == [answered.pk]
    assert [f.pk for f in _rows(agent_client.get(FEEDBACK, {"suite": "non"}))] == [waiting.pk]


# --- Confirmation before closing or reminding -----------------------------------


def test_closing_a_round_asks_first_and_closes_once_confirmed(agent_client, network_a, measure):
    from measures.models import RoundReport

    consultation = _round([measure], [network_a], title="Consultation d'hiver")
    asked = agent_client.post(ROUNDS, {"action": "close_now", "_selected_action": [consultation.pk]})
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "ne rouvre pas" in page and "Consultation d&#x27;hiver" in page and "Oui, clore maintenant" in page
    consultation.refresh_from_db()
    assert consultation.is_open()

    done = agent_client.post(
        ROUNDS, {"action": "close_now", "_selected_action": [consultation.pk], "confirm": "yes"}, follow=True
    )
    consultation.refresh_from_db()
    assert not consultation.is_open()
    assert "« Consultation d&#x27;hiver » est close." in done.content.decode()
    assert RoundReport.objects.filter(round=consultation).count() == 1


def test_reminding_now_asks_first_and_sends_nothing_before(
    agent_client, alice, network_a, measure, django_capture_on_commit_callbacks
):
    consultation = _round([measure], [network_a], title="Consultation d'hiver")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        asked = agent_client.post(ROUNDS, {"action": "remind_now", "_selected_action": [consultation.pk]})
    assert asked.status_code == 200
    assert "Oui, envoyer la relance" in asked.content.decode()
    assert not [m for m in mail.outbox if alice.email in m.to]
    with django_capture_on_commit_callbacks(execute=True):
        _remind_now(agent_client, consultation)
    assert [m for m in mail.outbox if alice.email in m.to]
