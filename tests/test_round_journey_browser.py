"""Issue 9's journey in a real Chromium, each page checked with axe-core: an
agent closes a round in the admin, downloads its PDF report from the round page,
searches the feedback for a word, answers one and lands back on the list."""

import io
import time

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from measures.models import Feedback, RoundReport
from tests.factories import FeedbackFactory, MeasureFactory, RoundFactory
from tests.helpers import browser_sign_in
from tests.test_browser_journeys import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _wait_for_report(consultation, timeout=60.0) -> RoundReport:
    """Closing commits for real and the on-commit hook renders the report
    (in-process in tests): wait for it rather than assume when."""
    deadline = time.monotonic() + timeout
    report = None
    while time.monotonic() < deadline:
        report = RoundReport.objects.filter(round=consultation).first()
        if report and report.status != RoundReport.Status.PENDING:
            break
        time.sleep(0.2)
    assert report is not None, "closing the round asked for no report"
    assert report.status == RoundReport.Status.READY, (report.status, report.error)
    return report


def test_an_agent_closes_a_round_downloads_its_report_searches_and_answers(
    page, live_server, password, staff, alice, network_a
):
    nurseries = MeasureFactory(number=12, title="Places en crèche pour les familles des quartiers")
    jobs = MeasureFactory(number=9, title="Emplois francs")
    consultation = RoundFactory(title="Consultation d'automne", measures=[nurseries, jobs], networks=[network_a])
    asked = FeedbackFactory(
        measure=nurseries,
        network=network_a,
        author=alice,
        round=consultation,
        status=Feedback.Status.SUBMITTED,
        obstacles="Les crèches du quartier refusent les familles sans emploi.",
    )
    FeedbackFactory(
        measure=jobs,
        network=network_a,
        author=alice,
        round=consultation,
        status=Feedback.Status.SUBMITTED,
        obstacles="Les employeurs ne connaissent pas le dispositif.",
    )

    # Sign in as a plain agent (staff of the Agents group, not a superuser), with the app's code.
    browser_sign_in(page, live_server.url, staff, password)
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()

    # Close the round in the admin: the action asks first.
    page.goto(live_server.url + "/admin/measures/consultationround/")
    page.get_by_role("row", name="Consultation d'automne").get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option("close_now")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text("une consultation close ne rouvre pas")).to_be_visible()
    page.get_by_role("button", name="Oui, clore maintenant").click()
    expect(page.get_by_text("« Consultation d'automne » est close.")).to_be_visible()
    report = _wait_for_report(consultation)

    # The round page shows results, not a to-do list, and the report to download.
    page.goto(live_server.url + consultation.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultation d'automne")
    expect(page.get_by_role("heading", name="Rapports de la consultation (PDF)")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le rapport du").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        reader = PdfReader(io.BytesIO(pdf.read()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Consultation d'automne" in text.replace("’", "'")
    assert "Places en crèche" in text and "Emplois francs" in text
    assert len(reader.pages) == report.page_count

    # Search the feedback for a word, written without its accent.
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Retours").click()
    expect(page.get_by_role("heading", level=1, name="Retours de terrain")).to_be_visible()
    page.get_by_label("Rechercher dans les retours").fill("creche")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_text("1 retour transmis")).to_be_visible()
    expect(page.locator("mark").first).to_have_text("crèches")
    assert_accessible(page)
    assert "q=creche" in page.url

    # Answer it, and land back on the same list.
    page.locator(".fr-card__title a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Retour du réseau")
    assert_accessible(page)
    page.get_by_label("Suite donnée").fill("Nous saisissons la caisse d'allocations familiales.")
    page.get_by_role("button", name="Enregistrer la réponse").click()
    expect(page.get_by_role("heading", level=1, name="Retours de terrain")).to_be_visible()
    # The same list: its search kept (empty filters are dropped from the address).
    assert page.url.endswith("/retours/?q=creche")
    expect(page.get_by_label("Rechercher dans les retours")).to_have_value("creche")
    expect(page.get_by_text("1 retour transmis")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="réponse")).to_be_visible()
    assert_accessible(page)
    asked.refresh_from_db()
    assert asked.response == "Nous saisissons la caisse d'allocations familiales."
