"""Signing out of ProConnect along with the portal.

A sign-in through ProConnect keeps, in the person's session, the id_token and ProConnect's
``end_session_endpoint`` (``SESSION_KEY``). Signing out of the portal (allauth's
``account_logout``, through ``networks.adapters.ClosedAccountAdapter``) ends the local
session first, then keeps in the new, anonymous one the address of ProConnect's end of
session (``PENDING_KEY``: ``id_token_hint``, a fresh ``state``, and the portal's home page
as ``post_logout_redirect_uri``), which the page ``proconnect_end_session`` sends the
browser to. ProConnect comes back to the home page with the state, which asks nothing more.
"""

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

# In the social login's state, from ProConnect's answer to the first session of the person.
STATE_KEY = "proconnect_logout"
# In the session while signed in through ProConnect: {"id_token": ..., "end_session_endpoint": ...}.
SESSION_KEY = "proconnect"
# In the session between signing out and leaving for ProConnect.
PENDING_KEY = "proconnect_end_session"


def remember_session(sender, request, user, sociallogin=None, **kwargs):
    """allauth's ``user_logged_in``: a sign-in through ProConnect keeps what its end of session needs."""
    if request is None or sociallogin is None or not hasattr(request, "session"):
        return
    data = sociallogin.state.get(STATE_KEY)
    if sociallogin.account.provider == "proconnect" and isinstance(data, dict):
        request.session[SESSION_KEY] = data


def post_logout_redirect_uri() -> str:
    """The address to register with ProConnect as ``post_logout_redirect_uri``."""
    return settings.PORTAL_BASE_URL + reverse("home")


def _end_session_url(data) -> str | None:
    if not isinstance(data, dict) or not data.get("id_token") or not data.get("end_session_endpoint"):
        return None
    params = {
        "id_token_hint": data["id_token"],
        "state": secrets.token_urlsafe(32),
        "post_logout_redirect_uri": post_logout_redirect_uri(),
    }
    endpoint = data["end_session_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


def will_end_session(request) -> bool:
    """Whether signing out now also signs out of ProConnect."""
    user = getattr(request, "user", None)
    return bool(
        settings.PROCONNECT_ENABLED
        and user is not None
        and user.is_authenticated
        and _end_session_url(request.session.get(SESSION_KEY))
    )


def end_session_url(request) -> str | None:
    """Before the local sign-out: ProConnect's end of session for this session, if it has one."""
    return _end_session_url(request.session.get(SESSION_KEY)) if will_end_session(request) else None


def keep_for_redirect(request, url: str) -> None:
    """After the local sign-out: the address ``proconnect_end_session`` sends the browser to."""
    request.session[PENDING_KEY] = url


def pop_end_session_url(request) -> str | None:
    url = request.session.pop(PENDING_KEY, None)
    return url if isinstance(url, str) else None
