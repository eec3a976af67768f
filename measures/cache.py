"""A version number for everything the feedback pages show.

Pages cache their content under the current version; any write to feedback,
measures, rounds, networks or territories moves the version on (after commit),
so a cached page never outlives the data it shows and needs no other
invalidation. The filtered pages are keyed by the filters' validated values
(``filtered_fragment``), never by the raw query string.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import QueryDict

VERSION_KEY = "measures:data-version"


def data_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = time.time_ns()
        cache.add(VERSION_KEY, version, timeout=None)
        version = cache.get(VERSION_KEY, version)
    return version


def _bump() -> None:
    cache.set(VERSION_KEY, time.time_ns(), timeout=None)


def bump_data_version(**_signal_kwargs) -> None:
    """Move the version on after commit, which orphans every page cached
    before it; and now too, so that reads later in the same transaction, and
    tests (which roll back instead of committing), never meet a page cached
    before the write."""
    _bump()
    transaction.on_commit(_bump)


# --- Keys of the filtered pages ----------------------------------------------

PAGE_CACHE_SECONDS = 3600
MAX_PAGE = 10_000


@dataclass(frozen=True)
class FilteredFragment:
    """What the cached fragment of a filtered page (list of measures, of
    feedback, synthesis) depends on, from the filter's validated values: two
    query strings that mean the same filters share one key, and parameters
    that are no filter make no new key."""

    key: str  # for {% cache %}, with the data version and the language
    timeout: int  # 0 when the page is not cached
    params: QueryDict  # the filters, for the page's links (no page number, no map mode)

    @property
    def query_string(self) -> str:
        return self.params.urlencode()


def page_number(value: str | None) -> int:
    """The page asked for, as the paginator will show it; 1 for anything else."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and len(value) <= len(str(MAX_PAGE)) and 0 < int(value) <= MAX_PAGE:
        return int(value)
    return 1


def _as_param(field, value) -> str:
    if isinstance(value, Model):
        return str(getattr(value, getattr(field, "to_field_name", None) or "pk"))
    return str(value)


def validated_params(filterset) -> QueryDict | None:
    """The filter's validated values as query parameters, in the filter's
    order; None when one of them is invalid."""
    form = filterset.form
    if not form.is_valid():
        return None
    params = QueryDict(mutable=True)
    for name, value in form.cleaned_data.items():
        if isinstance(value, list | tuple | QuerySet):
            params.setlist(name, sorted(_as_param(form.fields[name], item) for item in value))
        elif value not in (None, ""):
            params[name] = _as_param(form.fields[name], value)
    return params


def filtered_fragment(filter_class, data: QueryDict, get_filter, *extra) -> FilteredFragment:
    """The fragment of a page filtered by ``filter_class`` over ``data``
    (request.GET). ``get_filter()`` gives the page's filter, built from
    ``data``: it is only built here when ``data`` holds a filter value, so that
    an unfiltered page found in the cache runs no query. ``extra`` are the
    other values the fragment depends on (page number, map mode...)."""
    if not any(data.get(name, "").strip() for name in filter_class.base_filters):
        params = QueryDict()
    else:
        filterset = get_filter()
        params = validated_params(filterset)
        if params is None:
            # Shown with its errors, which repeat what was typed: computed for this request only.
            raw = QueryDict(mutable=True)
            for name in filter_class.base_filters:
                if name in data:
                    raw.setlist(name, data.getlist(name))
            return FilteredFragment(key="", timeout=0, params=raw)
        # The form shows the values the key stands for (a search for " 9 " shows "9").
        filterset.form.data = params
    key = "|".join([params.urlencode(), *(str(value) for value in extra)])
    return FilteredFragment(key=key, timeout=PAGE_CACHE_SECONDS, params=params)
