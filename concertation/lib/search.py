"""The site search: a registry of what each app lets people find, and the
helpers that put a searched word in evidence without letting people's text
write HTML.

The search page (``concertation.views.search``) lives in the project
package, which must not import the apps: each app registers its kind of
result from its ``AppConfig.ready`` (measures: measures and feedback;
workgroups: published minutes), as it does for dashboard panels. A provider
answers for the person who asks: it returns ``None`` when they may not see
that kind at all, so the page says nothing about it.

Excerpts: PostgreSQL's ``ts_headline`` marks the words it found with the two
sentinel characters ``START`` and ``STOP`` (private-use code points nobody
types); ``marked_excerpt`` escapes the whole text first, then turns the
sentinels into ``<mark>``. Someone could still type them: the headline is
computed over the text without them (``without_sentinels``), so that only the
words found come out marked. Where there is no full-text search (SQLite),
``highlight_words`` marks the words, accents and case aside, also after escaping.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Value
from django.db.models.functions import Replace
from django.http import HttpRequest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from concertation.lib.folding import fold_spans

START = "\ue000"
STOP = "\ue001"
SEARCH_MAX_LENGTH = 200
# Results of each kind shown on the search page; the rest is in the kind's own list.
RESULTS_PER_KIND = 5


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    excerpt: str = ""  # safe HTML (marked_excerpt, highlight_words) or plain text, escaped by the template
    detail: str = ""


@dataclass(frozen=True)
class SearchResults:
    """One kind's answer: how many things match, the first few, and the
    address of its own list filtered by the same words."""

    count: int
    hits: list[SearchHit] = field(default_factory=list)
    more_url: str = ""
    more_label: str = ""  # « Voir les 12 retours »


@dataclass(frozen=True)
class SearchProvider:
    key: str
    label: str
    order: int
    search: Callable[[HttpRequest, str], SearchResults | None]


@dataclass(frozen=True)
class SearchGroup:
    key: str
    label: str
    results: SearchResults


_providers: dict[str, SearchProvider] = {}


def register_search(
    key: str, label: str, search: Callable[[HttpRequest, str], SearchResults | None], *, order: int = 50
) -> None:
    """Add (or replace) the kind ``key``: ``search(request, q)`` returns its
    ``SearchResults`` for this person, or ``None`` when they may not see it."""
    _providers[key] = SearchProvider(key=key, label=label, order=order, search=search)


def clean_query(value: str | None) -> str:
    """The words asked for, spaces collapsed, NUL characters and sentinels out, bounded."""
    text = (value or "").replace("\x00", " ").replace(START, " ").replace(STOP, " ")
    return " ".join(text.split())[:SEARCH_MAX_LENGTH]


def search_all(request: HttpRequest, q: str) -> list[SearchGroup]:
    """Every kind this person may see, in order, with its results (possibly none)."""
    groups = []
    for provider in sorted(_providers.values(), key=lambda p: p.order):
        results = provider.search(request, q)
        if results is not None:
            groups.append(SearchGroup(key=provider.key, label=str(provider.label), results=results))
    return groups


def without_sentinels(expression):
    """The SQL text ``expression`` without the sentinels, for the source of a
    headline: a text holding them would otherwise mark words nobody searched."""
    return Replace(Replace(expression, Value(START), Value("")), Value(STOP), Value(""))


def marked_excerpt(raw: str | None) -> SafeString:
    """A headline from the database (sentinels around the words found) as safe
    HTML: the text escaped, then each sentinel pair turned into ``<mark>``."""
    text = escape(" ".join((raw or "").split()))
    opened = False
    out = []
    for char in text:
        if char == START and not opened:
            out.append("<mark>")
            opened = True
        elif char == STOP and opened:
            out.append("</mark>")
            opened = False
        elif char not in (START, STOP):
            out.append(char)
    if opened:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - escaped above; only <mark> added


def query_words(q: str) -> list[str]:
    """The words of a query written in the ``websearch`` syntax, without its
    quotes and exclusions (``-mot``), for a plain match."""
    words = []
    for word in re.findall(r'-?"[^"]*"|\S+', q):
        if word.startswith("-") or word.upper() == "OR":
            continue
        word = word.strip('"').strip()
        if word:
            words.append(word)
    return words[:10]


def word_window(text: str, start: int, width: int) -> tuple[int, int]:
    """About ``width`` characters of ``text`` from ``start``, widened to the start of
    its first word and cut after its last whole word: no word comes out cut."""
    if start > 0 and text[start - 1] != " ":
        start = text.rfind(" ", 0, start) + 1
    end = min(len(text), start + width)
    if end < len(text) and text[end] != " ":
        cut = text.rfind(" ", start, end)
        if cut > start:
            end = cut
    return start, end


def highlight_words(text: str | None, q: str, *, width: int = 240) -> SafeString:
    """``text`` escaped, cut at word boundaries to about ``width`` characters around
    the first word found, with every word of ``q`` marked as the plain search finds
    them: accents and case aside (``concertation.lib.folding``)."""
    text = " ".join((text or "").replace(START, "").replace(STOP, "").split())
    spans = fold_spans(text, query_words(q))
    start, end = word_window(text, max(0, spans[0][0] - width // 3) if spans else 0, width)
    if spans and spans[0][1] > end:  # a first word longer than the window: show it whole
        end = spans[0][1]
    out = ["… " if start else ""]
    position = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, position), min(span_end, end)
        if span_start >= span_end:
            continue
        out.append(escape(text[position:span_start]))
        out.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        position = span_end
    out.append(escape(text[position:end]))
    out.append(" …" if end < len(text) else "")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text escaped
