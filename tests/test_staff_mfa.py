"""The second factor of staff (networks.mfa): enrolment before any staff page, the code at every
sign-in, recovery codes, no deactivation, and the reset of a lost factor by someone with the right."""

import html
import re
import time

import pytest
from allauth.account.utils import perform_login
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from django.contrib.admin import helpers
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from django.urls import reverse

from networks import services
from networks.models import User
from tests.factories import UserFactory
from tests.helpers import recovery_codes, sign_in_with_code, totp_code, totp_code_at, totp_enrol, totp_secret

CHANGELIST = reverse("admin:networks_user_changelist")
ACTIVATE = reverse("mfa_activate_totp")
AUTHENTICATE = reverse("mfa_authenticate")
LOGIN = reverse("account_login")


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def _has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


@pytest.fixture
def newcomer(agents):
    """An agent whose account was just made: staff in the Agents group, no second factor yet."""
    user = UserFactory(email="nouvel.agent@anct.example", full_name="Nouvel Agent", is_staff=True, totp=False)
    user.groups.add(agents)
    return user


@pytest.fixture
def superuser(db):
    """The deployment's superuser, enrolled."""
    user = User.objects.create_superuser("exploitation@anct.example", "mot-de-passe-du-deploiement")
    totp_enrol(user)
    return user


def _password_then_page(client, user, password):
    """Sign in with the password alone (an account without a second factor), as the sign-in form does."""
    response = client.post(LOGIN, {"login": user.email, "password": password})
    assert response.status_code == 302 and response["Location"] != AUTHENTICATE
    return response


def _enrol(client, password):
    """The enrolment a person goes through: confirm the password, read the key, type the app's code."""
    page = client.get(ACTIVATE, follow=True)
    if page.redirect_chain and reverse("account_reauthenticate") in page.redirect_chain[-1][0]:
        page = client.post(page.redirect_chain[-1][0], {"password": password}, follow=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page.content.decode()).group(1)
    return client.post(ACTIVATE, {"code": totp_code(secret)}, follow=True), secret


# --- Enrolment is required of staff -------------------------------------------------------------


def test_an_agent_without_a_second_factor_is_sent_to_enrol_from_the_admin_and_staff_pages(client, newcomer):
    client.force_login(newcomer)
    for path in [
        reverse("admin:index"),
        CHANGELIST,
        reverse("workgroups:attendance_by_network"),
        reverse("dashboard"),
        reverse("measures:feedback_list"),
    ]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == ACTIVATE, path

    page = client.get(reverse("admin:index"), follow=True)
    text = _text(page)
    assert "Les comptes des agents sont protégés par un second facteur" in text


def test_the_second_factor_pages_signing_out_the_language_switch_and_healthz_stay_open(client, newcomer):
    client.force_login(newcomer)
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("healthz") + "?checks=database").status_code == 200
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard"))["Location"].startswith(LOGIN)


def test_members_are_never_asked_to_enrol(client, alice):
    client.force_login(alice)
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("measures:feedback_list")).status_code == 200
    assert not _has_totp(alice)


# allauth announces a new authenticator on commit, within the request: these tests commit for real.
@pytest.mark.django_db(transaction=True)
def test_an_agent_enrols_sees_recovery_codes_and_reaches_the_admin(client, newcomer, password):
    client.force_login(newcomer)
    client.get(reverse("admin:index"))  # sent away from the admin: the portal keeps where to

    page = client.get(ACTIVATE, follow=True)
    # Enrolling confirms the password first when the sign-in is not fresh.
    assert reverse("account_reauthenticate") in page.redirect_chain[-1][0]
    assert "Confirmer votre identité" in _text(page)
    page = client.post(page.redirect_chain[-1][0], {"password": password}, follow=True)
    body = page.content.decode()
    assert page.request["PATH_INFO"] == ACTIVATE
    assert 'src="data:image/svg+xml;base64,' in body
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', body).group(1)
    assert len(secret.replace(" ", "")) == 32
    assert "img-src 'self' data:" in page["Content-Security-Policy"]

    done = client.post(ACTIVATE, {"code": totp_code(secret)}, follow=True)

    assert done.request["PATH_INFO"] == reverse("mfa_view_recovery_codes")
    assert "Codes de récupération" in _text(done)
    codes = re.findall(r"<li><code>(\d{8})</code></li>", done.content.decode())
    assert len(codes) == 10 and codes == recovery_codes(newcomer)
    assert f'href="{reverse("admin:index")}"' in done.content.decode()  # « continuer » where they were going
    assert totp_secret(newcomer) == secret.replace(" ", "")
    assert client.get(reverse("admin:index")).status_code == 200
    download = client.get(reverse("mfa_download_recovery_codes"))
    assert download.status_code == 200 and codes[0] in download.content.decode()


# allauth announces a new authenticator on commit, within the request: these tests commit for real.
@pytest.mark.django_db(transaction=True)
def test_signing_in_leads_straight_to_enrolment_without_typing_the_password_twice(client, newcomer, password):
    response = client.post(LOGIN, {"login": newcomer.email, "password": password}, follow=True)
    assert [url for url, _status in response.redirect_chain] == [reverse("dashboard"), ACTIVATE]
    assert "Activer le second facteur" in _text(response)
    enrolled, _secret = _enrol(client, password)
    assert enrolled.request["PATH_INFO"] == reverse("mfa_view_recovery_codes")
    assert f'href="{reverse("dashboard")}"' in enrolled.content.decode()


def test_a_wrong_code_at_enrolment_is_refused_in_french_with_an_error_summary(client, newcomer, password):
    client.force_login(newcomer)
    page = client.get(ACTIVATE, follow=True)
    client.post(page.redirect_chain[-1][0], {"password": password})
    client.get(ACTIVATE)

    response = client.post(ACTIVATE, {"code": "000000"})

    text = _text(response)
    assert response.status_code == 200
    assert "<title>Erreur : Activer le second facteur" in text
    assert 'id="form-errors"' in text and "Ce code n'est pas valable" in text
    assert not _has_totp(newcomer)


def test_the_code_field_is_labelled_and_made_for_one_time_codes(client, newcomer, password):
    client.force_login(newcomer)
    page = client.get(ACTIVATE, follow=True)
    page = client.post(page.redirect_chain[-1][0], {"password": password}, follow=True)
    body = page.content.decode()
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", body).group(0)
    assert 'autocomplete="one-time-code"' in field and 'inputmode="numeric"' in field and 'id="id_code"' in field
    assert re.search(r'<label class="fr-label" for="id_code">Code à 6 chiffres', body)
    assert "<h1>Activer le second facteur</h1>" in body


# --- Signing in ---------------------------------------------------------------------------------


def test_the_next_sign_in_asks_for_the_code_and_refuses_a_wrong_one(client, staff, password):
    response = client.post(LOGIN, {"login": staff.email, "password": password})
    assert response.status_code == 302 and response["Location"] == AUTHENTICATE
    # Not signed in yet: the password alone opens nothing.
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(reverse("dashboard"))["Location"].startswith(LOGIN)
    client.post(LOGIN, {"login": staff.email, "password": password})

    page = client.get(AUTHENTICATE)
    assert page.status_code == 200 and "Code de vérification" in _text(page)
    current = totp_code_at(totp_secret(staff), time.time())
    wrong = client.post(AUTHENTICATE, {"code": "000000" if current != "000000" else "111111"})
    text = _text(wrong)
    assert wrong.status_code == 200 and "Ce code n'est pas valable" in text and "Erreur :" in text

    right = client.post(AUTHENTICATE, {"code": totp_code(staff)})
    assert right.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_recovery_code_signs_in_once(client, staff, password):
    code = recovery_codes(staff)[0]
    client.post(LOGIN, {"login": staff.email, "password": password})
    assert client.post(AUTHENTICATE, {"code": code}).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert code not in recovery_codes(staff)

    client.post(reverse("account_logout"))
    client.post(LOGIN, {"login": staff.email, "password": password})
    again = client.post(AUTHENTICATE, {"code": code})
    assert again.status_code == 200 and "Ce code n'est pas valable" in _text(again)
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_code_is_accepted_once(client, staff, password):
    code = totp_code(staff)
    client.post(LOGIN, {"login": staff.email, "password": password})
    assert client.post(AUTHENTICATE, {"code": code}).status_code == 302
    other = Client()
    other.post(LOGIN, {"login": staff.email, "password": password})
    assert other.post(AUTHENTICATE, {"code": code}).status_code == 200


def test_the_admins_own_sign_in_cannot_skip_the_code(client, staff, password):
    response = client.post(reverse("admin:login"), {"username": staff.email, "password": password})
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.get(reverse("admin:index")).status_code == 302


def test_every_sign_in_through_allauth_stops_at_the_code(rf: RequestFactory, staff, settings):
    """Password, code by e-mail and social accounts (ProConnect) all end in allauth's ``perform_login``:
    with an authenticator app, it asks for the code before signing in."""
    request = rf.get("/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    with allauth_context.request_context(request):
        response = perform_login(request, staff, email_verification="none")
    assert response.status_code == 302 and response["Location"] == AUTHENTICATE
    assert request.user.is_anonymous and "_auth_user_id" not in request.session


def test_members_with_an_app_are_asked_for_the_code_too(client, db, password):
    member = UserFactory(totp=True)
    assert sign_in_with_code(client, member, password)["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_wrong_codes_are_limited_per_account(client, staff, password):
    client.post(LOGIN, {"login": staff.email, "password": password})
    current = totp_code_at(totp_secret(staff), time.time())
    wrong = "000000" if current != "000000" else "111111"
    for _attempt in range(5):
        client.post(AUTHENTICATE, {"code": wrong})
    refused = client.post(AUTHENTICATE, {"code": totp_code(staff)})
    assert refused.status_code == 200 and "Trop de tentatives" in _text(refused)
    assert client.get(reverse("admin:index")).status_code == 302


# --- No deactivation for staff ------------------------------------------------------------------


def test_staff_cannot_deactivate_their_second_factor(client, staff, password):
    sign_in_with_code(client, staff, password)
    index = client.get(reverse("mfa_index"))
    assert "Activée" in _text(index) and reverse("mfa_deactivate_totp") not in index.content.decode()

    page = client.get(reverse("mfa_deactivate_totp"), follow=True)
    page = client.post(page.redirect_chain[-1][0], {"password": password}, follow=True)  # confirm the password
    assert page.request["PATH_INFO"] == reverse("mfa_deactivate_totp")
    assert "ne peut pas être désactivé" in _text(page) and "Oui, désactiver" not in _text(page)
    response = client.post(reverse("mfa_deactivate_totp"), follow=True)
    assert "ne peut pas être désactivé" in _text(response)
    assert _has_totp(staff)


def test_a_member_may_deactivate_the_app_they_chose(client, db, password):
    member = UserFactory(totp=True)
    sign_in_with_code(client, member, password)
    page = client.get(reverse("mfa_deactivate_totp"), follow=True)
    client.post(page.redirect_chain[-1][0], {"password": password})  # confirm the password first
    response = client.post(reverse("mfa_deactivate_totp"), follow=True)
    assert response.request["PATH_INFO"] == reverse("mfa_index")
    assert "Non activée" in _text(response)
    assert not Authenticator.objects.filter(user=member).exists()


def test_the_account_page_links_the_second_factor_for_staff_only(client, staff, alice):
    client.force_login(staff)
    assert reverse("mfa_index") in client.get(reverse("dashboard")).content.decode()
    assert reverse("mfa_index") in client.get(reverse("admin:index")).content.decode()
    client.force_login(alice)
    assert reverse("mfa_index") not in client.get(reverse("dashboard")).content.decode()


# --- Reset of a lost factor ---------------------------------------------------------------------


def _reset(client, *people, confirm=True):
    data = {"action": "reset_second_factor", helpers.ACTION_CHECKBOX_NAME: [p.pk for p in people]}
    if confirm:
        data["confirm"] = "yes"
    return client.post(CHANGELIST, data, follow=confirm)


# allauth announces a new authenticator on commit, within the request: these tests commit for real.
@pytest.mark.django_db(transaction=True)
def test_the_superuser_resets_an_agents_lost_factor_after_confirmation(client, superuser, staff, password):
    lost = Client()
    sign_in_with_code(lost, staff, password)
    client.force_login(superuser)

    asking = _reset(client, staff, confirm=False)
    text = _text(asking)
    assert asking.status_code == 200 and "Réinitialiser le second facteur" in text
    assert "Agent Central" in text and 'name="confirm" value="yes"' in asking.content.decode()
    assert _has_totp(staff)

    done = _reset(client, staff)

    assert "Le second facteur de Agent Central est réinitialisé" in _text(done)
    assert not Authenticator.objects.filter(user=staff).exists()
    # Their sessions end; the password alone signs in, then enrolment comes before anything else.
    assert lost.get(reverse("dashboard"))["Location"].startswith(LOGIN)
    _password_then_page(lost, staff, password)
    assert lost.get(reverse("admin:index"))["Location"] == ACTIVATE
    enrolled, _secret = _enrol(lost, password)
    assert enrolled.request["PATH_INFO"] == reverse("mfa_view_recovery_codes")
    assert lost.get(reverse("admin:index")).status_code == 200


def test_an_agent_may_not_reset_another_agents_factor_nor_their_own(agent_client, staff, agents):
    colleague = UserFactory(email="collegue@anct.example", full_name="Collègue Agent", is_staff=True)
    colleague.groups.add(agents)

    response = _reset(agent_client, colleague, staff)

    text = _text(response)
    assert "seule la personne qui administre le portail réinitialise le second facteur" in text
    assert "Votre propre second facteur est réinitialisé par une autre personne habilitée" in text
    assert _has_totp(colleague) and _has_totp(staff)


def test_an_agent_resets_a_members_factor(agent_client, alice):
    totp_enrol(alice)
    response = _reset(agent_client, alice)
    assert "Le second facteur de Alice Alpha est réinitialisé" in _text(response)
    assert not Authenticator.objects.filter(user=alice).exists()


def test_accounts_without_a_factor_are_not_offered_for_reset(agent_client, alice, bob):
    totp_enrol(alice)

    asked = _reset(agent_client, alice, bob, confirm=False)
    assert asked.status_code == 200
    body = _text(asked)
    assert "Alice Alpha" in body and bob.email not in body

    nothing = _reset(agent_client, bob, confirm=False)
    assert nothing.status_code == 302
    follow = agent_client.get(nothing["Location"])
    assert "Aucun des comptes choisis n'a de second facteur" in _text(follow)


def test_the_reset_is_refused_without_the_right_and_for_an_account_without_factor(staff, alice):
    no_rights = UserFactory(email="sans.droits@anct.example", is_staff=True)
    with pytest.raises(PermissionDenied):
        services.user_second_factor_reset(user=alice, by=no_rights)
    with pytest.raises(ValidationError) as error:
        services.user_second_factor_reset(user=alice, by=staff)
    assert error.value.code == "second_factor_none"


def test_the_superusers_own_factor_is_reset_from_the_server(superuser):
    call_command("second_factor_reset", "Exploitation@anct.example")
    assert not Authenticator.objects.filter(user=superuser).exists()
    with pytest.raises(CommandError, match="pas de second facteur"):
        call_command("second_factor_reset", superuser.email)


def test_the_authenticators_admin_shows_no_secret_and_changes_nothing(client, superuser, staff):
    client.force_login(superuser)
    totp = Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP)
    page = client.get(reverse("admin:mfa_authenticator_change", args=[totp.pk]))
    assert page.status_code == 200 and totp_secret(staff) not in page.content.decode()
    assert client.post(reverse("admin:mfa_authenticator_delete", args=[totp.pk]), {"post": "yes"}).status_code == 403
    assert _has_totp(staff)


def test_erasure_removes_a_members_authenticators(staff, alice):
    totp_enrol(alice)
    services.user_erase(user=alice, by=staff)
    assert not Authenticator.objects.filter(user=alice).exists()


# --- The session, not only the account, must have passed the second factor ------------------------


# allauth announces a new authenticator on commit, within the request: these tests commit for real.
@pytest.mark.django_db(transaction=True)
def test_a_session_opened_with_the_password_alone_ends_when_the_owner_enrols(client, newcomer, password):
    """Someone who knew the password waits at the enrolment page while the owner enrols elsewhere."""
    _password_then_page(client, newcomer, password)
    owner = Client()
    _password_then_page(owner, newcomer, password)
    _enrol(owner, password)

    assert owner.get(reverse("admin:index")).status_code == 200
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert client.get(reverse("dashboard"))["Location"].startswith(LOGIN)


def test_an_enrolled_account_without_the_code_in_this_session_is_asked_for_it(staff):
    """A session that never typed the code (opened before the person was made staff, for one) reaches
    nothing of the staff's, not even the recovery codes, until the code is typed."""
    session_client = Client()
    session_client.force_login(staff)
    session = session_client.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "email": staff.email}]
    session.save()

    for url in (reverse("admin:index"), reverse("mfa_view_recovery_codes"), reverse("measures:round_list")):
        response = session_client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("mfa_reauthenticate")), url

    page = session_client.get(response["Location"])
    assert page.status_code == 200
    assert "Saisissez le code de votre application" in _text(page)
    done = session_client.post(response["Location"], {"code": totp_code(staff)})
    assert done.status_code == 302 and done["Location"] == reverse("measures:round_list")
    assert session_client.get(reverse("admin:index")).status_code == 200


def test_a_member_made_staff_types_the_code_before_the_admin(client, agents, password):
    member = UserFactory(email="future.agente@anct.example", totp=True)
    sign_in_with_code(client, member, password)
    member.is_staff = True
    member.save()
    member.groups.add(agents)

    # Her session typed the code at sign-in: it stays valid.
    assert client.get(reverse("admin:index")).status_code == 200

    # A new sign-in with the password alone stops at the code.
    other = Client()
    response = other.post(LOGIN, {"login": member.email, "password": password})
    assert response["Location"] == AUTHENTICATE
    response = other.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_the_key_stays_the_same_when_the_enrolment_page_is_shown_again(client, newcomer, password):
    """Reloading the page, or being sent back to it from a menu link, keeps the key already scanned."""
    _password_then_page(client, newcomer, password)
    first = client.get(ACTIVATE).content.decode()
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', first).group(1)
    client.get(reverse("admin:index"), follow=True)

    again = client.get(ACTIVATE).content.decode()

    assert re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', again).group(1) == secret
    response = client.post(ACTIVATE, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert totp_secret(newcomer) == secret.replace(" ", "")


@pytest.mark.django_db(transaction=True)
def test_the_key_and_recovery_codes_pages_are_never_cached(client, newcomer, password):
    _password_then_page(client, newcomer, password)
    activation = client.get(ACTIVATE)
    assert activation.status_code == 200
    assert "no-store" in activation["Cache-Control"]
    _enrol(client, password)
    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert codes.status_code == 200 and "no-store" in codes["Cache-Control"]
