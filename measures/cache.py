"""A version number for everything the feedback pages show.

Pages cache their content under the current version; any write to feedback,
measures, rounds, networks or territories moves the version on (after commit),
so a cached page never outlives the data it shows and needs no other
invalidation.
"""

import time

from django.core.cache import cache
from django.db import transaction

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
