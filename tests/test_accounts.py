import pytest
from django.core import mail
from django.urls import reverse

from networks.models import User

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("account_login")


def sign_in(client, email, password):
    return client.post(LOGIN_URL, {"login": email, "password": password})


def test_people_sign_in_with_their_email_address_and_land_on_the_dashboard(client, alice, password):
    response = sign_in(client, "ALICE@alpha.example", password)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    body = client.get(reverse("dashboard")).content.decode()
    assert "Bonjour Alice Alpha" in body
    assert "Réseau Alpha" in body


def test_the_dashboard_is_for_signed_in_people(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN_URL)


def test_there_is_no_open_sign_up(client):
    page = client.get(reverse("account_signup"))
    assert "inscription" in page.content.decode().lower()
    client.post(
        reverse("account_signup"),
        {"email": "intrus@exemple.fr", "password1": "un-mot-de-passe-2026", "password2": "un-mot-de-passe-2026"},
    )
    assert not User.objects.filter(email="intrus@exemple.fr").exists()


def test_a_wrong_password_is_refused_with_a_message(client, alice):
    response = sign_in(client, "alice@alpha.example", "mauvais")
    assert response.status_code == 200
    assert "Le formulaire contient" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_attempts_are_limited(client, alice, password):
    for _ in range(5):
        sign_in(client, "alice@alpha.example", "mauvais")
    response = sign_in(client, "alice@alpha.example", password)
    assert "Trop de tentatives de connexion" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_forgotten_password_can_be_reset_by_email(client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "alice@alpha.example"})
    assert response.status_code == 302
    from outbox.models import OutboxMessage

    assert OutboxMessage.objects.get(kind="password_reset_key").status == "sent"  # through the outbox
    [message] = mail.outbox
    assert message.to == ["alice@alpha.example"]
    reset_path = next(line for line in message.body.splitlines() if "/compte/password/reset/key/" in line).strip()
    reset_path = reset_path[reset_path.index("/compte/") :]
    page = client.get(reset_path, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else reset_path
    response = client.post(
        form_url, {"password1": "nouveau-mot-de-passe-2026", "password2": "nouveau-mot-de-passe-2026"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("nouveau-mot-de-passe-2026")


def test_signing_out_ends_the_session(client, alice):
    client.force_login(alice)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_deactivated_person_cannot_sign_in(client, alice, password):
    alice.is_active = False
    alice.save()
    sign_in(client, "alice@alpha.example", password)
    assert "_auth_user_id" not in client.session


def test_people_cannot_change_their_own_address(client, alice):
    client.force_login(alice)
    response = client.post("/compte/email/", {"action_add": "", "email": "quelquun@ailleurs.example"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@alpha.example"
    from allauth.account.models import EmailAddress

    assert not EmailAddress.objects.filter(email="quelquun@ailleurs.example").exists()


def test_the_admin_login_goes_through_the_limited_portal_login(client):
    response = client.post("/admin/login/?next=/admin/", {"username": "agent@anct.example", "password": "x"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=/admin/"


def test_failed_logins_of_one_person_do_not_lock_out_the_others_behind_the_same_address(client, alice, bob, password):
    for _ in range(6):
        sign_in(client, "alice@alpha.example", "mauvais")
    sign_in(client, "bob@beta.example", password)
    assert client.session["_auth_user_id"] == str(bob.pk)


def test_a_reset_request_for_an_unknown_address_sends_nothing(client):
    response = client.post(reverse("account_reset_password"), {"email": "inconnu@ailleurs.example"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_account_emails_greet_in_french_without_the_server_name(client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "alice@alpha.example"})
    [message] = mail.outbox
    assert message.body.startswith("Bonjour,")
    assert "testserver" not in message.body.split("http")[0]


def test_the_sign_in_fields_have_labels_and_no_placeholder(client):
    body = client.get(LOGIN_URL).content.decode()
    assert 'name="login"' in body and 'name="password"' in body
    import re

    fields = re.findall(r'<input[^>]*name="(?:login|password)"[^>]*>', body)
    assert len(fields) == 2 and not any("placeholder" in field for field in fields)
    assert "Adresse e-mail" not in body
