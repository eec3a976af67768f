"""The minutes' PDF, in-process (the worker's version is tests/test_minutes_delivery.py): the renderer fetches
nothing but the portal's static files; the document read back as a reader's PDF software would (text, pages,
page numbers, language, title, tagged structure); a long document paginates within its pages; a failed render
is recorded, retried, marked failed, and run again by staff only."""

import hashlib
import io
import itertools
import urllib.request
from datetime import datetime, timedelta

import pypdf
import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from weasyprint.formatting_structure.boxes import MarginBox

from concertation.lib import pdf as pdf_lib
from concertation.lib.markdown import render_markdown
from workgroups import minutes_services as services
from workgroups.models import AgendaItem, MinutesVersion, Session, SessionInvitation
from workgroups.tasks import render_minutes_pdf

ASSETS = pdf_lib.PORTAL_ASSETS
BODY = """# Emplois francs : où en est-on ?

La délégation a présenté le bilan à mi-parcours ; les réseaux ont noté des écarts **très marqués** entre
territoires. Élus et associations demandent un suivi trimestriel.

- Prochaine étape : un point d'étape à l'été.
- Données ouvertes : publiées sur le portail.

| Territoire | Contrats signés |
|---|---|
| Hauts-de-France | 1 240 |
| Île-de-France | 3 015 |
"""


@pytest.fixture
def held(session, alice, bob, network_b, measure):
    """``session``, held yesterday: alice (network A) and bob (network B) present, an agenda point on ``measure``."""
    session.group.networks.add(network_b)
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(days=1, hours=3),
        ends_at=timezone.now() - timedelta(days=1, hours=1),
        status=Session.Status.HELD,
        invitations_sent_at=timezone.now() - timedelta(days=8),
        place="ANCT, 20 avenue de Ségur, Paris",
    )
    session.refresh_from_db()
    for person in (alice, bob):
        SessionInvitation.objects.create(
            session=session, user=person, network=person.memberships.get().network, source="network", attended=True
        )
    AgendaItem.objects.create(session=session, position=1, title="Bilan des emplois francs", measure=measure)
    return session


@pytest.fixture
def draft(held, lead, measure, alice):
    minutes = services.minutes_for(held)
    return services.minutes_save(
        minutes=minutes,
        by=lead,
        body=BODY,
        items=[
            {"kind": "decision", "text": "Étendre les emplois francs à tous les QPV", "measure": measure},
            {
                "kind": "action",
                "text": "Préparer une synthèse des retours d'ici l'été",
                "owner_user": alice,
                "due_on": timezone.localdate() + timedelta(days=30),
            },
        ],
        revision=minutes.revision,
    )


@pytest.fixture
def published(draft, lead):
    """Version 1, published; its render task not run yet."""
    return services.minutes_publish(minutes=draft, by=lead)


def _reader(content: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(content))


def _pages_text(reader) -> list[str]:
    """Each page's text, its lines joined as a reader would read them."""
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def _structure(reader) -> list[str]:
    """The tags of the PDF's structure tree, in document order."""
    found = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, pypdf.generic.ArrayObject):
            for kid in node:
                walk(kid)
        elif isinstance(node, pypdf.generic.DictionaryObject):
            if "/S" in node:
                found.append(str(node["/S"]))
            if "/K" in node:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


# The renderer: the portal's static files and nothing else.


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/logo.png",
        "http://assets.portal.invalid/static/workgroups/minutes_pdf.css",  # not the portal's scheme
        "https://assets.portal.invalid.example.com/static/workgroups/minutes_pdf.css",
        "file:///etc/passwd",
        "data:image/svg+xml;base64,PHN2Zy8+",  # refused on purpose: see concertation/lib/pdf.py
        "https://assets.portal.invalid/media/minutes/session-1-v1.pdf",  # media files are not static files
        "https://assets.portal.invalid/static/../concertation/settings.py",
        "https://assets.portal.invalid/static/%2e%2e/concertation/settings.py",
        "https://assets.portal.invalid/static//etc/passwd.css",
        "https://assets.portal.invalid/static/%2Fetc%2Fpasswd.css",
        "https://assets.portal.invalid/static/..%5C..%5Cconcertation%5Csettings.css",
        "https://assets.portal.invalid/static/workgroups/absent.css",
        "https://assets.portal.invalid/static/dsfr/dist/dsfr.module.min.js",  # scripts: not a document's file type
    ],
)
def test_the_fetcher_refuses_anything_but_the_portals_static_files(url):
    with pytest.raises(pdf_lib.RefusedResource):
        pdf_lib.StaticOnlyFetcher().fetch(url)


def test_the_fetcher_serves_the_stylesheet_and_the_marianne_font():
    fetcher = pdf_lib.StaticOnlyFetcher()
    css = fetcher.fetch(ASSETS + "static/css/pdf_page.css")
    assert css.content_type == "text/css" and b"@font-face" in css.read()
    font = fetcher.fetch(ASSETS + "static/dsfr/dist/fonts/Marianne-Regular.woff2")
    assert font.read()[:4] == b"wOF2"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a URL the standard library's way fails the test."""
    attempts = []

    def refuse(self, url, *args, **kwargs):
        attempts.append(getattr(url, "full_url", url))
        raise AssertionError(f"the renderer tried to open {url}")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", refuse)
    return attempts


@pytest.fixture
def fetched(monkeypatch):
    """What the renderer asked its fetcher for: (url, served?)."""
    calls = []
    original = pdf_lib.StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        try:
            response = original(self, url, headers)
        except pdf_lib.RefusedResource:
            calls.append((url, False))
            raise
        calls.append((url, True))
        return response

    monkeypatch.setattr(pdf_lib.StaticOnlyFetcher, "fetch", spy)
    return calls


def test_a_document_asking_for_outside_resources_renders_without_them(no_network, fetched):
    html = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Essai</title>
    <link rel="stylesheet" href="/static/css/pdf_page.css">
    <link rel="stylesheet" href="http://evil.example/steal.css">
    <style>
      @import url("https://evil.example/import.css");
      body { background: url("file:///etc/passwd"); }
      h1 { background-image: url("//evil.example/protocol-relative.png"); }
    </style></head>
    <body><h1>Séance d'été</h1>
    <img src="https://evil.example/pixel.png" alt="pixel">
    <img src="file:///etc/hostname" alt="fichier">
    <img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">
    <iframe src="https://evil.example/frame"></iframe>
    <p>Le texte est bien là, accentué : élève, çà, où.</p></body></html>"""
    content = pdf_lib.html_to_pdf(html)

    text = _pages_text(_reader(content))[0]
    assert "Séance d'été" in text and "accentué : élève, çà, où" in text
    served = {url for url, ok in fetched if ok}
    refused = {url for url, ok in fetched if not ok}
    assert served == {ASSETS + "static/css/pdf_page.css"} | {
        f"{ASSETS}static/dsfr/dist/fonts/Marianne-{face}.woff2"
        for face in ("Regular", "Bold", "Regular_Italic", "Bold_Italic")
    }
    assert {
        "http://evil.example/steal.css",
        "https://evil.example/import.css",
        "file:///etc/passwd",
        "https://evil.example/protocol-relative.png",
        "https://evil.example/pixel.png",
        "file:///etc/hostname",
    } <= refused
    assert any(url.startswith("data:") for url in refused)
    assert no_network == []


# The document.


def test_the_published_pdf_reads_back_with_everything_a_reader_needs(
    published, alice, bob, measure, django_capture_on_commit_callbacks
):
    services.minutes_pdf_render(version_id=published.pk)
    published.refresh_from_db()
    assert published.pdf_status == MinutesVersion.PdfStatus.READY and published.pdf_attempts == 1
    content = published.pdf.read()
    assert hashlib.sha256(content).hexdigest() == published.pdf_sha256
    assert content.startswith(b"%PDF-")

    reader = _reader(content)
    pages = _pages_text(reader)
    count = len(reader.pages)
    text = " ".join(pages)
    # Title block: group, session, date, place, version, publication date.
    assert "Emploi et développement économique" in text
    assert "Emplois francs : premiers retours" in text
    assert "ANCT, 20 avenue de Ségur, Paris" in text
    assert f"Version : 1, publiée le {timezone.localdate():%-d}" in text.replace("1er", "1")
    assert f"{timezone.localtime(published.minutes.session.starts_at):%H:%M}" in text
    # Attendees by network, agenda with its measure, body with accents, decisions and actions.
    assert "Réseau Alpha" in text and "Alice Alpha" in text and "Réseau Bêta" in text and "Bob Bêta" in text
    assert "Bilan des emplois francs" in text and f"Mesure n° {measure.number} : {measure.title}" in text
    assert "Emplois francs : où en est-on ?" in text and "Île-de-France" in text and "très marqués" in text
    assert "<h2>" not in text and "<strong>" not in text and "&lt;" not in text  # the body as a document, not as tags
    assert "Étendre les emplois francs à tous les QPV" in text
    assert "Préparer une synthèse des retours d'ici l'été" in text and "En cours" in text
    # Page n / N on every page, N the real count.
    for number, page in enumerate(pages, start=1):
        assert f"page {number} / {count}" in page

    root = reader.trailer["/Root"]
    assert root["/Lang"] == "fr"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert (
        reader.metadata.title
        == "Compte rendu — Emplois francs : premiers retours — Emploi et développement économique (version 1)"
    )
    tags = _structure(reader)
    headings = [int(tag[2]) for tag in tags if tag in {"/H1", "/H2", "/H3", "/H4", "/H5", "/H6"}]
    assert headings[0] == 1 and headings.count(1) == 1
    assert (
        len(headings) == 7
    )  # the title, Participants, Ordre du jour, Compte rendu, the body's own, Décisions, Actions
    assert all(later - earlier <= 1 for earlier, later in itertools.pairwise(headings))
    assert {"/Table", "/TH", "/TD", "/L", "/LI", "/P"} <= set(tags)
    fonts = {
        str(font.get_object()["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("Marianne" in name for name in fonts)


def test_a_correction_shows_its_version_and_reason(published, lead, draft):
    services.minutes_pdf_render(version_id=published.pk)
    draft.refresh_from_db()
    second = services.minutes_publish(minutes=draft, by=lead, reason="Présences corrigées")
    services.minutes_pdf_render(version_id=second.pk)
    second.refresh_from_db()
    reader = _reader(second.pdf.read())
    text = " ".join(_pages_text(reader))
    assert "Version : 2, publiée le" in text and "Motif de la correction : Présences corrigées" in text
    assert reader.metadata.title.endswith("(version 2)")


def _long_snapshot_version(published) -> MinutesVersion:
    """``published`` with a 30-page-plus body: sections, lists, tables, and now and then a word or a link
    longer than a line, in the text and in tables (few of them: each costs WeasyPrint a lot of line breaking)."""
    word = "Anticonstitutionnellement" * 12
    link = "https://www.example.gouv.fr/" + "chemin-sans-fin/" * 20
    sections = []
    for n in range(1, 31):
        sections.append(
            f"# {n}. Point d'étape n° {n}\n\n" + ("Les réseaux ont rappelé les écarts entre territoires. " * 40)
        )
        sections.append("## Retours\n\n" + "\n".join(f"- Réseau {k} : remarque détaillée." for k in range(6)))
        first = word if n % 10 == 1 else "Territoire"
        sections.append(
            "| "
            + " | ".join(f"Colonne {k}" for k in range(6))
            + " |\n|"
            + "---|" * 6
            + "\n"
            + "\n".join("| " + " | ".join([first] + [f"valeur {k}" for k in range(5)]) + " |" for _ in range(4))
        )
        if n % 10 == 5:
            sections.append(f"Mot : {word}\n\nLien : {link}")
    body = "\n\n".join(sections)
    snapshot = dict(published.snapshot)
    snapshot["items"] = [
        {**published.snapshot["items"][0], "text": f"Décision numéro {k} : " + (word if k == 3 else "suite donnée.")}
        for k in range(40)
    ]
    return MinutesVersion(
        minutes=published.minutes,
        number=published.number,
        published_at=published.published_at,
        body=body,
        body_html=render_markdown(body),
        snapshot=snapshot,
    )


def test_a_very_long_document_paginates_within_its_pages(published):
    version = _long_snapshot_version(published)
    document = pdf_lib.html_document(services.minutes_pdf_html(version))
    assert len(document.pages) >= 25  # a long document (about 30 pages)

    # No line, of text or of a table, runs past the right margin: long words and URLs wrap.
    overflowing = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        right = page_box.content_box_x() + page_box.width + 0.5

        def walk(box, number=number, right=right):
            if isinstance(box, MarginBox):
                return
            if box.position_x + box.margin_width() > right:
                overflowing.append((number, type(box).__name__, getattr(box, "text", "")[:40]))
            for child in getattr(box, "children", ()):
                walk(child)

        for child in page_box.children:
            walk(child)
    assert overflowing == []

    reader = _reader(document.write_pdf(**pdf_lib.PDF_OPTIONS))
    pages = _pages_text(reader)
    count = len(pages)
    running = "Emploi et développement économique — Emplois francs : premiers retours"
    assert running not in pages[0]  # the first page has the title block instead
    for number, text in enumerate(pages, start=1):
        assert f"page {number} / {count}" in text
        if number > 1:
            assert running in text
        if "Décision numéro" in text:  # the decisions' header row repeats on each of their pages
            assert "Mesure concernée" in text


# A failed render: recorded, retried, marked failed; staff run it again.


def test_a_failed_render_is_recorded_for_the_lead(published, monkeypatch):
    def broken(html):
        raise RuntimeError("Pango a rendu l'âme")

    monkeypatch.setattr(services, "html_to_pdf", broken)
    outcome = services.minutes_pdf_render(version_id=published.pk)
    published.refresh_from_db()
    assert outcome.status == MinutesVersion.PdfStatus.PENDING
    assert published.pdf_status == MinutesVersion.PdfStatus.PENDING and published.pdf_attempts == 1
    assert published.pdf_error == "RuntimeError: Pango a rendu l'âme" and not published.pdf
    assert mail.outbox == []


def _fail_every_render(monkeypatch) -> list[str]:
    calls = []

    def broken(html):
        calls.append(html)
        raise RuntimeError("Pango a rendu l'âme")

    monkeypatch.setattr(services, "html_to_pdf", broken)
    return calls


def _run_task_as_the_worker_would(version) -> str:
    """The render task, then its retries as a worker runs them, until it stops asking for one."""
    retries = 0
    while True:
        try:
            return render_minutes_pdf.apply(args=[version.pk], retries=retries).get()
        except Retry as retry:
            assert retry.when == 30 * (retries + 1)  # a pause, longer each time
            version.refresh_from_db()
            assert version.pdf_status == MinutesVersion.PdfStatus.PENDING and version.pdf_attempts == retries + 1
            retries += 1


def test_the_task_retries_a_failed_render_then_marks_it_failed(published, monkeypatch):
    calls = _fail_every_render(monkeypatch)
    assert _run_task_as_the_worker_would(published) == MinutesVersion.PdfStatus.FAILED
    published.refresh_from_db()
    assert len(calls) == services.PDF_MAX_ATTEMPTS
    assert published.pdf_status == MinutesVersion.PdfStatus.FAILED
    assert published.pdf_attempts == services.PDF_MAX_ATTEMPTS and "Pango a rendu l'âme" in published.pdf_error
    assert mail.outbox == []


def test_staff_run_a_failed_render_again_and_the_pdf_goes_out(
    published, lead, staff, alice, bob, monkeypatch, django_capture_on_commit_callbacks
):
    _fail_every_render(monkeypatch)
    _run_task_as_the_worker_would(published)
    monkeypatch.undo()
    version = published
    version.refresh_from_db()
    assert version.pdf_status == MinutesVersion.PdfStatus.FAILED

    for person in (lead, alice):
        with pytest.raises(PermissionDenied):
            services.minutes_pdf_rerun(version=version, by=person)
    version.refresh_from_db()
    assert version.pdf_status == MinutesVersion.PdfStatus.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_pdf_rerun(version=version, by=staff)
    version.refresh_from_db()
    assert version.pdf_status == MinutesVersion.PdfStatus.READY
    assert version.pdf_attempts == 1 and version.pdf_error == ""
    content = version.pdf.read()
    assert hashlib.sha256(content).hexdigest() == version.pdf_sha256
    assert sorted(message.to[0] for message in mail.outbox) == [alice.email, bob.email]
    for message in mail.outbox:
        [part] = message.attachments
        assert part.get_content_type() == "application/pdf" and part.get_payload(decode=True) == content
        assert part.get_filename() == f"compte-rendu-{version.minutes.session.starts_at:%Y-%m-%d}-v1.pdf"


def test_a_pdf_too_heavy_to_attach_is_sent_as_a_link(published, alice, settings, django_capture_on_commit_callbacks):
    settings.MINUTES_PDF_ATTACH_MAX_BYTES = 1000
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_pdf_render(version_id=published.pk)
    message = next(message for message in mail.outbox if message.to == [alice.email])
    assert message.attachments == []
    link = "http://testserver" + reverse("workgroups:minutes_version", args=[published.minutes.session_id, 1])
    assert "Le PDF est trop lourd pour être joint : téléchargez-le depuis le portail." in message.body
    assert link in message.body


def test_the_document_dates_the_first_of_the_month_the_french_way(published):
    published.published_at = timezone.make_aware(datetime(2026, 12, 1, 10, 0))
    html = services.minutes_pdf_html(published)
    assert "1er décembre 2026" in html


def test_the_pdf_keeps_its_fonts_and_page_numbers_with_hashed_static_names(tmp_path, settings):
    """Production serves static files under the manifest's hashed names, which the
    finders do not know: the fetcher reads them from the collected files."""
    from django.core.management import call_command
    from django.template.loader import render_to_string

    from concertation.lib.pdf import html_to_pdf

    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    html = render_to_string(
        "workgroups/minutes_pdf.html",
        {
            "version": type("V", (), {"number": 1, "published_at": None, "reason": "", "body_html": "<p>Été</p>"})(),
            "data": {
                "group": "Groupe",
                "session": "Séance",
                "starts_at": "2026-12-01T09:00:00+00:00",
                "ends_at": "2026-12-01T11:00:00+00:00",
                "format": "En présentiel",
                "place": "Paris",
                "attendees": [],
                "agenda": [],
                "items": [],
            },
        },
    )
    assert "minutes_pdf." in html and "minutes_pdf.css" not in html  # the hashed name
    reader = pypdf.PdfReader(io.BytesIO(html_to_pdf(html)))
    fonts = {
        str(font.get_object()["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()
    }
    assert all("Marianne" in font for font in fonts)
    assert "page 1 / 1" in reader.pages[0].extract_text()
