"""What ProConnect's OpenID Connect needs beyond allauth: the discovery document, the keys,
the exchange of the code, the user information, and the verification of the signed JWTs
ProConnect returns (the id_token and the user information).

Time. Each request to the portal that calls ProConnect (the start of a sign-in, the return
from ProConnect) has a ``Budget``: ``SOCIALACCOUNT_REQUESTS_TIMEOUT`` (``PROCONNECT_TIMEOUT_SECONDS``)
per call, twice that for all the calls together, and never more than ``MAX_BUDGET_SECONDS``.
Each call gets ``timeout=(connect, read)`` from what is left, and the answer is read piece by
piece against the same deadline; once it has passed, the sign-in is refused ("time budget
spent") instead of holding the web server's thread.

Cache. The discovery document and the key set are kept in Django's cache for
``CACHE_SECONDS`` (with the cache unreachable, they are fetched every time). A JWT signed
under a key id the kept key set does not have makes us fetch the key set once more (ProConnect
rotated its keys), at most once every ``JWKS_REFETCH_SECONDS``, so that forged key ids do not
turn into a stream of requests to ProConnect.

Errors are ``ProConnectError``: the stage that failed (``DISCOVERY``, ``TOKEN``, ``JWKS``,
``USERINFO``, ``ID_TOKEN``), a short reason of our own, and the HTTP status when there is one.
Neither a token, a code nor a person's data ever goes into one: they are logged.
"""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import jwt
import requests
from allauth.socialaccount import app_settings as socialaccount_settings
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.core.cache import cache
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

# ProConnect signs with the algorithm chosen when the service is registered: the portal asks for RS256.
ALGORITHMS = ("RS256",)
# Clock difference allowed between ProConnect and the portal, in seconds.
LEEWAY_SECONDS = 60
# Endpoints the discovery document must name.
REQUIRED_ENDPOINTS = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")

# Seconds the discovery document and the key set stay in the cache.
CACHE_SECONDS = 3600
# At most one new fetch of a cached key set in this many seconds, for a key id it lacks.
JWKS_REFETCH_SECONDS = 60
# Seconds allowed to open a connection to ProConnect (within the budget).
CONNECT_TIMEOUT_SECONDS = 3
# The most one request to the portal waits for ProConnect, all calls together: well under
# gunicorn's timeout (30 s, its default; past it a sync worker is killed mid-request), with time
# left for the rest of the request, and a wait a person still sits through.
MAX_BUDGET_SECONDS = 20
# Below this, what is left of the budget is not worth a call.
MIN_CALL_SECONDS = 0.05
# ProConnect's answers weigh a few kilobytes.
MAX_ANSWER_BYTES = 1_000_000

# The stages of a sign-in, as the logs name them.
DISCOVERY = "discovery"
TOKEN = "token"  # noqa: S105 - the name of a stage, not a secret
JWKS = "jwks"
USERINFO = "userinfo"
ID_TOKEN = "id_token check"  # noqa: S105 - the name of a stage, not a secret
_ANSWERS = {
    DISCOVERY: "the discovery document",
    TOKEN: "the token endpoint",
    JWKS: "the key set",
    USERINFO: "the user information endpoint",
}


class ProConnectError(OAuth2Error):
    """A refused answer from ProConnect: the stage, and a reason fit for the logs."""

    def __init__(self, stage: str, reason: str, status: int | None = None):
        super().__init__(reason)
        self.stage = stage
        self.status = status


class Budget:
    """The time one request to the portal may spend waiting for ProConnect."""

    def __init__(self, total: float | None = None):
        self.per_call = float(socialaccount_settings.REQUESTS_TIMEOUT)
        self.total = float(total) if total is not None else min(2 * self.per_call, MAX_BUDGET_SECONDS)
        self.deadline = time.monotonic() + self.total

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self, stage: str) -> float:
        """What is left of the budget; refuses once it is spent."""
        remaining = self.remaining()
        if remaining < MIN_CALL_SECONDS:
            raise ProConnectError(stage, "time budget spent")
        return remaining

    def timeout(self, stage: str) -> tuple[float, float]:
        """``(connect, read)`` for the next call."""
        remaining = self.check(stage)
        return min(CONNECT_TIMEOUT_SECONDS, remaining), min(self.per_call, remaining)


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def json_object(self, stage: str) -> dict:
        try:
            data = json.loads(self.body)
        except ValueError:
            raise ProConnectError(stage, f"{_ANSWERS[stage]} is not JSON", self.status) from None
        if not isinstance(data, dict):
            raise ProConnectError(stage, f"{_ANSWERS[stage]} is not a JSON object", self.status)
        return data


def _shorten_read_timeout(response: requests.Response, seconds: float) -> None:
    """The next read from ProConnect waits ``seconds`` at most."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _read(response: requests.Response, budget: Budget, stage: str) -> bytes:
    """The answer's body, read against the budget's deadline (one system call at a time, so that
    an answer that trickles in cannot stretch the wait)."""
    body = bytearray()
    while True:
        _shorten_read_timeout(response, min(budget.per_call, budget.check(stage)))
        chunk = response.raw.read1(65536)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise ProConnectError(stage, f"{_ANSWERS[stage]} is larger than {MAX_ANSWER_BYTES} bytes")


def _failure(stage: str, exc: Exception, budget: Budget, timeout: tuple[float, float]) -> ProConnectError:
    if budget.remaining() < MIN_CALL_SECONDS:
        return ProConnectError(stage, "time budget spent")
    if isinstance(exc, requests.ConnectTimeout):
        return ProConnectError(stage, f"{_ANSWERS[stage]} cannot be reached within {timeout[0]:g} s")
    if isinstance(exc, (requests.ReadTimeout, ReadTimeoutError)) or (
        exc.args and isinstance(exc.args[0], ReadTimeoutError)
    ):
        return ProConnectError(stage, f"{_ANSWERS[stage]} gave no answer within {timeout[1]:g} s")
    return ProConnectError(stage, f"{_ANSWERS[stage]} cannot be reached ({type(exc).__name__})")


def request(method: str, url: str, *, stage: str, budget: Budget, ok=(200,), **kwargs) -> Answer:
    """One call to ProConnect, within the budget; an answer whose status is not in ``ok`` is refused."""
    timeout = budget.timeout(stage)
    try:
        with (
            get_adapter().get_requests_session() as session,
            session.request(method, url, timeout=timeout, stream=True, **kwargs) as response,
        ):
            if response.status_code not in ok:
                status = response.status_code
                raise ProConnectError(stage, f"{_ANSWERS[stage]} answered HTTP {status}", status)
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return Answer(response.status_code, content_type, _read(response, budget, stage))
    except (requests.RequestException, Urllib3Error, OSError) as exc:
        raise _failure(stage, exc, budget, timeout) from None


def _cache_key(kind: str, url: str) -> str:
    return f"proconnect:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def _missing_endpoints(config: dict) -> list[str]:
    return [key for key in REQUIRED_ENDPOINTS if not isinstance(config.get(key), str) or not config[key]]


def fetch_configuration(discovery_url: str, budget: Budget) -> dict:
    """The discovery document, with the endpoints the code flow needs."""
    config = request("GET", discovery_url, stage=DISCOVERY, budget=budget).json_object(DISCOVERY)
    missing = _missing_endpoints(config)
    if missing:
        raise ProConnectError(DISCOVERY, f"the discovery document lacks {', '.join(missing)}")
    return config


def configuration(discovery_url: str, budget: Budget) -> dict:
    """The discovery document, from the cache when it has it."""
    key = _cache_key("discovery", discovery_url)
    config = cache.get(key)
    if isinstance(config, dict) and not _missing_endpoints(config):
        return config
    config = fetch_configuration(discovery_url, budget)
    cache.set(key, config, CACHE_SECONDS)
    return config


def fetch_keys(jwks_uri: str, budget: Budget) -> list[dict]:
    keys = request("GET", jwks_uri, stage=JWKS, budget=budget).json_object(JWKS).get("keys")
    if not isinstance(keys, list):
        raise ProConnectError(JWKS, "the key set has no keys")
    return [key for key in keys if isinstance(key, dict)]


class KeySet:
    """ProConnect's public keys: from the cache when it has them, fetched again (rarely) when
    a JWT names a key they lack."""

    def __init__(self, jwks_uri: str, budget: Budget):
        self.jwks_uri = jwks_uri
        self.budget = budget
        self._keys: list[dict] | None = None
        self.fetched = False  # whether this request fetched them

    def keys(self) -> list[dict]:
        if self._keys is None:
            cached = cache.get(_cache_key("jwks", self.jwks_uri))
            if isinstance(cached, list):
                self._keys = cached
            else:
                self._fetch()
        return self._keys

    def refetch(self) -> bool:
        """Fetch the key set again, unless this request has just fetched it or another request
        did so less than ``JWKS_REFETCH_SECONDS`` ago. Whether the keys are new."""
        if self.fetched or not cache.add(_cache_key("jwks-refetch", self.jwks_uri), True, JWKS_REFETCH_SECONDS):
            return False
        self._fetch()
        return True

    def _fetch(self) -> None:
        self._keys = fetch_keys(self.jwks_uri, self.budget)
        self.fetched = True
        cache.set(_cache_key("jwks", self.jwks_uri), self._keys, CACHE_SECONDS)


def exchange_code(token_endpoint: str, form: dict, budget: Budget) -> dict:
    """The token endpoint's answer to the code (``client_secret_post``): an access token and an id_token."""
    answer = request("POST", token_endpoint, stage=TOKEN, budget=budget, ok=(200, 201), data=form)
    data = answer.json_object(TOKEN)
    if not isinstance(data.get("access_token"), str) or not data["access_token"]:
        raise ProConnectError(TOKEN, "the token endpoint gave no access token", answer.status)
    if not isinstance(data.get("expires_in", 0), int):
        raise ProConnectError(TOKEN, "the token endpoint gave an unreadable expires_in", answer.status)
    return data


def fetch_userinfo(userinfo_endpoint: str, access_token: str, budget: Budget) -> str:
    """The user information: a JWT (``application/jwt``), returned undecoded."""
    headers = {"Authorization": f"Bearer {access_token}"}
    answer = request("GET", userinfo_endpoint, stage=USERINFO, budget=budget, headers=headers)
    if answer.content_type != "application/jwt":
        raise ProConnectError(USERINFO, f"the user information is {answer.content_type or 'untyped'}, not a signed JWT")
    try:
        return answer.body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise ProConnectError(USERINFO, "the user information is not a JWT") from None


def _candidates(keys: list[dict], kid) -> list[dict]:
    candidates = [key for key in keys if key.get("use", "sig") == "sig" and key.get("kty") == "RSA"]
    if kid is not None:
        candidates = [key for key in candidates if key.get("kid") == kid]
    return candidates


def _signing_key(token: str, keys: KeySet, what: str, stage: str):
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise ProConnectError(stage, f"the {what} is not a JWT") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise ProConnectError(stage, f"the {what} is signed with {algorithm!r}, not {' or '.join(ALGORITHMS)}")
    kid = header.get("kid")
    candidates = _candidates(keys.keys(), kid)
    if not candidates and keys.refetch():
        # ProConnect may have published a new key since the key set was cached.
        candidates = _candidates(keys.keys(), kid)
    if len(candidates) != 1:
        raise ProConnectError(stage, f"the {what} is signed by a key that is not ProConnect's")
    try:
        return jwt.PyJWK(candidates[0], algorithm=algorithm).key, algorithm
    except jwt.PyJWTError:
        raise ProConnectError(stage, "ProConnect's key cannot be read") from None


def verify(
    token: str,
    *,
    keys: KeySet,
    issuer: str,
    audience: str,
    what: str,
    stage: str,
    require: tuple[str, ...] = (),
) -> dict:
    """The claims of a JWT signed by one of ``keys``, issued by ``issuer`` for ``audience``.

    The signature, ``iss``, ``aud`` and ``sub`` are always checked; ``exp`` and ``iat``
    whenever present, and ``require`` makes them (or others) mandatory.
    """
    key, algorithm = _signing_key(token, keys, what, stage)
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "sub", *require], "verify_iat": True},
        )
    except jwt.ExpiredSignatureError:
        raise ProConnectError(stage, f"the {what} has expired") from None
    except jwt.InvalidSignatureError:
        raise ProConnectError(stage, f"the {what}'s signature is wrong") from None
    except jwt.InvalidAudienceError:
        raise ProConnectError(stage, f"the {what} is meant for another service") from None
    except jwt.InvalidIssuerError:
        raise ProConnectError(stage, f"the {what} comes from another issuer") from None
    except jwt.PyJWTError as exc:
        raise ProConnectError(stage, f"the {what} is refused ({type(exc).__name__})") from None
    # With several audiences, the authorised party must be the portal (OpenID Connect Core 3.1.3.7).
    if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and claims.get("azp") != audience:
        raise ProConnectError(stage, f"the {what} names another authorised party")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise ProConnectError(stage, f"the {what} has no subject")
    return claims


def same(a, b) -> bool:
    """Constant-time comparison of two strings (a nonce, a subject)."""
    return isinstance(a, str) and isinstance(b, str) and hmac.compare_digest(a.encode(), b.encode())


def acr_claims_parameter(acr_values: list[str]) -> str:
    """The ``claims`` request parameter that requires one of ``acr_values`` in the id_token."""
    return json.dumps({"id_token": {"acr": {"essential": True, "values": list(acr_values)}}}, separators=(",", ":"))
