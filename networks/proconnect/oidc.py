"""What ProConnect's OpenID Connect needs beyond allauth: the discovery document, the keys,
and the verification of the signed JWTs it returns (the id_token and the user information).

Every call goes through allauth's requests session, which carries the timeout of
``SOCIALACCOUNT_REQUESTS_TIMEOUT``. Errors are ``ProConnectError`` with a short reason of
our own: neither a token nor a person's data ever goes into one (they are logged).
"""

import hmac
import json

import jwt
import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error

# ProConnect signs with the algorithm chosen when the service is registered: the portal asks for RS256.
ALGORITHMS = ("RS256",)
# Clock difference allowed between ProConnect and the portal, in seconds.
LEEWAY_SECONDS = 60
# Endpoints the discovery document must name.
REQUIRED_ENDPOINTS = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


class ProConnectError(OAuth2Error):
    """A refused answer from ProConnect; the message is a reason fit for the logs."""


def _get(url: str, **kwargs) -> requests.Response:
    with get_adapter().get_requests_session() as session:
        response = session.get(url, **kwargs)
    response.raise_for_status()
    return response


def _json_object(response: requests.Response, what: str) -> dict:
    try:
        data = response.json()
    except ValueError:
        raise ProConnectError(f"{what} is not JSON") from None
    if not isinstance(data, dict):
        raise ProConnectError(f"{what} is not a JSON object")
    return data


def fetch_configuration(discovery_url: str) -> dict:
    """The discovery document, with the endpoints the code flow needs."""
    config = _json_object(_get(discovery_url), "the discovery document")
    missing = [key for key in REQUIRED_ENDPOINTS if not isinstance(config.get(key), str) or not config[key]]
    if missing:
        raise ProConnectError(f"the discovery document lacks {', '.join(missing)}")
    return config


def fetch_keys(jwks_uri: str) -> list[dict]:
    keys = _json_object(_get(jwks_uri), "the key set").get("keys")
    if not isinstance(keys, list):
        raise ProConnectError("the key set has no keys")
    return [key for key in keys if isinstance(key, dict)]


def fetch_userinfo(userinfo_endpoint: str, access_token: str) -> str:
    """The user information: a JWT (``application/jwt``), returned undecoded."""
    response = _get(userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"})
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != "application/jwt":
        raise ProConnectError(f"the user information is {content_type or 'untyped'}, not a signed JWT")
    return response.text.strip()


def _signing_key(token: str, keys: list[dict], what: str):
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise ProConnectError(f"the {what} is not a JWT") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise ProConnectError(f"the {what} is signed with {algorithm!r}, not {' or '.join(ALGORITHMS)}")
    kid = header.get("kid")
    candidates = [key for key in keys if key.get("use", "sig") == "sig" and key.get("kty") == "RSA"]
    if kid is not None:
        candidates = [key for key in candidates if key.get("kid") == kid]
    if len(candidates) != 1:
        raise ProConnectError(f"the {what} is signed by a key that is not ProConnect's")
    try:
        return jwt.PyJWK(candidates[0], algorithm=algorithm).key, algorithm
    except jwt.PyJWTError:
        raise ProConnectError("ProConnect's key cannot be read") from None


def verify(
    token: str, *, keys: list[dict], issuer: str, audience: str, what: str, require: tuple[str, ...] = ()
) -> dict:
    """The claims of a JWT signed by one of ``keys``, issued by ``issuer`` for ``audience``.

    The signature, ``iss``, ``aud`` and ``sub`` are always checked; ``exp`` and ``iat``
    whenever present, and ``require`` makes them (or others) mandatory.
    """
    key, algorithm = _signing_key(token, keys, what)
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
        raise ProConnectError(f"the {what} has expired") from None
    except jwt.InvalidSignatureError:
        raise ProConnectError(f"the {what}'s signature is wrong") from None
    except jwt.InvalidAudienceError:
        raise ProConnectError(f"the {what} is meant for another service") from None
    except jwt.InvalidIssuerError:
        raise ProConnectError(f"the {what} comes from another issuer") from None
    except jwt.PyJWTError as exc:
        raise ProConnectError(f"the {what} is refused ({type(exc).__name__})") from None
    # With several audiences, the authorised party must be the portal (OpenID Connect Core 3.1.3.7).
    if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and claims.get("azp") != audience:
        raise ProConnectError(f"the {what} names another authorised party")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise ProConnectError(f"the {what} has no subject")
    return claims


def same(a, b) -> bool:
    """Constant-time comparison of two strings (a nonce, a subject)."""
    return isinstance(a, str) and isinstance(b, str) and hmac.compare_digest(a.encode(), b.encode())


def acr_claims_parameter(acr_values: list[str]) -> str:
    """The ``claims`` request parameter that requires one of ``acr_values`` in the id_token."""
    return json.dumps({"id_token": {"acr": {"essential": True, "values": list(acr_values)}}}, separators=(",", ":"))
