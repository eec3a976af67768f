"""The rules of a sign-in through ProConnect (``SOCIALACCOUNT_ADAPTER``).

- Nobody signs up: the portal's accounts come from invitations.
- ProConnect signs in an existing, active, not erased account one of whose *verified*
  addresses (allauth's ``EmailAddress``) is the one ProConnect gives, compared without
  case. The first time, the ProConnect identity (its ``sub``) is linked to the account; an
  identity already linked to another account is refused.
- Anyone else gets a page that says to ask for an invitation; nothing is written.
- No e-mail leaves from these flows, and the only application is the one of the settings.
"""

import logging
import secrets

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.base.constants import AuthError, AuthProcess
from django.conf import settings
from django.db import IntegrityError, transaction
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from concertation.lib import audit
from networks.proconnect.oidc import ProConnectError

logger = logging.getLogger("networks.proconnect")

# The audit trail's reason when a ProConnect identity is first linked to an account.
PROCONNECT_LINKED = gettext_lazy("Identité ProConnect associée au compte")


def account_for_email(email: str | None):
    """The one active, not erased account with ``email`` among its verified addresses, or None."""
    email = (email or "").strip()
    # Addresses are stored lower-cased: compared exactly, never with the database's case folding,
    # which would match look-alikes (« ı » and « ſ » fold to « I » and « S »). ProConnect's addresses
    # are plain ASCII; anything else is refused.
    if not email or not email.isascii():
        return None
    addresses = EmailAddress.objects.filter(email=email.lower(), verified=True).select_related("user")
    users = {address.user_id: address.user for address in addresses}
    if len(users) != 1:
        return None
    user = next(iter(users.values()))
    if not user.is_active or user.erased_at is not None:
        return None
    return user


class ProConnectAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return False

    def is_auto_signup_allowed(self, request, sociallogin):
        return False

    def generate_state_param(self, state):
        # ProConnect asks for a state of at least 32 characters (allauth's has 16).
        return secrets.token_urlsafe(32)

    def list_apps(self, request, provider=None, client_id=None):
        # Only the application of the settings, and only while ProConnect is on: a SocialApp row is ignored.
        if not settings.PROCONNECT_ENABLED:
            return []
        return [app for app in super().list_apps(request, provider, client_id) if app.pk is None]

    def send_notification_mail(self, *args, **kwargs):
        return None

    def get_connect_redirect_url(self, request, socialaccount):
        return reverse("dashboard")

    def pre_social_login(self, request, sociallogin):
        if sociallogin.state.get("process", AuthProcess.LOGIN) != AuthProcess.LOGIN:
            self._refuse(request, "ProConnect only signs in; linking it to a signed-in account is not offered")
        email = next((address.email for address in sociallogin.email_addresses if address.verified), None)
        user = account_for_email(email)
        if user is None:
            self._refuse(request, "no active account has this verified address", email=email)
        account = sociallogin.account
        if sociallogin.is_existing:
            if sociallogin.user.pk != user.pk:
                self._refuse(request, "this ProConnect identity is linked to another account")
            return
        # The first sign-in through ProConnect links its identity to the account.
        try:
            with transaction.atomic():
                account, created = SocialAccount.objects.get_or_create(
                    provider=account.provider,
                    uid=account.uid,
                    defaults={"user": user, "extra_data": account.extra_data},
                )
        except IntegrityError:
            created = False
            account = SocialAccount.objects.get(provider=sociallogin.account.provider, uid=sociallogin.account.uid)
        if not created and account.user_id != user.pk:
            self._refuse(request, "this ProConnect identity is linked to another account")
        if created:
            audit.record(user, PROCONNECT_LINKED, by=user)
        sociallogin.account, sociallogin.user = account, user

    def _refuse(self, request, reason: str, email: str | None = None):
        logger.info("ProConnect sign-in refused: %s.", reason)
        # The address ProConnect gave is shown to its owner: the one to quote when asking for an invitation.
        context = {"proconnect_email": email}
        raise ImmediateHttpResponse(render(request, "proconnect/refused.html", context, status=403))

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        # The stage and the reason, never a token: ProConnectError's messages are written to be logged.
        if isinstance(exception, ProConnectError):
            stage, reason = exception.stage, str(exception)
        else:
            stage, reason = error, type(exception).__name__ if exception is not None else "no answer"
        level = logging.INFO if error == AuthError.CANCELLED else logging.WARNING
        logger.log(level, "ProConnect sign-in failed (%s): %s.", stage, reason)
