"""ProConnect as an allauth provider: OpenID Connect's authorization code flow, with a state
(allauth's, 43 characters here), a nonce kept with it in the session, and PKCE when the
discovery document offers S256.

The browser is not sent on with a redirect from the POST that starts the sign-in: the
portal's Content-Security-Policy (``form-action 'self'``) makes Chrome and Safari refuse
any redirect away from the portal after a form is sent. A page that moves on by itself
(``<meta http-equiv="refresh">``, with a link for the rest) starts a new navigation instead.
"""

import secrets

from allauth.account.models import EmailAddress
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.base import ProviderAccount
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from allauth.socialaccount.providers.oauth2.utils import generate_code_challenge
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from requests import RequestException

from networks.proconnect import oidc
from networks.proconnect.views import ProConnectOAuth2Adapter

# ProConnect's scopes: no "profile"; the claims are given_name, usual_name, email, uid, siret (and idp_id).
SCOPES = ["openid", "email", "given_name", "usual_name", "uid", "siret"]


class ProConnectAccount(ProviderAccount):
    def to_str(self) -> str:
        return "ProConnect"


class ProConnectProvider(OAuth2Provider):
    id = "proconnect"
    name = "ProConnect"
    account_class = ProConnectAccount
    oauth2_adapter_class = ProConnectOAuth2Adapter
    supports_token_authentication = False

    @property
    def discovery_url(self) -> str:
        return self.app.settings["server_url"]

    @property
    def acr_values(self) -> list[str]:
        return list(self.app.settings.get("acr_values") or [])

    def get_default_scope(self):
        return list(SCOPES)

    def get_scope(self):
        return list(SCOPES)

    def get_redirect_from_request_kwargs(self, request):
        # Only where to go afterwards: scopes and parameters are the portal's, never the request's.
        return super(OAuth2Provider, self).get_redirect_from_request_kwargs(request)

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        if process != AuthProcess.LOGIN:
            # Connecting ProConnect to the signed-in account, or any other use, is not offered.
            return render_authentication_error(request, self)
        adapter = self.get_oauth2_adapter(request)
        try:
            config = adapter.openid_config
        except (OAuth2Error, RequestException) as exc:
            return render_authentication_error(request, self, exception=exc)
        adapter.prefetch_keys()
        nonce = secrets.token_urlsafe(32)
        auth_params = {"nonce": nonce}
        if self.acr_values:
            auth_params["claims"] = oidc.acr_claims_parameter(self.acr_values)
        code_verifier = None
        if "S256" in (config.get("code_challenge_methods_supported") or []):
            pkce = generate_code_challenge()
            code_verifier = pkce.pop("code_verifier")
            auth_params.update(pkce)
        state_id = self.stash_redirect_state(
            request, process, next_url, data, pkce_code_verifier=code_verifier, nonce=nonce
        )
        client = adapter.get_client(request, self.app)
        client.state = state_id
        url = client.get_redirect_url(adapter.authorize_url, self.get_scope(), auth_params)
        response = render(request, "proconnect/redirect.html", {"url": url, "leaving": "login"})
        add_never_cache_headers(response)
        return response

    def extract_uid(self, data):
        return str(data["userinfo"]["sub"])

    def extract_extra_data(self, data):
        # Only which identity provider answered: the person's data stay in the account.
        return {"idp_id": data["userinfo"].get("idp_id", "")}

    def extract_common_fields(self, data):
        userinfo = data["userinfo"]
        return {
            "email": userinfo.get("email"),
            "first_name": userinfo.get("given_name"),
            "last_name": userinfo.get("usual_name"),
        }

    def extract_email_addresses(self, data):
        email = data["userinfo"].get("email")
        # ProConnect gives the professional address its identity provider vouches for. Only plain
        # ASCII is taken, as it came: lower-casing « K » (the Kelvin sign) would give « k ».
        if not isinstance(email, str) or not email.isascii():
            return []
        return [EmailAddress(email=email, verified=True, primary=True)]


provider_classes = [ProConnectProvider]
