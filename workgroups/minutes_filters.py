"""The published minutes' list: its filters and its search by words of the text.

On PostgreSQL the search is full-text in French (``websearch`` syntax: words,
"quoted phrases", -excluded words), ranked, and blind to accents: the
``french_unaccent`` configuration (``unaccent`` then French stemming) and its
GIN index come from the migration ``workgroups/0004_minutes_search``, whose
indexed expression is the one ``body_search_vector`` writes. Elsewhere
(SQLite, the embedded run) every word must appear in the text, accents and
case aside (``measures.search.plain_match``), newest first.
"""

import django_filters
from django.contrib.postgres.search import SearchRank, SearchVector
from django.db import connections
from django.utils.translation import gettext_lazy as _

from measures.filters import ALL, BoundedModelChoiceFilter
from measures.search import plain_match, search_query
from workgroups.models import WorkingGroup

SEARCH_CONFIG = "french_unaccent"
SEARCH_MAX_LENGTH = 200


def body_search_vector() -> SearchVector:
    """The searched document of a ``MinutesVersion``: its Markdown text, in French, accents aside."""
    return SearchVector("body", config=SEARCH_CONFIG)


class MinutesFilter(django_filters.FilterSet):
    """Words of the text, and a group among those whose minutes the person sees.

    ``groups`` are the groups the person may pick (those of the minutes listed)."""

    q = django_filters.CharFilter(
        label=_("Rechercher dans les textes"),
        method="search",
        max_length=SEARCH_MAX_LENGTH,
        help_text=_("Des mots du compte rendu ; « une expression entre guillemets », -mot pour l'exclure."),
    )
    group = BoundedModelChoiceFilter(
        empty_label=ALL,
        label=_("Groupe de travail"),
        field_name="minutes__session__group",
        queryset=WorkingGroup.objects.none(),
    )

    def __init__(self, data=None, queryset=None, *, groups, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        self.filters["group"].queryset = groups

    def search(self, queryset, name, value):
        value = " ".join(value.split())
        if not value:
            return queryset
        if connections[queryset.db].vendor != "postgresql":
            return queryset.filter(plain_match(value, fields=("body",)))
        query = search_query(value)
        vector = body_search_vector()
        return (
            queryset.alias(search=vector)
            .filter(search=query)
            .annotate(search_rank=SearchRank(vector, query))
            .order_by("-search_rank", "-published_at", "-pk")
        )
