"""Text compared as people read it: accents, case and ligatures aside.

``fold`` is the one definition (« Élus » → « elus », « Cœur » → « coeur »):
NFKD, combining marks dropped, ``œ``/``æ`` spelt out, then ``casefold``.

PostgreSQL searches with its ``french_unaccent`` configuration. SQLite (the
embedded run) has no such thing: ``register_sqlite_functions`` (connected to
``connection_created`` from ``ConcertationConfig.ready``) gives every SQLite
connection the deterministic SQL function ``portal_unaccent(text)``, which is
``fold``, and ``folded_contains`` matches a word against a column, both folded so.
``fold_spans`` finds the same words in a Python string and gives their
positions in the original text, for highlighting what the database found.
"""

import re
import unicodedata

from django.db.models import F, Func, TextField, Value
from django.db.models.lookups import Contains

SQL_FUNCTION = "portal_unaccent"
_LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"}


def _fold_char(char: str) -> str:
    char = _LIGATURES.get(char, char)
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold(text: str | None) -> str:
    """``text`` without accents, in lower case, ligatures spelt out."""
    return "".join(_fold_char(char) for char in text or "")


def _sql_fold(value):
    return None if value is None else fold(str(value))


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: ``portal_unaccent`` on SQLite connections."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQL_FUNCTION, 1, _sql_fold, deterministic=True)


class Folded(Func):
    """A text folded by the database: ``portal_unaccent`` on SQLite, only ``LOWER``
    elsewhere (PostgreSQL searches with its own configuration, not with this)."""

    function = "LOWER"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function=SQL_FUNCTION, **extra_context)


def folded_contains(field: str, word: str) -> Contains:
    """A condition for ``filter()`` / ``Q()``: ``word`` in ``field``, accents and case
    aside on SQLite (case aside elsewhere): both sides folded the same way, by the database."""
    return Contains(Folded(F(field)), Folded(Value(word)))


def _folded_with_positions(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` and, for each of its characters, the index of the original one."""
    folded, positions = [], []
    for index, char in enumerate(text):
        piece = _fold_char(char)
        folded.append(piece)
        positions.extend([index] * len(piece))
    return "".join(folded), positions


def fold_spans(text: str, words) -> list[tuple[int, int]]:
    """Where the ``words`` are in ``text`` (accents and case aside): ``(start, end)``
    pairs of indices in ``text`` itself, in order, not overlapping, longest word first
    at a given place. A match ends after the accents of its last letter."""
    needles = sorted({fold(word) for word in words if fold(word)}, key=len, reverse=True)
    if not needles or not text:
        return []
    folded, positions = _folded_with_positions(text)
    pattern = re.compile("|".join(re.escape(needle) for needle in needles))
    spans = []
    for match in pattern.finditer(folded):
        start = positions[match.start()]
        end = positions[match.end() - 1] + 1
        # A decomposed letter's marks (e + U+0301) fold to nothing: keep them with their letter.
        while end < len(text) and not _fold_char(text[end]):
            end += 1
        if spans and start < spans[-1][1]:
            continue
        spans.append((start, end))
    return spans
