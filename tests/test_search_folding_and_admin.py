"""What a walk through the portal found (issue 9, second batch): search blind to
accents on the embedded SQLite run too, readable excerpts of the minutes, admin
lists readable at 1280 px, e-mail kinds named in French, the invitation page,
the accessibility statement's punctuation and the invitation's subject."""

import re
import sqlite3
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db.backends.signals import connection_created
from django.template import Context, Engine
from django.urls import reverse
from django.utils import timezone

from concertation.admin_site import INDEX_SECTIONS, PortalAdminSite
from concertation.lib.folding import SQL_FUNCTION, fold, fold_spans, register_sqlite_functions
from concertation.lib.markdown import markdown_to_text
from concertation.lib.search import highlight_words, word_window
from measures.admin import ConsultationRoundAdmin
from measures.filters import FeedbackFilter
from measures.models import Feedback, RoundReport
from networks import services as network_services
from networks.admin import InvitationAdmin
from networks.tokens import make_invitation_token
from outbox.kinds import kind_label
from outbox.models import OutboxMessage
from tests.factories import FeedbackFactory, SessionFactory
from tests.helpers import browser_sign_in, outbox_to
from workgroups.models import Minutes, MinutesVersion, Session


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- 1. Accents and case aside, on SQLite too ------------------------------------------------


def test_fold_drops_accents_case_and_ligatures():
    assert fold("Élus, CRÈCHE, Cœur, ÆGIS, Straße") == "elus, creche, coeur, aegis, strasse"
    assert fold("") == "" and fold(None) == ""


def _sqlite_with_the_portal_function():
    raw = sqlite3.connect(":memory:")

    class Wrapper:  # what Django's connection_created hands its receivers
        vendor = "sqlite"
        connection = raw

    register_sqlite_functions(sender=None, connection=Wrapper())
    return raw


def test_the_sqlite_function_folds_and_lets_like_find_words_whatever_their_accents():
    raw = _sqlite_with_the_portal_function()
    assert raw.execute(f"SELECT {SQL_FUNCTION}('Les ÉLUS de la Crèche'), {SQL_FUNCTION}(NULL)").fetchone() == (
        "les elus de la creche",
        None,
    )
    raw.execute("CREATE TABLE feedback (body TEXT)")
    raw.executemany("INSERT INTO feedback VALUES (?)", [("Les élus locaux",), ("Une crèche",), ("Rien",)])
    for typed in ("elus", "ÉLUS", "Élus"):
        found = raw.execute(
            "SELECT body FROM feedback WHERE portal_unaccent(body) LIKE ?", [f"%{fold(typed)}%"]
        ).fetchall()
        assert found == [("Les élus locaux",)]
    assert raw.execute("SELECT body FROM feedback WHERE portal_unaccent(body) LIKE '%creche%'").fetchall() == [
        ("Une crèche",)
    ]


def test_the_function_is_registered_for_sqlite_connections_only():
    uid = "concertation.portal_unaccent"
    assert connection_created.disconnect(dispatch_uid=uid), "connected from ConcertationConfig.ready"
    connection_created.connect(register_sqlite_functions, dispatch_uid=uid)

    class PostgreSQL:
        vendor = "postgresql"
        connection = None  # would fail if touched

    register_sqlite_functions(sender=None, connection=PostgreSQL())


def test_the_highlighter_marks_words_whatever_their_accents_and_case():
    assert highlight_words("Les Élus et les elus", "ELUS") == "Les <mark>Élus</mark> et les <mark>elus</mark>"
    assert highlight_words("Une crèche, un cœur", "creche coeur") == "Une <mark>crèche</mark>, un <mark>cœur</mark>"
    # A letter written with a combining accent stays whole in its mark.
    assert highlight_words("Les e\u0301lus", "elus") == "Les <mark>e\u0301lus</mark>"
    assert highlight_words("<b>Élu</b>", "élu") == "&lt;b&gt;<mark>Élu</mark>&lt;/b&gt;"


def test_fold_spans_point_into_the_original_text():
    text = "Œuvre des élus"
    assert [text[start:end] for start, end in fold_spans(text, ["oeuvre", "ELUS"])] == ["Œuvre", "élus"]
    assert fold_spans(text, []) == [] and fold_spans("", ["x"]) == []


def test_excerpts_are_cut_between_words_with_an_ellipsis():
    text = " ".join(f"mot{i}" for i in range(200)) + " la crèche du groupe " + " ".join(f"fin{i}" for i in range(200))
    excerpt = highlight_words(text, "creche", width=80)
    assert excerpt.startswith("… mot") and excerpt.endswith(" …")
    assert "<mark>crèche</mark>" in excerpt
    words = excerpt.removeprefix("… ").removesuffix(" …").replace("<mark>", "").replace("</mark>", "").split()
    assert all(re.fullmatch(r"(mot|fin)\d+|la|crèche|du|groupe", word) for word in words), words
    assert word_window("un deux trois", 5, 5) == (3, 7)  # « deux » whole, not « eux t »


def test_the_list_says_ranked_only_where_results_are_ranked(client, alice, network_a, measure, monkeypatch):
    FeedbackFactory(network=network_a, author=alice, measure=measure, obstacles="Les élus.")
    client.force_login(alice)
    body = page_text(client.get(reverse("measures:feedback_list"), {"q": "elus"}))
    assert "classés du plus pertinent au moins pertinent" in body  # PostgreSQL ranks
    monkeypatch.setattr(FeedbackFilter, "ranked", lambda self: False)  # as on SQLite
    cache.clear()  # the list is a cached fragment
    body = page_text(client.get(reverse("measures:feedback_list"), {"q": "elus"}))
    assert "plus pertinent" not in body
    assert "classés du plus récent au plus ancien ; les mots trouvés sont surlignés" in body


def test_the_plain_fallback_folds_both_sides_with_the_sqlite_function():
    from django.db.utils import ConnectionHandler

    from measures.search import plain_match

    sqlite = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})["default"]
    query = Feedback.objects.filter(plain_match("Élus 50%")).query
    sql, params = query.get_compiler(connection=sqlite).as_sql()
    assert sql.count("LIKE") == 8  # two words × four texts
    assert sql.count("portal_unaccent(") == 16  # each text, and each word, folded
    assert "Élus" in params and "50%" in params  # the word as typed: its % is escaped in SQL, never a wildcard
    sqlite.close()


# --- 2. Minutes excerpts without Markdown ---------------------------------------------------


def test_markdown_becomes_plain_text_for_excerpts():
    text = (
        "## Tour de table\n\n- **IRDSU** : les _élus_ présents\n"
        "- *Réseau* : [le site](https://x.example) et `code`\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert markdown_to_text(text) == "Tour de table — IRDSU : les élus présents Réseau : le site et code a b 1 2"
    # A passage cut out of the text (a headline), its marks incomplete, keeps the sentinels.
    assert markdown_to_text("ble\n- **\ue000IRDSU\ue001** : mal le d**ébut") == "ble \ue000IRDSU\ue001 : mal le début"
    assert markdown_to_text("snake_case_name et 3*4*5") == "snake_case_name et 3*4*5"


@pytest.mark.django_db
def test_the_site_search_shows_minutes_as_plain_text(client, alice, group):
    group.minutes_public = False
    group.save()
    starts = timezone.now() - timedelta(days=2)
    session = SessionFactory(
        group=group,
        title="Séance de mars",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        status=Session.Status.HELD,
    )
    body = "## Tour de table\n\n- **IRDSU** : les élus sont mobilisés.\n- **Réseau** : rien à signaler."
    minutes = Minutes.objects.create(session=session, body=body)
    MinutesVersion.objects.create(minutes=minutes, number=1, body=body, body_html="<p>…</p>", snapshot={"items": []})
    client.force_login(alice)
    page = page_text(client.get(reverse("search"), {"q": "elus"}))
    section = page[page.index('id="resultats-minutes"') :]
    assert "Tour de table" in section and "IRDSU : les <mark>élus</mark> sont mobilisés" in section
    assert "##" not in section and "**" not in section


def test_the_sqlite_excerpt_of_minutes_is_plain_text_cut_between_words():
    from types import SimpleNamespace

    from workgroups.search import _excerpt

    body = "## Tour de table\n\n" + "- **IRDSU** : les élus du groupe sont mobilisés.\n" * 20
    excerpt = _excerpt(SimpleNamespace(body=body), "ELUS", full_text=False)
    assert excerpt.startswith("Tour de table — IRDSU : les <mark>élus</mark> du groupe")
    assert "#" not in excerpt and "*" not in excerpt
    assert excerpt.endswith(" …") and excerpt.removesuffix(" …").split()[-1] in {
        "IRDSU",
        ":",
        "les",
        "élus",
        "<mark>élus</mark>",
        "du",
        "groupe",
        "sont",
        "mobilisés.",
    }


# --- 3. Admin lists readable at 1280 px; reports among the consultations ---------------------


def test_the_admin_has_no_nav_sidebar_and_reports_sit_with_the_consultations(agent_client):
    assert PortalAdminSite.enable_nav_sidebar is False
    sections = {title: models for title, _app, models in INDEX_SECTIONS}
    assert "roundreport" in sections["Consultations"]
    page = page_text(agent_client.get(reverse("admin:index")))
    consultations = page[page.index("Consultations") : page.index("Mesures")]
    assert "Rapports de consultation" in consultations
    changelist = agent_client.get(reverse("admin:measures_consultationround_changelist")).content.decode()
    assert 'id="nav-sidebar"' not in changelist


def test_the_round_and_invitation_lists_keep_to_a_few_columns():
    assert ConsultationRoundAdmin.list_display[:4] == ["title", "state_label", "network_count", "response_rate"]
    assert len(ConsultationRoundAdmin.list_display) <= 6
    assert "state" in InvitationAdmin.list_display and len(InvitationAdmin.list_display) <= 7


@pytest.mark.django_db
def test_the_round_list_shows_the_rate_and_the_networks(agent_client, open_round):
    page = page_text(agent_client.get(reverse("admin:measures_consultationround_changelist")))
    assert "taux de réponse" in page.lower() and "réseaux invités" in page.lower()


# --- 4. E-mail kinds in French ----------------------------------------------------------------


def test_every_kind_of_e_mail_has_a_french_name():
    from django.conf import settings

    kinds = [path.name for path in (settings.BASE_DIR / "templates" / "emails").iterdir() if path.is_dir()]
    kinds.remove("includes")
    for kind in [*kinds, "password_reset_key"]:
        assert kind_label(kind) != kind, kind
    assert kind_label("feedback_response") == "Réponse à un retour de terrain"
    assert kind_label("something_new") == "something_new"


@pytest.mark.django_db
def test_the_outbox_admin_shows_and_filters_kinds_by_their_french_name(agent_client, coordinator_a, network_a):
    network_services.invitation_send(
        inviter=coordinator_a, network=network_a, email="nina@ville.example", role="representative"
    )
    OutboxMessage.objects.create(kind="feedback_response", to_email="b@ecole.example", subject="Réponse")
    changelist = reverse("admin:outbox_outboxmessage_changelist")
    page = page_text(agent_client.get(changelist))
    assert "Invitation à rejoindre un réseau" in page and "Réponse à un retour de terrain" in page
    assert ">invitation<" not in page and ">feedback_response<" not in page
    filtered = page_text(agent_client.get(changelist, {"kind": "invitation"}))
    assert "nina@ville.example" in filtered and "b@ecole.example" not in filtered


# --- 5. Download links stand out from the text around them ----------------------------------


@pytest.mark.django_db
def test_admin_pages_load_the_portal_styles_that_underline_links_in_text(agent_client, open_round):
    RoundReport.objects.create(
        round=open_round, status=RoundReport.Status.READY, size=2048, page_count=3, rendered_at=timezone.now()
    )
    page = agent_client.get(reverse("admin:measures_consultationround_change", args=[open_round.pk])).content.decode()
    assert "css/portal_admin.css" in page
    assert "download>Télécharger</a>" in page
    css = open(finders.find("css/portal_admin.css"), encoding="utf-8").read()  # noqa: SIM115
    assert "a[download]" in css and "text-decoration: underline" in css
    # Django's own admin styles are still there (the template extends Django's).
    assert "admin/css/base" in page and "Concertation — administration" in page


# --- 6. The invitation page -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_invitation_page_has_a_breadcrumb_says_who_invited_until_when_and_links_personal_data(
    client, coordinator_a, network_a, settings
):
    settings.INVITATION_MAX_AGE_DAYS = 14
    invitation = network_services.invitation_send(
        inviter=coordinator_a, network=network_a, email="nina@ville.example", role="representative"
    ).invitation
    page = page_text(client.get(reverse("networks:accept_invitation", args=[make_invitation_token(invitation)])))
    assert 'class="fr-breadcrumb' in page and 'aria-current="page">Rejoindre le portail' in page
    assert f"Invitation envoyée par {coordinator_a.get_full_name()}" in page
    until = Engine.get_default().from_string('{{ d|date:"j F Y à H:i" }}').render(Context({"d": invitation.expires_at}))
    assert f"Ce lien est valable jusqu'au {until} (heure de Paris)." in page
    assert reverse("personal_data") in page[page.index("<form") :]


# --- 7. The accessibility statement's punctuation ---------------------------------------------


@pytest.mark.django_db
def test_the_accessibility_statement_punctuation(client):
    page = page_text(client.get(reverse("accessibility")))
    assert "non conforme</strong>." in page and "non conforme </strong>" not in page
    assert "n&#x27;a pas été vérifiée.</li>" in page or "n'a pas été vérifiée.</li>" in page


# --- 8. The invitation's subject --------------------------------------------------------------


@pytest.mark.django_db
def test_the_invitation_subject_names_the_portal_once_and_the_administration(
    coordinator_a, network_a, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        network_services.invitation_send(
            inviter=coordinator_a, network=network_a, email="nina@ville.example", role="representative"
        )
    [message] = outbox_to("nina@ville.example")
    assert message.subject == "Invitation à rejoindre le réseau Réseau Alpha — Concertation (ANCT)"
    assert settings.PORTAL["administration_short"] == "ANCT"


# --- In Chromium: the admin at 1280 px, and its download links for axe -----------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_lists_fit_1280_px_and_report_links_pass_axe(page, live_server, password, staff, open_round, alice):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    RoundReport.objects.create(
        round=open_round, status=RoundReport.Status.READY, size=2048, page_count=3, rendered_at=timezone.now()
    )
    network_services.invitation_send(
        inviter=staff,
        network=alice.memberships.first().network,
        email="nina.longue-adresse@ville.example",
        role="representative",
        full_name="Nina Nouvelle-Arrivée",
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    browser_sign_in(page, live_server.url, staff, password)  # password, then the app's code
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()

    for path, columns in (
        (
            reverse("admin:measures_consultationround_changelist"),
            ["Taux de réponse (réseaux ayant tout renseigné)", "Réseaux invités"],
        ),
        (reverse("admin:networks_invitation_changelist"), ["Statut", "Courriel"]),
    ):
        page.goto(live_server.url + path)
        for name in columns:
            header = page.get_by_role("columnheader", name=name, exact=True)
            expect(header).to_be_in_viewport(ratio=1)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, path

    page.goto(live_server.url + reverse("admin:measures_consultationround_change", args=[open_round.pk]))
    expect(page.get_by_role("link", name="Télécharger")).to_have_css("text-decoration-line", "underline")
    violations = Axe().run(page).response["violations"]
    assert "link-in-text-block" not in [violation["id"] for violation in violations]
