import pytest
from django.core import mail
from django.urls import reverse

from networks.models import Invitation, Network, Territory, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:networks_user_changelist",
        "admin:networks_user_add",
        "admin:networks_network_changelist",
        "admin:networks_network_add",
        "admin:networks_territory_changelist",
        "admin:networks_membership_changelist",
        "admin:networks_invitation_changelist",
        "admin:networks_invitation_add",
        "admin:networks_invitation_import",
    ],
)
def test_staff_pages_open(agent_client, url_name):
    assert agent_client.get(reverse(url_name)).status_code == 200


def test_staff_create_a_person_with_an_email_login(agent_client):
    response = agent_client.post(
        reverse("admin:networks_user_add"),
        {
            "email": "Nouvel.Agent@ANCT.example",
            "full_name": "Nouvel Agent",
            "password1": "mot-de-passe-solide-2026",
            "password2": "mot-de-passe-solide-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(email="nouvel.agent@anct.example").check_password("mot-de-passe-solide-2026")


def test_staff_create_a_network(agent_client):
    response = agent_client.post(
        reverse("admin:networks_network_add"),
        {
            "name": "Réseau Gamma",
            "acronym": "GAMMA",
            "slug": "gamma",
            "family": "civil_society",
            "description": "",
            "website": "",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Network.objects.get(slug="gamma").family == Network.Family.CIVIL_SOCIETY


def test_an_invitation_added_in_the_admin_is_sent(agent_client, network_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            reverse("admin:networks_invitation_add"),
            {"network": network_a.pk, "email": "depuis.admin@ville.example", "full_name": "", "role": "observer"},
        )
    assert response.status_code == 302
    assert Invitation.objects.get().email == "depuis.admin@ville.example"
    assert mail.outbox[0].to == ["depuis.admin@ville.example"]


def test_a_territory_with_a_malformed_code_is_refused(agent_client):
    response = agent_client.post(
        reverse("admin:networks_territory_add"),
        {"level": "commune", "code": "123", "name": "Nulle part", "parent": ""},
    )
    assert response.status_code == 200
    assert "format officiel" in response.content.decode()
    assert not Territory.objects.exists()


def test_revoking_from_the_admin_disables_the_link(agent_client, network_a, staff):
    from networks import services

    invitation = services.invitation_send(
        inviter=staff, network=network_a, email="x@y.example", role="observer"
    ).invitation
    agent_client.post(
        reverse("admin:networks_invitation_changelist"),
        {"action": "revoke", "_selected_action": [invitation.pk]},
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_people_who_are_not_staff_are_kept_out_of_the_admin(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.get(reverse("admin:networks_invitation_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_resending_from_the_admin_sends_a_new_link(agent_client, network_a, staff, django_capture_on_commit_callbacks):
    from networks import services
    from networks.tokens import InvitationLinkError, make_invitation_token, read_invitation_token

    invitation = services.invitation_send(
        inviter=staff, network=network_a, email="x@y.example", role="observer"
    ).invitation
    old_token = make_invitation_token(invitation)
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            reverse("admin:networks_invitation_changelist"),
            {"action": "resend", "_selected_action": [invitation.pk]},
        )
    assert [m.to for m in mail.outbox] == [["x@y.example"]]
    with pytest.raises(InvitationLinkError):
        read_invitation_token(old_token)


def test_a_member_who_opens_the_admin_is_told_it_is_for_agents(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403
    assert "Administration réservée aux agents" in response.content.decode()
    assert len(response.redirect_chain) == 1


def test_a_visitor_who_opens_the_admin_is_sent_to_the_portal_sign_in(client):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert response.status_code == 200
