"""Fixtures shared by the whole suite: settings for unit tests, factories and
the role fixtures (alice in network A, bob in network B, a coordinator of A,
a staff member)."""

import os

import pytest

from networks.models import Membership
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, NetworkFactory, UserFactory
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
def staff(db):
    return UserFactory(email="agent@anct.example", full_name="Agent Central", is_staff=True, is_superuser=True)


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
