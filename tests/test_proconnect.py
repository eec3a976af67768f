"""Signing in through ProConnect, end to end against a fake ProConnect on loopback
(tests/fake_oidc.py): the portal runs in ``live_server``, a ``requests`` session plays the
browser between the two, following redirects and the pages that move on by themselves."""

import html
import re
import secrets
import socket
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin
from django.core.cache import cache
from django.urls import reverse

from networks.models import Membership, User
from networks.services import user_erase
from tests.factories import MembershipFactory, UserFactory
from tests.fake_oidc import FakeProConnect, new_key
from tests.test_settings import PRODUCTION, run_manage

CLIENT_ID = "portail-concertation-test"
CLIENT_SECRET = secrets.token_urlsafe(24)
REFRESH = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)">')


@pytest.fixture(scope="module")
def keys():
    return new_key(), new_key()


@pytest.fixture
def fake(live_server, keys):
    provider = FakeProConnect(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=live_server.url + "/compte/proconnect/login/callback/",
        post_logout_redirect_uri=live_server.url + "/",
        key=keys[0],
        other_key=keys[1],
    ).start()
    yield provider
    provider.stop()


def proconnect_settings(settings, discovery_url, acr_values=()):
    settings.PROCONNECT_ENABLED = True
    settings.SOCIALACCOUNT_PROVIDERS = {
        "proconnect": {
            "APP": {
                "client_id": CLIENT_ID,
                "secret": CLIENT_SECRET,
                "settings": {"server_url": discovery_url, "acr_values": list(acr_values)},
            }
        }
    }


@pytest.fixture
def proconnect_on(settings, fake, live_server):
    proconnect_settings(settings, fake.discovery_url)
    settings.PORTAL_BASE_URL = live_server.url
    return fake


@pytest.fixture
def camille(transactional_db, network_a):
    """An account of the portal whose verified address is the one ProConnect gives."""
    user = UserFactory(email="camille.agent@ministere.gouv.fr", full_name="Camille Agent")
    # Every account is created with its address primary and verified (the invitation proved it).
    assert EmailAddress.objects.filter(user=user, email=user.email, primary=True, verified=True).exists()
    MembershipFactory(user=user, network=network_a, role=Membership.Role.REPRESENTATIVE)
    return user


class Browser:
    """A person's browser: cookies, redirects, and the pages that move on by themselves."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def get(self, path_or_url: str, **kwargs) -> requests.Response:
        url = path_or_url if path_or_url.startswith("http") else self.base_url + path_or_url
        return self.session.get(url, timeout=10, **kwargs)

    def post(self, path: str, data=None, **kwargs) -> requests.Response:
        data = {"csrfmiddlewaretoken": self.session.cookies.get("csrftoken", ""), **(data or {})}
        return self.session.post(self.base_url + path, data=data, timeout=10, **kwargs)

    @staticmethod
    def moves_on_to(response: requests.Response) -> str:
        match = REFRESH.search(response.text)
        assert match, "the page does not move on by itself"
        url = html.unescape(match.group(1))
        # The same address is offered as a link, for browsers that do not follow the refresh.
        assert f'href="{match.group(1)}"' in response.text
        return url

    def sign_in_with_proconnect(self) -> requests.Response:
        login = self.get(reverse("account_login"))
        assert "S'identifier avec" in html.unescape(login.text)
        page = self.post(reverse("proconnect_login"))
        assert page.status_code == 200
        return self.get(self.moves_on_to(page))

    def is_signed_in(self) -> bool:
        response = self.get(reverse("dashboard"), allow_redirects=False)
        assert response.status_code in (200, 302)
        return response.status_code == 200


def text(response) -> str:
    return html.unescape(response.text)


# --- Signing in ---------------------------------------------------------------------------


def test_proconnect_signs_in_an_existing_account_with_that_verified_address(proconnect_on, camille, live_server):
    browser = Browser(live_server.url)

    landing = browser.sign_in_with_proconnect()

    assert landing.status_code == 200
    assert urlsplit(landing.url).path == reverse("dashboard")
    assert "Camille Agent" in text(landing)
    assert browser.is_signed_in()
    # The request ProConnect received: code flow, its scopes, a state and a nonce of 32+ characters, PKCE.
    (authorize,) = proconnect_on.authorize_requests
    assert authorize["response_type"] == "code"
    assert set(authorize["scope"].split()) == {"openid", "email", "given_name", "usual_name", "uid", "siret"}
    assert len(authorize["state"]) >= 32 and len(authorize["nonce"]) >= 32
    assert authorize["code_challenge_method"] == "S256"
    assert not proconnect_on.errors
    # The identity is linked to the account; nothing else was created, no token kept.
    link = SocialAccount.objects.get()
    assert (link.user, link.provider, link.uid) == (camille, "proconnect", proconnect_on.sub)
    assert link.extra_data == {"idp_id": "fia1v2"}
    assert User.objects.count() == 1
    assert not SocialToken.objects.exists()


def test_the_next_sign_in_uses_the_linked_identity_and_the_address_compared_without_case(
    proconnect_on, camille, live_server
):
    Browser(live_server.url).sign_in_with_proconnect()
    proconnect_on.email = "Camille.AGENT@ministere.gouv.fr"

    browser = Browser(live_server.url)
    landing = browser.sign_in_with_proconnect()

    assert urlsplit(landing.url).path == reverse("dashboard")
    assert browser.is_signed_in()
    assert SocialAccount.objects.count() == 1


@pytest.mark.parametrize("look_alike", ["camılle.agent@ministere.gouv.fr", "camille.agent@miniſtere.gouv.fr"])
def test_an_address_that_only_folds_to_the_accounts_is_refused(proconnect_on, camille, live_server, look_alike):
    """PostgreSQL's UPPER() folds « ı » to « I » and « ſ » to « S »: addresses are compared exactly."""
    proconnect_on.email = look_alike

    browser = Browser(live_server.url)
    page = browser.sign_in_with_proconnect()

    assert page.status_code == 403
    assert not browser.is_signed_in()
    assert not SocialAccount.objects.exists()


def test_an_address_that_only_lower_cases_to_the_accounts_is_refused(proconnect_on, live_server, network_a):
    """« \u212a » (the Kelvin sign) lower-cases to « k »: the address is taken only as ProConnect wrote it."""
    kim = UserFactory(email="kim.agent@ministere.gouv.fr", full_name="Kim Agent")
    MembershipFactory(user=kim, network=network_a, role=Membership.Role.REPRESENTATIVE)
    proconnect_on.email = "\u212aim.agent@ministere.gouv.fr"

    browser = Browser(live_server.url)
    page = browser.sign_in_with_proconnect()

    assert page.status_code == 403
    assert not browser.is_signed_in()
    assert not SocialAccount.objects.exists()


def test_a_sign_in_goes_back_to_the_page_asked_for(proconnect_on, camille, live_server):
    browser = Browser(live_server.url)
    asked = reverse("networks:my_data")
    browser.get(reverse("account_login") + f"?next={asked}")

    page = browser.post(reverse("proconnect_login"), {"next": asked})
    landing = browser.get(browser.moves_on_to(page))

    assert urlsplit(landing.url).path == asked


@pytest.mark.parametrize(
    ("misbehaviour", "stage", "reason"),
    [
        ("wrong_nonce", "id_token check", "the id_token's nonce is not this sign-in's"),
        ("expired_id_token", "id_token check", "the id_token has expired"),
        ("wrong_audience", "id_token check", "the id_token is meant for another service"),
        ("bad_signature", "id_token check", "the id_token's signature is wrong"),
        ("userinfo_unknown_key", "userinfo", "the user information is signed by a key that is not ProConnect's"),
        ("sub_mismatch", "userinfo", "the user information is about another subject than the id_token"),
        ("userinfo_json", "userinfo", "the user information is application/json, not a signed JWT"),
    ],
)
def test_an_answer_that_does_not_check_out_signs_nobody_in(
    proconnect_on, camille, live_server, caplog, misbehaviour, stage, reason
):
    proconnect_on.misbehave.add(misbehaviour)
    browser = Browser(live_server.url)

    page = browser.sign_in_with_proconnect()

    assert page.status_code == 401
    assert "La connexion avec ProConnect n'a pas abouti" in text(page)
    assert not browser.is_signed_in()
    assert not SocialAccount.objects.exists()
    assert f"ProConnect sign-in failed ({stage}): {reason}." in caplog.text
    # The reason is logged, never a token.
    assert proconnect_on.id_tokens and proconnect_on.id_tokens[-1] not in caplog.text


def test_a_refusal_of_the_token_endpoint_is_logged_with_its_status(
    settings, proconnect_on, camille, live_server, caplog
):
    settings.SOCIALACCOUNT_PROVIDERS["proconnect"]["APP"]["secret"] = "pas-le-bon-secret"
    browser = Browser(live_server.url)

    page = browser.sign_in_with_proconnect()

    assert page.status_code == 401
    assert "La connexion avec ProConnect n'a pas abouti" in text(page)
    assert proconnect_on.errors == ["wrong client credentials"]
    assert "ProConnect sign-in failed (token): the token endpoint answered HTTP 401." in caplog.text
    # Neither the code nor the secret nor ProConnect's explanation is logged.
    (exchange,) = proconnect_on.token_requests
    assert exchange["code"] not in caplog.text
    assert "pas-le-bon-secret" not in caplog.text
    assert "wrong client credentials" not in caplog.text


def test_a_state_that_is_not_the_sessions_is_refused(proconnect_on, camille, live_server):
    browser = Browser(live_server.url)
    browser.get(reverse("account_login"))
    authorize_url = browser.moves_on_to(browser.post(reverse("proconnect_login")))
    back = browser.get(authorize_url, allow_redirects=False)
    callback = back.headers["Location"]
    forged = callback.replace(parse_qs(urlsplit(callback).query)["state"][0], secrets.token_urlsafe(32))

    page = browser.get(forged)

    assert page.status_code == 401
    assert not browser.is_signed_in()
    assert not proconnect_on.token_requests  # the code was never exchanged


def test_cancelling_at_proconnect_says_so(proconnect_on, camille, live_server):
    proconnect_on.misbehave.add("deny")
    browser = Browser(live_server.url)

    page = browser.sign_in_with_proconnect()

    assert page.status_code == 200
    assert "Connexion annulée" in text(page)
    assert not browser.is_signed_in()


def test_an_address_without_an_account_is_told_to_ask_for_an_invitation(proconnect_on, camille, live_server):
    proconnect_on.email = "inconnue@ministere.gouv.fr"
    users = User.objects.count()
    browser = Browser(live_server.url)

    page = browser.sign_in_with_proconnect()

    assert page.status_code == 403
    assert "Demandez une invitation" in text(page)
    assert "Adresse transmise par ProConnect : inconnue@ministere.gouv.fr." in " ".join(
        text(page).replace("<strong>", "").replace("</strong>", "").split()
    )
    assert not browser.is_signed_in()
    assert User.objects.count() == users
    assert not SocialAccount.objects.exists()
    assert not EmailAddress.objects.filter(email__iexact="inconnue@ministere.gouv.fr").exists()


def test_an_address_that_is_not_verified_signs_nobody_in(proconnect_on, camille, live_server):
    EmailAddress.objects.filter(user=camille).update(verified=False)
    browser = Browser(live_server.url)

    page = browser.sign_in_with_proconnect()

    assert page.status_code == 403
    assert not browser.is_signed_in()
    assert not SocialAccount.objects.exists()


def test_an_inactive_account_is_refused(proconnect_on, camille, live_server):
    User.objects.filter(pk=camille.pk).update(is_active=False)
    browser = Browser(live_server.url)

    page = browser.sign_in_with_proconnect()

    assert page.status_code == 403
    assert "Demandez une invitation" in text(page)
    assert not browser.is_signed_in()
    assert not SocialAccount.objects.exists()


def test_an_erased_account_is_refused_even_with_its_identity_linked(proconnect_on, camille, live_server):
    Browser(live_server.url).sign_in_with_proconnect()
    assert SocialAccount.objects.filter(user=camille).exists()
    root = UserFactory(email="racine@anct.example", is_staff=True, is_superuser=True)
    user_erase(user=camille, by=root)
    # Even had the address records survived the erasure, an erased account stays closed.
    EmailAddress.objects.create(user=camille, email="camille.agent@ministere.gouv.fr", primary=True, verified=True)
    browser = Browser(live_server.url)

    page = browser.sign_in_with_proconnect()

    assert page.status_code == 403
    assert not browser.is_signed_in()


def test_an_identity_linked_to_another_account_is_refused(proconnect_on, camille, live_server):
    other = UserFactory(email="autre@ministere.gouv.fr")
    SocialAccount.objects.create(user=other, provider="proconnect", uid=proconnect_on.sub, extra_data={})
    browser = Browser(live_server.url)

    page = browser.sign_in_with_proconnect()

    assert page.status_code == 403
    assert not browser.is_signed_in()
    assert SocialAccount.objects.get().user == other


def test_an_assurance_level_below_the_one_required_is_refused(settings, proconnect_on, camille, live_server):
    proconnect_settings(settings, proconnect_on.discovery_url, acr_values=["eidas2", "eidas3"])
    browser = Browser(live_server.url)

    page = browser.sign_in_with_proconnect()

    (authorize,) = proconnect_on.authorize_requests
    assert '"values":["eidas2","eidas3"]' in authorize["claims"]
    assert page.status_code == 401
    assert not browser.is_signed_in()


def test_no_email_leaves_from_a_sign_in(proconnect_on, camille, live_server, mailoutbox):
    from outbox.models import OutboxMessage

    Browser(live_server.url).sign_in_with_proconnect()
    proconnect_on.email = "inconnue@ministere.gouv.fr"
    Browser(live_server.url).sign_in_with_proconnect()

    assert not mailoutbox
    assert not OutboxMessage.objects.exists()


def test_connecting_proconnect_to_a_signed_in_account_is_not_offered(proconnect_on, camille, live_server, password):
    other = UserFactory(email="autre@ministere.gouv.fr", full_name="Autre Personne")
    browser = Browser(live_server.url)
    browser.get(reverse("account_login"))
    browser.post(reverse("account_login"), {"login": other.email, "password": password})
    assert browser.is_signed_in()

    connections = browser.get(reverse("socialaccount_connections"), allow_redirects=False)
    page = browser.post(reverse("proconnect_login"), {"process": "connect"})

    assert connections.status_code == 302
    assert page.status_code == 401
    assert not proconnect_on.authorize_requests
    assert not SocialAccount.objects.exists()


def test_a_proconnect_that_does_not_answer_gets_the_error_page_within_the_timeout(client, db, settings, caplog):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        proconnect_settings(
            settings, f"http://127.0.0.1:{silent.getsockname()[1]}/api/v2/.well-known/openid-configuration"
        )
        settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 1
        started = time.monotonic()

        page = client.post(reverse("proconnect_login"))

        assert time.monotonic() - started < 5
    finally:
        silent.close()
    assert page.status_code == 401
    assert "La connexion avec ProConnect n'a pas abouti" in html.unescape(page.content.decode())
    assert "ProConnect sign-in failed (discovery): the discovery document gave no answer within 1 s." in caplog.text


# --- Slow or changing ProConnect: the cache and the time budget ------------------------------


def test_the_discovery_document_and_the_keys_are_fetched_once_for_several_sign_ins(proconnect_on, camille, live_server):
    for _ in range(2):
        browser = Browser(live_server.url)
        landing = browser.sign_in_with_proconnect()
        assert urlsplit(landing.url).path == reverse("dashboard")
        assert browser.is_signed_in()

    # The code and the user information are each sign-in's own; the rest is kept for an hour.
    assert proconnect_on.calls == {"discovery": 1, "jwks": 1, "token": 2, "userinfo": 2}


def test_without_a_cache_each_sign_in_fetches_what_it_needs(settings, proconnect_on, camille, live_server):
    # Nothing listens on port 1: the portal's cache fails open.
    settings.CACHES = {
        "default": {"BACKEND": "concertation.lib.cache.FailOpenRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }

    for _ in range(2):
        browser = Browser(live_server.url)
        browser.sign_in_with_proconnect()
        assert browser.is_signed_in()

    # The start of each sign-in and the return from ProConnect each fetch what they need.
    assert proconnect_on.calls == {"discovery": 4, "jwks": 4, "token": 2, "userinfo": 2}


def test_a_key_proconnect_has_just_published_is_fetched_then_signs_in(proconnect_on, camille, live_server):
    Browser(live_server.url).sign_in_with_proconnect()
    proconnect_on.rotate_key(new_key(), "cle-suivante")

    for _ in range(2):
        browser = Browser(live_server.url)
        landing = browser.sign_in_with_proconnect()
        assert urlsplit(landing.url).path == reverse("dashboard")
        assert browser.is_signed_in()

    # The new key id sent the portal back to the key set once; the next sign-in found it kept.
    assert proconnect_on.calls["jwks"] == 2
    assert proconnect_on.calls["discovery"] == 1
    assert not proconnect_on.errors


def test_an_unknown_key_fetches_the_key_set_again_at_most_once_a_minute(proconnect_on, camille, live_server, caplog):
    proconnect_on.misbehave.add("userinfo_unknown_key")
    fetched = []

    for _ in range(3):
        browser = Browser(live_server.url)
        page = browser.sign_in_with_proconnect()
        assert page.status_code == 401
        assert "La connexion avec ProConnect n'a pas abouti" in text(page)
        assert not browser.is_signed_in()
        fetched.append(proconnect_on.calls["jwks"])

    # The first sign-in fetched the keys at its start, then once more for the unknown key; within
    # the minute, the next ones may not.
    assert fetched == [2, 2, 2]
    reason = "ProConnect sign-in failed (userinfo): the user information is signed by a key that is not ProConnect's."
    assert caplog.text.count(reason) == 3
    assert not SocialAccount.objects.exists()


def slow_proconnect(settings, fake, *, delay=0.0, delays=None, trickle=0.0) -> float:
    """ProConnect answers each call after ``delay`` seconds (``delays``: some calls otherwise) and
    the portal allows 1 s a call. The time budget of a step is returned."""
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 1
    fake.delay, fake.delays, fake.trickle = delay, delays or {}, trickle
    return 2.0  # twice the time of a call


def timed_sign_in(browser: Browser, before_return=None) -> tuple[requests.Response, float, float]:
    """A sign-in through ProConnect: the page it ends on, how long the start took, how long the return."""
    browser.get(reverse("account_login"))
    started = time.monotonic()
    leaving = browser.post(reverse("proconnect_login"))
    start = time.monotonic() - started
    callback = browser.get(browser.moves_on_to(leaving), allow_redirects=False).headers["Location"]
    if before_return:
        before_return()
    started = time.monotonic()
    page = browser.get(callback)
    return page, start, time.monotonic() - started


def test_a_slow_proconnect_signs_in_on_the_first_try(settings, proconnect_on, camille, live_server):
    budget = slow_proconnect(settings, proconnect_on, delay=0.6)
    browser = Browser(live_server.url)

    page, start, back = timed_sign_in(browser)

    # The start fetches the discovery document and the keys, the return exchanges the code and
    # reads the user information: two calls of 0.6 s each, within the budget of 2 s.
    assert page.status_code == 200
    assert urlsplit(page.url).path == reverse("dashboard")
    assert browser.is_signed_in()
    assert 1.2 <= start < budget + 2
    assert 1.2 <= back < budget + 2
    assert proconnect_on.calls == {"discovery": 1, "jwks": 1, "token": 1, "userinfo": 1}


def test_a_proconnect_too_slow_for_the_budget_is_refused_within_it(
    settings, proconnect_on, camille, live_server, caplog
):
    # Each call within the 1 s it is allowed: the discovery document and the code take 0.6 s, the keys 0.9 s.
    budget = slow_proconnect(settings, proconnect_on, delay=0.6, delays={"jwks": 0.9})
    browser = Browser(live_server.url)

    # The cache lost the discovery document and the keys between the start and the return (Redis
    # restarted): the return needs them again, and after 1.2 s, 0.8 s are left for the keys.
    page, _, back = timed_sign_in(browser, before_return=cache.clear)

    assert back < budget + 2
    assert page.status_code == 401
    assert "La connexion avec ProConnect n'a pas abouti" in text(page)
    assert not browser.is_signed_in()
    assert "ProConnect sign-in failed (jwks): time budget spent." in caplog.text
    assert proconnect_on.calls == {"discovery": 2, "jwks": 2, "token": 1}


def test_an_answer_that_trickles_in_is_cut_at_the_time_budget(settings, proconnect_on, camille, live_server, caplog):
    # A byte every 50 ms: each read is quick, the user information (a JWT of 700+ bytes) would take 35 s.
    budget = slow_proconnect(settings, proconnect_on, trickle=0.05)
    browser = Browser(live_server.url)

    page, _, back = timed_sign_in(browser)

    assert back < budget + 2
    assert page.status_code == 401
    assert "ProConnect sign-in failed (userinfo): time budget spent." in caplog.text
    assert not browser.is_signed_in()


# --- Signing out --------------------------------------------------------------------------


def test_signing_out_ends_the_proconnect_session_too(proconnect_on, camille, live_server):
    browser = Browser(live_server.url)
    browser.sign_in_with_proconnect()

    signed_out = browser.post(reverse("account_logout"), allow_redirects=False)
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"] == reverse("proconnect_end_session")
    assert not browser.is_signed_in()  # signed out of the portal before leaving
    page = browser.get(signed_out.headers["Location"])
    end_session = browser.moves_on_to(page)
    params = {name: values[0] for name, values in parse_qs(urlsplit(end_session).query).items()}
    home = browser.get(end_session)

    assert end_session.startswith(proconnect_on.url + "/session/end?")
    assert params["id_token_hint"] == proconnect_on.id_tokens[-1]
    assert len(params["state"]) >= 32
    assert params["post_logout_redirect_uri"] == live_server.url + "/"
    assert "no-store" in page.headers["Cache-Control"]  # the page carries the id_token
    # ProConnect came back to the home page with the state, which the portal accepts.
    assert home.status_code == 200
    assert urlsplit(home.url).path == reverse("home")
    assert parse_qs(urlsplit(home.url).query)["state"] == [params["state"]]
    assert len(proconnect_on.end_session_requests) == 1
    assert not proconnect_on.errors
    assert not browser.is_signed_in()
    # The page does not send anyone to ProConnect twice.
    assert urlsplit(browser.get(reverse("proconnect_end_session")).url).path == reverse("home")


def test_signing_out_after_a_password_sign_in_stays_on_the_portal(proconnect_on, camille, live_server, password):
    browser = Browser(live_server.url)
    browser.get(reverse("account_login"))
    browser.post(reverse("account_login"), {"login": camille.email, "password": password})
    assert browser.is_signed_in()

    signed_out = browser.post(reverse("account_logout"), allow_redirects=False)

    assert signed_out.headers["Location"] == reverse("home")
    assert not proconnect_on.end_session_requests


# --- Off by default -----------------------------------------------------------------------


def test_proconnect_is_off_by_default(client, db, settings):
    assert settings.PROCONNECT_ENABLED is False
    assert settings.SOCIALACCOUNT_PROVIDERS == {}

    page = client.get(reverse("account_login"))

    assert page.status_code == 200
    assert "ProConnect" not in page.content.decode()
    assert "proconnect.css" not in page.content.decode()
    assert client.post(reverse("proconnect_login")).status_code == 404
    assert client.get(reverse("proconnect_login")).status_code == 404
    assert client.get(reverse("proconnect_callback"), {"code": "x", "state": "y"}).status_code == 404
    assert client.get(reverse("proconnect_end_session")).status_code == 404


def test_the_button_follows_proconnects_guidelines(client, db, settings):
    proconnect_settings(settings, "https://proconnect.example/api/v2/.well-known/openid-configuration")

    page = client.get(reverse("account_login") + "?next=/tableau-de-bord/")
    content = page.content.decode()

    form = re.search(r'<form id="proconnect-login"[^>]*method="post" action="([^"]+)"', content)
    assert form and form.group(1) == reverse("proconnect_login")
    assert '<input type="hidden" name="next" value="/tableau-de-bord/">' in content
    assert re.search(r'<button type="submit" form="proconnect-login" class="fr-connect portal-proconnect">', content)
    assert "S'identifier avec" in html.unescape(content)
    link = re.search(
        r'<a href="https://www.proconnect.gouv.fr/" target="_blank" rel="([^"]+)" title="([^"]+)">', content
    )
    assert link and "noopener" in link.group(1)
    assert html.unescape(link.group(2)) == "Qu'est-ce que ProConnect ? - nouvelle fenêtre"
    assert "css/proconnect.css" in content
    # Opened by address (GET), the start of the sign-in only asks to confirm, with a POST form.
    confirm = client.get(reverse("proconnect_login"))
    assert confirm.status_code == 200
    assert '<form method="post"' in confirm.content.decode()
    assert 'style="' not in content[content.index("proconnect-title") :]


def test_a_socialapp_row_does_not_turn_proconnect_on(client, db, settings):
    SocialApp.objects.create(provider="proconnect", name="ProConnect", client_id="ligne", secret="secret")

    assert client.post(reverse("proconnect_login")).status_code == 404


# --- The admin ----------------------------------------------------------------------------


def test_agents_read_no_social_account_and_tokens_have_no_page(staff):
    assert not admin.site.is_registered(SocialToken)
    assert not admin.site.is_registered(SocialApp)
    assert admin.site.is_registered(SocialAccount)
    for model in ("socialaccount", "socialtoken", "socialapp"):
        assert not staff.has_perm(f"socialaccount.view_{model}")


# --- Settings -----------------------------------------------------------------------------


def test_production_refuses_proconnect_without_its_client():
    result = run_manage(
        "check",
        SECRET_KEY=secrets.token_urlsafe(50),
        PROCONNECT_ENABLED="true",
        PROCONNECT_DISCOVERY_URL="https://proconnect.gouv.fr/api/v2",
        **PRODUCTION,
    )
    assert result.returncode != 0
    assert "PROCONNECT_ENABLED requires PROCONNECT_CLIENT_ID, PROCONNECT_CLIENT_SECRET" in result.stderr


def test_production_refuses_a_discovery_address_without_https():
    result = run_manage(
        "check",
        SECRET_KEY=secrets.token_urlsafe(50),
        PROCONNECT_ENABLED="true",
        PROCONNECT_DISCOVERY_URL="http://proconnect.gouv.fr/api/v2",
        PROCONNECT_CLIENT_ID="identifiant",
        PROCONNECT_CLIENT_SECRET="secret",
        **PRODUCTION,
    )
    assert result.returncode != 0
    assert "PROCONNECT_DISCOVERY_URL must start with https://" in result.stderr


def test_production_accepts_proconnect_configured():
    code = (
        "from django.conf import settings; app = settings.SOCIALACCOUNT_PROVIDERS['proconnect']['APP']; "
        "print(app['settings']['server_url'], app['settings']['acr_values'])"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        SECRET_KEY=secrets.token_urlsafe(50),
        PROCONNECT_ENABLED="true",
        PROCONNECT_DISCOVERY_URL="https://proconnect.gouv.fr/api/v2/",
        PROCONNECT_CLIENT_ID="identifiant",
        PROCONNECT_CLIENT_SECRET="secret",
        PROCONNECT_ACR_VALUES="eidas1",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert "https://proconnect.gouv.fr/api/v2/.well-known/openid-configuration ['eidas1']" in result.stdout


# --- In a browser -------------------------------------------------------------------------


@pytest.mark.browser
def test_in_chromium_a_person_signs_in_and_out_through_proconnect(page, proconnect_on, camille, live_server):
    """Chromium applies the portal's ``form-action 'self'`` to redirects after a form is sent:
    the pages that move on by themselves are what lets the journey through."""
    from playwright.sync_api import expect

    from tests.test_browser_journeys import assert_accessible

    refused = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto(live_server.url + reverse("account_login"))
    button = page.get_by_role("button", name="S'identifier avec ProConnect")
    expect(button).to_be_visible()
    link = page.get_by_role("link", name="Qu'est-ce que ProConnect ?")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("title", "Qu'est-ce que ProConnect ? - nouvelle fenêtre")
    assert_accessible(page)

    button.click()
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/\?state="))
    expect(page.get_by_role("link", name="Se connecter").first).to_be_visible()
    assert len(proconnect_on.end_session_requests) == 1
    assert not proconnect_on.errors
    assert not refused
