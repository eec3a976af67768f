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
    """Sign out a person after ``SESSION_IDLE_MINUTES`` without a request, and in any case
    ``SESSION_COOKIE_AGE`` (SESSION_MAX_AGE_HOURS) after signing in.

    The time of the last request is kept in the session, written at most once
    a minute (a session saved on every request would be a database write each
    time). Each of those writes pushes the cookie's own expiry forward, so the
    total length is checked against the sign-in time kept beside it, which never
    moves. Once a limit has passed, the request goes on signed out and the next
    page (the sign-in page, for the inside) says why. An idle time of 0 turns the
    idle check off, never the total length.
    """

    KEY = "_last_activity"
    SIGNED_IN_KEY = "_signed_in_at"
    WRITE_EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    @classmethod
    def signed_in(cls, sender, request, user, **kwargs):
        """``user_logged_in``: start both clocks with the session written at sign-in."""
        if request is not None and hasattr(request, "session"):
            now = int(time.time())
            request.session[cls.KEY] = now
            request.session[cls.SIGNED_IN_KEY] = now

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request):
        now = int(time.time())
        idle_minutes = settings.SESSION_IDLE_MINUTES
        signed_in_at = request.session.get(self.SIGNED_IN_KEY)
        last = request.session.get(self.KEY)
        if isinstance(signed_in_at, int) and now - signed_in_at > settings.SESSION_COOKIE_AGE:
            hours = settings.SESSION_COOKIE_AGE // 3600
            logout(request)
            messages.warning(
                request,
                ngettext(
                    "Votre session a atteint sa durée maximale de %(hours)d heure. Veuillez vous reconnecter.",
                    "Votre session a atteint sa durée maximale de %(hours)d heures. Veuillez vous reconnecter.",
                    hours,
                )
                % {"hours": hours},
            )
            return
        if idle_minutes and isinstance(last, int) and now - last > idle_minutes * 60:
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
            return
        if not isinstance(signed_in_at, int):
            # A session opened before this check existed: its clock starts now.
            request.session[self.SIGNED_IN_KEY] = now
        if idle_minutes and (not isinstance(last, int) or now - last >= self.WRITE_EVERY_SECONDS):
            request.session[self.KEY] = now
