"""The site search's kind from this app: published minutes, as the minutes'
list finds them (``MinutesFilter``: full-text in French on PostgreSQL) among
those the person may read (``_listed_versions``). Registered from
``WorkgroupsConfig.ready``."""

from django.contrib.postgres.search import SearchHeadline
from django.db import connections
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import ngettext

from concertation.lib.dates import date_format
from concertation.lib.markdown import markdown_to_text
from concertation.lib.search import (
    RESULTS_PER_KIND,
    START,
    STOP,
    SearchHit,
    SearchResults,
    highlight_words,
    marked_excerpt,
    without_sentinels,
)
from measures.search import search_query
from workgroups.minutes_filters import SEARCH_CONFIG, MinutesFilter
from workgroups.models import WorkingGroup


def _excerpt(version, q, *, full_text):
    """The passage found, as plain text (the minutes are Markdown: no « ## » nor
    « ** » in a result), its words marked and no word cut."""
    if full_text:
        return marked_excerpt(markdown_to_text(version.search_headline))
    return highlight_words(markdown_to_text(version.body), q)


def search_minutes(request, q):
    """The latest version of each published minutes this person finds in the list."""
    from workgroups.views.minutes_reading import LIST_FIELDS, _listed_versions

    user = request.user
    reads_groups = user.is_authenticated and user.has_perm("workgroups.read_groups")
    versions = (
        _listed_versions(user, reads_groups=reads_groups)
        .select_related("minutes__session__group")
        .only(*LIST_FIELDS)
        .order_by("-published_at", "-pk")
    )
    found = MinutesFilter({"q": q}, queryset=versions, groups=WorkingGroup.objects.none()).qs
    full_text = connections[found.db].vendor == "postgresql"
    first = found
    if full_text:
        query = search_query(q)
        first = found.annotate(
            search_headline=SearchHeadline(
                without_sentinels(F("body")),
                query,
                config=SEARCH_CONFIG,
                start_sel=START,
                stop_sel=STOP,
                max_words=30,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
            )
        )
    else:
        first = found.only(*LIST_FIELDS, "body")
    hits = []
    for version in first[:RESULTS_PER_KIND]:
        session = version.minutes.session
        hits.append(
            SearchHit(
                title=session.title,
                url=version.get_absolute_url(),
                excerpt=_excerpt(version, q, full_text=full_text),
                detail=f"{session.group.title} — {date_format(timezone.localtime(session.starts_at), 'j F Y')}",
            )
        )
    count = found.count()
    return SearchResults(
        count=count,
        hits=hits,
        more_url=f"{reverse('workgroups:minutes_list')}?{urlencode({'q': q})}",
        more_label=ngettext(
            "Voir le compte rendu dans la liste", "Voir les %(count)d comptes rendus dans la liste", count
        )
        % {"count": count},
    )
