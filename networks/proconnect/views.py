"""ProConnect's views: the start of the sign-in (POST only), the return from ProConnect
(``redirect_uri``), and the page that hands a signed-out person to ProConnect's end of
session. All of them answer 404 while ProConnect is off (``PROCONNECT_ENABLED``)."""

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


class ProConnectOAuth2Adapter(OAuth2Adapter):
    provider_id = "proconnect"
    # ProConnect takes client_id and client_secret in the token request's body.
    basic_auth = False

    @property
    def openid_config(self) -> dict:
        if not hasattr(self, "_openid_config"):
            self._openid_config = oidc.fetch_configuration(self.get_provider().discovery_url)
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

    def get_callback_url(self, request, app):
        # The address registered with ProConnect, from the portal's own (never the request's Host).
        return settings.PORTAL_BASE_URL + reverse("proconnect_callback")

    def get_access_token_data(self, request, app, client, pkce_code_verifier=None):
        try:
            return super().get_access_token_data(request, app, client, pkce_code_verifier=pkce_code_verifier)
        except OAuth2Error:
            # allauth's message quotes the token endpoint's answer: say less.
            raise ProConnectError("the token endpoint gave no access token") from None

    def complete_login(self, request, app, token, *, response, nonce=None, **kwargs):
        """Check the id_token and the signed user information, then build the social login."""
        config = self.openid_config
        raw_id_token = response.get("id_token")
        if not isinstance(raw_id_token, str) or not raw_id_token:
            raise ProConnectError("the token endpoint gave no id_token")
        if not nonce:
            raise ProConnectError("no nonce was kept for this sign-in")
        keys = oidc.fetch_keys(config["jwks_uri"])
        checks = {"keys": keys, "issuer": config["issuer"], "audience": app.client_id}
        id_token = oidc.verify(raw_id_token, what="id_token", require=("exp", "iat", "nonce"), **checks)
        if not oidc.same(id_token.get("nonce"), nonce):
            raise ProConnectError("the id_token's nonce is not this sign-in's")
        acr_values = app.settings.get("acr_values") or []
        if acr_values and id_token.get("acr") not in acr_values:
            raise ProConnectError("the id_token's assurance level is not one the portal requires")
        userinfo = oidc.verify(oidc.fetch_userinfo(self.profile_url, token.token), what="user information", **checks)
        if not oidc.same(userinfo["sub"], id_token["sub"]):
            raise ProConnectError("the user information is about another subject than the id_token")
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
        client = self.adapter.get_client(request, app)
        try:
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
