"""A new agent's first sign-in in a real Chromium: sent to enrol a second factor, they read the key
off the page, type the app's code, keep their recovery codes and reach the admin; the next sign-in
asks for the code. Each page is checked with axe-core."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory
from tests.helpers import browser_sign_in, totp_code, totp_code_at, totp_secret
from tests.test_browser_journeys import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _surely_wrong_code(page) -> str:
    current = totp_code_at(page.locator("#totp-secret").inner_text(), time.time())
    return "000000" if current != "000000" else "111111"


def test_a_new_agent_enrols_a_second_factor_and_signs_in_with_it(page, live_server, password, agents):
    agent = UserFactory(email="nouvel.agent@anct.example", full_name="Nouvel Agent", is_staff=True, totp=False)
    agent.groups.add(agents)

    page.goto(live_server.url + "/admin/")
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    page.get_by_label("Courriel").fill(agent.email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()

    # Sent to enrol before the admin, and told why.
    expect(page.get_by_role("heading", level=1, name="Activer le second facteur")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="protégés par un second facteur")).to_be_visible()
    expect(page.get_by_role("img", name="QR code à scanner avec votre application d’authentification")).to_be_visible()
    assert_accessible(page)

    # A wrong code is explained, in French, with the error summary first.
    page.get_by_label("Code à 6 chiffres").fill(_surely_wrong_code(page))
    page.get_by_role("button", name="Activer").click()
    expect(page.get_by_role("alert")).to_contain_text("Ce code n'est pas valable")
    expect(page).to_have_title(re.compile(r"^Erreur : Activer le second facteur"))
    assert_accessible(page)

    # The key as the person reads it, typed into their app; the app's code typed here.
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code à 6 chiffres").fill(totp_code(secret))
    page.get_by_role("button", name="Activer").click()

    expect(page.get_by_role("heading", level=1, name="Codes de récupération")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Le second facteur est activé")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert_accessible(page)
    assert totp_secret(agent) == secret.replace(" ", "")

    page.get_by_role("link", name="J'ai gardé mes codes, continuer").click()
    expect(page.get_by_role("link", name="Second facteur")).to_be_visible()
    assert page.url == live_server.url + "/admin/"

    # Signed out, the next sign-in asks for the app's code.
    page.get_by_role("button", name="Déconnexion").click()
    page.goto(live_server.url + "/compte/login/")
    page.get_by_label("Courriel").fill(agent.email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("heading", level=1, name="Code de vérification")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Code de vérification").fill(totp_code(agent))
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()

    # The second factor's page, from the account's section of the dashboard.
    page.get_by_role("link", name="Second facteur").click()
    expect(page.get_by_role("heading", level=1, name="Second facteur")).to_be_visible()
    expect(page.get_by_text("Les comptes des agents la gardent")).to_be_visible()
    assert_accessible(page)


def test_the_sign_in_helper_types_the_code_for_enrolled_staff(page, live_server, password, staff):
    browser_sign_in(page, live_server.url, staff, password)
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()
    page.goto(live_server.url + "/admin/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.url == live_server.url + "/admin/"
