"""The synthesis and measure pages print (filters written out, extraction time, a print
stylesheet), and the CSV export carries programme, département code, answer date and link."""

import csv
import html
import io
import re
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from measures.views import _extraction_note
from networks.models import Network
from tests.factories import (
    FeedbackFactory,
    MeasureFactory,
    NetworkFactory,
    ProgrammeFactory,
    TerritoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

EXTRACTION = re.compile(r"Extraction du \d{1,2}(er)? [a-zéû]+ \d{4} à \d{1,2} h \d{2} \(heure de Paris\)")
PRINT_LINK = '<link rel="stylesheet" href="/static/css/print.css" media="print">'


def print_block(body: str) -> str:
    """The text of the print-only block, unescaped, with its white space collapsed."""
    match = re.search(r'<div class="portal-print-only[^"]*" hidden>(.*?)</div>', body, re.S)
    assert match, "no print-only block"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


@pytest.fixture
def seine_saint_denis(db):
    return TerritoryFactory(level="departement", code="93", name="Seine-Saint-Denis")


@pytest.fixture
def state_network(db):
    return NetworkFactory(name="Délégués du préfet", slug="ddp", family=Network.Family.STATE)


# --- Print ------------------------------------------------------------------------------------------------------


def test_the_unfiltered_synthesis_prints_no_filter_and_the_extraction_time(client, alice, measure):
    FeedbackFactory(measure=measure)
    client.force_login(alice)
    body = client.get(reverse("measures:synthesis")).content.decode()
    block = print_block(body)
    assert block.startswith("Aucun filtre")
    assert EXTRACTION.search(block), block
    assert PRINT_LINK in body
    # The block comes before the cached fragment, whose filter form and buttons print.css hides.
    assert body.index("portal-print-only") < body.index('class="fr-mb-4w portal-filters"')


def test_the_filtered_synthesis_prints_its_filters_in_words(client, alice, measure, state_network, seine_saint_denis):
    FeedbackFactory(measure=measure, network=state_network, territory=seine_saint_denis, departement=seine_saint_denis)
    client.force_login(alice)
    params = {
        "programme": measure.programme.pk,
        "family": "state",
        "departement": "93",
        "assessment": "works",
        "carte": "works",
    }
    block = print_block(client.get(reverse("measures:synthesis"), params).content.decode())
    assert block.startswith(
        "Filtres : Programme « Emploi et insertion professionnelle » ; Famille de réseaux « Services de l'État » ; "
        "Département « Seine-Saint-Denis (93) » ; Appréciation « Fonctionne »"
    ), block
    assert "carte" not in block.lower()  # the map mode is no filter
    assert EXTRACTION.search(block)


def test_a_refused_filter_value_is_named_as_ignored(client, alice, measure):
    client.force_login(alice)
    block = print_block(
        client.get(reverse("measures:synthesis"), {"measure": "pas-un-numero", "family": "state"}).content.decode()
    )
    assert block.startswith(
        "Filtres : Famille de réseaux « Services de l'État » (valeur non valide, filtre ignoré : Mesure)"
    ), block


def test_the_print_block_is_outside_the_cached_fragment(client, alice, measure):
    """A synthesis found in the cache still says when this request printed it, and with which filters."""
    client.force_login(alice)
    url = reverse("measures:synthesis")
    client.get(url, {"family": "state"})
    note = mock.patch("measures.views._extraction_note", return_value="Extraction du moment présent")
    with note, CaptureQueriesContext(connection) as queries:
        body = client.get(url, {"family": "state", "utm_source": "lettre"}).content.decode()
    block = print_block(body)
    assert block == "Filtres : Famille de réseaux « Services de l'État » Extraction du moment présent"
    # Found in the cache: the page computed no synthesis, and describing the filters cost no query.
    assert not [q for q in queries.captured_queries if "measures_feedback" in q["sql"]]


def test_an_unfiltered_synthesis_found_in_the_cache_builds_no_filter_to_describe(client, alice, measure):
    client.force_login(alice)
    url = reverse("measures:synthesis")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(url).content.decode()
    assert print_block(body).startswith("Aucun filtre")
    tables = ("measures_programme", "networks_territory", "measures_consultationround", "networks_network")
    assert not [q["sql"] for q in queries.captured_queries if any(f'FROM "{table}"' in q["sql"] for table in tables)]


def test_the_measure_page_prints_its_scope_and_the_extraction_time(client, alice, measure):
    client.force_login(alice)
    body = client.get(measure.get_absolute_url()).content.decode()
    block = print_block(body)
    assert block.startswith("Aucun filtre : tous les retours transmis sur cette mesure.")
    assert EXTRACTION.search(block)
    assert PRINT_LINK in body
    with mock.patch("measures.views._extraction_note", return_value="Extraction du moment présent"):
        assert "Extraction du moment présent" in print_block(client.get(measure.get_absolute_url()).content.decode())


def test_a_visitor_prints_the_measure_with_its_extraction_time_only(client, measure):
    block = print_block(client.get(measure.get_absolute_url()).content.decode())
    assert "Aucun filtre" not in block
    assert EXTRACTION.fullmatch(block), block


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Winter and summer time; the first of the month written « 1er ».
        (datetime(2025, 12, 1, 13, 5, tzinfo=UTC), "Extraction du 1er décembre 2025 à 14 h 05 (heure de Paris)"),
        (datetime(2025, 7, 14, 22, 30, tzinfo=UTC), "Extraction du 15 juillet 2025 à 0 h 30 (heure de Paris)"),
    ],
)
def test_the_extraction_time_is_written_in_paris_time(moment, expected):
    assert _extraction_note(moment) == expected


def test_the_print_stylesheet_hides_the_controls_and_keeps_tables_whole():
    path = finders.find("css/print.css")
    assert path, "static/css/print.css is missing"
    with open(path, encoding="utf-8") as handle:
        css = handle.read()
    assert css.lstrip().startswith("/*") and "@media print" in css
    for selector in (".fr-header__menu", ".fr-footer", ".portal-filters", ".fr-btn", ".fr-pagination", ".fr-no-print"):
        assert selector in css
    assert ".portal-print-only[hidden]" in css
    assert "break-inside: avoid" in css and "display: table-header-group" in css


# --- CSV ---------------------------------------------------------------------------------------------------------

HEADER = [
    "Programme",
    "Mesure (numéro)",
    "Mesure",
    "Réseau",
    "Famille",
    "Territoire",
    "Code du département",
    "Consultation",
    "Appréciation",
    "Ce qui fonctionne",
    "Freins",
    "Types de freins",
    "Ajustements proposés",
    "Transmis le",
    "Suite donnée",
    "Suite donnée le",
    "Lien vers le retour",
]


def export(client, params=None) -> list[dict]:
    response = client.get(reverse("measures:feedback_export"), params or {})
    assert response.status_code == 200
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(HEADER)
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_the_export_gives_programme_departement_answer_date_and_link(
    client, alice, staff, measure, state_network, seine_saint_denis
):
    answered = FeedbackFactory(
        measure=measure,
        network=state_network,
        territory=seine_saint_denis,
        departement=seine_saint_denis,
        submitted_at=datetime(2025, 2, 28, 8, 0, tzinfo=UTC),
        response="Le cahier des charges sera simplifié.",
        responded_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        responded_by=staff,
    )
    waiting = FeedbackFactory(measure=measure, network=state_network)
    client.force_login(alice)
    rows = {row["Lien vers le retour"]: row for row in export(client)}
    assert set(rows) == {f"http://testserver/retours/{item.pk}/" for item in (answered, waiting)}
    first = rows[f"http://testserver{reverse('measures:feedback_detail', args=[answered.pk])}"]
    assert first["Programme"] == "Emploi et insertion professionnelle"
    assert first["Mesure (numéro)"] == "9"
    assert first["Réseau"] == "Délégués du préfet"
    assert first["Code du département"] == "93"
    assert first["Transmis le"] == "28/02/2025 09:00"
    assert first["Suite donnée"] == "Le cahier des charges sera simplifié."
    assert first["Suite donnée le"] == "01/03/2025 10:30"  # Paris time
    second = rows[f"http://testserver/retours/{waiting.pk}/"]
    assert second["Code du département"] == second["Suite donnée"] == second["Suite donnée le"] == ""
    assert second["Territoire"] == "Territoire non précisé"


def test_the_new_columns_are_neutralised_and_follow_the_filters(client, alice, state_network, seine_saint_denis):
    formula = MeasureFactory(programme=ProgrammeFactory(title="=SOMME(A1:A9)"), number=3, title="Mesure piégée")
    FeedbackFactory(measure=formula, network=state_network, departement=seine_saint_denis)
    FeedbackFactory(measure=MeasureFactory(number=4), network=state_network)
    client.force_login(alice)
    rows = export(client, {"programme": formula.programme.pk})
    assert [row["Programme"] for row in rows] == ["'=SOMME(A1:A9)"]
    assert rows[0]["Code du département"] == "93"


def _grow(size, networks, departements, staff):
    authors = [UserFactory() for _ in range(3)]
    programmes = [ProgrammeFactory(title=f"Programme {index}") for index in range(3)]
    for index in range(size):
        item = FeedbackFactory(
            measure=MeasureFactory(programme=programmes[index % 3]),
            network=networks[index % len(networks)],
            author=authors[index % 3],
            departement=departements[index % len(departements)],
            territory=departements[index % len(departements)],
            response="Suite donnée." if index % 2 else "",
            responded_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC) if index % 2 else None,
            responded_by=staff if index % 2 else None,
        )
        item.obstacle_rows.create(category="funding")


def test_the_export_runs_the_same_number_of_queries_whatever_its_size(client, alice, staff, state_network):
    departements = [
        TerritoryFactory(level="departement", code=code, name=name)
        for code, name in (("93", "Seine-Saint-Denis"), ("69", "Rhône"), ("974", "La Réunion"))
    ]
    networks = [state_network, NetworkFactory()]
    client.force_login(alice)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            rows = export(client)
        return len(queries), len(rows)

    _grow(4, networks, departements, staff)
    small, small_rows = count()
    _grow(40, [*networks, NetworkFactory()], departements, staff)
    large, large_rows = count()
    assert (small_rows, large_rows) == (4, 44)
    assert large == small
