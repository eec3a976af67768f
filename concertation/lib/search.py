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
sentinels into ``<mark>``. Where there is no full-text search (SQLite),
``highlight_words`` marks the words case-insensitively, also after escaping.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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


def highlight_words(text: str | None, q: str, *, width: int = 240) -> SafeString:
    """``text`` escaped, cut to about ``width`` characters around the first word
    found, with every word of ``q`` marked (case-insensitive; accents as written)."""
    text = " ".join((text or "").split())
    words = query_words(q)
    if not words:
        return escape(text[:width] + ("…" if len(text) > width else ""))
    pattern = re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, (first.start() if first else 0) - width // 3)
    end = min(len(text), start + width)
    window = text[start:end]
    out = ["…" if start else ""]
    position = 0
    for match in pattern.finditer(window):
        out.append(escape(window[position : match.start()]))
        out.append(f"<mark>{escape(match.group())}</mark>")
        position = match.end()
    out.append(escape(window[position:]))
    out.append("…" if end < len(text) else "")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text escaped
