"""ProConnect's views: the start of the sign-in (POST only), the return from ProConnect
(``redirect_uri``), and the page that hands a signed-out person to ProConnect's end of
session. All of them answer 404 while ProConnect is off (``PROCONNECT_ENABLED``)."""

import logging

from allauth.socialaccount.helpers import complete_social_login, render_authentication_error
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2Adapter, OAuth2CallbackView, OAuth2LoginView
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from requests import RequestException

from networks.proconnect import logout, oidc
from networks.proconnect.oidc import ProConnectError

logger = logging.getLogger("networks.proconnect")


class ProConnectOAuth2Adapter(OAuth2Adapter):
    provider_id = "proconnect"
    # ProConnect takes client_id and client_secret in the token request's body.
    basic_auth = False

    def __init__(self, request):
        super().__init__(request)
        # The time this request to the portal may spend waiting for ProConnect, all calls together.
        self.budget = oidc.Budget()

    @property
    def openid_config(self) -> dict:
        if not hasattr(self, "_openid_config"):
            self._openid_config = oidc.configuration(self.get_provider().discovery_url, self.budget)
        return self._openid_config

    @property
    def access_token_url(self):
        return self.openid_config["token_endpoint"]

    @property
    def authorize_url(self):
        return self.openid_config["authorization_endpoint"]

    @property
    def profile_url(self):
        return self.openid_config["userinfo_endpoint"]

    def prefetch_keys(self) -> None:
        """At the start of a sign-in, the key set the return from ProConnect will need, when the cache
        lacks it: the return then waits only for the code's exchange and the user information. A
        failure here is the return's to report."""
        try:
            oidc.KeySet(self.openid_config["jwks_uri"], self.budget).keys()
        except ProConnectError as exc:
            logger.info("ProConnect key set not fetched in advance (%s): %s.", exc.stage, exc)

    def get_callback_url(self, request, app):
        # The address registered with ProConnect, from the portal's own (never the request's Host).
        return settings.PORTAL_BASE_URL + reverse("proconnect_callback")

    def get_access_token_data(self, request, app, client, pkce_code_verifier=None):
        """The code exchanged at the token endpoint, within this request's budget (allauth's client
        has only the timeout of each call)."""
        form = {
            "grant_type": "authorization_code",
            "code": request.GET.get("code", ""),
            "redirect_uri": self.get_callback_url(request, app),
            "client_id": app.client_id,
            "client_secret": app.secret,
        }
        if pkce_code_verifier:
            form["code_verifier"] = pkce_code_verifier
        data = oidc.exchange_code(self.access_token_url, form, self.budget)
        self.did_fetch_access_token = True
        return data

    def complete_login(self, request, app, token, *, response, nonce=None, **kwargs):
        """Check the id_token and the signed user information, then build the social login."""
        config = self.openid_config
        raw_id_token = response.get("id_token")
        if not isinstance(raw_id_token, str) or not raw_id_token:
            raise ProConnectError(oidc.TOKEN, "the token endpoint gave no id_token")
        if not nonce:
            raise ProConnectError(oidc.ID_TOKEN, "no nonce was kept for this sign-in")
        keys = oidc.KeySet(config["jwks_uri"], self.budget)
        checks = {"keys": keys, "issuer": config["issuer"], "audience": app.client_id}
        id_token = oidc.verify(
            raw_id_token, what="id_token", stage=oidc.ID_TOKEN, require=("exp", "iat", "nonce"), **checks
        )
        if not oidc.same(id_token.get("nonce"), nonce):
            raise ProConnectError(oidc.ID_TOKEN, "the id_token's nonce is not this sign-in's")
        acr_values = app.settings.get("acr_values") or []
        if acr_values and id_token.get("acr") not in acr_values:
            raise ProConnectError(oidc.ID_TOKEN, "the id_token's assurance level is not one the portal requires")
        raw_userinfo = oidc.fetch_userinfo(self.profile_url, token.token, self.budget)
        userinfo = oidc.verify(raw_userinfo, what="user information", stage=oidc.USERINFO, **checks)
        if not oidc.same(userinfo["sub"], id_token["sub"]):
            raise ProConnectError(oidc.USERINFO, "the user information is about another subject than the id_token")
        login = self.get_provider().sociallogin_from_response(request, {"id_token": id_token, "userinfo": userinfo})
        login.proconnect_logout = {
            "id_token": raw_id_token,
            "end_session_endpoint": config.get("end_session_endpoint") or "",
        }
        return login


class ProConnectCallbackView(OAuth2CallbackView):
    """allauth's callback, which also hands the nonce kept with the state to ``complete_login``."""

    def dispatch(self, request, *args, **kwargs):
        provider = self.adapter.get_provider()
        state, response = self._get_state(request, provider)
        if response:
            return response
        if "error" in request.GET or "code" not in request.GET:
            cancelled = request.GET.get("error") == self.adapter.login_cancelled_error
            error = AuthError.CANCELLED if cancelled else AuthError.UNKNOWN
            return render_authentication_error(request, provider, error=error, extra_context={"state": state})
        app = provider.app
        try:
            # The client needs the token endpoint: the discovery document may be fetched here.
            client = self.adapter.get_client(request, app)
            token_data = self.adapter.get_access_token_data(
                request, app, client, pkce_code_verifier=state.get("pkce_code_verifier")
            )
            token = self.adapter.parse_token(token_data)
            login = self.adapter.complete_login(request, app, token, response=token_data, nonce=state.get("nonce"))
        except (PermissionDenied, OAuth2Error, RequestException, ProviderException) as exc:
            return render_authentication_error(request, provider, exception=exc, extra_context={"state": state})
        # Neither the access token nor the nonce and PKCE verifier go further (the login may wait in the
        # session for the second factor); the id_token does, for the end of session at sign-out.
        login.token = None
        login.state = {key: value for key, value in state.items() if key not in {"nonce", "pkce_code_verifier"}}
        login.state[logout.STATE_KEY] = login.proconnect_logout
        return complete_social_login(request, login)


def _enabled_or_404():
    if not settings.PROCONNECT_ENABLED:
        raise Http404


def oauth2_login(request):
    _enabled_or_404()
    try:
        return OAuth2LoginView.adapter_view(ProConnectOAuth2Adapter)(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


def oauth2_callback(request):
    _enabled_or_404()
    try:
        return ProConnectCallbackView.adapter_view(ProConnectOAuth2Adapter)(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


@require_GET
@never_cache
def end_session(request):
    """After signing out of the portal: on to ProConnect, which signs out of itself and of the
    identity provider, then comes back to the portal's home page."""
    _enabled_or_404()
    url = logout.pop_end_session_url(request)
    if not url:
        return redirect("home")
    return render(request, "proconnect/redirect.html", {"url": url, "leaving": "logout"})
