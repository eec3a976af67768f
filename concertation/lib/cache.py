"""A Redis cache that fails open.

The cache only spares work: when Redis cannot be reached, a read is a miss, a
write is skipped, and the portal goes on from the database, slower but whole
(sessions are read from the database, pages are computed again, the login
rate limits let everyone through). The first failure is logged, then at most
one warning a minute per process.

After a failure the process leaves Redis alone for ``retry_after`` seconds, so
that an unreachable server costs one short timeout, not one per cache call.
The keys it could not write or delete meanwhile (a session ended, the version
number of the feedback pages moved on) would be stale once Redis is back:
they are deleted before anything else is read, and the whole cache is cleared
if there were too many to list. This cache must therefore have a Redis
database of its own (``CACHE_URL``), never the Celery broker's.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# A server restarting answers BusyLoadingError, a subclass of ConnectionError.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
_UNREACHED = object()


class _ServerState:
    """What the threads of this process know about one Redis server."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.logged_at: float | None = None
        self.missed_keys: set[str] = set()
        self.clear_when_back = False


_states: dict[tuple[str, ...], _ServerState] = {}
_states_lock = threading.Lock()


def _state_for(servers) -> _ServerState:
    key = tuple(servers)
    with _states_lock:
        return _states.setdefault(key, _ServerState())


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache whose operations survive an unreachable server.

    ``OPTIONS`` are those of Django's backend; short socket timeouts are the
    default here, so that a server that does not answer costs under a second.
    """

    retry_after = 5.0  # seconds without trying once the server failed
    log_interval = 60.0  # seconds between two warnings
    max_missed_keys = 10_000  # beyond this, the whole cache is cleared when the server is back

    def __init__(self, server, params):
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
        self._state = _state_for(self._servers)

    # --- the fail-open wrapper ----------------------------------------------

    def _attempt(self, operation, fallback, written=()):
        """Run ``operation``; when the server cannot be reached, return
        ``fallback`` and remember the keys it would have ``written``."""
        state = self._state
        if state.down_since is not None and time.monotonic() < state.retry_at:
            self._missed(written)
            return fallback
        try:
            if state.missed_keys or state.clear_when_back:
                self._forget_missed()
            result = operation()
        except UNREACHABLE as exc:
            self._failed(exc)
            self._missed(written)
            return fallback
        if state.down_since is not None:
            self._recovered()
        return result

    def _missed(self, keys) -> None:
        if not keys:
            return
        state = self._state
        with state.lock:
            state.missed_keys.update(keys)
            if len(state.missed_keys) > self.max_missed_keys:
                state.missed_keys.clear()
                state.clear_when_back = True

    def _failed(self, exc: Exception) -> None:
        state, now = self._state, time.monotonic()
        with state.lock:
            state.down_since = state.down_since or now
            state.retry_at = now + self.retry_after
            log = state.logged_at is None or now - state.logged_at >= self.log_interval
            if log:
                state.logged_at = now
        if log:
            logger.warning(
                "cache %s unreachable, pages are served without it: %s: %s",
                ",".join(self._servers),
                exc.__class__.__name__,
                exc,
            )

    def _forget_missed(self) -> None:
        """Before anything is read: delete what was written while the server
        could not be reached (or clear everything, when it was too much)."""
        state = self._state
        with state.lock:
            keys, clear = list(state.missed_keys), state.clear_when_back
            state.missed_keys.clear()
            state.clear_when_back = False
        try:
            if clear:
                self._cache.clear()
            elif keys:
                self._cache.delete_many(keys)
        except UNREACHABLE:
            with state.lock:
                state.missed_keys.update(keys)
                state.clear_when_back = state.clear_when_back or clear
            raise

    def _recovered(self) -> None:
        state = self._state
        with state.lock:
            down_since, state.down_since = state.down_since, None
        if down_since is not None:
            logger.info("cache %s reachable again after %.0f s", ",".join(self._servers), time.monotonic() - down_since)

    # --- Django's cache API -------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        # True, as if stored: callers that lock with add() (allauth's rate limits) carry on.
        return self._attempt(lambda: self._cache.add(key, value, self.get_backend_timeout(timeout)), True, [key])

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._attempt(lambda: self._cache.get(key, default), default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        self._attempt(lambda: self._cache.set(key, value, self.get_backend_timeout(timeout)), None, [key])

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._attempt(lambda: self._cache.touch(key, self.get_backend_timeout(timeout)), False)

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._attempt(lambda: self._cache.delete(key), False, [key])

    def get_many(self, keys, version=None):
        return self._attempt(lambda: super(FailOpenRedisCache, self).get_many(keys, version=version), {})

    def has_key(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._attempt(lambda: self._cache.has_key(key), False)

    def incr(self, key, delta=1, version=None):
        made = self.make_and_validate_key(key, version=version)
        result = self._attempt(lambda: self._cache.incr(made, delta), _UNREACHED, [made])
        if result is _UNREACHED:
            raise ValueError(f"Key '{key}' not found (the cache is unreachable).")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        if not data:
            return []
        keys = [self.make_and_validate_key(key, version=version) for key in data]
        return self._attempt(
            lambda: super(FailOpenRedisCache, self).set_many(data, timeout, version=version), list(data), keys
        )

    def delete_many(self, keys, version=None):
        keys = list(keys)
        if not keys:
            return
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        self._attempt(lambda: self._cache.delete_many(made), None, made)

    def clear(self):
        def clear_now():
            with self._state.lock:
                self._state.missed_keys.clear()
                self._state.clear_when_back = False
            return self._cache.clear()

        result = self._attempt(clear_now, _UNREACHED)
        if result is _UNREACHED:
            with self._state.lock:
                self._state.clear_when_back = True
            return False
        return result
