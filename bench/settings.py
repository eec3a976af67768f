"""Settings for the benchmark: the portal's own, plus a one-SELECT baseline view."""

from concertation.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
