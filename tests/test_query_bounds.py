"""Numbers no row can have, in addresses and filters, answer 404 or are ignored:
never a database error (an integer past PostgreSQL's bigint, NUL, other scripts' digits)."""

import pytest
from django.urls import reverse

from concertation.lib.converters import ID_MAX, parse_id
from tests.factories import FeedbackFactory

pytestmark = pytest.mark.django_db

# Past bigint; bigint's maximum + 1; past Python's int() limit; a superscript digit.
HUGE_IDS = ["99999999999999999999", str(ID_MAX + 1), "9" * 5000, "²"]
BAD_VALUES = [*HUGE_IDS, "-1", "1e9", "%00", "0x10"]

PATHS_WITH_IDS = [
    "/mesures/{}/",
    "/mesures/{}/retour/",
    "/retours/{}/",
    "/retours/{}/modifier/",
    "/retours/{}/retirer/",
    "/retours/{}/repondre/",
    "/consultations/{}/",
    "/reseaux/alpha/membres/{}/retirer/",
    "/reseaux/alpha/invitations/{}/annuler/",
]
POSTED_PATHS_WITH_IDS = ["/reseaux/alpha/invitations/{}/renvoyer/", "/retours/{}/retirer/"]
QUERIES = [
    "/mesures/?programme={}",
    "/mesures/?q={}",
    "/mesures/?page={}",
    "/mesures/?status={}&lead_ministry={}",
    "/retours/?programme={}&measure={}",
    "/retours/?round={}",
    "/retours/?network={}",
    "/retours/?region={}&departement={}",
    "/retours/?page={}",
    "/retours/export.csv?round={}&network={}&measure={}",
    "/synthese/?network={}",
    "/synthese/?round={}&measure={}&programme={}",
    "/synthese/?page={}&carte={}",
    "/consultations/?page={}",
    "/reseaux/alpha/?page={}",
]
STAFF_ONLY = [
    "/admin/networks/user/{}/change/",
    "/admin/measures/feedback/{}/change/",
    "/admin/measures/feedback/?measure__id__exact={}",
    "/admin/networks/user/?q={}",
]


@pytest.fixture
def submitted(alice, network_a, measure):
    return FeedbackFactory(author=alice, network=network_a, measure=measure)


@pytest.fixture(params=["alice", "staff"], ids=["active member", "staff"])
def signed_in(request, client, alice, staff, submitted):
    client.force_login({"alice": alice, "staff": staff}[request.param])
    return client


@pytest.mark.parametrize("value", BAD_VALUES)
def test_it_answers_404_for_an_id_no_row_can_have_in_the_address(signed_in, value):
    statuses = {path: signed_in.get(path.format(value)).status_code for path in PATHS_WITH_IDS}
    statuses |= {path: signed_in.post(path.format(value)).status_code for path in POSTED_PATHS_WITH_IDS}
    assert statuses == dict.fromkeys([*PATHS_WITH_IDS, *POSTED_PATHS_WITH_IDS], 404)


@pytest.mark.parametrize("value", BAD_VALUES)
def test_it_ignores_a_filter_value_no_row_can_have(signed_in, value):
    statuses = {url: signed_in.get(url.replace("{}", value)).status_code for url in QUERIES}
    assert statuses == dict.fromkeys(QUERIES, 200)


@pytest.mark.parametrize("value", BAD_VALUES)
def test_it_ignores_an_impossible_round_or_network_when_filing_feedback(client, alice, measure, value):
    client.force_login(alice)
    response = client.get(f"/mesures/{measure.pk}/retour/?round={value}&network={value}")
    assert response.status_code == 200
    assert measure.title in response.content.decode()


@pytest.mark.parametrize("value", HUGE_IDS)
def test_it_still_lists_the_feedback_when_a_filter_is_impossible(signed_in, submitted, value):
    for url in ("/retours/?network={}", "/retours/?round={}&measure={}", "/synthese/?network={}"):
        body = signed_in.get(url.replace("{}", value)).content.decode()
        assert submitted.measure.title in body


@pytest.mark.parametrize("value", BAD_VALUES)
def test_it_never_fails_on_admin_addresses_with_impossible_ids(client, staff, value):
    client.force_login(staff)
    statuses = {url: client.get(url.format(value)).status_code for url in STAFF_ONLY}
    assert all(status in {200, 302, 404} for status in statuses.values()), statuses


def test_it_still_serves_real_ids(signed_in, submitted, measure):
    assert signed_in.get(reverse("measures:detail", args=[measure.pk])).status_code == 200
    assert signed_in.get(reverse("measures:feedback_detail", args=[submitted.pk])).status_code == 200
    response = signed_in.get(f"/retours/?network={submitted.network_id}&measure={measure.pk}")
    assert response.status_code == 200 and measure.title in response.content.decode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        (str(ID_MAX), ID_MAX),
        (str(ID_MAX + 1), None),
        ("0", None),
        ("-3", None),
        ("²", None),
        ("١٢", None),
        ("9" * 5000, None),
        ("", None),
        (None, None),
        (12, 12),
        (True, None),
    ],
)
def test_it_reads_an_id_only_within_the_database_range(value, expected):
    assert parse_id(value) == expected
