"""Searching what the networks wrote (feedback, minutes), the site search and the
numbered pagination. PostgreSQL: full-text in French, accents ignored, ranked."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from concertation.lib.search import highlight_words, marked_excerpt
from concertation.templatetags.pagination import page_window
from measures.filters import FeedbackFilter
from measures.models import Feedback
from tests.factories import FeedbackFactory, MeasureFactory, SessionFactory, WorkingGroupFactory
from workgroups.models import Minutes, MinutesVersion, Session

pytestmark = pytest.mark.django_db


def _feedback(network, author, measure, *, days_ago=1, **fields):
    fields.setdefault("submitted_at", timezone.now() - timedelta(days=days_ago))
    fields.setdefault("what_works", "")
    return FeedbackFactory(network=network, author=author, measure=measure, **fields)


def _list(client, **params) -> str:
    response = client.get(reverse("measures:feedback_list"), params)
    assert response.status_code == 200
    return response.content.decode()


def _found(client, **params) -> list[int]:
    """The feedback ids of the list's cards, in order."""
    return [int(pk) for pk in re.findall(r'href="/retours/(\d+)/[?"]', _list(client, **params))]


@pytest.fixture
def texts(network_a, network_b, alice, bob, measure, other_measure):
    return {
        "elu": _feedback(network_a, alice, measure, obstacles="Les élus locaux ne sont pas informés."),
        "creche": _feedback(network_b, bob, other_measure, suggestions="Ouvrir une crèche dans le quartier."),
        "credits": _feedback(network_a, alice, other_measure, what_works="Les crédits sont arrivés à temps."),
    }


# --- French full-text search ---------------------------------------------------------


def test_a_word_is_found_with_or_without_accents_and_in_any_case(client, alice, texts):
    client.force_login(alice)
    assert _found(client, q="elu") == [texts["elu"].pk]
    assert _found(client, q="ÉLU") == [texts["elu"].pk]
    assert _found(client, q="creche") == [texts["creche"].pk]
    assert _found(client, q="Crèche") == [texts["creche"].pk]


def test_french_stemming_finds_the_plural_and_the_singular(client, alice, texts):
    client.force_login(alice)
    assert _found(client, q="ELUS") == [texts["elu"].pk]  # the text says « élus »
    assert _found(client, q="crèches") == [texts["creche"].pk]
    assert _found(client, q="crédit") == [texts["credits"].pk]


def test_the_administrations_answer_is_searched_too(client, alice, texts):
    texts["credits"].response = "Une circulaire précisera le calendrier."
    texts["credits"].save()
    client.force_login(alice)
    assert _found(client, q="circulaire") == [texts["credits"].pk]


def test_websearch_syntax_phrase_and_exclusion(client, alice, texts):
    client.force_login(alice)
    assert _found(client, q='"élus locaux"') == [texts["elu"].pk]
    assert _found(client, q="élus -locaux") == []


def test_results_are_ranked_more_occurrences_and_weighted_fields_first(client, alice, network_a, measure):
    once = _feedback(network_a, alice, measure, days_ago=1, what_works="Un logement trouvé.")
    many = _feedback(
        network_a, alice, measure, days_ago=5, what_works="Logement, logements, encore des logements à trouver."
    )
    in_obstacles = _feedback(network_a, alice, measure, days_ago=9, obstacles="Le logement manque.")
    client.force_login(alice)
    order = _found(client, q="logement")
    # Obstacles weigh A, what works B; then the more occurrences the higher; the newest was listed first without q.
    assert order == [in_obstacles.pk, many.pk, once.pk]
    assert _found(client) == [once.pk, many.pk, in_obstacles.pk]


def test_search_combines_with_the_other_filters(client, alice, network_a, network_b, bob, measure, other_measure):
    a_here = _feedback(network_a, alice, measure, obstacles="Transport scolaire absent.")
    b_here = _feedback(network_b, bob, measure, obstacles="Le transport coûte cher.")
    a_there = _feedback(network_a, alice, other_measure, obstacles="Aucun transport le soir.")
    client.force_login(alice)
    assert set(_found(client, q="transports")) == {a_here.pk, b_here.pk, a_there.pk}
    assert set(_found(client, q="transports", network=network_a.pk)) == {a_here.pk, a_there.pk}
    assert _found(client, q="transports", network=network_a.pk, measure=measure.pk) == [a_here.pk]


def test_the_words_found_are_marked_and_peoples_html_is_escaped(client, alice, network_a, measure):
    _feedback(
        network_a,
        alice,
        measure,
        obstacles='<script>alert("x")</script> Les élus <b>hésitent</b> <img src=x onerror=alert(1)> & 1 < 2.',
    )
    client.force_login(alice)
    body = _list(client, q="elus")
    assert "<mark>élus</mark>" in body
    excerpt = body.split("<mark>élus</mark>")[1].split("</p>")[0]
    assert "<" not in excerpt  # no tag of the text survives: escaped, or left out by the headline
    assert "&lt;img src=x" in excerpt
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    assert "Les retours sont classés du plus pertinent" in body


def test_drafts_and_withdrawn_feedback_are_never_found(client, alice, bob, network_a, network_b, measure, staff):
    _feedback(network_b, bob, measure, obstacles="Passerelle brouillon.", status=Feedback.Status.DRAFT)
    _feedback(network_b, bob, measure, obstacles="Passerelle retirée.", status=Feedback.Status.WITHDRAWN)
    own_draft = _feedback(network_a, alice, measure, obstacles="Passerelle à moi.", status=Feedback.Status.DRAFT)
    for person in (alice, bob, staff):
        client.force_login(person)
        assert _found(client, q="passerelle") == []
        site = client.get(reverse("search"), {"q": "passerelle"}).content.decode()
        assert "Passerelle" not in site
        assert f"/retours/{own_draft.pk}/" not in site


def test_csv_export_and_printed_filters_follow_the_search(client, alice, texts):
    client.force_login(alice)
    response = client.get(reverse("measures:feedback_export"), {"q": "crèche"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2
    assert "crèche" in ";".join(rows[1])
    described = FeedbackFilter({"q": "  crèche  dans ", "network": ""}, queryset=Feedback.objects.all()).describe()
    assert described == "Filtres : Recherche : « crèche dans »"


def test_a_search_too_long_is_an_error_on_the_form(client, alice, texts):
    client.force_login(alice)
    body = _list(client, q="x" * 201)
    assert "fr-input-group--error" in body or "fr-error-text" in body


def test_the_gin_index_serves_the_search(alice, texts):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = Feedback.objects.search("élus").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "measures_feedback_text_fts" in plan


def test_the_list_with_a_search_runs_the_same_queries_at_3_and_25_results(client, alice, network_a, measure):
    for n in range(3):
        _feedback(network_a, alice, measure, days_ago=n + 1, obstacles=f"Mobilité numéro {n}.")
    client.force_login(alice)
    url = reverse("measures:feedback_list")
    client.get(url, {"q": "mobilité"})
    with CaptureQueriesContext(connection) as context:
        client.get(url, {"q": "mobilité", "network": network_a.pk, "page": "1"})
    count = len(context)
    for n in range(3, 45):
        _feedback(network_a, alice, measure, days_ago=n + 1, obstacles=f"Mobilité numéro {n}.")
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, {"q": "mobilité", "network": network_a.pk, "page": "2"})
    assert len(context) == count
    body = response.content.decode()
    assert "45 retours transmis" in body
    assert body.count("<mark>") >= 20


# --- Pagination --------------------------------------------------------------------------


def test_page_window():
    assert page_window(1, 1) == [1]
    assert page_window(1, 5) == [1, 2, 3, 4, 5]
    assert page_window(1, 20) == [1, 2, 3, None, 20]
    assert page_window(7, 20) == [1, None, 5, 6, 7, 8, 9, None, 20]
    assert page_window(4, 20) == [1, 2, 3, 4, 5, 6, None, 20]  # a gap of one page shows the page
    assert page_window(20, 20) == [1, None, 18, 19, 20]
    assert page_window(99, 3) == [1, 2, 3]
    assert page_window(1, 0) == []


def test_the_list_is_paginated_with_numbers_and_keeps_the_search(client, alice, network_a, measure):
    for n in range(45):
        _feedback(network_a, alice, measure, days_ago=n + 1, obstacles="Mobilité des jeunes.")
    client.force_login(alice)
    body = _list(client, q="mobilite", page="2", unknown="<x>")
    assert 'class="fr-pagination' in body
    assert 'aria-current="page" title="Page 2 sur 3"' in body
    assert 'href="?q=mobilite&amp;page=1"' in body  # first and previous
    assert 'href="?q=mobilite&amp;page=3"' in body  # 3, next and last
    assert "unknown" not in body.split('class="fr-pagination')[1]  # only validated filters in cached links


def test_every_list_still_shows_its_pagination(client, alice, staff, network_a, measure):
    for n in range(30):
        MeasureFactory(number=100 + n, title=f"Mesure {n}")
    client.force_login(alice)
    body = client.get(reverse("measures:list"), {"page": "2"}).content.decode()
    assert 'aria-current="page" title="Page 2 sur 2"' in body
    assert "Première page" in body


# --- Site search --------------------------------------------------------------------


def _minutes(group, title, body, *, public=False):
    group.minutes_public = public
    group.save()
    starts = timezone.now() - timedelta(days=2)
    session = SessionFactory(
        group=group, title=title, starts_at=starts, ends_at=starts + timedelta(hours=2), status=Session.Status.HELD
    )
    minutes = Minutes.objects.create(session=session, body=body)
    return MinutesVersion.objects.create(
        minutes=minutes, number=1, body=body, body_html=f"<p>{body}</p>", snapshot={"items": []}
    )


def _site(client, q) -> str:
    response = client.get(reverse("search"), {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def test_the_site_search_groups_results_by_kind_with_links_to_the_lists(client, alice, texts, measure, group):
    measure.summary = "Aider les élus à recruter."
    measure.save()
    _minutes(group, "Séance des élus", "Les élus ont présenté leurs priorités.")
    client.force_login(alice)
    body = _site(client, "elus")
    assert "3 résultats pour « elus »" in body
    assert 'id="resultats-measures"' in body
    assert 'id="resultats-feedback"' in body
    assert 'id="resultats-minutes"' in body
    assert "/retours/?q=elus" in body
    assert "Voir le retour dans la liste" in body
    assert "<mark>élus</mark>" in body
    assert "Séance des élus" in body


def test_the_site_search_shows_nothing_private_to_those_who_may_not_read_it(
    client, alice, bob, former_member, outsider, texts, measure, group, settings
):
    settings.PUBLIC_ROADMAP = True
    measure.summary = "Recrutement des élus."
    measure.save()
    private = _minutes(group, "Séance réservée", "Les élus du groupe fermé.")
    public = _minutes(WorkingGroupFactory(title="Groupe public"), "Séance publique", "Les élus en public.", public=True)
    for person in (None, former_member, outsider):
        if person is None:
            client.logout()
        else:
            client.force_login(person)
        body = _site(client, "élus")
        assert 'id="resultats-feedback"' not in body
        assert "/retours/" not in body
        assert "ne sont pas informés" not in body
        assert private.get_absolute_url() not in body
        assert public.get_absolute_url() in body
        assert measure.get_absolute_url() in body
    client.force_login(bob)  # a member of network B, not in the group of network A
    body = _site(client, "élus")
    assert 'id="resultats-feedback"' in body
    assert private.get_absolute_url() not in body


def test_the_site_search_without_words_or_results(client, alice, texts):
    client.force_login(alice)
    assert "Saisissez un ou plusieurs mots" in _site(client, "   ")
    assert "Aucun résultat pour « introuvable »" in _site(client, "introuvable")


def test_every_page_has_the_search_field_and_feedback_in_the_menu(client, alice, outsider):
    client.force_login(alice)
    body = client.get(reverse("measures:feedback_list")).content.decode()
    assert 'role="search"' in body
    assert '<label class="fr-label" for="header-search-input">' in body
    assert 'href="/retours/" aria-current="page">Retours</a>' in body
    client.force_login(outsider)
    body = client.get(reverse("home")).content.decode()
    assert 'role="search"' in body
    assert ">Retours</a>" not in body


# --- Drafts ----------------------------------------------------------------------------


def test_a_draft_says_brouillon_without_an_empty_badge_or_waiting_answer(client, alice, network_a, measure):
    draft = _feedback(network_a, alice, measure, status=Feedback.Status.DRAFT, assessment="", submitted_at=None)
    client.force_login(alice)
    body = client.get(draft.get_absolute_url()).content.decode()
    assert "Brouillon" in body
    assert "Pas encore de réponse" not in body
    assert 'portal-swatch--"' not in body


# --- Helpers ---------------------------------------------------------------------------


def test_excerpts_escape_first_and_mark_after():
    assert marked_excerpt("a \ue000<b>\ue001 c") == "a <mark>&lt;b&gt;</mark> c"
    assert highlight_words("Les Élus <i>ici</i>", "élus") == "Les <mark>Élus</mark> &lt;i&gt;ici&lt;/i&gt;"
