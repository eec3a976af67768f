"""The checks ``/healthz`` runs, contributed by the core and by each app.

The project package must not import the apps: each app registers its checks
from its ``AppConfig.ready`` (the outbox registers its backlog and beat's last
run). A check returns what the report shows (a string or a small dict) and
raises when something is wrong: ``Unhealthy`` to show its own detail, any
other exception to show its class name.

A check that is slow to answer (asking the Celery workers waits for their
replies) keeps its result for ``cache_seconds`` in each process: at most one
request per period waits for it, every other one answers at once.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


class Unhealthy(Exception):
    """The check ran and found a fault; ``detail`` is what the report shows."""

    def __init__(self, detail):
        super().__init__(detail)
        self.detail = detail


@dataclass
class _Kept:
    lock: threading.Lock = field(default_factory=threading.Lock)
    result: tuple[bool, object] | None = None
    at: float = 0.0


@dataclass(frozen=True)
class HealthCheck:
    name: str
    run: Callable[[], object]
    order: int
    # Seconds a result is kept (0: run on every request). A callable is read when the check runs.
    cache_seconds: float | Callable[[], float] = 0
    kept: _Kept = field(default_factory=_Kept, compare=False, repr=False)


_checks: dict[str, HealthCheck] = {}


def register_check(
    *,
    name: str,
    run: Callable[[], object],
    order: int,
    cache_seconds: float | Callable[[], float] = 0,
) -> None:
    _checks[name] = HealthCheck(name=name, run=run, order=order, cache_seconds=cache_seconds)


def check_names() -> list[str]:
    return [check.name for check in sorted(_checks.values(), key=lambda c: c.order)]


def forget_kept_results() -> None:
    """Every check runs afresh on its next call (tests, and after a change of settings)."""
    for check in _checks.values():
        with check.kept.lock:
            check.kept.result = None


def _run(check: HealthCheck) -> tuple[bool, object]:
    try:
        return True, check.run()
    except Unhealthy as exc:
        logger.warning("health check %s: %s", check.name, exc.detail)
        return False, exc.detail
    except Exception as exc:  # noqa: BLE001 - any failure is the answer here
        logger.warning("health check %s failed: %s", check.name, exc)
        return False, f"error: {exc.__class__.__name__}"


def _run_kept(check: HealthCheck) -> tuple[bool, object]:
    seconds = check.cache_seconds() if callable(check.cache_seconds) else check.cache_seconds
    if seconds <= 0:
        return _run(check)
    kept = check.kept
    if kept.result is not None and time.monotonic() - kept.at < seconds:
        return kept.result
    # One refresh at a time: a request arriving meanwhile answers with the last result.
    if not kept.lock.acquire(blocking=kept.result is None):
        return kept.result
    try:
        if kept.result is None or time.monotonic() - kept.at >= seconds:
            kept.result, kept.at = _run(check), time.monotonic()
        return kept.result
    finally:
        kept.lock.release()


def run_checks(names: list[str] | None = None) -> tuple[bool, dict]:
    """Run the named checks (unknown names are ignored), or every check when
    none is named. Returns whether all passed, and the report."""
    selected = [_checks[name] for name in check_names() if name in (names or ())]
    if not selected:
        selected = [_checks[name] for name in check_names()]
    healthy, report = True, {}
    for check in selected:
        passed, report[check.name] = _run_kept(check)
        healthy = healthy and passed
    return healthy, report


# --- The core's checks ------------------------------------------------------


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _ping(url: str, timeout: float) -> str:
    if not url:
        return "not configured"
    redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout).ping()
    return "ok"


def _check_redis() -> str:
    """The Celery broker."""
    return _ping(settings.REDIS_URL, timeout=2)


def _check_cache() -> str:
    """The shared cache: down, the portal works on, slower (it fails open)."""
    return _ping(settings.CACHE_URL, timeout=1)


def _check_workers() -> str:
    """A worker consumes the portal's own queue (another app's workers on the
    same Redis do not count)."""
    from concertation.celery import app

    if app.conf.task_always_eager:
        return "in-process"
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    replies = app.control.inspect(timeout=1.0).active_queues() or {}
    workers = [name for name, queues in replies.items() if any(q.get("name") == queue for q in queues or [])]
    if not workers:
        raise Unhealthy(f"error: no worker consumes the queue {queue} ({len(replies)} other worker(s) answered)")
    return f"ok ({len(workers)} worker(s) on {queue})"


register_check(name="database", run=_check_database, order=10)
register_check(name="redis", run=_check_redis, order=20)
register_check(name="cache", run=_check_cache, order=30)
register_check(name="celery", run=_check_workers, order=40, cache_seconds=lambda: settings.HEALTHZ_WORKER_CHECK_SECONDS)
