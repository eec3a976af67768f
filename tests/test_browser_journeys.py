"""Journeys in a real Chromium, each page checked with axe-core."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from networks.models import Membership, Territory
from tests.factories import MembershipFactory, NetworkFactory, UserFactory
from tests.helpers import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING_IMPACTS = {"serious", "critical"}


def assert_accessible(page):
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    details = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in blocking]
    assert not blocking, f"axe-core on {page.url}:\n" + "\n".join(details)


def test_a_representative_signs_in_and_reaches_the_dashboard(page, live_server, password):
    network = NetworkFactory(name="Inter-réseaux DSU", acronym="IRDSU", slug="irdsu")
    person = UserFactory(email="sacha@irdsu.example", full_name="Sacha Terrain")
    MembershipFactory(user=person, network=network, role=Membership.Role.REPRESENTATIVE)

    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Concertation")
    expect(page.get_by_text("Accessibilité : non conforme").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Se connecter").first.click()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Courriel").fill("sacha@irdsu.example")
    page.get_by_label("Mot de passe", exact=False).first.fill(password)
    page.get_by_role("button", name="Se connecter").last.click()

    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()
    expect(page.get_by_role("link", name="Inter-réseaux DSU")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Inter-réseaux DSU").click()
    expect(page.get_by_role("cell", name="Sacha Terrain")).to_be_visible()
    assert_accessible(page)


def test_a_wrong_password_is_explained_and_the_address_kept(page, live_server):
    UserFactory(email="sacha@irdsu.example")
    page.goto(live_server.url + "/compte/login/")
    page.get_by_label("Courriel").fill("sacha@irdsu.example")
    page.locator("#id_password").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("alert")).to_contain_text("erreur")
    expect(page.get_by_label("Courriel")).to_have_value("sacha@irdsu.example")
    assert_accessible(page)


def test_a_representative_submits_feedback_and_finds_it_in_the_synthesis(page, live_server, password):
    from networks.services import territories_load_reference
    from tests.factories import MeasureFactory, RoundFactory

    territories_load_reference()
    seine_saint_denis = Territory.objects.get(level="departement", code="93")
    network = NetworkFactory(name="Inter-réseaux DSU", acronym="IRDSU", slug="irdsu")
    person = UserFactory(email="sacha@irdsu.example", full_name="Sacha Terrain")
    MembershipFactory(user=person, network=network, role=Membership.Role.REPRESENTATIVE, territory=seine_saint_denis)
    measure = MeasureFactory(number=9, title="Emplois francs")
    RoundFactory(title="Consultation d'automne", measures=[measure], networks=[network])

    page.goto(live_server.url + "/compte/login/")
    page.get_by_label("Courriel").fill("sacha@irdsu.example")
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_text("Inter-réseaux DSU : 1 mesure à renseigner")).to_be_visible()

    page.get_by_role("link", name="Consultation d'automne").click()
    assert_accessible(page)
    page.get_by_role("link", name="répondre").click()
    expect(page.get_by_role("heading", name="Donner un retour de terrain")).to_be_visible()
    assert_accessible(page)
    # DSFR draws its own radio buttons and checkboxes: people click their labels.
    page.locator("label", has_text=re.compile("^Ne fonctionne pas$")).click()
    page.get_by_label("Freins rencontrés").fill("Les employeurs ne connaissent pas l'aide.")
    page.locator("label", has_text="Information des habitants").click()
    page.get_by_label("Territoire concerné").select_option(label="Seine-Saint-Denis (93)")
    page.get_by_role("button", name="Transmettre").click()

    # Back on the round, which now awaits nothing more from this network.
    expect(page.get_by_text("Votre retour a été transmis")).to_be_visible()
    expect(page.get_by_text("Votre réseau a répondu sur toutes les mesures de cette consultation.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Synthèse", exact=True).click()
    matrix_row = page.locator("table.portal-matrix tr", has_text="9. Emplois francs")
    expect(matrix_row).to_contain_text("Ne fonctionne pas")
    expect(matrix_row).to_contain_text("1 retour")
    # The map links the département to its feedback, on the map and in the enlarged
    # inset of Paris and its inner ring (and axe-core checks both).
    expect(page.locator("svg.france-map a[href*='departement=93']")).to_have_count(2)
    assert_accessible(page)
    matrix_row.get_by_role("link", name="Ne fonctionne pas").click()
    expect(page.get_by_text("1 retour transmis")).to_be_visible()
    expect(page.get_by_role("link", name="Inter-réseaux DSU")).to_be_visible()
    assert_accessible(page)


def test_an_invited_person_creates_their_account_from_the_link(page, live_server):
    from networks import services
    from networks.tokens import make_invitation_token

    network = NetworkFactory(name="Ville & Banlieue", acronym="V&B", slug="ville-et-banlieue")
    staff = UserFactory(is_staff=True)
    invitation = services.invitation_send(
        inviter=staff, network=network, email="nadia@ville.example", full_name="Nadia Élue", role="representative"
    ).invitation

    page.goto(f"{live_server.url}/invitation/{make_invitation_token(invitation)}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ville & Banlieue")
    expect(page.get_by_label("Nom complet")).to_have_value("Nadia Élue")
    assert_accessible(page)
    page.get_by_role("textbox", name="Mot de passe * 12 caractères").fill("court")
    page.get_by_label("Confirmation du mot de passe").fill("court")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient")
    assert_accessible(page)
    page.get_by_role("textbox", name="Mot de passe * 12 caractères").fill("quartiers-2030-solide")
    page.get_by_label("Confirmation du mot de passe").fill("quartiers-2030-solide")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_text("Bienvenue dans le réseau Ville & Banlieue.")).to_be_visible()
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()


def test_the_design_system_script_runs_under_the_content_security_policy(page, live_server):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/")
    # The DSFR script marks the page once it has started.
    expect(page.locator("html")).to_have_attribute("data-fr-js", "true")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_the_admin_works_under_the_content_security_policy(page, live_server, password, agents):
    from tests.factories import MeasureFactory

    agent = UserFactory(email="agent@anct.example", is_staff=True)
    agent.groups.add(agents)
    measure = MeasureFactory(number=9, title="Emplois francs")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Courriel").fill("agent@anct.example")
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()
    page.get_by_label("Code de vérification").fill(totp_code(agent))  # agents sign in with a second factor
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("link", name="Second facteur")).to_be_visible()
    page.goto(f"{live_server.url}/admin/measures/measure/{measure.pk}/change/")
    expect(page.get_by_role("heading", name="Emplois francs")).to_be_visible()
    page.goto(live_server.url + "/admin/measures/consultationround/add/")
    expect(page.locator("#id_measures_from")).to_be_visible()  # the two-list selector is built by script
    assert not [e for e in errors if "Content Security Policy" in e], errors
