"""A fake ProConnect for the tests: an OpenID Connect provider on loopback, in a thread.

It serves what the portal uses, the way ProConnect does: the discovery document, the
authorization endpoint (which answers at once, as if the person had signed in, by sending
the browser back with a code and the state), the token endpoint (client_secret_post, PKCE
S256 when asked, an RS256 id_token carrying the nonce), the key set, the user information
as an RS256 JWT (``application/jwt``) and the end of session. It checks the requests as
ProConnect would (registered redirect URIs, state and nonce of at least 32 characters, no
unknown parameter, single-use codes) and records them for the tests' assertions.

``misbehave`` holds what it should get wrong: ``wrong_nonce``, ``expired_id_token``,
``wrong_audience``, ``bad_signature`` (the id_token signed by another key under the right
key id), ``userinfo_unknown_key`` (the user information signed by a key it does not
publish), ``sub_mismatch``, ``userinfo_json`` (plain JSON instead of a JWT), ``deny``
(the person refuses: ``error=access_denied``).

``delay`` makes each call from the portal (discovery, token, key set, user information)
wait that many seconds before answering, like a slow ProConnect, and ``delays`` one call
more or less (by the name ``calls`` counts it under); ``trickle`` sends the user
information's body one byte every that many seconds; ``calls`` counts the portal's calls by
endpoint. ``rotate_key`` publishes a new key and signs with it from then on.
"""

import base64
import hashlib
import json
import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "cle-de-test"
AUTHORIZE_PARAMETERS = {
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "claims",
    "prompt",
    "idp_hint",
    "login_hint",
    "acr_values",
    "code_challenge",
    "code_challenge_method",
}

# The endpoints the portal calls itself, by the name ``calls`` counts them under.
PORTAL_CALLS = {
    "/.well-known/openid-configuration": "discovery",
    "/token": "token",
    "/jwks": "jwks",
    "/userinfo": "userinfo",
}


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeProConnect:
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    key: rsa.RSAPrivateKey
    other_key: rsa.RSAPrivateKey
    email: str = "camille.agent@ministere.gouv.fr"
    sub: str = "sub-camille-0001"
    acr: str = "eidas1"
    misbehave: set = field(default_factory=set)
    delay: float = 0.0
    delays: dict = field(default_factory=dict)
    trickle: float = 0.0
    kid: str = KID
    calls: Counter = field(default_factory=Counter)
    retired_keys: list = field(default_factory=list)
    authorize_requests: list = field(default_factory=list)
    token_requests: list = field(default_factory=list)
    userinfo_requests: int = 0
    end_session_requests: list = field(default_factory=list)
    id_tokens: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    _codes: dict = field(default_factory=dict)
    _access_tokens: set = field(default_factory=set)

    # --- Life ---------------------------------------------------------------------------

    def start(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                provider._handle(self, "GET")

            def do_POST(self):
                provider._handle(self, "POST")

            def log_message(self, *args):
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v2"

    @property
    def discovery_url(self) -> str:
        return self.url + "/.well-known/openid-configuration"

    # --- Tokens -------------------------------------------------------------------------

    @staticmethod
    def jwk(key, kid: str) -> dict:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        return {**public, "kid": kid, "use": "sig", "alg": "RS256"}

    def published_keys(self) -> list[dict]:
        return [self.jwk(self.key, self.kid)] + [self.jwk(key, kid) for key, kid in self.retired_keys]

    def rotate_key(self, key, kid: str) -> None:
        """A new signing key, published beside the previous one."""
        self.retired_keys.append((self.key, self.kid))
        self.key, self.kid = key, kid

    def sign(self, claims: dict, *, key=None, kid: str | None = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": self.sub,
            "aud": "un-autre-service" if "wrong_audience" in self.misbehave else self.client_id,
            "iat": now - 3600 if "expired_id_token" in self.misbehave else now,
            "exp": now - 600 if "expired_id_token" in self.misbehave else now + 60,
            "nonce": secrets.token_urlsafe(32) if "wrong_nonce" in self.misbehave else nonce,
            "acr": self.acr,
            "amr": ["pwd"],
            "idp_id": "fia1v2",
        }
        key = self.other_key if "bad_signature" in self.misbehave else self.key
        token = self.sign(claims, key=key)
        self.id_tokens.append(token)
        return token

    def _userinfo(self) -> dict:
        now = int(time.time())
        return {
            "iss": self.url,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 60,
            "sub": "sub-quelquun-dautre" if "sub_mismatch" in self.misbehave else self.sub,
            "email": self.email,
            "given_name": "Camille",
            "usual_name": "Agent",
            "uid": "1234",
            "siret": "11002001300097",
            "idp_id": "fia1v2",
        }

    # --- Endpoints ----------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str):
        parts = urlsplit(request.path)
        path = parts.path.removeprefix("/api/v2")
        query = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/authorize"): self._authorize,
            ("POST", "/token"): self._token,
            ("GET", "/jwks"): self._jwks,
            ("GET", "/userinfo"): self._userinfo_endpoint,
            ("GET", "/session/end"): self._end_session,
        }
        handler = routes.get((method, path))
        if handler is None:
            return _send(request, 404, {"error": "not_found"})
        if path in PORTAL_CALLS:  # the portal's own calls, not the browser's visits
            self.calls[PORTAL_CALLS[path]] += 1
            time.sleep(self.delays.get(PORTAL_CALLS[path], self.delay))
        try:
            return handler(request, query)
        except (BrokenPipeError, ConnectionResetError):
            return None  # the portal stopped waiting

    def _refuse(self, request, reason: str, status: int = 400):
        self.errors.append(reason)
        return _send(request, status, {"error": "invalid_request", "error_description": reason})

    def _discovery(self, request, query):
        return _send(
            request,
            200,
            {
                "issuer": self.url,
                "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token",
                "userinfo_endpoint": self.url + "/userinfo",
                "jwks_uri": self.url + "/jwks",
                "end_session_endpoint": self.url + "/session/end",
                "scopes_supported": ["openid", "email", "given_name", "usual_name", "uid", "siret", "idp_id"],
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "userinfo_signing_alg_values_supported": ["RS256"],
                "acr_values_supported": ["eidas1", "eidas2", "eidas3"],
            },
        )

    def _authorize(self, request, query):
        self.authorize_requests.append(query)
        unknown = set(query) - AUTHORIZE_PARAMETERS
        if unknown:
            return self._refuse(request, f"unknown parameters {sorted(unknown)}")
        if query.get("client_id") != self.client_id or query.get("redirect_uri") != self.redirect_uri:
            return self._refuse(request, "unknown client or redirect_uri")
        if query.get("response_type") != "code":
            return self._refuse(request, "response_type must be code")
        if "openid" not in query.get("scope", "").split():
            return self._refuse(request, "the openid scope is missing")
        if len(query.get("state", "")) < 32 or len(query.get("nonce", "")) < 32:
            return self._refuse(request, "state and nonce need 32 characters")
        if "deny" in self.misbehave:
            return _redirect(request, self.redirect_uri, {"error": "access_denied", "state": query["state"]})
        code = secrets.token_urlsafe(24)
        self._codes[code] = query
        return _redirect(request, self.redirect_uri, {"code": code, "state": query["state"]})

    def _token(self, request, query):
        length = int(request.headers.get("Content-Length") or 0)
        form = {name: values[-1] for name, values in parse_qs(request.rfile.read(length).decode()).items()}
        self.token_requests.append(form)
        authorization = self._codes.pop(form.get("code", ""), None)
        if authorization is None:
            return self._refuse(request, "unknown or used code")
        if form.get("grant_type") != "authorization_code" or form.get("redirect_uri") != self.redirect_uri:
            return self._refuse(request, "wrong grant_type or redirect_uri")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return self._refuse(request, "wrong client credentials", status=401)
        if authorization.get("code_challenge"):
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != authorization["code_challenge"]:
                return self._refuse(request, "wrong code_verifier")
        access_token = secrets.token_urlsafe(32)
        self._access_tokens.add(access_token)
        return _send(
            request,
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 60,
                "id_token": self._id_token(authorization["nonce"]),
            },
        )

    def _jwks(self, request, query):
        return _send(request, 200, {"keys": self.published_keys()})

    def _userinfo_endpoint(self, request, query):
        self.userinfo_requests += 1
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self._access_tokens:
            return self._refuse(request, "unknown access token", status=401)
        claims = self._userinfo()
        if "userinfo_json" in self.misbehave:
            return _send(request, 200, claims)
        if "userinfo_unknown_key" in self.misbehave:
            body = self.sign(claims, key=self.other_key, kid="cle-inconnue")
        else:
            body = self.sign(claims)
        return _send(request, 200, body.encode(), content_type="application/jwt", trickle=self.trickle)

    def _end_session(self, request, query):
        self.end_session_requests.append(query)
        if query.get("post_logout_redirect_uri") != self.post_logout_redirect_uri:
            return self._refuse(request, "unknown post_logout_redirect_uri")
        if query.get("id_token_hint") not in self.id_tokens or len(query.get("state", "")) < 32:
            return self._refuse(request, "id_token_hint and state are required")
        return _redirect(request, self.post_logout_redirect_uri, {"state": query["state"]})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # The portal giving up on a slow answer is what some tests want.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def _send(request, status: int, body, content_type: str = "application/json", trickle: float = 0.0):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    if not trickle:
        request.wfile.write(body)
        return
    request.wfile.flush()
    for byte in body:
        request.wfile.write(bytes([byte]))
        request.wfile.flush()
        time.sleep(trickle)


def _redirect(request, url: str, params: dict):
    request.send_response(302)
    request.send_header("Location", f"{url}{'&' if '?' in url else '?'}{urlencode(params)}")
    request.send_header("Content-Length", "0")
    request.end_headers()
