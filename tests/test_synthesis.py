import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from measures.models import Feedback
from networks.models import Network
from networks.services import territories_load_reference
from tests.factories import FeedbackFactory, MeasureFactory, NetworkFactory, RoundFactory, UserFactory

pytestmark = pytest.mark.django_db


def page(client, url, params=None) -> str:
    """The page's HTML with the white space between tags removed."""
    return re.sub(r">\s+<", "><", client.get(url, params or {}).content.decode())


@pytest.fixture
def territories():
    territories_load_reference()
    from networks.models import Territory

    return {t.code: t for t in Territory.objects.filter(level="departement")}


def feedback(measure, network, assessment, departement=None, categories=(), **extra):
    item = FeedbackFactory(
        measure=measure,
        network=network,
        assessment=assessment,
        territory=departement,
        departement=departement,
        region=departement.parent if departement else None,
        **extra,
    )
    for category in categories:
        item.obstacle_rows.create(category=category)
    return item


@pytest.fixture
def field(measure, territories):
    state = NetworkFactory(name="Délégués du préfet", slug="ddp", family=Network.Family.STATE)
    elected = NetworkFactory(name="France urbaine", slug="fu", family=Network.Family.ELECTED_OFFICIALS)
    pros = NetworkFactory(name="IRDSU", slug="irdsu", family=Network.Family.PROFESSIONALS)
    feedback(measure, state, "does_not_work", territories["93"], ["funding", "eligibility"])
    feedback(measure, state, "does_not_work", territories["93"], ["funding"])
    feedback(measure, state, "works", territories["69"])
    feedback(measure, elected, "partly", territories["971"], ["coordination"])
    feedback(measure, pros, "works", None)
    FeedbackFactory(
        measure=measure, network=pros, assessment="does_not_work", status=Feedback.Status.DRAFT, submitted_at=None
    )
    return {"state": state, "elected": elected, "pros": pros}


def test_the_measure_page_shows_the_distribution_by_family_region_and_obstacle(client, alice, measure, field):
    client.force_login(alice)
    body = page(client, measure.get_absolute_url())
    assert '<th scope="row">Fonctionne</th><td>2</td><td>40 %</td>' in body
    assert '<th scope="row">Ne fonctionne pas</th><td>2</td><td>40 %</td>' in body
    assert '<th scope="row">Total</th><td>5</td>' in body
    assert '<th scope="row">Services de l&#x27;État</th><td>1</td><td>0</td><td>2</td><td>0</td><td>3</td>' in body
    assert "Île-de-France (11)</th><td>0</td><td>0</td><td>2</td><td>0</td><td>2</td>" in body
    assert "Seine-Saint-Denis (93)</th><td>0</td><td>0</td><td>2</td><td>0</td><td>2</td>" in body
    assert '<th scope="row">Financement</th><td>2</td><td>40 %</td>' in body  # 2 of 5 feedback


def test_the_matrix_shows_the_dominant_assessment_and_links_to_the_feedback(client, alice, measure, field):
    client.force_login(alice)
    body = page(client, reverse("measures:synthesis"))
    row = body.split('class="portal-matrix"')[1].split("9. Emplois francs")[1].split("</tr>")[0]
    state_cell, elected_cell, pros_cell = row.split("<td>")[1:4]
    assert (
        "Ne fonctionne pas" in state_cell
        and "3 retours" in state_cell
        and "fonctionne : 1, ne fonctionne pas : 2" in state_cell
    )
    assert f"measure={measure.pk}&amp;family=state" in state_cell
    assert "Fonctionne en partie" in elected_cell and "1 retour" in elected_cell
    assert "Fonctionne" in pros_cell


def test_the_filtered_list_behind_a_matrix_cell_has_those_feedback_only(client, alice, measure, field):
    client.force_login(alice)
    body = client.get(reverse("measures:feedback_list"), {"measure": measure.pk, "family": "state"}).content.decode()
    assert "3 retours transmis" in body
    assert "France urbaine" not in body.split("retours transmis")[1]


@pytest.mark.parametrize(
    ("params", "expected_total"),
    [
        ({"family": "state"}, 3),
        ({"assessment": "works"}, 2),
        ({"departement": "93"}, 2),
        ({"region": "01"}, 1),
        ({"network": "fu"}, None),
    ],
)
def test_the_synthesis_filters(client, alice, measure, field, params, expected_total):
    client.force_login(alice)
    if "network" in params:
        params = {"network": field["elected"].pk}
        expected_total = 1
    body = page(client, reverse("measures:synthesis"), params)
    assert f'<th scope="row">Total</th><td>{expected_total}</td>' in body


def test_a_round_synthesis_counts_only_that_round(client, alice, measure, field, network_a):
    consultation = RoundFactory(measures=[measure], networks=[field["state"], network_a])
    FeedbackFactory(measure=measure, network=field["state"], round=consultation, assessment="partly")
    client.force_login(alice)
    body = page(client, reverse("measures:synthesis"), {"round": consultation.pk})
    assert '<th scope="row">Total</th><td>1</td>' in body


def test_the_csv_export_is_utf8_with_bom_and_neutralises_formulas(client, alice, measure, field):
    FeedbackFactory(
        measure=measure, network=field["pros"], obstacles='=HYPERLINK("http://x")', what_works="Écoles associées"
    )
    client.force_login(alice)
    response = client.get(reverse("measures:feedback_export"), {"family": "professionals"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="retours-' in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Programme", "Mesure (numéro)", "Mesure", "Réseau"]
    assert rows[0][-3:] == ["Suite donnée", "Suite donnée le", "Lien vers le retour"]
    assert "Code du département" in rows[0]
    assert len(rows) == 3
    assert "Écoles associées" in [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://x")' in [cell for row in rows for cell in row]


def test_the_map_colours_departements_and_links_each_to_its_feedback(client, alice, measure, field):
    client.force_login(alice)
    body = page(client, reverse("measures:synthesis"), {"carte": "does_not_work"})
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in body
    assert 'aria-label="Seine-Saint-Denis (93) : 100 % « Ne fonctionne pas » sur 2 retour(s)"' in body
    assert "departement=93" in body
    assert "Guadeloupe (971)" in body  # overseas inset
    table = body.split("Les chiffres de la carte")[1]
    assert "Seine-Saint-Denis (93)</th><td>0</td><td>0</td><td>2</td><td>0</td><td>2</td>" in table


def _count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert response.status_code == 200
    return len(queries)


def _grow(measures, networks, territories, size):
    authors = [UserFactory() for _ in range(3)]
    for index in range(size):
        feedback(
            measures[index % len(measures)],
            networks[index % len(networks)],
            ["works", "partly", "does_not_work", "too_early"][index % 4],
            territories[["93", "69", "13", "974"][index % 4]],
            ["funding"] if index % 2 else [],
            author=authors[index % 3],
        )


def test_the_pages_run_the_same_number_of_queries_whatever_the_data_size(
    client, alice, territories, open_round, network_a, network_b
):
    measures = [open_round.measures.get()] + [MeasureFactory() for _ in range(3)]
    networks = [network_a, network_b]
    consultation = open_round
    client.force_login(alice)
    urls = [
        (reverse("measures:list"), None),
        (measures[0].get_absolute_url(), None),
        (reverse("measures:synthesis"), None),
        (reverse("measures:synthesis"), {"family": "professionals", "carte": "works"}),
        (reverse("measures:feedback_list"), None),
        (reverse("measures:feedback_export"), None),
        (consultation.get_absolute_url(), None),
        (reverse("dashboard"), None),
    ]
    _grow(measures, networks, territories, 8)
    small = [_count_queries(client, url, params) for url, params in urls]
    _grow(measures + [MeasureFactory() for _ in range(4)], [*networks, NetworkFactory()], territories, 60)
    large = [_count_queries(client, url, params) for url, params in urls]
    assert large == small


def test_feedback_follows_its_territory_when_the_territory_moves(alice, network_a, measure, territories):
    from networks.models import Territory

    commune = Territory.objects.create(level="commune", code="93066", name="Saint-Denis", parent=territories["93"])
    item = feedback(measure, network_a, "works", None, author=alice)
    item.territory = commune
    item.departement, item.region = commune.departement_and_region()
    item.save()
    commune.parent = territories["95"]
    commune.save()
    item.refresh_from_db()
    assert item.departement.code == "95"
    other_region = Territory.objects.get(level="region", code="84")
    territories["95"].parent = other_region
    territories["95"].save()
    item.refresh_from_db()
    assert item.region == other_region
