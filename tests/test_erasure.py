"""Erasure on request: staff erase a person's personal data from the admin, after confirmation."""

import html

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.urls import reverse

from networks import services
from networks.models import Invitation, Membership, User
from outbox.models import OutboxMessage
from tests.factories import FeedbackFactory, UserFactory

CHANGELIST = reverse("admin:networks_user_changelist")


def _erase(client, *people, confirm=True):
    data = {"action": "erase_personal_data", helpers.ACTION_CHECKBOX_NAME: [p.pk for p in people]}
    if confirm:
        data["confirm"] = "yes"
    return client.post(CHANGELIST, data, follow=confirm)


@pytest.fixture
def alice_traces(alice, network_a, measure):
    """Alice wrote a feedback; an invitation and e-mails (one sent, one queued) went to her address."""
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    assert EmailAddress.objects.filter(user=alice, email=alice.email, primary=True, verified=True).exists()
    Invitation.objects.create(network=network_a, email="Alice@Alpha.example", role=Membership.Role.REPRESENTATIVE)
    sent = OutboxMessage.objects.create(
        kind="test", to_email=alice.email, subject="Envoyé", body_text="x", status=OutboxMessage.Status.SENT
    )
    queued = OutboxMessage.objects.create(kind="test", to_email=alice.email, subject="En attente", body_text="x")
    other = OutboxMessage.objects.create(kind="test", to_email="bob@beta.example", subject="Autre", body_text="x")
    return feedback, [sent.pk, queued.pk], other


def test_the_action_asks_for_confirmation_first(agent_client, alice, alice_traces):
    response = _erase(agent_client, alice, confirm=False)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Effacer les données personnelles" in body and "irréversible" in body
    assert "Alice Alpha" in body and 'name="confirm" value="yes"' in body
    alice.refresh_from_db()
    assert alice.is_active and alice.full_name == "Alice Alpha" and alice.erased_at is None


def test_erasure_anonymises_the_account_and_keeps_the_feedback(agent_client, client, alice, network_a, alice_traces):
    feedback, message_ids, other = alice_traces
    member = client.__class__()
    member.force_login(alice)
    alice.set_password("un-mot-de-passe-solide")
    alice.save()

    response = _erase(agent_client, alice)

    assert "Les données personnelles de Alice Alpha sont effacées" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.is_active and alice.erased_at is not None
    assert alice.full_name == "" and alice.phone == "" and alice.email == f"efface-{alice.pk}@compte.invalid"
    assert not alice.has_usable_password()
    assert not EmailAddress.objects.filter(user=alice).exists()
    # Her sessions ended and she cannot sign in again.
    assert member.get("/").wsgi_request.user.is_anonymous
    assert not client.login(email="alice@alpha.example", password="un-mot-de-passe-solide")
    # Memberships end but stay: the feedback keeps its network.
    membership = alice.memberships.get()
    assert not membership.is_active and membership.ended_on is not None
    # Invitations and e-mails to the old address are gone, sent or not; others stay.
    assert not Invitation.objects.filter(email__iexact="alice@alpha.example").exists()
    assert not OutboxMessage.objects.filter(pk__in=message_ids).exists()
    assert OutboxMessage.objects.filter(pk=other.pk).exists()
    # The feedback is still there, attributed to a former member of the network.
    feedback.refresh_from_db()
    page = agent_client.get(feedback.get_absolute_url()).content.decode()
    assert "Rédigé par : ancien membre de Réseau Alpha" in page
    assert "Alice" not in page and "alice@alpha.example" not in page
    assert alice.public_name == "Ancien membre"


def test_the_old_address_can_be_used_again(alice, staff):
    services.user_erase(user=alice, by=staff)
    assert not services.email_address_taken(email="alice@alpha.example")
    UserFactory(email="alice@alpha.example")


def test_staff_accounts_and_ones_own_are_refused(agent_client, staff, alice):
    other_agent = UserFactory(email="autre.agent@anct.example", full_name="Autre Agent", is_staff=True)
    superuser = UserFactory(email="chef@anct.example", full_name="Chef", is_staff=True, is_superuser=True)

    with pytest.raises(ValidationError, match="compte d'agent"):
        services.user_erase(user=other_agent, by=superuser)
    with pytest.raises(ValidationError, match="propre compte"):
        services.user_erase(user=staff, by=staff)

    response = _erase(agent_client, other_agent)
    assert "compte d'agent ne s'efface pas" in html.unescape(response.content.decode())
    other_agent.refresh_from_db()
    assert other_agent.is_active and other_agent.full_name == "Autre Agent" and other_agent.erased_at is None


def test_an_erased_account_is_not_erased_twice(alice, staff):
    services.user_erase(user=alice, by=staff)
    with pytest.raises(ValidationError, match="déjà effacées"):
        services.user_erase(user=alice, by=staff)


def test_members_cannot_erase(alice, bob):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.user_erase(user=bob, by=alice)
    bob.refresh_from_db()
    assert bob.is_active and User.objects.filter(email="bob@beta.example").exists()


def test_the_action_is_offered_to_agents(agent_client):
    body = agent_client.get(CHANGELIST).content.decode()
    assert "Effacer les données personnelles (sur demande)" in body


def test_erasure_reaches_earlier_addresses_the_admin_log_and_session_comments(agent_client, alice, staff, invited):
    """What the person left elsewhere: invitations and e-mails to an address she had before, the
    admin's « Mes actions » naming her, and the free comment she wrote when answering a session."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from workgroups.models import SessionInvitation

    old_address = "alice.avant@alpha.example"
    services.user_change_email(user=alice, new_email="alice.nouvelle@alpha.example", changed_by=staff)
    Invitation.objects.create(network=alice.memberships.get().network, email=old_address.upper(), role="representative")
    OutboxMessage.objects.create(kind="test", to_email=old_address, subject="Avant", body_text="x")
    alice.refresh_from_db()
    User.history.filter(id=alice.pk).update(email=old_address)  # the trail knows the earlier address
    answer = SessionInvitation.objects.get(user=alice)
    answer.comment = "Joignable au 06 12 34 56 78"
    answer.save()
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[alice], action_flag=CHANGE, change_message="", single_object=True
    )

    services.user_erase(user=alice, by=staff)

    assert not Invitation.objects.filter(email__iexact=old_address).exists()
    assert not OutboxMessage.objects.filter(to_email=old_address).exists()
    answer.refresh_from_db()
    assert answer.comment == ""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(alice.pk))
    assert {entry.object_repr for entry in entries} == {f"efface-{alice.pk}@compte.invalid"}
    index = agent_client.get(reverse("admin:index")).content.decode()
    assert "Alice Alpha" not in index


def test_erasure_removes_the_address_from_the_reasons_of_the_trail(alice, staff):
    from concertation.lib import audit

    audit.record(staff, "Données exportées", by=staff, detail="journal (personne=Alice%40Alpha.example)")
    audit.record(staff, "Données exportées", by=staff, detail="journal (personne : alice@alpha.example)")
    audit.record(staff, "Données exportées", by=staff, detail="journal (Modifié par : Alice Alpha)")

    services.user_erase(user=alice, by=staff)

    reasons = list(User.history.filter(id=staff.pk).values_list("history_change_reason", flat=True))
    assert not any("alpha.example" in (reason or "").lower() for reason in reasons)
    assert not any("Alice Alpha" in (reason or "") for reason in reasons)
    assert sum(f"efface-{alice.pk}@compte.invalid" in (reason or "") for reason in reasons) == 3
