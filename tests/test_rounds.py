from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from measures import services
from measures.notifications import round_opening_emails_queue
from measures.tasks import announce_open_rounds, send_round_reminders
from networks.models import Membership
from outbox.models import OutboxMessage
from tests.factories import FeedbackFactory, MembershipFactory, NetworkFactory, RoundFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def upcoming_round(measure, network_a, network_b):
    now = timezone.now()
    return RoundFactory(
        title="Consultation de printemps",
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=15),
        measures=[measure],
        networks=[network_a, network_b],
        instructions="Donnez des exemples précis.",
    )


def test_opening_a_round_tells_each_invited_person_once(
    alice, bob, coordinator_a, upcoming_round, django_capture_on_commit_callbacks
):
    observer = UserFactory(email="observateur@alpha.example")
    MembershipFactory(user=observer, network=upcoming_round.networks.first(), role=Membership.Role.OBSERVER)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_open_now(consultation=upcoming_round)
        services.round_open_now(consultation=upcoming_round)
        announce_open_rounds()
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["alice@alpha.example", "bob@beta.example", "coord@alpha.example"]
    message = next(m for m in mail.outbox if m.to == ["alice@alpha.example"])
    assert "Consultation ouverte : Consultation de printemps" in message.subject
    assert "9. Emplois francs" in message.body
    assert "Donnez des exemples précis." in message.body
    assert round_opening_emails_queue(consultation=upcoming_round) == 0


def test_extending_an_open_round_sends_no_second_opening(alice, upcoming_round, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.round_open_now(consultation=upcoming_round)
    upcoming_round.refresh_from_db()
    upcoming_round.closes_at += timedelta(days=7)
    upcoming_round.save()
    with django_capture_on_commit_callbacks(execute=True):
        announce_open_rounds()
        services.round_announce_if_open(consultation=upcoming_round)
    assert [m.to for m in mail.outbox] == [["alice@alpha.example"]]


def test_a_person_in_two_invited_networks_is_told_once_with_both_names(
    alice, network_b, upcoming_round, django_capture_on_commit_callbacks
):
    MembershipFactory(user=alice, network=network_b, role=Membership.Role.REPRESENTATIVE)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_open_now(consultation=upcoming_round)
    [message] = mail.outbox
    assert "vos réseaux Réseau Alpha, Réseau Bêta" in " ".join(message.body.split())


def test_the_beat_task_announces_rounds_whose_opening_time_came(
    alice, upcoming_round, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert announce_open_rounds() == 0
    upcoming_round.opens_at = timezone.now() - timedelta(minutes=1)
    upcoming_round.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert announce_open_rounds() == 1
    assert [m.to for m in mail.outbox] == [["alice@alpha.example"]]


def _due_round(measure, networks, days_left=2):
    now = timezone.now()
    return RoundFactory(
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=days_left),
        measures=[measure],
        networks=networks,
        reminder_days=3,
    )


def test_reminders_go_to_networks_that_have_not_answered_once(
    alice, bob, network_a, network_b, measure, django_capture_on_commit_callbacks
):
    consultation = _due_round(measure, [network_a, network_b])
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_round_reminders() == 1
        assert send_round_reminders() == 0
    [message] = mail.outbox
    assert message.to == ["bob@beta.example"]
    assert "Rappel" in message.subject and "9. Emplois francs" in message.body
    assert OutboxMessage.objects.filter(kind="round_reminder", status="sent").count() == 1


def test_no_reminder_before_it_is_due(bob, network_b, measure):
    _due_round(measure, [network_b], days_left=8)
    assert services.rounds_remind_due() == 0
    assert not OutboxMessage.objects.exists()


def test_moving_the_closing_date_makes_a_new_reminder_due(bob, network_b, measure):
    consultation = _due_round(measure, [network_b])
    assert services.rounds_remind_due() == 1
    consultation.closes_at += timedelta(days=1)
    consultation.save()
    assert services.rounds_remind_due() == 1
    assert services.rounds_remind_due() == 0
    assert OutboxMessage.objects.filter(kind="round_reminder", to_email="bob@beta.example").count() == 2


def test_closing_locks_feedback(alice, network_a, measure, open_round):
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice, round=open_round)
    assert alice.has_perm("measures.edit_feedback", feedback)
    services.round_close_now(consultation=open_round)
    feedback.refresh_from_db()
    assert not alice.has_perm("measures.edit_feedback", feedback)


def test_staff_see_the_response_rate_per_network_and_per_measure(
    client, staff, alice, network_a, network_b, measure, other_measure
):
    consultation = RoundFactory(measures=[measure, other_measure], networks=[network_a, network_b])
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    client.force_login(staff)
    body = client.get(consultation.get_absolute_url()).content.decode()
    assert "Taux de réponse par réseau" in body
    assert (
        'Réseau Alpha<span class="fr-sr-only"> — ses retours dans cette consultation</span></a></th>'
        "<td>Professionnels</td><td>1 / 2</td><td>50 %</td>"
    ) in body
    assert (
        'Réseau Bêta<span class="fr-sr-only"> — ses retours dans cette consultation</span></a></th>'
        "<td>Professionnels</td><td>0 / 2</td><td>0 %</td>"
    ) in body
    assert '<th scope="row">9. Emplois francs</th><td>1 / 2</td><td>50 %</td>' in body


def test_representatives_see_what_they_still_have_to_answer_but_not_the_rates(
    client, alice, network_a, measure, other_measure, network_b
):
    consultation = RoundFactory(measures=[measure, other_measure], networks=[network_a, network_b])
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    client.force_login(alice)
    body = client.get(consultation.get_absolute_url()).content.decode()
    assert "Taux de réponse" not in body
    todo = body.split("À faire pour Réseau Alpha")[1].split("</ul>")[0]
    assert "10. PaQte avec les entreprises" in todo and "Emplois francs" not in todo
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Réseau Alpha : 1 mesure à renseigner" in dashboard


def test_people_outside_the_invited_networks_do_not_see_the_round(client, open_round):
    member_elsewhere = UserFactory()
    MembershipFactory(user=member_elsewhere, network=NetworkFactory(name="Réseau Gamma"))
    client.force_login(member_elsewhere)
    assert client.get(open_round.get_absolute_url()).status_code == 404


def test_networks_invited_after_the_opening_are_told_too(
    alice, bob, network_b, measure, network_a, django_capture_on_commit_callbacks
):
    consultation = RoundFactory(measures=[measure], networks=[network_a])
    with django_capture_on_commit_callbacks(execute=True):
        services.round_announce_if_open(consultation=consultation)
    assert [m.to for m in mail.outbox] == [["alice@alpha.example"]]
    consultation.networks.add(network_b)
    with django_capture_on_commit_callbacks(execute=True):
        announce_open_rounds()
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@alpha.example", "bob@beta.example"]


def test_closing_an_upcoming_round_means_it_never_opens(upcoming_round):
    assert services.round_close_now(consultation=upcoming_round) is True
    upcoming_round.refresh_from_db()
    assert upcoming_round.state == "closed"
    assert services.round_open_now(consultation=upcoming_round) is False
    assert services.round_close_now(consultation=upcoming_round) is False


def test_the_dashboard_lists_only_drafts_that_can_still_be_finished(client, alice, network_a, measure, open_round):
    from measures.models import Feedback

    in_round = FeedbackFactory(
        measure=measure, network=network_a, author=alice, round=open_round, status=Feedback.Status.DRAFT
    )
    continuous = FeedbackFactory(measure=measure, network=network_a, author=alice, status=Feedback.Status.DRAFT)
    services.round_close_now(consultation=open_round)
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert reverse("measures:feedback_edit", args=[continuous.pk]) in body
    assert reverse("measures:feedback_edit", args=[in_round.pk]) not in body


def test_upcoming_rounds_are_not_offered_as_a_filter(client, alice, upcoming_round, open_round):
    client.force_login(alice)
    body = client.get(reverse("measures:synthesis")).content.decode()
    assert "Consultation d&#x27;automne" in body or "Consultation d'automne" in body
    assert "Consultation de printemps" not in body
