"""Resending invitations is limited per person: each resend e-mails someone
who has not asked for it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from networks import services
from networks.models import Membership
from outbox.models import OutboxMessage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitations(coordinator_a, network_a):
    return [
        services.invitation_send(
            inviter=coordinator_a, network=network_a, email=f"personne{index}@ville.example", role="representative"
        ).invitation
        for index in range(3)
    ]


def resend(client, invitation):
    return client.post(
        reverse("networks:resend_invitation", args=[invitation.network.slug, invitation.pk]), follow=True
    )


def invitation_emails():
    return OutboxMessage.objects.filter(kind="invitation").count()


def test_a_coordinator_resends_up_to_the_limit_then_is_told_to_wait(client, coordinator_a, invitations, settings):
    settings.INVITATION_RESENDS_PER_HOUR = 4
    client.force_login(coordinator_a)
    for number in range(4):
        response = resend(client, invitations[number % 3])
        assert "avec un nouveau lien" in response.content.decode()
    before = invitation_emails()
    response = resend(client, invitations[0])
    body = response.content.decode()
    assert response.status_code == 200
    assert "Vous avez déjà renvoyé 4 invitations au cours de la dernière heure" in body
    assert "personne0@ville.example n&#x27;a pas été renvoyée" in body
    assert invitation_emails() == before


def test_first_invitations_do_not_count_as_resends(client, coordinator_a, network_a, invitations, settings):
    settings.INVITATION_RESENDS_PER_HOUR = 1
    client.force_login(coordinator_a)
    assert "avec un nouveau lien" in resend(client, invitations[2]).content.decode()
    assert "Vous avez déjà renvoyé" in resend(client, invitations[1]).content.decode()


def test_resends_older_than_an_hour_no_longer_count(client, coordinator_a, invitations, settings):
    settings.INVITATION_RESENDS_PER_HOUR = 2
    client.force_login(coordinator_a)
    resend(client, invitations[0])
    resend(client, invitations[1])
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert "avec un nouveau lien" in resend(client, invitations[2]).content.decode()


def test_the_limit_is_each_coordinators_own(client, coordinator_a, network_a, invitations, settings):
    settings.INVITATION_RESENDS_PER_HOUR = 1
    client.force_login(coordinator_a)
    resend(client, invitations[0])
    assert "Vous avez déjà renvoyé" in resend(client, invitations[1]).content.decode()
    colleague = UserFactory(email="binome@alpha.example")
    Membership.objects.create(user=colleague, network=network_a, role=Membership.Role.COORDINATOR)
    client.force_login(colleague)
    assert "avec un nouveau lien" in resend(client, invitations[2]).content.decode()
