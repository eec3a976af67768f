"""In a real Chromium, each page checked with axe-core: the measures list fits a
360 px phone without scrolling sideways, and a coordinator picks a territory in
the invitation form's suggestions with the keyboard."""

import pytest
from playwright.sync_api import expect

from networks.models import Invitation
from tests.factories import FeedbackFactory, MeasureFactory, TerritoryFactory
from tests.test_browser_journeys import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, email, password):
    page.goto(live_server.url + "/compte/login/")
    page.get_by_label("Courriel").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()


def test_the_measures_list_fits_a_phone(page, live_server, password, alice, network_a):
    long_title = (
        "Police de sécurité du quotidien : 60 quartiers de reconquête républicaine "
        "et 1 300 policiers et gendarmes supplémentaires d'ici 2020"
    )
    measure = MeasureFactory(title=long_title, ministries=["Éducation nationale", "Cohésion des territoires"])
    MeasureFactory(title="Emplois francs", ministries=["Travail"])
    FeedbackFactory(measure=measure, network=network_a, assessment="works")
    page.set_viewport_size({"width": 360, "height": 780})
    _sign_in(page, live_server, alice.email, password)
    page.goto(live_server.url + "/mesures/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mesures de la feuille de route")
    expect(page.get_by_role("link", name=long_title)).to_be_visible()
    # The programme, ministries and feedback fold under the title on a phone.
    expect(page.get_by_text("Ministères : Éducation nationale")).to_be_visible()
    widths = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, view: window.innerWidth,"
        " table: document.querySelector('.portal-measure-table table').scrollWidth,"
        " box: document.querySelector('.portal-measure-table table').clientWidth})"
    )
    assert widths["page"] <= widths["view"], widths
    assert widths["table"] <= widths["box"] + 1, widths  # nor inside the table
    assert_accessible(page)
    # Wide screens keep their columns.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_role("columnheader", name="Ministères (chef de file en premier)")).to_be_visible()


def test_a_coordinator_picks_a_territory_with_the_keyboard(page, live_server, password, coordinator_a, network_a):
    idf = TerritoryFactory(level="region", code="11", name="Île-de-France")
    ssd = TerritoryFactory(level="departement", code="93", name="Seine-Saint-Denis", parent=idf)
    TerritoryFactory(level="departement", code="77", name="Seine-et-Marne", parent=idf)
    TerritoryFactory(level="departement", code="92", name="Hauts-de-Seine", parent=idf)
    _sign_in(page, live_server, coordinator_a.email, password)
    page.goto(f"{live_server.url}/reseaux/{network_a.slug}/inviter/")
    page.get_by_label("Adresse électronique").fill("nina@ville.example")
    field = page.get_by_role("combobox", name="Territoire")
    expect(field).to_have_attribute("aria-expanded", "false")
    field.press_sequentially("seine s", delay=40)
    options = page.get_by_role("listbox", name="Territoires proposés").get_by_role("option")
    expect(options).to_have_count(1)
    expect(field).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("status").filter(has_text="1 territoire proposé")).to_have_count(1)
    assert_accessible(page)
    field.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    field.press("Enter")
    expect(field).to_have_value("Seine-Saint-Denis (département 93)")
    expect(field).to_have_attribute("aria-expanded", "false")
    # Escape closes a list opened again without changing the choice.
    field.press("End")
    field.press_sequentially("x")
    field.press("Backspace")
    field.press("Escape")
    expect(field).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_text("Invitation envoyée à nina@ville.example.")).to_be_visible()
    assert Invitation.objects.get().territory == ssd
    assert_accessible(page)
