import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from networks.models import Membership
from tests.factories import MembershipFactory, NetworkFactory, UserFactory

pytestmark = pytest.mark.django_db


def detail(client, network):
    return client.get(reverse("networks:detail", args=[network.slug])).content.decode()


def test_anyone_sees_the_networks_with_their_family_and_description(client, network_a):
    body = client.get(reverse("networks:list")).content.decode()
    assert "Réseau Alpha" in body
    assert "Professionnels" in body
    assert "Un réseau d&#x27;acteurs de la politique de la ville." in body


def test_anonymous_visitors_see_no_member(client, network_a, alice):
    body = detail(client, network_a)
    assert "Alice Alpha" not in body
    assert "alice@alpha.example" not in body
    assert "réservée aux personnes connectées" in body


def test_signed_in_people_see_members_but_not_their_contact_details(client, network_a, alice, bob):
    client.force_login(bob)
    body = detail(client, network_a)
    assert "Alice Alpha" in body
    assert "alice@alpha.example" not in body


def test_a_representative_of_the_network_does_not_see_contact_details(client, network_a, alice):
    client.force_login(alice)
    assert "alice@alpha.example" not in detail(client, network_a)


def test_the_network_coordinator_sees_contact_details(client, network_a, alice, coordinator_a):
    client.force_login(coordinator_a)
    body = detail(client, network_a)
    assert 'href="mailto:alice@alpha.example"' in body
    assert "Inviter une personne" in body


def test_a_coordinator_of_another_network_does_not_see_contact_details(client, network_a, network_b, alice):
    other = UserFactory()
    MembershipFactory(user=other, network=network_b, role=Membership.Role.COORDINATOR)
    client.force_login(other)
    body = detail(client, network_a)
    assert "Alice Alpha" in body
    assert "alice@alpha.example" not in body
    assert "Inviter une personne" not in body


def test_staff_see_contact_details(client, network_a, alice, staff):
    client.force_login(staff)
    assert "alice@alpha.example" in detail(client, network_a)


def test_user_text_is_shown_as_text(client, alice):
    network = NetworkFactory(name="<script>alert(1)</script>", slug="piege", description="<b>gras</b>")
    client.force_login(alice)
    body = detail(client, network)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;b&gt;gras&lt;/b&gt;" in body


def test_an_inactive_network_is_not_found(client, network_a):
    network_a.is_active = False
    network_a.save()
    assert client.get(reverse("networks:detail", args=[network_a.slug])).status_code == 404


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_directory_pages_run_the_same_number_of_queries_whatever_the_size(client, network_a, coordinator_a):
    client.force_login(coordinator_a)
    detail_url = reverse("networks:detail", args=[network_a.slug])
    list_url = reverse("networks:list")
    small = (_queries(client, detail_url), _queries(client, list_url))
    for _ in range(15):
        MembershipFactory(network=network_a)
        NetworkFactory()
    assert (_queries(client, detail_url), _queries(client, list_url)) == small


def deactivate_url(network, membership):
    return reverse("networks:deactivate_member", args=[network.slug, membership.pk])


def test_a_coordinator_takes_a_person_out_of_the_network_after_confirming(client, network_a, alice, coordinator_a):
    membership = Membership.objects.get(user=alice, network=network_a)
    client.force_login(coordinator_a)
    confirm = client.get(deactivate_url(network_a, membership))
    assert "Confirmer le retrait" in confirm.content.decode()
    membership.refresh_from_db()
    assert membership.is_active
    response = client.post(deactivate_url(network_a, membership))
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active and membership.ended_on is not None
    assert "Alice Alpha ne fait plus partie du réseau Réseau Alpha." in detail(client, network_a)
    assert "Alice Alpha" not in detail(client, network_a)


@pytest.mark.parametrize("who", ["alice", "bob", "other_coordinator"])
def test_only_the_network_coordinators_and_staff_take_people_out(client, network_a, network_b, alice, bob, who):
    other_coordinator = UserFactory()
    MembershipFactory(user=other_coordinator, network=network_b, role=Membership.Role.COORDINATOR)
    membership = Membership.objects.get(user=alice, network=network_a)
    client.force_login({"alice": alice, "bob": bob, "other_coordinator": other_coordinator}[who])
    assert client.post(deactivate_url(network_a, membership)).status_code == 403
    membership.refresh_from_db()
    assert membership.is_active


def test_a_coordinator_cannot_take_themself_out(client, network_a, coordinator_a):
    membership = Membership.objects.get(user=coordinator_a)
    client.force_login(coordinator_a)
    assert client.post(deactivate_url(network_a, membership)).status_code == 403


def test_inviting_a_person_taken_out_brings_them_back(client, network_a, alice, coordinator_a):
    from networks import services
    from networks.tokens import make_invitation_token

    membership = Membership.objects.get(user=alice, network=network_a)
    services.membership_deactivate(actor=coordinator_a, membership=membership)
    outcome = services.invitation_send(inviter=coordinator_a, network=network_a, email=alice.email, role="observer")
    assert outcome.kind == "invited"
    client.force_login(alice)
    client.post(reverse("networks:accept_invitation", args=[make_invitation_token(outcome.invitation)]))
    membership.refresh_from_db()
    assert membership.is_active and membership.role == Membership.Role.OBSERVER
