"""Findings of a user walk-through (issue 9): drafts kept to their author, the
closed round's page for agents, the quote toggle keeping the way back, wide
tables reachable by keyboard, elision and wording, e-mail signatures, dates and
file names of the PDF report and the CSV files, the public timeline."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from measures import reports
from measures.models import Feedback, MeasureUpdate, RoundReport
from measures.reports import PARIS, title_slug
from networks.models import Invitation, Membership
from tests.factories import (
    FeedbackFactory,
    MeasureFactory,
    MembershipFactory,
    NetworkFactory,
    RoundFactory,
    TerritoryFactory,
    UserFactory,
)
from tests.test_browser_journeys import assert_accessible

pytestmark = pytest.mark.django_db

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


def _body(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def draft(alice, network_a, measure):
    return FeedbackFactory(
        measure=measure,
        network=network_a,
        author=alice,
        status=Feedback.Status.DRAFT,
        submitted_at=None,
        what_works="Brouillon confidentiel.",
    )


@pytest.fixture
def closed_round(alice, network_a, network_b, measure, other_measure):
    """Closed yesterday: A answered measure 9, B nothing; three measures asked."""
    now = timezone.now()
    third = MeasureFactory(number=12, title="Cités éducatives")
    consultation = RoundFactory(
        title="Consultation d'automne 2026",
        opens_at=now - timedelta(days=20),
        closes_at=now - timedelta(days=1),
        measures=[measure, other_measure, third],
        networks=[network_a, network_b],
    )
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    return consultation


# --- 1. A draft is its author's alone ----------------------------------------------------


def test_staff_do_not_open_someone_elses_draft(client, staff, alice, bob, draft):
    for user in (staff, UserFactory(is_staff=True, is_superuser=True), bob):
        client.force_login(user)
        for name in ("feedback_detail", "feedback_edit", "feedback_withdraw"):
            assert client.get(reverse(f"measures:{name}", args=[draft.pk])).status_code == 404, (user, name)
    client.force_login(staff)
    response = client.post(reverse("measures:feedback_respond", args=[draft.pk]), {"response": "Vu."})
    assert response.status_code == 404
    # Its author still reads it, and is told nobody else does.
    body = _body(client, alice, draft.get_absolute_url())
    assert "Brouillon confidentiel." in body


def test_staff_still_read_submitted_and_withdrawn_feedback(client, staff, alice, network_a, measure):
    for status in (Feedback.Status.SUBMITTED, Feedback.Status.WITHDRAWN):
        feedback = FeedbackFactory(measure=measure, network=network_a, author=alice, status=status)
        assert _body(client, staff, feedback.get_absolute_url())


def test_the_admin_lists_no_draft_not_even_for_the_superuser(client, staff, draft, alice, network_a, measure):
    sent = FeedbackFactory(measure=measure, network=network_a, author=alice, what_works="Transmis.")
    changelist = reverse("admin:measures_feedback_changelist")
    for user in (staff, UserFactory(is_staff=True, is_superuser=True)):
        body = _body(client, user, changelist)
        assert reverse("admin:measures_feedback_change", args=[sent.pk]) in body
        assert reverse("admin:measures_feedback_change", args=[draft.pk]) not in body
        assert ">Brouillon<" not in body  # neither a row nor a filter choice
        assert client.get(changelist, {"status": "draft"}).content.decode().count("/change/") == 0
        # Opened by its address, a draft is not there.
        response = client.get(reverse("admin:measures_feedback_change", args=[draft.pk]))
        assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_saving_a_draft_says_who_sees_it(client, alice, network_a, measure):
    client.force_login(alice)
    response = client.post(
        reverse("measures:feedback_create", args=[measure.pk]),
        {"network": network_a.pk, "what_works": "En cours.", "action": "draft"},
        follow=True,
    )
    body = response.content.decode().replace("&#x27;", "'")
    assert "il n'est visible que de vous tant que vous ne l'avez pas transmis" in body
    assert "vous seul" not in body


def test_staff_counts_leave_drafts_out(client, staff, draft, alice, network_a, measure):
    FeedbackFactory(measure=measure, network=network_a, author=alice)
    dashboard = _body(client, staff, reverse("dashboard"))
    assert "1 retour transmis attend une suite" in dashboard
    listed = _body(client, staff, reverse("measures:feedback_list"))
    assert "1 retour transmis" in listed and "Brouillon confidentiel." not in listed


# --- 2. The closed round's page for agents -----------------------------------------------


def test_agents_find_their_tools_first_on_a_closed_round(client, staff, closed_round):
    body = _body(client, staff, closed_round.get_absolute_url())
    summary = body.split('class="fr-summary', 1)[1].split("</nav>", 1)[0]
    anchors = re.findall(r'href="#([\w-]+)">([^<]+)<', summary)
    assert anchors == [
        ("taux-reseaux", "Taux de réponse"),
        ("sans-reponse", "Réseaux sans réponse"),
        ("rapports", "Rapports PDF"),
        ("resultats", "Résultats par réseau"),
        ("mesures", "Mesures soumises à la consultation"),
    ]
    positions = [body.index(f'id="{anchor}"') for anchor, _label in anchors]
    assert positions == sorted(positions)  # each section where the summary says, rates and reports first
    assert body.index('id="resultats"') > body.index("Générer un nouveau rapport")


def test_networks_without_answer_list_the_measures_by_number(client, staff, closed_round, network_a, network_b):
    body = _body(client, staff, closed_round.get_absolute_url())
    missing = body.split("Réseaux sans réponse</h2>", 1)[1].split("<h2", 1)[0]
    alpha = missing.split("<strong>Réseau Alpha</strong>", 1)[1].split("</li>", 1)[0]
    assert alpha.startswith(" : pas de réponse sur les mesures ")
    numbers = re.findall(r'<a href="/mesures/\d+/" title="(\d+) : ([^"]+)">(\d+)<span class="fr-sr-only">', alpha)
    assert numbers == [("10", "PaQte avec les entreprises", "10"), ("12", "Cités éducatives", "12")]
    assert "</a>, <a" in alpha  # « mesures 10, 12 »
    assert "<strong>Réseau Bêta</strong> : aucune réponse" in missing


def test_representatives_get_neither_summary_nor_rates(client, alice, closed_round):
    body = _body(client, alice, closed_round.get_absolute_url())
    assert "fr-summary" not in body and "Réseaux sans réponse" not in body and "Rapports PDF" not in body
    assert 'id="resultats"' in body


# --- 3. « Citer dans le rapport » keeps the way back ---------------------------------------


def test_the_quote_toggle_goes_back_with_the_list_the_agent_came_from(client, staff, alice, network_a, closed_round):
    feedback = Feedback.objects.get(round=closed_round)
    back = f"{reverse('measures:feedback_list')}?round={closed_round.pk}&network={network_a.pk}"
    body = _body(client, staff, feedback.get_absolute_url(), retour=back)
    form = body.split(reverse("measures:feedback_quote", args=[feedback.pk]), 1)[1].split("</form>", 1)[0]
    assert f'<input type="hidden" name="retour" value="{back.replace("&", "&amp;")}">' in form
    response = client.post(reverse("measures:feedback_quote", args=[feedback.pk]), {"quoted": "1", "retour": back})
    assert response.status_code == 302
    assert response["Location"] == f"{feedback.get_absolute_url()}?{urlencode({'retour': back})}"
    followed = client.get(response["Location"]).content.decode()
    assert f'href="{back.replace("&", "&amp;")}"' in followed  # « Retour à la liste » still leads there
    feedback.refresh_from_db()
    assert feedback.quoted_in_report


@pytest.mark.parametrize("retour", ["https://evil.example/", "//evil.example/retours/", "/admin/", ""])
def test_the_quote_toggle_refuses_other_places(client, staff, closed_round, retour):
    feedback = Feedback.objects.get(round=closed_round)
    client.force_login(staff)
    response = client.post(reverse("measures:feedback_quote", args=[feedback.pk]), {"quoted": "1", "retour": retour})
    assert response.status_code == 302 and response["Location"] == feedback.get_absolute_url()


# --- 4. Wide tables take the focus and have a name ---------------------------------------


def _regions(body):
    return re.findall(r'<div class="fr-table[^"]*portal-scroll"[^>]*>', body)


def test_the_scrolling_tables_are_focusable_regions_with_a_name(client, staff, alice, network_a, measure, closed_round):
    departement = TerritoryFactory(level="departement", code="69", name="Rhône")
    FeedbackFactory(measure=measure, network=network_a, author=alice, territory=departement)
    pages = [
        reverse("measures:synthesis"),
        measure.get_absolute_url(),
        closed_round.get_absolute_url(),
        reverse("measures:round_list"),
        network_a.get_absolute_url(),
    ]
    for url in pages:
        body = _body(client, staff, url)
        tables = body.count("<table")
        regions = _regions(body)
        assert len(regions) == tables, url
        for region in regions:
            assert 'tabindex="0"' in region and 'role="region"' in region, region
            name = re.search(r'aria-label="([^"]+)"|aria-labelledby="([^"]+)"', region)
            assert name, region
            if name.group(2):
                assert f'<caption id="{name.group(2)}">' in body


def test_the_network_page_tells_phones_to_scroll(client, coordinator_a, network_a):
    Invitation.objects.create(
        network=network_a,
        email="nouvelle@alpha.example",
        role=Membership.Role.REPRESENTATIVE,
        invited_by=coordinator_a,
    )
    body = _body(client, coordinator_a, network_a.get_absolute_url())
    assert body.count("faites défiler le tableau horizontalement") == 2
    assert 'id="pending-invitations" tabindex="0" role="region" aria-labelledby="invitations-legende"' in body


def _browser_sign_in(page, live_server, email, password):
    page.goto(live_server.url + "/compte/login/")
    page.get_by_label("Courriel").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_wide_tables_scroll_with_the_keyboard_on_a_phone(page, live_server, password, alice, network_a, measure):
    region = TerritoryFactory(level="region", code="84", name="Auvergne-Rhône-Alpes et territoires d'outre-mer")
    departement = TerritoryFactory(level="departement", code="69", name="Rhône et Métropole de Lyon", parent=region)
    for assessment in ("works", "partly", "does_not_work", "too_early"):
        FeedbackFactory(measure=measure, network=network_a, assessment=assessment, territory=departement)
    page.set_viewport_size({"width": 375, "height": 780})
    _browser_sign_in(page, live_server, alice.email, password)
    for path in ("/synthese/", measure.get_absolute_url(), network_a.get_absolute_url()):
        page.goto(live_server.url + path)
        assert_accessible(page)  # scrollable-region-focusable among them
    # The wrapper scrolls, not DSFR's table, and the arrow keys move it.
    page.goto(live_server.url + measure.get_absolute_url())
    scroller = page.get_by_role("region", name="Appréciations par région")
    sizes = scroller.evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
    assert sizes["scroll"] > sizes["client"], sizes
    assert scroller.evaluate("el => getComputedStyle(el.querySelector('table')).overflowX") == "visible"
    scroller.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "label => document.querySelector(`[aria-label='${label}']`).scrollLeft > 0",
        arg=scroller.get_attribute("aria-label"),
    )


# --- 5. No « de » before a vowel ----------------------------------------------------------


def test_titles_name_the_network_without_elision(client, alice, staff, closed_round):
    inter = NetworkFactory(name="Inter-réseaux DSU")
    closed_round.networks.add(inter)
    member = UserFactory()
    MembershipFactory(user=member, network=inter)
    feedback = FeedbackFactory(measure=closed_round.measures.first(), network=inter, author=member, round=closed_round)
    detail = _body(client, alice, feedback.get_absolute_url())
    title = f"Retour du réseau Inter-réseaux DSU sur la mesure {feedback.measure.number}"
    assert f"<title>{title}" in detail and detail.count(title) >= 2  # the title and the breadcrumb
    page = _body(client, staff, closed_round.get_absolute_url())
    assert "<caption>Réponses du réseau Inter-réseaux DSU</caption>" in page
    assert "retour du réseau Inter-réseaux DSU sur la mesure" in page
    for text in (detail, page):
        assert "de Inter-réseaux" not in text and "Réponses de " not in text


# --- 6. Wording ---------------------------------------------------------------------------


def test_a_closed_round_is_close_everywhere(client, alice, closed_round):
    listed = _body(client, alice, reverse("measures:round_list"))
    assert '<span class="fr-badge fr-badge--sm">Close</span>' in listed and "Terminée" not in listed


def test_the_rates_csv_says_measures_filled_in(client, staff, closed_round):
    client.force_login(staff)
    response = client.get(reverse("measures:round_rates_export", args=[closed_round.pk]))
    header = b"".join(response.streaming_content).decode().lstrip("\ufeff").splitlines()[0]
    assert "Mesures renseignées" in header and "répondues" not in header


def test_an_empty_feedback_list_offers_no_download(client, alice, network_a, measure):
    body = _body(client, alice, reverse("measures:feedback_list"))
    assert "Aucun retour transmis." in body
    assert reverse("measures:feedback_export") not in body
    FeedbackFactory(measure=measure, network=network_a, author=alice)
    filtered = _body(client, alice, reverse("measures:feedback_list"), q="introuvable")
    assert "Aucun retour ne correspond à ces filtres." in filtered
    assert f'<a href="{reverse("measures:feedback_list")}">Effacer les filtres</a>' in filtered
    assert reverse("measures:feedback_export") not in filtered
    listed = _body(client, alice, reverse("measures:feedback_list"))
    assert "1 retour transmis" in listed and reverse("measures:feedback_export") in listed


def test_epicene_wording_on_feedback_and_rates(client, staff, alice, network_a, measure, closed_round):
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    body = _body(client, staff, feedback.get_absolute_url())
    assert "Rédigé par : Alice Alpha" in body and "Auteur" not in body
    response = client.post(
        reverse("measures:feedback_respond", args=[feedback.pk]), {"response": "Merci."}, follow=True
    )
    text = response.content.decode().replace("&#x27;", "'")
    assert "la personne qui a rédigé le retour en est informée par courriel" in text
    assert "l'auteur" not in text
    rates = _body(client, staff, closed_round.get_absolute_url())
    assert "Personne ne coordonne ce réseau pour l'instant" in rates and "Aucun coordinateur" not in rates


def test_a_draft_is_deleted_not_withdrawn(client, alice, draft):
    detail = _body(client, alice, draft.get_absolute_url())
    withdraw = reverse("measures:feedback_withdraw", args=[draft.pk])
    assert f'href="{withdraw}">Supprimer le brouillon</a>' in detail and "Retirer ce retour" not in detail
    confirm = _body(client, alice, withdraw).replace("&#x27;", "'")
    assert "<h1>Supprimer le brouillon</h1>" in confirm
    assert "Le brouillon de retour sur la mesure 9 sera supprimé." in confirm
    assert "synthèse" not in confirm and "Confirmer le retrait" not in confirm
    response = client.post(withdraw, follow=True)
    assert "Votre brouillon a été supprimé." in response.content.decode()
    assert not Feedback.objects.filter(pk=draft.pk).exists()


def test_a_submitted_feedback_is_still_withdrawn(client, alice, network_a, measure):
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    assert "Retirer ce retour" in _body(client, alice, feedback.get_absolute_url())
    assert "Confirmer le retrait" in _body(client, alice, reverse("measures:feedback_withdraw", args=[feedback.pk]))


def test_the_dashboard_dates_each_draft(client, alice, draft):
    saved = datetime(2026, 12, 1, 9, 5, tzinfo=PARIS)
    Feedback.objects.filter(pk=draft.pk).update(updated_at=saved)
    body = _body(client, alice, reverse("dashboard"))
    drafts = body.split("Mes brouillons", 1)[1].split("</ul>", 1)[0]
    assert "enregistré le 1er décembre 2026 à 09:05" in drafts


# --- 7. E-mails are signed ----------------------------------------------------------------


def test_the_response_email_is_signed_like_the_invitation(
    client, staff, alice, network_a, django_capture_on_commit_callbacks
):
    measure = MeasureFactory(number=5, title="80 cités éducatives")
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("measures:feedback_respond", args=[feedback.pk]), {"response": "Merci."})
    [message] = mail.outbox
    html = message.alternatives[0][0]
    portal = django_settings.PORTAL
    for text in (message.body, html.replace("&#x27;", "'")):
        assert "la mesure n° 5 : 80 cités éducatives" in text and "mesure 5." not in text
        assert portal["administration"] in text and portal["contact_email"] in text
        assert "L'équipe du portail Concertation" in text
        assert "http://testserver/" in text and "http://testserver" + reverse("legal_notice") in text
    assert message.subject == "[Concertation] Réponse à votre retour sur la mesure n° 5"


def test_every_email_ends_with_the_shared_signature():
    for body in sorted((TEMPLATES / "emails").glob("*/body.*")):
        if body.parent.name == "includes":
            continue
        text = body.read_text()
        assert f'{{% include "emails/includes/signature.{body.suffix[1:]}"' in text, body
        assert "— {{ PORTAL.name }}" not in text, body


# --- 8. The report's dates and the files' names ---------------------------------------------


def test_the_report_writes_its_answer_dates_in_words(closed_round, staff):
    feedback = Feedback.objects.get(round=closed_round)
    feedback.response, feedback.responded_at = "Suite favorable.", datetime(2026, 12, 1, 10, tzinfo=PARIS)
    feedback.save()
    html = reports.round_report_html(closed_round)
    assert "1er décembre 2026" in html and "01/12/2026" not in html


def test_downloads_are_named_after_the_round(client, staff, closed_round, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert title_slug("Consultation d'automne 2026") == "consultation-d-automne-2026"
    assert title_slug("Consultation d’été") == "consultation-d-ete"
    assert title_slug("???") == "consultation"
    report = RoundReport.objects.create(
        round=closed_round,
        status=RoundReport.Status.READY,
        rendered_at=datetime(2026, 12, 1, 22, 57, tzinfo=PARIS),
    )
    report.file.save("rapport-1-20261201-225700.pdf", ContentFile(b"%PDF-1.7"), save=True)
    client.force_login(staff)
    response = client.get(reverse("measures:round_report_download", args=[report.pk]))
    expected = "rapport-consultation-d-automne-2026-2026-12-01-2257.pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'
    assert report.file.name == f"rapports/{closed_round.pk}/rapport-1-20261201-225700.pdf"  # stored as it was
    for name, expected in (
        ("measures:round_rates_export", "taux-par-reseau-consultation-d-automne-2026.csv"),
        ("measures:round_measure_rates_export", "taux-par-mesure-consultation-d-automne-2026.csv"),
    ):
        response = client.get(reverse(name, args=[closed_round.pk]))
        assert response["Content-Disposition"] == f'attachment; filename="{expected}"'


# --- 9. The public timeline ----------------------------------------------------------------


def test_visitors_are_told_when_no_step_is_public(client, settings, alice, measure):
    settings.PUBLIC_ROADMAP = True
    MeasureUpdate.objects.create(measure=measure, text="Décision réservée aux membres.", visibility="members")
    visitor = client.get(measure.get_absolute_url()).content.decode().replace("&#x27;", "'")
    timeline = visitor.split("Suivi de la mesure</h2>", 1)[1]
    assert "Aucune étape publique pour l'instant." in timeline
    assert "Décision réservée aux membres." not in visitor and "<ol" not in timeline.split("</main>", 1)[0]
    member = _body(client, alice, measure.get_absolute_url())
    assert "Décision réservée aux membres." in member and "Aucune étape publique" not in member


# --- Second walk-through: deleting a draft leaves nothing behind --------------


def test_deleting_a_draft_removes_it_for_good(client, agent_client, alice, network_a, measure, open_round):
    from measures.models import Feedback
    from tests.factories import FeedbackFactory

    draft = FeedbackFactory(
        measure=measure,
        network=network_a,
        author=alice,
        round=open_round,
        status=Feedback.Status.DRAFT,
        submitted_at=None,
        obstacles="SECRETDEBROUILLON",
    )
    client.force_login(alice)
    response = client.post(reverse("measures:feedback_withdraw", args=[draft.pk]), follow=True)
    assert "Votre brouillon a été supprimé." in response.content.decode()
    assert not Feedback.objects.filter(pk=draft.pk).exists()
    assert agent_client.get(reverse("measures:feedback_detail", args=[draft.pk])).status_code == 404
    listing = agent_client.get(reverse("admin:measures_feedback_changelist"), {"q": "SECRETDEBROUILLON"})
    assert "SECRETDEBROUILLON" not in listing.content.decode()


def test_a_draft_withdrawn_before_drafts_were_deleted_stays_private(agent_client, alice, network_a, measure):
    from measures.models import Feedback
    from tests.factories import FeedbackFactory

    old = FeedbackFactory(
        measure=measure, network=network_a, author=alice, status=Feedback.Status.WITHDRAWN, submitted_at=None
    )
    assert agent_client.get(reverse("measures:feedback_detail", args=[old.pk])).status_code == 404
    listing = agent_client.get(reverse("admin:measures_feedback_changelist")).content.decode()
    assert f"/admin/measures/feedback/{old.pk}/change/" not in listing


def test_a_draft_says_on_its_page_that_it_is_private(client, alice, draft):
    body = _body(client, alice, draft.get_absolute_url()).replace("&#x27;", "'")
    assert "Ce brouillon n'est visible que de vous, tant qu'il n'est pas transmis." in body
