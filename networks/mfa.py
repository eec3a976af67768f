"""The second factor that staff must have: a TOTP application, with recovery codes (allauth.mfa).

Everything the portal adds to allauth's MFA lives here:

- ``second_factor_required`` and ``has_totp``: who must have one, who has one;
- ``StaffSecondFactorMiddleware``: a signed-in agent or superuser without an active TOTP
  authenticator is sent to enrol; one whose *session* has not passed the second factor
  (signed in before enrolling, or before being made staff, or elsewhere while someone else
  enrolled) is asked for the code; only signing out, the language switch and ``/healthz``
  stay open meanwhile;
- ``enrolment_passes_second_factor``: the session that enrolled typed a valid code, so it
  counts as having passed the second factor; the account's other sessions end;
- ``enrolment_follows_sign_in``: the password just typed at sign-in counts as the confirmation
  enrolment asks for, so that it is not asked twice in a row;
- ``StaffMFAAdapter``: French messages, and no deactivation of TOTP for staff;
- the forms: French labels, ``autocomplete="one-time-code"``, numeric keyboard.

Signing in asks for the code in allauth's login stage (``allauth.mfa.stages.AuthenticateStage``)
whenever the account has a TOTP authenticator, whatever the first factor: password, code by
e-mail or a social account. A lost factor is reset by another staff member with the right
(``networks.services.user_second_factor_reset``); the person enrols again at next sign-in.
"""

import time

from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.account.internal.flows.reauthentication import reauthenticate_by_password
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY as TOTP_SECRET_SESSION_KEY
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _

# Where an agent sent to enrol was going (a local path, kept for the « Continuer » link after enrolment).
NEXT_SESSION_KEY = "second_factor_next"

# Pages a staff member whose session has not passed the second factor may still open (URL names).
ALWAYS_OPEN = frozenset({"account_logout", "set_language", "healthz", "admin:logout"})
# Without a TOTP authenticator: enrolling (which may ask for the password again when the sign-in
# is older than a few minutes). The recovery codes come once the session has passed.
OPEN_FOR_ENROLMENT = ALWAYS_OPEN | {"mfa_index", "mfa_activate_totp", "account_reauthenticate"}
# With one, in a session that has not used it: typing the code.
OPEN_FOR_THE_CODE = ALWAYS_OPEN | {"mfa_reauthenticate"}


def second_factor_required(user) -> bool:
    """Staff (agents) and superusers sign in with a second factor; members need none."""
    return bool(user is not None and user.is_authenticated and (user.is_staff or user.is_superuser))


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def session_passed_second_factor(request, user) -> bool:
    """This session typed a code of the account's second factor: at sign-in (allauth's stage),
    on the code page, or when it enrolled (``enrolment_passes_second_factor``)."""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


class StaffSecondFactorMiddleware:
    """Send a signed-in staff member without an active TOTP authenticator to enrol.

    Checked once the URL is resolved (``process_view``), so that the exemptions are URL
    names, never guessed paths; the admin is included. The person's destination is kept
    for the link shown once the recovery codes are saved.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if _view_name(request).startswith("mfa_"):
            # The key, its QR code and the recovery codes are never kept by the browser's cache:
            # on a shared computer they could be reopened after signing out.
            patch_cache_control(response, no_store=True, no_cache=True, private=True)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if not second_factor_required(user) or request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        name = _view_name(request)
        if has_totp(user):
            if name in OPEN_FOR_THE_CODE or session_passed_second_factor(request, user):
                return None
            messages.info(
                request,
                _("Saisissez le code de votre application d'authentification pour continuer."),
            )
            target = request.get_full_path() if request.method == "GET" else reverse("admin:index")
            return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': target})}")
        if name in OPEN_FOR_ENROLMENT:
            return None
        if request.method == "GET":
            request.session[NEXT_SESSION_KEY] = request.get_full_path()
        messages.warning(
            request,
            _(
                "Les comptes des agents sont protégés par un second facteur. Avant d'ouvrir l'administration "
                "ou les pages des agents, activez une application d'authentification sur votre téléphone."
            ),
        )
        return redirect("mfa_activate_totp")


def enrolment_follows_sign_in(sender, request, user, **kwargs):
    """``user_logged_in``: staff signing in with their password and no second factor go straight to
    enrolment, which asks for a recent confirmation of the password: the one typed a moment ago counts
    (allauth would otherwise ask for it twice in a row). Other sign-ins are left as they are."""
    if request is None or not hasattr(request, "session") or not second_factor_required(user) or has_totp(user):
        return
    records = get_authentication_records(request, user)
    if records and records[-1].get("method") == "password" and time.time() - records[-1].get("at", 0) < 60:
        reauthenticate_by_password(request)


def enrolment_passes_second_factor(sender, request, user, authenticator, **kwargs):
    """``authenticator_added``: enrolling a TOTP application means typing a valid code, so this
    session has passed the second factor. Every other session of the account ends: one opened
    with the password alone (by the owner or by someone who knew it) must not ride on this
    enrolment."""
    if authenticator.type != Authenticator.Type.TOTP or request is None or not hasattr(request, "session"):
        return
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True)
    from networks.services import user_sessions_end

    user_sessions_end(user=user, keep_session_key=request.session.session_key)


def enrolment_next_url(request) -> str:
    """Where to go once enrolled: the page the person was sent away from, else the admin for staff."""
    url = request.session.get(NEXT_SESSION_KEY) or ""
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return reverse("admin:index" if second_factor_required(request.user) else "dashboard")


class StaffMFAAdapter(DefaultMFAAdapter):
    """allauth's MFA adapter, in French, refusing that staff deactivate their TOTP."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _(
            "Les comptes des agents doivent garder leur second facteur : il ne peut pas être désactivé. "
            "Si vous changez de téléphone, demandez à la personne qui administre le portail de le réinitialiser."
        ),
        "cannot_generate_recovery_codes": _(
            "Activez d'abord une application d'authentification : les codes de récupération l'accompagnent."
        ),
        "incorrect_code": _(
            "Ce code n'est pas valable. Saisissez le code affiché en ce moment par votre application "
            "d'authentification (il change toutes les 30 secondes)."
        ),
        "unverified_email": _(
            "Le second facteur ne peut pas être activé tant que votre adresse électronique n'est pas vérifiée."
        ),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        if authenticator.type == Authenticator.Type.TOTP and second_factor_required(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)


# --- Forms: the code field, in French and for phones ---------------------------------------------

CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "autocapitalize": "off",
    "spellcheck": "false",
}


def _code_field(form, label, help_text):
    field = form.fields["code"]
    field.label = label
    field.help_text = help_text
    field.error_messages["required"] = _("Saisissez le code.")
    field.widget.attrs.update(CODE_ATTRS)
    field.widget.attrs.pop("placeholder", None)


class PortalActivateTOTPForm(ActivateTOTPForm):
    def __init__(self, *args, **kwargs):
        # allauth draws a new key at each display of the page: reloading it, or being sent back
        # to it from another link, would silently void the key just scanned. The key stays the
        # same for the session until enrolment succeeds (allauth then forgets it).
        drawn = allauth_context.request.session.get(TOTP_SECRET_SESSION_KEY)
        super().__init__(*args, **kwargs)
        if drawn and not self.is_bound:
            self.secret = allauth_context.request.session[TOTP_SECRET_SESSION_KEY] = drawn
        _code_field(
            self,
            _("Code à 6 chiffres"),
            _("Le code que l'application affiche pour « Concertation » une fois le QR code scanné."),
        )


class PortalAuthenticateForm(AuthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _code_field(
            self,
            _("Code de vérification"),
            _(
                "Le code à 6 chiffres de votre application d'authentification, "
                "ou l'un de vos codes de récupération (8 chiffres)."
            ),
        )


class PortalReauthenticateForm(ReauthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _code_field(
            self,
            _("Code de vérification"),
            _("Le code à 6 chiffres de votre application d'authentification."),
        )
