import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import ngettext


class FrenchFirstMiddleware:
    """Serve French unless the person chose another language.

    Django would follow the browser's Accept-Language header; a French State
    service answers in French and offers English through the language button
    (which sets the language cookie that LocaleMiddleware reads).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Only the portal's own scripts, styles, images and forms.

    Inline style attributes stay allowed: the synthesis sizes its bars and
    legend swatches from the data. No inline script runs anywhere.
    """

    POLICY = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response


class IdleSessionMiddleware:
    """Sign out a person after ``SESSION_IDLE_MINUTES`` without a request.

    The time of the last request is kept in the session, written at most once
    a minute (a session saved on every request would be a database write each
    time). Once the idle time has passed, the request goes on signed out and the
    next page (the sign-in page, for the inside) says why. 0 turns it off; the
    session's total length is ``SESSION_COOKIE_AGE`` (SESSION_MAX_AGE_HOURS).
    """

    KEY = "_last_activity"
    WRITE_EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    @classmethod
    def signed_in(cls, sender, request, user, **kwargs):
        """``user_logged_in``: start the clock with the session written at sign-in."""
        if request is not None and hasattr(request, "session"):
            request.session[cls.KEY] = int(time.time())

    def __call__(self, request):
        user = getattr(request, "user", None)
        idle_minutes = settings.SESSION_IDLE_MINUTES
        if idle_minutes and user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(self.KEY)
            if isinstance(last, int) and now - last > idle_minutes * 60:
                logout(request)
                messages.warning(
                    request,
                    ngettext(
                        "Votre session a expiré après %(minutes)d minute d'inactivité. Veuillez vous reconnecter.",
                        "Votre session a expiré après %(minutes)d minutes d'inactivité. Veuillez vous reconnecter.",
                        idle_minutes,
                    )
                    % {"minutes": idle_minutes},
                )
            elif not isinstance(last, int) or now - last >= self.WRITE_EVERY_SECONDS:
                request.session[self.KEY] = now
        return self.get_response(request)
