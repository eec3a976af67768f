"""Searching what the networks wrote, in French.

On PostgreSQL: full-text search with the ``french_unaccent`` configuration
(``unaccent`` then French stemming, created by ``workgroups/0004``), the
``websearch`` syntax (words, "a phrase", -excluded), ranked, over the four
texts of a feedback: obstacles and suggestions weigh A, what works and the
administration's answer B. The GIN index of ``measures/0006_feedback_search``
is built on exactly the expression ``feedback_search_vector()`` writes; a test
checks that PostgreSQL uses it. Elsewhere (SQLite, the embedded run): every
word must appear in one of the texts, accents and case aside (the SQL function
``portal_unaccent``, ``concertation.lib.folding``), newest first, no rank.

The site search's two kinds from this app (measures, feedback) are here too,
registered from ``MeasuresConfig.ready``.
"""

import re

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVector
from django.db import connections
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from concertation.lib.folding import fold_spans, folded_contains
from concertation.lib.search import (
    RESULTS_PER_KIND,
    START,
    STOP,
    SearchHit,
    SearchResults,
    highlight_words,
    marked_excerpt,
    query_words,
    without_sentinels,
)

SEARCH_CONFIG = "french_unaccent"
SEARCHED_FIELDS = ("what_works", "obstacles", "suggestions", "response")


def full_text(db_alias: str) -> bool:
    """The one place that decides: full-text search on PostgreSQL, a plain match elsewhere."""
    return connections[db_alias].vendor == "postgresql"


def feedback_search_vector() -> SearchVector:
    """The searched document of a feedback. Its SQL is the indexed expression of
    the migration ``measures/0006_feedback_search``: change both together."""
    return SearchVector("obstacles", "suggestions", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "what_works", "response", weight="B", config=SEARCH_CONFIG
    )


def measure_search_vector() -> SearchVector:
    """A measure's title (A) and summary (B), in French, accents aside."""
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "summary", weight="B", config=SEARCH_CONFIG
    )


def _word_query(word: str, *, excluded: bool = False) -> SearchQuery:
    """A word, singular or plural: French stemming leaves the ``s`` of words ending
    in a vowel (« élus » stays ``elus``, « élu » is ``elu``), so both forms are asked
    (or, for an excluded word, both refused)."""
    other = word[:-1] if word[-1:].lower() == "s" and len(word) > 3 else word + "s"
    forms = [SearchQuery(text, config=SEARCH_CONFIG, search_type="plain") for text in (word, other)]
    if excluded:
        return ~forms[0] & ~forms[1]
    return forms[0] | forms[1]


def search_query(q: str) -> SearchQuery:
    """``q`` in the ``websearch`` syntax (words, "a phrase", -excluded, ``or``) as a
    tsquery whose words match their singular and plural alike."""
    terms: list[SearchQuery] = []
    either = False
    for token in re.findall(r'-?"[^"]*"?|\S+', q):
        excluded = token.startswith("-") and len(token) > 1
        text = token[1:] if excluded else token
        if text.lower() == "or" and terms and not excluded:
            either = True
            continue
        if text.startswith('"'):
            text = text.strip('"').strip()
            if not text:
                continue
            query = SearchQuery(text, config=SEARCH_CONFIG, search_type="phrase", invert=excluded)
        else:
            text = text.strip('"')
            if not text:
                continue
            query = _word_query(text, excluded=excluded)
        if either:
            terms[-1] = terms[-1] | query
            either = False
        else:
            terms.append(query)
    if not terms:
        # Nothing but signs (« --- », « "" »): a query that finds nothing. websearch_to_tsquery
        # would nest one NOT per dash and overflow PostgreSQL's stack past 32 of them.
        return SearchQuery("", config=SEARCH_CONFIG, search_type="plain")
    combined = terms[0]
    for query in terms[1:]:
        combined &= query
    return combined


def plain_match(q: str, fields=SEARCHED_FIELDS) -> Q:
    """Every word in one of ``fields``, accents and case aside (``portal_unaccent`` on
    SQLite, ``concertation.lib.folding``): the fallback without full-text search."""
    condition = Q()
    for word in query_words(q):
        any_field = Q()
        for name in fields:
            any_field |= Q(folded_contains(name, word))
        condition &= any_field
    return condition


def feedback_headline(q: str) -> SearchHeadline:
    """Up to two passages of the texts with the words found between the sentinels."""
    texts = []
    for name in SEARCHED_FIELDS:
        texts += [F(name), Value(" \n ")]
    return SearchHeadline(
        without_sentinels(Concat(*texts[:-1], output_field=TextField())),
        search_query(q),
        config=SEARCH_CONFIG,
        start_sel=START,
        stop_sel=STOP,
        max_words=30,
        min_words=12,
        max_fragments=2,
        fragment_delimiter=" … ",
    )


def attach_excerpts(rows, q: str) -> None:
    """Set ``excerpt`` (safe HTML, the words found marked) on each feedback of
    ``rows``: from the database's headline when the query was annotated with
    it, else from the first text that holds a word."""
    for feedback in rows:
        headline = getattr(feedback, "search_headline", None)
        if headline is not None:
            feedback.excerpt = marked_excerpt(headline)
            continue
        words = query_words(q)
        texts = [getattr(feedback, name) or "" for name in SEARCHED_FIELDS]
        found = next((text for text in texts if fold_spans(text, words)), None)
        feedback.excerpt = highlight_words(found or next((t for t in texts if t), ""), q)


# --- The site search ---------------------------------------------------------


def search_measures(request, q):
    """Measures by number, title, summary or ministry: for whoever sees the roadmap."""
    if not (settings.PUBLIC_ROADMAP or request.user.is_authenticated):
        return None
    from measures.filters import MeasureFilter
    from measures.models import Measure

    measure_filter = MeasureFilter({"q": q}, queryset=Measure.objects.select_related("programme").order_by("number"))
    found = measure_filter.qs
    hits = [
        SearchHit(
            title=f"{measure.number}. {measure.title}",
            url=measure.get_absolute_url(),
            excerpt=highlight_words(measure.summary, q) if measure.summary else "",
            detail=str(measure.programme.title),
        )
        for measure in found[:RESULTS_PER_KIND]
    ]
    count = found.count()
    return SearchResults(
        count=count,
        hits=hits,
        more_url=f"{reverse('measures:list')}?{urlencode({'q': q})}",
        more_label=ngettext("Voir la mesure dans la liste", "Voir les %(count)d mesures dans la liste", count)
        % {"count": count},
    )


def search_feedback(request, q):
    """Submitted feedback, ranked, for whoever may read the feedback list."""
    from networks.access import may_read_inside

    if not may_read_inside(request.user):
        return None
    from measures.models import Feedback

    found = Feedback.objects.submitted().search(q)
    page = list(found.with_headline(q).select_related("measure", "network", "territory")[:RESULTS_PER_KIND])
    attach_excerpts(page, q)
    hits = [
        SearchHit(
            title=f"{feedback.network.name}"
            + (f" — {feedback.territory.name}" if feedback.territory else "")
            + f" — {_('mesure')} {feedback.measure.number}",
            url=feedback.get_absolute_url(),
            excerpt=feedback.excerpt,
            detail=Truncator(feedback.measure.title).words(12),
        )
        for feedback in page
    ]
    count = found.count()
    return SearchResults(
        count=count,
        hits=hits,
        more_url=f"{reverse('measures:feedback_list')}?{urlencode({'q': q})}",
        more_label=ngettext("Voir le retour dans la liste", "Voir les %(count)d retours dans la liste", count)
        % {"count": count},
    )
