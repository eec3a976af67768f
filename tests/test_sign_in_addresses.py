"""Every account signs in with one primary, verified address: the one its invitation link
proved or staff gave. ProConnect signs in only an account whose verified address it knows."""

from importlib import import_module

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from networks.models import Invitation, Membership, User
from networks.services import invitation_accept
from networks.tokens import make_invitation_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def addresses(user):
    return list(EmailAddress.objects.filter(user=user).values_list("email", "primary", "verified"))


def test_accepting_an_invitation_makes_the_address_verified(network_a):
    invitation = Invitation.objects.create(
        network=network_a, email="nina@ville.example", role=Membership.Role.REPRESENTATIVE
    )

    outcome = invitation_accept(
        token=make_invitation_token(invitation), full_name="Nina Nouvelle", password="quartiers-2030-ok"
    )

    assert addresses(outcome.user) == [("nina@ville.example", True, True)]


def test_an_account_created_in_the_admin_has_its_address_verified(agent_client):
    response = agent_client.post(
        reverse("admin:networks_user_add"),
        {
            "email": "Paul.Neuf@Ville.example",
            "full_name": "Paul Neuf",
            "password1": "mot-de-passe-solide-2026",
            "password2": "mot-de-passe-solide-2026",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    assert addresses(User.objects.get(email="paul.neuf@ville.example")) == [("paul.neuf@ville.example", True, True)]


def test_the_migration_verifies_the_addresses_of_existing_accounts():
    without = UserFactory(email="sans@ville.example")
    unverified = UserFactory(email="pas.verifiee@ville.example")
    erased = UserFactory(email="efface-1@compte.invalid", erased_at=timezone.now())
    EmailAddress.objects.filter(user__in=[without, erased]).delete()
    EmailAddress.objects.filter(user=unverified).update(verified=False)

    migration = import_module("networks.migrations.0007_sign_in_addresses_verified")
    migration.verify_sign_in_addresses(apps, None)
    migration.verify_sign_in_addresses(apps, None)  # run twice: the same result

    assert addresses(without) == [("sans@ville.example", True, True)]
    assert addresses(unverified) == [("pas.verifiee@ville.example", True, True)]
    assert addresses(erased) == []


def test_the_migration_runs_a_few_queries_whatever_the_number_of_accounts(django_assert_max_num_queries):
    people = [UserFactory() for _ in range(30)]
    EmailAddress.objects.filter(user__in=people).delete()
    EmailAddress.objects.create(user=people[0], email="autre@ville.example", primary=False, verified=True)
    migration = import_module("networks.migrations.0007_sign_in_addresses_verified")

    with django_assert_max_num_queries(8):  # bulk statements: the same at 30 accounts as at 20,000
        migration.verify_sign_in_addresses(apps, None)

    assert addresses(people[0]) == [(people[0].email, True, True)]
    assert EmailAddress.objects.filter(user__in=people, primary=True, verified=True).count() == 30


def test_look_alike_rows_go_and_one_primary_address_stays():
    person = UserFactory(email="camille@ville.example")
    EmailAddress.objects.filter(user=person).update(primary=False, verified=False)
    EmailAddress.objects.create(user=person, email="camılle@ville.example", primary=True, verified=True)
    migration = import_module("networks.migrations.0007_sign_in_addresses_verified")

    migration.verify_sign_in_addresses(apps, None)

    assert addresses(person) == [("camille@ville.example", True, True)]


def test_the_command_catches_accounts_made_by_old_processes_during_a_deployment():
    from io import StringIO

    from django.core.management import call_command

    person = UserFactory(email="pendant.la.mise.a.jour@ville.example")
    EmailAddress.objects.filter(user=person).delete()
    out = StringIO()

    call_command("verify_sign_in_addresses", stdout=out)

    assert "1 adresse(s) de connexion ajoutée(s)." in out.getvalue()
    assert addresses(person) == [("pendant.la.mise.a.jour@ville.example", True, True)]
