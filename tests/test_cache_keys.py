"""The cached fragments of the filtered pages are keyed by the filters'
validated values: the same filters written differently share one entry, and
parameters that are no filter make no new one."""

from unittest import mock

import pytest
from django.core.cache import caches
from django.urls import reverse

from measures.models import MeasureStatus
from tests.factories import FeedbackFactory, MeasureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fragments():
    """The fragment keys the pages write to the cache, in order."""
    cache = caches["default"]
    written = []
    real_set = cache.set

    def spy(key, value, timeout=None, version=None):
        if key.startswith("template.cache.") and timeout != 0:
            written.append(key)
        return real_set(key, value, timeout, version)

    with mock.patch.object(cache, "set", spy):
        yield written


@pytest.fixture
def seine_saint_denis(db):
    return TerritoryFactory(level="departement", code="93", name="Seine-Saint-Denis")


def test_it_shares_one_key_between_query_strings_meaning_the_same_filters(client, fragments, measure):
    status = MeasureStatus.values[0]
    url = reverse("measures:list")
    first = client.get(url, {"status": status, "q": "emplois"})
    client.get(url + f"?q=%20emplois%20&status={status}&programme=&lead_ministry=")
    client.get(url + f"?status={status}&status={status}&q=emplois&page=1")
    assert first.status_code == 200
    assert len(fragments) == 1


def test_parameters_that_are_no_filter_make_no_new_key(client, fragments, measure):
    url = reverse("measures:list")
    for query in ("", "?utm_source=lettre", "?utm_source=autre&fbclid=xyz", "?page=abc", "?page=" + "9" * 5000):
        assert client.get(url + query).status_code == 200
    assert len(fragments) == 1


def test_different_filters_and_pages_have_their_own_keys(client, fragments, measure):
    url = reverse("measures:list")
    client.get(url)
    client.get(url, {"q": "emplois"})
    client.get(url, {"q": "emplois", "page": "2"})
    assert len(set(fragments)) == 3


def test_the_page_found_in_the_cache_shows_the_validated_filters_not_what_was_typed(client, measure):
    url = reverse("measures:list")
    client.get(url + "?q=%20Emplois%20&utm_source=lettre")
    body = client.get(url, {"q": "Emplois"}).content.decode()
    assert 'value="Emplois"' in body
    assert "utm_source" not in body
    assert "Emplois francs" in body


def test_feedback_filters_share_a_key_whatever_their_spelling(client, alice, fragments, measure, seine_saint_denis):
    FeedbackFactory(measure=measure, territory=seine_saint_denis, departement=seine_saint_denis)
    client.force_login(alice)
    url = reverse("measures:feedback_list")
    for query in (
        f"?measure={measure.pk}&departement=93",
        f"?departement=93&measure=0{measure.pk}&utm_campaign=juin",
        f"?assessment=&departement=93&measure={measure.pk}&family=",
    ):
        assert client.get(url + query).status_code == 200
    assert len(fragments) == 1


def test_the_links_of_a_cached_feedback_page_carry_only_the_filters(client, alice, measure, seine_saint_denis):
    # Something to download: an empty list offers no CSV link.
    FeedbackFactory(measure=measure, territory=seine_saint_denis, departement=seine_saint_denis)
    client.force_login(alice)
    url = reverse("measures:feedback_list")
    client.get(url + "?departement=93&utm_source=lettre")
    body = client.get(url + "?departement=93").content.decode()
    assert f"{reverse('measures:feedback_export')}?departement=93" in body
    assert "utm_source" not in body


def test_the_synthesis_is_keyed_by_its_filters_and_map_mode(client, alice, fragments, measure):
    client.force_login(alice)
    url = reverse("measures:synthesis")
    client.get(url + "?family=professionals&carte=works")
    client.get(url + "?carte=works&family=professionals&utm_source=lettre")
    client.get(url + "?family=professionals&carte=nonsense")
    client.get(url + "?family=professionals")
    assert len(fragments) == 2  # map mode "works", and "count" (the default, also for a mode that is none)


def test_invalid_filters_are_shown_with_their_error_and_never_cached(client, alice, fragments, measure):
    client.force_login(alice)
    url = reverse("measures:feedback_list")
    first = client.get(url, {"measure": "pas-un-numero"})
    second = client.get(url, {"measure": "autre-chose"})
    assert first.status_code == second.status_code == 200
    assert "Sélectionnez un choix valide" in first.content.decode()
    assert "Sélectionnez un choix valide" in second.content.decode()
    assert fragments == []


def test_a_new_measure_shows_on_the_cached_filtered_list(client, measure):
    url = reverse("measures:list")
    client.get(url, {"q": "PaQte"})
    MeasureFactory(number=10, title="PaQte avec les entreprises")
    assert "PaQte avec les entreprises" in client.get(url + "?q=PaQte&utm_source=lettre").content.decode()
