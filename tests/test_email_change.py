"""Staff change a person's address: the old one stops signing in and receiving
password-reset links, so whoever keeps the old mailbox cannot take the account."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from networks import services
from networks.models import Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("account_login")
RESET_URL = reverse("account_reset_password")
OLD, NEW = "marie@ancienne-mairie.example", "marie.exemple@nouvelle-mairie.example"


@pytest.fixture
def agent(db):
    """A plain staff member (not superuser) with only the permissions to see and change people."""
    user = UserFactory(email="agent.simple@anct.example", full_name="Agent Simple", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="networks", codename__in=["change_user", "view_user"])
    )
    return user


@pytest.fixture
def marie(network_a):
    """A representative; her address is her account's one verified address, as for every account."""
    user = UserFactory(email=OLD, full_name="Marie Exemple")
    MembershipFactory(user=user, network=network_a, role=Membership.Role.REPRESENTATIVE)
    assert EmailAddress.objects.filter(user=user, email=OLD, primary=True, verified=True).exists()
    return user


def change_form_data(response) -> dict:
    """What the admin change page would post back unchanged: its form and inline formsets."""
    data = {}

    def add(form):
        for name in form.fields:
            if form.fields[name].disabled:
                continue
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
        for form in formset.initial_forms:
            add(form)
    return data


def change_address_in_admin(client, person, new_email):
    url = reverse("admin:networks_user_change", args=[person.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = change_form_data(page)
    data["email"] = new_email
    return client.post(url, data)


def sign_in(client, email, password):
    client.logout()
    client.post(LOGIN_URL, {"login": email, "password": password})
    return client.session.get("_auth_user_id")


def ask_password_reset(client, email, capture):
    mail.outbox = []
    with capture(execute=True):
        response = client.post(RESET_URL, {"email": email})
    assert response.status_code == 302
    return list(mail.outbox)


def reset_path_in(message) -> str:
    line = next(line for line in message.body.splitlines() if "/compte/password/reset/key/" in line).strip()
    return line[line.index("/compte/") :]


def test_it_lets_the_new_address_sign_in_and_not_the_old_one(client, agent, marie, password):
    client.force_login(agent)
    response = change_address_in_admin(client, marie, NEW)
    assert response.status_code == 302, response.content.decode()[:3000]

    assert sign_in(client, OLD, password) is None
    assert sign_in(client, NEW.upper(), password) == str(marie.pk)
    marie.refresh_from_db()
    assert marie.email == NEW
    assert list(EmailAddress.objects.filter(user=marie).values_list("email", "primary", "verified")) == [
        (NEW, True, True)
    ]


def test_it_sends_reset_links_to_the_new_address_only(client, agent, marie, django_capture_on_commit_callbacks):
    client.force_login(agent)
    change_address_in_admin(client, marie, NEW)
    client.logout()

    assert ask_password_reset(client, OLD, django_capture_on_commit_callbacks) == []
    [message] = ask_password_reset(client, NEW, django_capture_on_commit_callbacks)
    assert message.to == [NEW]
    page = client.get(reset_path_in(message), follow=True)
    assert "Changer le mot de passe" in page.content.decode() or 'name="password1"' in page.content.decode()


def test_it_voids_a_reset_link_sent_to_the_old_address_before_the_change(
    client, agent, marie, django_capture_on_commit_callbacks
):
    [before] = ask_password_reset(client, OLD, django_capture_on_commit_callbacks)
    client.force_login(agent)
    change_address_in_admin(client, marie, NEW)
    client.logout()

    page = client.get(reset_path_in(before), follow=True)
    assert 'name="password1"' not in page.content.decode()
    response = client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else reset_path_in(before),
        {"password1": "repris-par-un-tiers-2026", "password2": "repris-par-un-tiers-2026"},
    )
    marie.refresh_from_db()
    assert response.status_code in {200, 400}
    assert not marie.check_password("repris-par-un-tiers-2026")


def test_it_signs_the_person_out_of_her_open_sessions(client, agent, marie):
    from django.test import Client

    marie_browser = Client()
    marie_browser.force_login(marie)
    assert marie_browser.get(reverse("dashboard")).status_code == 200

    client.force_login(agent)
    change_address_in_admin(client, marie, NEW)

    response = marie_browser.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN_URL)
    assert client.get(reverse("admin:index")).status_code == 200  # the agent stays signed in


def test_it_keeps_staff_signed_in_when_they_change_their_own_address(client, agent):
    client.force_login(agent)
    response = change_address_in_admin(client, agent, "agent.nouveau@anct.example")
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    agent.refresh_from_db()
    assert agent.email == "agent.nouveau@anct.example"


@pytest.mark.parametrize("taken", ["bob@beta.example", "BOB@Beta.example", "ancienne.bob@beta.example"])
def test_it_refuses_in_the_admin_an_address_another_account_uses(client, agent, marie, bob, taken):
    # An address left in allauth's records by an earlier change still signs in to Bob's account.
    EmailAddress.objects.create(user=bob, email="ancienne.bob@beta.example", primary=False, verified=True)
    client.force_login(agent)
    response = change_address_in_admin(client, marie, taken)

    assert response.status_code == 200
    body = response.content.decode()
    assert f"L&#x27;adresse {taken.lower()} est déjà celle d&#x27;un autre compte" in body
    marie.refresh_from_db()
    assert marie.email == OLD
    assert EmailAddress.objects.get(user=marie).email == OLD


def test_it_refuses_when_creating_a_person_with_an_address_still_recorded_for_another(client, agent, bob):
    agent.user_permissions.add(Permission.objects.get(content_type__app_label="networks", codename="add_user"))
    EmailAddress.objects.create(user=bob, email="ancienne.bob@beta.example", primary=False, verified=True)
    client.force_login(agent)
    response = client.post(
        reverse("admin:networks_user_add"),
        {"email": "ancienne.bob@beta.example", "full_name": "Quelqu'un", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert "est déjà celle d&#x27;un autre compte" in response.content.decode()


def test_the_service_refuses_staff_without_the_permission_to_change_people(marie, db):
    viewer = UserFactory(email="lecture@anct.example", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="networks", codename="view_user"))
    with pytest.raises(PermissionDenied):
        services.user_change_email(user=marie, new_email=NEW, changed_by=viewer)
    marie.refresh_from_db()
    assert marie.email == OLD


def test_the_service_refuses_a_taken_address_and_an_invalid_one(agent, marie, bob):
    with pytest.raises(ValidationError, match="déjà celle d'un autre compte"):
        services.user_change_email(user=marie, new_email="Bob@beta.example", changed_by=agent)
    with pytest.raises(ValidationError):
        services.user_change_email(user=marie, new_email="pas-une-adresse", changed_by=agent)
    marie.refresh_from_db()
    assert marie.email == OLD


def test_the_service_replaces_every_address_record_with_the_new_one(agent, marie):
    EmailAddress.objects.create(user=marie, email="marie.perso@exemple.fr", primary=False, verified=False)
    assert services.user_change_email(user=marie, new_email=f"  {NEW.upper()} ", changed_by=agent) is True
    assert list(EmailAddress.objects.filter(user=marie).values_list("email", "primary", "verified")) == [
        (NEW, True, True)
    ]
    assert services.user_change_email(user=marie, new_email=NEW, changed_by=agent) is False
