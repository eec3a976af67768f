"""E-mail paths through the real parts: Redis, a Celery worker process,
an SMTP server on loopback, the database the worker shares with the portal."""

import pytest
from django.urls import reverse

from networks.models import Invitation, Membership, User
from tests.helpers import link_in, path_of

pytestmark = pytest.mark.worker


def test_it_delivers_the_invitation_and_its_link_lets_the_person_in(client, coordinator_a, network_a, real_worker):
    client.force_login(coordinator_a)
    response = client.post(
        reverse("networks:invite", args=[network_a.slug]),
        {"email": "lea@quartier.example", "full_name": "Léa Terrain", "role": "representative"},
    )
    assert response.status_code == 302

    delivered = real_worker.wait_for("lea@quartier.example")
    subject = "Invitation à rejoindre le réseau Réseau Alpha — Concertation (ANCT)"
    assert delivered["Subject"].strip() == subject
    text = delivered.get_body(preferencelist=("plain",)).get_content()
    html = delivered.get_body(preferencelist=("html",)).get_content()
    assert "Bonjour Léa Terrain" in text
    assert "Créer mon mot de passe" in html
    invitation = Invitation.objects.get(email="lea@quartier.example")
    [message] = invitation.emails.all()
    assert message.status == "sent" and message.attempts == 1
    assert delivered["Message-ID"] == message.message_id

    client.logout()
    accept_path = path_of(link_in(text))
    assert client.get(accept_path).status_code == 200
    response = client.post(
        accept_path, {"full_name": "Léa Terrain", "password1": "quartiers-2030-ok", "password2": "quartiers-2030-ok"}
    )
    assert response["Location"] == reverse("dashboard")
    assert "Réseau Alpha" in client.get(reverse("dashboard")).content.decode()
    assert Membership.objects.filter(user=User.objects.get(email="lea@quartier.example"), network=network_a).exists()


def test_opening_a_round_emails_the_invited_networks_through_the_worker(alice, bob, open_round, real_worker):
    from measures import services
    from outbox.models import OutboxMessage

    open_round.opening_notified_at = None
    open_round.save()
    assert services.round_announce_if_open(consultation=open_round) is True

    for address in ("alice@alpha.example", "bob@beta.example"):
        delivered = real_worker.wait_for(address)
        assert delivered["Subject"].strip() == "[Concertation] Consultation ouverte : Consultation d'automne"
        text = delivered.get_body(preferencelist=("plain",)).get_content()
        assert "9. Emplois francs" in text
        assert f"http://testserver/consultations/{open_round.pk}/" in text
    assert OutboxMessage.objects.filter(kind="round_opening", status="sent").count() == 2
