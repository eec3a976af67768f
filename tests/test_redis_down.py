"""With Redis down (the broker and the cache on a closed port) the portal
serves its pages from the database, people sign in, and e-mails wait in the
outbox. The page tests run the portal under gunicorn in its own process, with
its real settings, against the test database."""

import http.cookiejar
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from unittest import mock

import pytest
import redis
from django.conf import global_settings
from django.core.cache import caches
from django.db import connection
from django.urls import reverse

from concertation.lib.cache import FailOpenRedisCache
from measures.models import Feedback
from networks.models import User
from outbox.models import OutboxMessage
from tests.factories import FeedbackFactory
from tests.helpers import totp_code

CLOSED = "redis://127.0.0.1:1"  # nothing listens on port 1
PASSWORD = "quartiers-2030-ok"


def fail_open_cache(location: str, **options) -> FailOpenRedisCache:
    params = {"OPTIONS": options, "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}"}
    return FailOpenRedisCache(location, params)


# --- The cache backend on its own --------------------------------------------


def test_an_unreachable_cache_reads_as_a_miss_and_writes_nothing():
    cache = fail_open_cache(f"{CLOSED}/0")
    assert cache.get("page", "absent") == "absent"
    assert cache.set("page", "html") is None
    assert cache.add("lock", True) is True  # as if taken: whoever locks goes on
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.has_key("page") is False
    assert cache.delete("page") is False
    assert cache.touch("page") is False
    assert cache.clear() is False
    with pytest.raises(ValueError):
        cache.incr("counter")


def test_an_unreachable_cache_is_logged_at_most_once_a_minute(caplog):
    cache = fail_open_cache(f"{CLOSED}/2")
    cache.retry_after = 0  # try the server on every call
    with caplog.at_level(logging.WARNING, logger="concertation.lib.cache"):
        for _ in range(20):
            cache.get("page")
    warnings = [record for record in caplog.records if "unreachable" in record.getMessage()]
    assert len(warnings) == 1
    assert "redis://127.0.0.1:1/2" in warnings[0].getMessage()


def test_after_a_failure_the_server_is_left_alone_for_a_few_seconds():
    cache = fail_open_cache(f"{CLOSED}/3")
    cache.get("page")
    with mock.patch.object(cache, "_cache") as client:
        for _ in range(10):
            assert cache.get("page", "absent") == "absent"
    assert client.get.call_count == 0


@pytest.fixture
def real_redis_url(settings):
    if not settings.REDIS_URL:
        pytest.fail("REDIS_URL must point at a running Redis server (bin/with-test-services starts one).")
    return settings.REDIS_URL


def test_keys_written_while_the_cache_was_down_are_forgotten_when_it_is_back(real_redis_url):
    cache = fail_open_cache(real_redis_url)
    cache.retry_after = 0
    cache.set("session", "signed in")
    cache.set("version", 1)
    outage = redis.exceptions.ConnectionError("Connection refused")
    try:
        with mock.patch.object(cache._cache, "get_client", side_effect=outage):
            cache.delete("session")  # signed out while the cache was down
            cache.set("version", 2)  # a write moved the pages' version on
        # Back: neither the ended session nor the old version is read again.
        assert cache.get("session") is None
        assert cache.get("version") is None
        cache.set("version", 3)
        assert cache.get("version") == 3
    finally:
        cache.delete_many(["session", "version"])


# --- Pages with the Django test client --------------------------------------


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {"default": {"BACKEND": "concertation.lib.cache.FailOpenRedisCache", "LOCATION": f"{CLOSED}/1"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    caches["default"].retry_after = 0  # every request meets the closed port


@pytest.mark.django_db
def test_signed_in_pages_fall_back_to_the_database_sessions(client, redis_down, alice, measure):
    client.force_login(alice)
    for url in (
        reverse("dashboard"),
        reverse("measures:list"),
        measure.get_absolute_url(),
        reverse("measures:synthesis"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Alice Alpha" in client.get(reverse("dashboard")).content.decode()


# --- The portal in its own process ------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """Cookies, CSRF and timings; redirects are answers, not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), self._NoRedirect())
        self.timings: dict[str, float] = {}

    def _csrf(self) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self._csrf()}, doseq=True).encode()
        started = time.monotonic()
        try:
            response = self.opener.open(self.base + path, data=body, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        content = response.read().decode()
        self.timings[("POST " if data is not None else "GET ") + path] = time.monotonic() - started
        return response.status, response.headers.get("Location", ""), content


@pytest.fixture
def portal_without_redis(transactional_db, settings):
    """gunicorn serving the portal, whose broker and cache are on a closed port."""
    database = connection.settings_dict
    if not database["ENGINE"].endswith("postgresql"):
        pytest.fail("The portal in its own process needs the PostgreSQL test database (DATABASE_URL).")
    host, port = database["HOST"] or "127.0.0.1", database["PORT"] or 5432
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    web_port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"CONCERTATION_ENV", "CACHE_URL", "SECRET_KEY"}},
        "DJANGO_SETTINGS_MODULE": "concertation.settings",
        "DATABASE_URL": f"postgres://{database['USER']}{password}@{host}:{port}/{database['NAME']}",
        "REDIS_URL": f"{CLOSED}/0",  # the cache follows: {CLOSED}/1
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_BASE_URL": "http://testserver",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "concertation.wsgi",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--workers",
            "1",
            "--timeout",
            "60",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", web_port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("gunicorn did not listen within 60 s")
            time.sleep(0.1)
    yield Browser(f"http://127.0.0.1:{web_port}")
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def real_passwords(settings, alice, staff):
    """The portal's own password hashers, which the process under test uses."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    for person in (alice, staff):
        person.set_password(PASSWORD)
        person.save(update_fields=["password"])


def sign_in(browser: Browser, email: str) -> tuple[int, str, str]:
    status, _location, _body = browser.request(reverse("account_login"))
    assert status == 200
    answer = browser.request(reverse("account_login"), {"login": email, "password": PASSWORD})
    if answer[:2] == (302, reverse("mfa_authenticate")):
        # Staff type their app's code; with the cache down, its replay guard fails open.
        assert browser.request(reverse("mfa_authenticate"))[0] == 200
        answer = browser.request(reverse("mfa_authenticate"), {"code": totp_code(User.objects.get(email=email))})
    return answer


def test_with_redis_down_people_sign_in_read_and_their_emails_wait(
    portal_without_redis, real_passwords, alice, staff, network_a, measure
):
    submitted = FeedbackFactory(measure=measure, network=network_a, author=alice)
    browser = portal_without_redis

    assert browser.request(reverse("home"))[0] == 200
    assert browser.request(reverse("measures:list"))[0] == 200
    status, location, _body = sign_in(browser, alice.email)
    assert (status, location) == (302, reverse("dashboard"))
    for path in (
        reverse("dashboard"),
        reverse("measures:list") + "?q=Emplois",
        measure.get_absolute_url(),
        reverse("measures:synthesis"),
        reverse("measures:feedback_list"),
        submitted.get_absolute_url(),
    ):
        assert browser.request(path)[0] == 200, path
    assert "Emplois francs" in browser.request(reverse("measures:list"))[2]

    status, location, _body = browser.request(
        reverse("measures:feedback_create", args=[measure.pk]),
        {
            "network": network_a.pk,
            "assessment": "partly",
            "what_works": "Les entreprises jouent le jeu.",
            "action": "submit",
        },
    )
    assert status == 302
    written = Feedback.objects.exclude(pk=submitted.pk).get()
    assert written.status == Feedback.Status.SUBMITTED and written.author == alice

    browser.cookies.clear()
    status, location, _body = sign_in(browser, staff.email)
    assert (status, location) == (302, reverse("dashboard"))
    status, location, _body = browser.request(
        reverse("measures:feedback_respond", args=[submitted.pk]), {"response": "Nous relançons la préfecture."}
    )
    assert (status, location) == (302, submitted.get_absolute_url())
    email = OutboxMessage.objects.get(kind="feedback_response")
    assert email.to_email == alice.email
    assert email.status == OutboxMessage.Status.QUEUED  # waiting for the sweep once Redis is back
    assert "Nous relançons la préfecture." in browser.request(submitted.get_absolute_url())[2]

    slow = {request: round(seconds, 2) for request, seconds in browser.timings.items() if seconds > 5}
    assert slow == {}, slow


def test_with_redis_down_a_wrong_password_is_refused_not_an_error(portal_without_redis, real_passwords, alice):
    assert portal_without_redis.request(reverse("account_login"))[0] == 200
    status, _location, body = portal_without_redis.request(
        reverse("account_login"), {"login": alice.email, "password": "pas-le-bon"}
    )
    assert status == 200
    assert re.search(r"adresse (électronique|e-mail).*mot de passe|mot de passe.*incorrect", body, re.S | re.I)
