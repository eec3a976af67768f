"""Minutes end to end in a real Chromium, each page checked with axe-core: a
lead drafts the minutes of a held session (Markdown with a heading, a list and
a table, one decision linked to measure 9), previews and publishes them; the
PDF is rendered on commit; a member of the group's network finds the minutes
from the header menu and downloads the PDF."""

import hashlib
import io
import re
import time

import pypdf
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.test_browser_journeys import assert_accessible
from workgroups.models import MinutesVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEAD_PASSWORD = "animation-des-groupes-2026"
DECISION = "Étendre les emplois francs à tous les quartiers prioritaires"
BODY = """## Points abordés

- Bilan des emplois francs en Île-de-France
- Freins rencontrés par les employeurs

| Territoire | Contrats signés |
| --- | --- |
| Seine-Saint-Denis | 412 |
| Val-d'Oise | 187 |
"""


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _sign_in(page, live_server, email, password):
    page.goto(live_server.url + "/compte/login/")
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Courriel").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()
    assert_accessible(page)


def _wait_for_pdf(session, timeout=30.0) -> MinutesVersion:
    """The live server commits for real and its on-commit hook renders the PDF
    (the task runs in-process, eager in tests): wait for it rather than assume when."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = MinutesVersion.objects.filter(minutes__session=session, number=1).first()
        if version and version.pdf_status != MinutesVersion.PdfStatus.PENDING:
            break
        time.sleep(0.2)
    assert version is not None, "no version 1 was published"
    assert version.pdf_status == MinutesVersion.PdfStatus.READY, (version.pdf_status, version.pdf_error)
    return version


def _cells(table):
    return [cell.strip() for cell in table.get_by_role("cell").all_inner_texts()]


def test_a_lead_drafts_previews_and_publishes_then_a_member_downloads_the_pdf(
    page, browser, live_server, lead, group, measure, held, alice, password
):
    lead.set_password(LEAD_PASSWORD)
    lead.save(update_fields=["password"])

    # --- The lead opens the held session and starts the minutes --------------------------
    _sign_in(page, live_server, lead.email, LEAD_PASSWORD)
    page.goto(live_server.url + held.get_absolute_url())
    expect(page.get_by_role("heading", name=held.title, level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Rédiger le compte rendu").click()
    expect(page.get_by_role("heading", name="Rédiger le compte rendu", level=1)).to_be_visible()
    expect(page.get_by_text("Ce brouillon n'est visible que de l'animation du groupe")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Texte du compte rendu").fill(BODY)
    row = page.get_by_role("group", name=re.compile("^Nouvelle décision ou action")).first
    expect(row.get_by_label("Nature")).to_have_value("decision")
    row.get_by_label("Texte").fill(DECISION)
    row.get_by_label("Mesure concernée").fill("9")
    page.get_by_role("button", name="Enregistrer le brouillon").click()

    # --- Saved: the draft again, the decision now its first line ---------------------------
    expect(page.get_by_text("Brouillon enregistré.")).to_be_visible()
    expect(page.get_by_label("Texte du compte rendu")).to_have_value(BODY)
    saved = page.get_by_role("group", name="Ligne 1")
    expect(saved.get_by_label("Texte")).to_have_value(DECISION)
    expect(saved.get_by_label("Mesure concernée")).to_have_value(re.compile(r"^9\b.*Emplois francs"))
    expect(page.get_by_text("Dernier enregistrement par Léa Animation")).to_be_visible()
    assert_accessible(page)

    # --- The preview: rendered, not published --------------------------------------------------
    page.get_by_role("button", name="Aperçu").click()
    expect(page.get_by_role("heading", name="Aperçu — non publié")).to_be_visible()
    expect(page.get_by_role("heading", name=held.title, level=1)).to_be_visible()
    expect(page.get_by_text("Compte rendu, version 1 (à publier)")).to_be_visible()
    body = page.locator("#preview-body")
    # Under the page's "Compte rendu" (h2), the text's "##" becomes an h3.
    expect(body.get_by_role("heading", name="Points abordés", level=4)).to_be_visible()
    expect(body.get_by_role("listitem")).to_have_text(
        ["Bilan des emplois francs en Île-de-France", "Freins rencontrés par les employeurs"]
    )
    table = body.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(["Territoire", "Contrats signés"])
    assert _cells(table) == ["Seine-Saint-Denis", "412", "Val-d'Oise", "187"]
    attendees = page.get_by_role("table", name="Personnes présentes, par réseau")
    expect(attendees.get_by_role("row").last.get_by_role("cell")).to_have_text(["Réseau Alpha", "Alice Alpha"])
    items = page.get_by_role("table", name="Décisions et actions")
    decision_row = items.get_by_role("row").filter(has_text=DECISION)
    expect(decision_row.get_by_role("cell").first).to_have_text("Décision")
    expect(decision_row.get_by_role("link", name="Mesure 9 : Emplois francs")).to_be_visible()
    assert_accessible(page)

    # --- Publication, after its confirmation page ----------------------------------------------
    page.get_by_role("button", name="Enregistrer et publier…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Publier le compte rendu de « {held.title} »")
    expect(page.get_by_text("Le PDF du compte rendu sera envoyé par courriel à 1 personne")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Publier le compte rendu").click()

    expect(page.get_by_role("heading", name=held.title, level=1)).to_be_visible()
    expect(page.get_by_text("Version 1 publiée.")).to_be_visible()
    expect(page.get_by_text("Version en vigueur")).to_be_visible()
    expect(page.get_by_role("heading", name="Décisions", level=2)).to_be_visible()
    expect(page.get_by_text(DECISION)).to_be_visible()
    assert page.url == f"{live_server.url}/seances/{held.pk}/compte-rendu/v1/"
    assert_accessible(page)

    version = _wait_for_pdf(held)
    day = timezone.localdate(held.starts_at).isoformat()

    # --- Alice, a member of the group's network, reads it and downloads the PDF ---------------
    member_context = browser.new_context(accept_downloads=True)
    try:
        member = member_context.new_page()
        _sign_in(member, live_server, alice.email, password)
        menu = member.get_by_role("navigation", name="Menu principal")
        menu.get_by_role("link", name="Comptes rendus").click()
        expect(member.get_by_role("heading", name="Comptes rendus des séances", level=1)).to_be_visible()
        expect(member.get_by_role("status")).to_have_text("1 compte rendu")
        listed = member.get_by_role("table", name="Comptes rendus").get_by_role("row").filter(has_text=held.title)
        expect(listed.get_by_role("cell").nth(1)).to_contain_text(group.title)
        expect(listed.get_by_role("cell").nth(3)).to_contain_text("Version 1, publiée le")
        expect(
            listed.get_by_role("link", name=f"Télécharger — compte rendu « {held.title} », version 1 (PDF)")
        ).to_be_visible()
        assert_accessible(member)

        listed.get_by_role("link", name=held.title, exact=True).click()
        expect(member.get_by_role("heading", name=held.title, level=1)).to_be_visible()
        expect(member.get_by_text("Réservé aux membres").first).to_be_visible()
        expect(member.get_by_role("heading", name="Points abordés", level=4)).to_be_visible()
        expect(member.get_by_role("cell", name="Seine-Saint-Denis")).to_be_visible()
        expect(member.get_by_text(DECISION)).to_be_visible()
        expect(member.get_by_role("link", name="Mesure 9 : Emplois francs")).to_be_visible()
        expect(member.get_by_role("link", name="Corriger le compte rendu")).to_have_count(0)
        assert_accessible(member)

        with member.expect_download() as download_info:
            member.get_by_role("link", name=re.compile(r"^Télécharger le compte rendu \(version 1\)")).click()
        download = download_info.value
        assert download.suggested_filename == f"compte-rendu-{day}-v1.pdf"
        content = download.path().read_bytes()
    finally:
        member_context.close()

    assert content.startswith(b"%PDF")
    with version.pdf.open("rb") as stored:
        assert content == stored.read()
    assert hashlib.sha256(content).hexdigest() == version.pdf_sha256
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = " ".join(page_.extract_text() for page_ in reader.pages)
    assert DECISION in " ".join(text.split())
