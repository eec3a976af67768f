"""The admin's journal of changes in a real Chromium, checked with axe-core: its links (breadcrumbs,
people, objects, the summary of errors) are underlined, not told apart by their colour alone."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from concertation.lib import audit
from measures.models import Ministry
from tests.helpers import browser_sign_in
from tests.test_browser_journeys import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_journal_its_errors_a_change_and_an_objects_history_are_accessible(page, live_server, password, staff):
    ministry = Ministry.objects.create(name="Ville")
    with audit.change("Renommage", by=staff):
        ministry.name = "Ville et logement"
        ministry.save()
    browser_sign_in(page, live_server.url, staff, password)
    journal = live_server.url + reverse("admin:journal")

    page.goto(journal)
    expect(page.get_by_role("cell", name="Renommage")).to_be_visible()
    link = page.get_by_role("link", name="Ville et logement")
    expect(link).to_have_css("text-decoration-line", "underline")
    expect(page.locator("div.breadcrumbs a").first).to_have_css("text-decoration-line", "underline")
    assert_accessible(page)

    page.goto(journal + "?au=9999-12-31")
    expect(page.get_by_role("alert")).to_contain_text("choisissez une année entre 2000 et 2100")
    expect(page.get_by_role("alert").get_by_role("link", name="Au (inclus)")).to_have_css(
        "text-decoration-line", "underline"
    )
    assert_accessible(page)

    page.goto(journal + "?type=measures.ministry&objet=999999")
    expect(page.get_by_text("Aucune modification ne correspond à ces filtres.")).to_be_visible()
    assert_accessible(page)

    page.goto(journal)
    page.get_by_role("cell", name="Renommage").locator("xpath=..").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ville et logement")
    assert_accessible(page)

    page.goto(live_server.url + reverse("admin:measures_ministry_history", args=[ministry.pk]))
    expect(page.get_by_role("cell", name="Renommage")).to_be_visible()
    assert_accessible(page)
