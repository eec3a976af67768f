"""Fixtures shared by the whole suite: settings for unit tests, factories and
the role fixtures (alice in network A, bob in network B, a coordinator of A,
a staff member of the Agents group, a former member of A, an outsider)."""

import os
from datetime import date

import pytest

from networks.models import Membership
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, NetworkFactory, UserFactory
from tests.helpers import ONLINE_URL
from tests.real_services import celery_worker_process, real_worker, smtp_server  # noqa: F401 - fixtures

# The browser tests drive Chromium from the test thread while live_server
# answers from another: Django's async-safety guard must let the ORM run.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _unit_test_settings(settings):
    # Unit tests run tasks in-process and keep mail in memory; the tests marked
    # `worker` switch to the real worker, Redis and SMTP.
    from concertation.celery import app

    app.conf.task_always_eager = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()  # local-memory caches outlive a settings change
    from django.utils import translation

    translation.activate("fr")  # a request in English must not leak into the next test
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PORTAL_BASE_URL = "http://testserver"
    yield
    app.conf.task_always_eager = True


@pytest.fixture(scope="session", autouse=True)
def _force_login_is_a_complete_sign_in():
    """``Client.force_login`` stands for a finished sign-in: for an account with a second factor,
    its password and its code, as allauth records them in the session. Tests of the second factor
    itself sign in through the real pages (``tests.helpers.sign_in_with_code``)."""
    import time

    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from allauth.account.internal.userkit import user_id_to_str
    from allauth.mfa.models import Authenticator
    from django.test import Client

    original = Client._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        totp = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).first()
        if totp is None:
            return
        session = self.session
        now = time.time()
        session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = user_id_to_str(user)
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "password", "at": now, "email": user.email},
            {"method": "mfa", "at": now, "id": totp.pk, "type": "totp"},
        ]
        session.save()

    Client._login = _login
    yield
    Client._login = original


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium, installed by `make system-deps`; never a downloaded build.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def network_a(db):
    return NetworkFactory(name="Réseau Alpha", acronym="ALPHA", slug="alpha")


@pytest.fixture
def network_b(db):
    return NetworkFactory(name="Réseau Bêta", acronym="BETA", slug="beta")


@pytest.fixture
def alice(network_a):
    """A representative of network A."""
    user = UserFactory(email="alice@alpha.example", full_name="Alice Alpha")
    MembershipFactory(user=user, network=network_a, role=Membership.Role.REPRESENTATIVE)
    return user


@pytest.fixture
def bob(network_b):
    """A representative of network B."""
    user = UserFactory(email="bob@beta.example", full_name="Bob Bêta")
    MembershipFactory(user=user, network=network_b, role=Membership.Role.REPRESENTATIVE)
    return user


@pytest.fixture
def coordinator_a(network_a):
    user = UserFactory(email="coord@alpha.example", full_name="Claire Coordination")
    MembershipFactory(user=user, network=network_a, role=Membership.Role.COORDINATOR)
    return user


@pytest.fixture
def agents(db):
    """The Agents group, with the model permissions its migration grants."""
    from concertation.agents import agents_group

    return agents_group()


@pytest.fixture
def staff(agents):
    """An agent of the administration: staff in the Agents group, not a superuser, with an
    authenticator app and recovery codes (``UserFactory`` enrols staff: tests.helpers.totp_code)."""
    user = UserFactory(email="agent@anct.example", full_name="Agent Central", is_staff=True)
    user.groups.add(agents)
    return user


@pytest.fixture
def agent_client(client, staff):
    """A browser signed in as the agent: the admin as agents see it, without superuser rights."""
    client.force_login(staff)
    return client


@pytest.fixture
def former_member(network_a):
    """Was a representative of network A; the membership has ended."""
    user = UserFactory(email="ancien@alpha.example", full_name="Ancien Membre")
    MembershipFactory(
        user=user, network=network_a, role=Membership.Role.REPRESENTATIVE, is_active=False, ended_on=date(2025, 1, 31)
    )
    return user


@pytest.fixture
def outsider(db):
    """A signed-in account that never belonged to a network."""
    return UserFactory(email="exterieur@example.org", full_name="Personne Extérieure")


@pytest.fixture
def measure(db):
    from tests.factories import MeasureFactory

    return MeasureFactory(number=9, title="Emplois francs")


@pytest.fixture
def other_measure(db):
    from tests.factories import MeasureFactory

    return MeasureFactory(number=10, title="PaQte avec les entreprises")


@pytest.fixture
def open_round(measure, network_a, network_b):
    from tests.factories import RoundFactory

    return RoundFactory(title="Consultation d'automne", measures=[measure], networks=[network_a, network_b])


# --- Working groups -----------------------------------------------------------


@pytest.fixture
def lead(db):
    """A working-group lead: named by staff, member of no network, not staff."""
    return UserFactory(email="animation@anct.example", full_name="Léa Animation")


@pytest.fixture
def group(lead, network_a, measure):
    """A thematic group led by ``lead``, with network A as member and ``measure`` followed."""
    from tests.factories import WorkingGroupFactory

    group = WorkingGroupFactory(title="Emploi et développement économique", networks=[network_a], leads=[lead])
    group.measures.add(measure)
    return group


@pytest.fixture
def other_group(network_b):
    """Another group, with another lead, network B as member."""
    from tests.factories import WorkingGroupFactory

    other_lead = UserFactory(email="autre.animation@anct.example", full_name="Oscar Autre")
    return WorkingGroupFactory(title="Cadre de vie et renouvellement urbain", networks=[network_b], leads=[other_lead])


@pytest.fixture
def session(group):
    """A session of ``group`` in ten days, with reminders 7 days and 1 day before (rows made)."""
    from tests.factories import SessionFactory
    from workgroups.services import reminders_sync

    session = SessionFactory(group=group, title="Emplois francs : premiers retours")
    reminders_sync(session=session)
    return session


@pytest.fixture
def invited(session, lead, alice, coordinator_a, django_capture_on_commit_callbacks):
    """``session``, hybrid with an online link (``ONLINE_URL``), its group invited (alice and coordinator_a)."""
    from workgroups import services
    from workgroups.models import Session

    Session.objects.filter(pk=session.pk).update(format=Session.Format.HYBRID, online_url=ONLINE_URL)
    session.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.session_invite_group(session=session, by=lead)
    return session


@pytest.fixture
def held(session, alice):
    """``session``, held two hours ago, alice invited and present."""
    from datetime import timedelta

    from django.utils import timezone

    from workgroups.models import Session, SessionInvitation

    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(hours=3),
        ends_at=timezone.now() - timedelta(hours=1),
        status=Session.Status.HELD,
        invitations_sent_at=timezone.now() - timedelta(days=5),
    )
    session.refresh_from_db()
    SessionInvitation.objects.create(
        session=session, user=alice, network=alice.memberships.get().network, source="network", attended=True
    )
    return session
