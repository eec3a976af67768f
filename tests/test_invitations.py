import time
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from networks import services
from networks.models import Invitation, Membership, User
from networks.tokens import make_invitation_token
from tests.factories import UserFactory
from tests.helpers import link_in, outbox_to, path_of

pytestmark = pytest.mark.django_db


def invite_url(network):
    return reverse("networks:invite", args=[network.slug])


def post_invitation(client, network, **data):
    payload = {"email": "nouvelle@ville.example", "full_name": "Nina Nouvelle", "role": "representative"}
    payload.update(data)
    return client.post(invite_url(network), payload)


def test_it_sends_an_invitation_with_a_link_that_creates_the_account(
    client, coordinator_a, network_a, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_invitation(client, network_a)
    assert response.status_code == 302
    [message] = outbox_to("nouvelle@ville.example")
    assert "Réseau Alpha" in message.subject
    assert "Claire Coordination" in message.body
    assert message.alternatives[0][1] == "text/html"

    client.logout()
    accept_path = path_of(link_in(message))
    page = client.get(accept_path)
    assert page.status_code == 200
    assert "nouvelle@ville.example" in page.content.decode()
    response = client.post(
        accept_path, {"full_name": "Nina Nouvelle", "password1": "quartiers-2030-ok", "password2": "quartiers-2030-ok"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    dashboard = client.get(reverse("dashboard"))
    assert "Réseau Alpha" in dashboard.content.decode()
    user = User.objects.get(email="nouvelle@ville.example")
    assert user.check_password("quartiers-2030-ok")
    assert Membership.objects.get(user=user, network=network_a).role == Membership.Role.REPRESENTATIVE


def test_it_refuses_an_invalid_email_address_with_a_message(client, coordinator_a, network_a):
    client.force_login(coordinator_a)
    response = post_invitation(client, network_a, email="pas-une-adresse")
    assert response.status_code == 200
    assert "Saisissez une adresse électronique valide" in response.content.decode()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_it_keeps_what_was_typed_when_the_form_is_refused(client, coordinator_a, network_a):
    client.force_login(coordinator_a)
    response = post_invitation(client, network_a, email="pas-une-adresse", full_name="Nom Conservé")
    assert 'value="Nom Conservé"' in response.content.decode()


def test_staff_add_an_existing_account_to_the_network_and_tell_the_person(
    client, staff, network_a, bob, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_invitation(client, network_a, email="BOB@beta.example")
    assert response.status_code == 302
    assert Membership.objects.filter(user=bob, network=network_a, is_active=True).exists()
    assert not Invitation.objects.exists()
    [message] = outbox_to("bob@beta.example")
    assert "Vous avez rejoint le réseau Réseau Alpha" in message.subject
    assert "/invitation/" not in message.body


def test_a_coordinator_needs_the_consent_of_a_person_who_already_has_an_account(
    client, coordinator_a, network_a, bob, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        post_invitation(client, network_a, email="bob@beta.example")
    assert not Membership.objects.filter(user=bob, network=network_a).exists()
    assert "Bob Bêta" not in client.get(reverse("networks:detail", args=[network_a.slug])).content.decode()
    [message] = outbox_to("bob@beta.example")
    assert "Vous avez déjà un compte" in message.body

    client.force_login(bob)
    page = client.get(path_of(link_in(message)))
    assert "Un compte existe déjà pour cette adresse" in page.content.decode()
    assert client.post(path_of(link_in(message))).status_code == 302
    assert Membership.objects.filter(user=bob, network=network_a, is_active=True).exists()


def test_a_coordinator_of_network_a_cannot_invite_into_network_b(client, coordinator_a, network_b):
    client.force_login(coordinator_a)
    assert client.get(invite_url(network_b)).status_code == 403
    assert post_invitation(client, network_b).status_code == 403
    assert not Invitation.objects.exists()


def test_a_representative_cannot_invite(client, alice, network_a):
    client.force_login(alice)
    assert post_invitation(client, network_a).status_code == 403
    assert not Invitation.objects.exists()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, network_a):
    response = post_invitation(client, network_a)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert not Invitation.objects.exists()


def test_staff_can_invite_into_any_network(client, staff, network_b, django_capture_on_commit_callbacks):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_invitation(client, network_b).status_code == 302
    assert Invitation.objects.get().network == network_b
    assert len(mail.outbox) == 1


def test_the_service_also_refuses_an_inviter_without_the_right(alice, network_a):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.invitation_send(inviter=alice, network=network_a, email="x@y.example", role="representative")


@pytest.fixture
def invitation(coordinator_a, network_a):
    return services.invitation_send(
        inviter=coordinator_a, network=network_a, email="nina@ville.example", role="representative"
    ).invitation


def accept(client, token):
    return client.post(
        reverse("networks:accept_invitation", args=[token]),
        {"full_name": "Nina", "password1": "quartiers-2030-ok", "password2": "quartiers-2030-ok"},
    )


def test_a_tampered_link_shows_a_clear_page_and_changes_nothing(client, invitation):
    token = make_invitation_token(invitation)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = accept(client, tampered)
    assert response.status_code == 400
    assert "Ce lien d'invitation ne peut pas être utilisé" in response.content.decode()
    assert "incomplet ou a été modifié" in response.content.decode()
    assert not User.objects.filter(email="nina@ville.example").exists()


def test_an_expired_link_shows_a_clear_page_and_changes_nothing(client, invitation, settings, monkeypatch):
    token = make_invitation_token(invitation)
    # The signature's clock moves past the validity period.
    real_time = time.time
    delay = timedelta(days=settings.INVITATION_MAX_AGE_DAYS, hours=1).total_seconds()
    monkeypatch.setattr(time, "time", lambda: real_time() + delay)
    response = accept(client, token)
    assert response.status_code == 410
    assert "Le lien a expiré" in response.content.decode()
    assert not User.objects.filter(email="nina@ville.example").exists()


def test_a_reused_link_shows_a_clear_page_and_changes_nothing(client, invitation):
    token = make_invitation_token(invitation)
    assert accept(client, token).status_code == 302
    client.logout()
    user = User.objects.get(email="nina@ville.example")
    response = client.post(
        reverse("networks:accept_invitation", args=[token]),
        {"full_name": "Intrus", "password1": "autre-mot-de-passe-2026", "password2": "autre-mot-de-passe-2026"},
    )
    assert response.status_code == 410
    assert "déjà été utilisé" in response.content.decode()
    user.refresh_from_db()
    assert user.full_name == "Nina"
    assert user.check_password("quartiers-2030-ok")


def test_inviting_again_replaces_the_older_link(client, invitation, coordinator_a, network_a):
    old_token = make_invitation_token(invitation)
    renewed = services.invitation_send(
        inviter=coordinator_a, network=network_a, email="nina@ville.example", role="observer"
    ).invitation
    assert renewed.pk == invitation.pk
    assert accept(client, old_token).status_code == 400
    assert accept(client, make_invitation_token(renewed)).status_code == 302
    assert Membership.objects.get(user__email="nina@ville.example").role == Membership.Role.OBSERVER


def test_a_revoked_invitation_cannot_be_used(client, invitation):
    services.invitation_revoke(invitation=invitation)
    response = accept(client, make_invitation_token(invitation))
    assert response.status_code == 410
    assert "annulée" in response.content.decode()


def test_a_weak_password_is_refused_with_an_explanation(client, invitation):
    response = client.post(
        reverse("networks:accept_invitation", args=[make_invitation_token(invitation)]),
        {"full_name": "Nina", "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Le formulaire contient" in body
    assert 'href="#id_password1"' in body
    assert not User.objects.filter(email="nina@ville.example").exists()


def test_the_invitation_leaves_once_when_its_delivery_runs_twice(invitation):
    from outbox.models import OutboxMessage
    from outbox.tasks import send_outbox_batch

    message = OutboxMessage.objects.about(invitation).get()
    mail.outbox.clear()
    assert send_outbox_batch([message.pk]) == 1
    assert send_outbox_batch([message.pk]) == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == message.message_id
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 1


def test_renewing_an_invitation_cancels_the_e_mail_with_the_old_link(invitation, coordinator_a, network_a):
    from outbox.models import OutboxMessage

    stale = OutboxMessage.objects.about(invitation).get()
    services.invitation_send(
        inviter=coordinator_a, network=network_a, email="nina@ville.example", role="representative"
    )
    stale.refresh_from_db()
    assert stale.status == OutboxMessage.Status.CANCELLED
    fresh = OutboxMessage.objects.about(invitation).get(status=OutboxMessage.Status.QUEUED)
    invitation.refresh_from_db()
    assert make_invitation_token(invitation).split(":")[0] in fresh.body_text


def test_a_person_signed_in_with_another_account_is_told_to_sign_out(client, invitation, bob):
    client.force_login(bob)
    response = client.get(reverse("networks:accept_invitation", args=[make_invitation_token(invitation)]))
    assert response.status_code == 403
    assert "autre adresse" in response.content.decode()
    assert not Membership.objects.filter(user=bob, network=invitation.network).exists()


def test_a_link_for_an_address_that_now_has_an_account_keeps_its_password(client, invitation):
    existing = UserFactory(email="nina@ville.example", password="mot-de-passe-initial-2026")
    response = client.post(reverse("networks:accept_invitation", args=[make_invitation_token(invitation)]), {})
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    existing.refresh_from_db()
    assert existing.check_password("mot-de-passe-initial-2026")
    assert Membership.objects.filter(user=existing, network=invitation.network).exists()


def test_a_territory_can_be_given_by_its_name(client, coordinator_a, network_a, django_capture_on_commit_callbacks):
    from tests.factories import TerritoryFactory

    vaulx = TerritoryFactory(level="commune", code="69256", name="Vaulx-en-Velin")
    TerritoryFactory(level="commune", code="01001", name="Sainte-Homonyme")
    TerritoryFactory(level="commune", code="02002", name="Sainte-Homonyme")
    client.force_login(coordinator_a)
    ambiguous = post_invitation(client, network_a, territory_code="Sainte-Homonyme")
    assert "Plusieurs territoires s&#x27;appellent « Sainte-Homonyme »" in ambiguous.content.decode()
    post_invitation(client, network_a, territory_code="vaulx-en-velin")
    assert Invitation.objects.get().territory == vaulx


def test_a_coordinator_resends_or_cancels_a_pending_invitation(
    client, coordinator_a, network_a, invitation, django_capture_on_commit_callbacks
):
    client.force_login(coordinator_a)
    old_token = make_invitation_token(invitation)
    page = client.get(reverse("networks:detail", args=[network_a.slug])).content.decode()
    assert reverse("networks:resend_invitation", args=[network_a.slug, invitation.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("networks:resend_invitation", args=[network_a.slug, invitation.pk]))
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["nina@ville.example"]]
    assert accept(client, old_token).status_code == 400  # the older link no longer works
    client.force_login(coordinator_a)
    cancel_url = reverse("networks:cancel_invitation", args=[network_a.slug, invitation.pk])
    assert "Confirmer l'annulation" in client.get(cancel_url).content.decode()
    client.post(cancel_url)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_nobody_else_resends_or_cancels_a_networks_invitations(client, alice, invitation, network_a, network_b):
    other_coordinator = UserFactory()
    Membership.objects.create(user=other_coordinator, network=network_b, role=Membership.Role.COORDINATOR)
    for person in (alice, other_coordinator):
        client.force_login(person)
        assert (
            client.post(reverse("networks:resend_invitation", args=[network_a.slug, invitation.pk])).status_code == 403
        )
        assert (
            client.post(reverse("networks:cancel_invitation", args=[network_a.slug, invitation.pk])).status_code == 403
        )
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
