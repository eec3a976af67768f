"""What users stumbled on (issue 9, item 6): who reads feedback, the invitation
e-mail, pending invitations, help on the password pages, the site map and the
accessibility plan."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from networks import services
from networks.models import Invitation, Membership
from tests.factories import TerritoryFactory
from tests.helpers import outbox_to

pytestmark = pytest.mark.django_db

# 18:00 in Paris (winter time, UTC+1) on Tuesday 24 November 2026: the link lasts 14 days.
SENT_AT = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- 1. The feedback form says who will read the feedback ---------------------------------


def test_the_feedback_form_says_before_submitting_who_reads_it(client, alice, measure, open_round):
    client.force_login(alice)
    body = page_text(client.get(reverse("measures:feedback_create", args=[measure.pk])))
    notice = body.index('id="feedback-visibility"')
    assert "lu par tous les membres connectés des réseaux" in body
    assert "avec votre nom, votre réseau et le territoire choisi" in body
    assert notice < body.index('value="submit"'), "the notice comes before the buttons"
    assert reverse("personal_data") + "#feedback-readers" in body


def test_the_personal_data_page_says_the_same(client):
    body = page_text(client.get(reverse("personal_data")))
    assert 'id="feedback-readers"' in body
    assert "lus par tous les membres connectés des réseaux" in body


# --- 2. The invitation e-mail --------------------------------------------------------------


@pytest.fixture
def invitation_email(coordinator_a, network_a, settings, django_capture_on_commit_callbacks):
    settings.INVITATION_MAX_AGE_DAYS = 14
    territory = TerritoryFactory(code="93", name="Seine-Saint-Denis")
    # The e-mail leaves on commit, after the clock is back to now.
    with (
        django_capture_on_commit_callbacks(execute=True),
        mock.patch("django.utils.timezone.now", return_value=SENT_AT),
    ):
        services.invitation_send(
            inviter=coordinator_a,
            network=network_a,
            email="nina@ville.example",
            role=Membership.Role.REPRESENTATIVE,
            full_name="Nina Nouvelle",
            territory=territory,
        )
    [message] = outbox_to("nina@ville.example")
    return message


def test_the_invitation_email_says_who_sends_it_why_and_until_when(invitation_email, settings):
    message = invitation_email
    text = re.sub(r"\s+", " ", message.body)
    html = re.sub(r"\s+", " ", message.alternatives[0][0])
    assert message.subject == "Invitation à rejoindre le réseau Réseau Alpha — Concertation (ANCT)"
    for body in (text, html):
        assert "Agence nationale de la cohésion des territoires (ANCT)" in body
        assert "Claire Coordination vous invite à rejoindre le portail Concertation" in body
        assert "représentant ou représentante du réseau Réseau Alpha" in body
        assert "Seine-Saint-Denis" in body
        assert "suivent ensemble les mesures en faveur des quartiers prioritaires" in body
        assert "jusqu'au mardi 8 décembre 2026 à 18 h 00 (heure de Paris)" in body
        assert "Ignorez simplement ce courriel : il ne se passera rien" in body
        assert settings.PORTAL["contact_email"] in body
        assert "http://testserver/mentions-legales/" in body
        # No urgency, no mixed words for e-mail.
        for word in ("urgent", "immédiatement", "e-mail", "mail ", "mél"):
            assert word not in body.lower().replace("courriel", "")
    assert "mailto:" + settings.PORTAL["contact_email"] in html


def test_the_invitation_email_without_inviter_still_reads_clearly(network_a, django_capture_on_commit_callbacks):
    from networks.notifications import invitation_email_queue

    invitation = Invitation.objects.create(network=network_a, email="x@ville.example", role="observer")
    with django_capture_on_commit_callbacks(execute=True):
        invitation_email_queue(invitation=invitation)
    [message] = outbox_to("x@ville.example")
    assert "Une invitation vous est adressée pour rejoindre le portail Concertation" in message.body
    assert "observateur ou observatrice du réseau Réseau Alpha" in message.body


def test_the_production_check_refuses_a_placeholder_contact_address():
    from concertation import settings as portal_settings

    assert portal_settings._address_problem("concertation@portail.example")


# --- 3. Pending invitations ------------------------------------------------------------------


def test_pending_invitations_show_who_what_when_and_state(client, coordinator_a, invitation_email, network_a):
    client.force_login(coordinator_a)
    body = page_text(client.get(network_a.get_absolute_url()))
    table = body.split('id="pending-invitations"')[1].split("</table>")[0]
    assert "Nina Nouvelle" in table and "nina@ville.example" in table
    assert "Représentant ou représentante" in table and "Seine-Saint-Denis" in table
    assert "par Claire Coordination, le 24 novembre 2026 à 18:00" in table
    assert "8 décembre 2026 à 18:00" in table
    assert "Renvoyer" in table and "Annuler" in table


def test_a_pending_invitation_past_its_date_says_its_link_expired(client, coordinator_a, invitation_email, network_a):
    client.force_login(coordinator_a)
    with mock.patch("networks.models.timezone.now", return_value=SENT_AT + timedelta(days=13)):
        table = page_text(client.get(network_a.get_absolute_url())).split('id="pending-invitations"')[1]
    assert "Lien expiré" not in table.split("</table>")[0]
    with mock.patch("networks.models.timezone.now", return_value=SENT_AT + timedelta(days=14)):
        table = page_text(client.get(network_a.get_absolute_url())).split('id="pending-invitations"')[1]
    assert "Lien expiré" in table.split("</table>")[0]
    assert "Renvoyez l'invitation pour un nouveau lien." in table


def test_an_invitation_still_valid_is_not_called_expired(
    client, coordinator_a, network_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(
            inviter=coordinator_a, network=network_a, email="ok@ville.example", role="representative", full_name=""
        )
    client.force_login(coordinator_a)
    table = page_text(client.get(network_a.get_absolute_url())).split('id="pending-invitations"')[1]
    table = table.split("</table>")[0]
    assert "ok@ville.example" in table
    assert "Lien expiré" not in table
    assert "Envoyée" in table
    expires = timezone.localtime(Invitation.objects.get().expires_at)
    assert expires.strftime("%Y") in table


def test_staff_see_pending_invitations_and_other_members_do_not(
    client, invitation_email, network_a, staff, alice, bob, former_member, outsider
):
    client.force_login(staff)
    assert "nina@ville.example" in page_text(client.get(network_a.get_absolute_url()))
    for person in (alice, bob, former_member, outsider):
        client.force_login(person)
        body = page_text(client.get(network_a.get_absolute_url()))
        assert "nina@ville.example" not in body, person
        assert "Invitations en attente" not in body, person
    client.logout()
    assert "nina@ville.example" not in page_text(client.get(network_a.get_absolute_url()))


def test_the_pending_invitations_cost_the_same_queries_for_one_or_many(
    client, coordinator_a, network_a, django_capture_on_commit_callbacks
):
    def send(count, start):
        with django_capture_on_commit_callbacks(execute=True):
            for number in range(start, start + count):
                services.invitation_send(
                    inviter=coordinator_a,
                    network=network_a,
                    email=f"p{number}@ville.example",
                    role="representative",
                    full_name=f"Personne {number}",
                    territory=TerritoryFactory(),
                )

    client.force_login(coordinator_a)
    send(1, 0)
    with CaptureQueriesContext(connection) as one:
        client.get(network_a.get_absolute_url())
    send(6, 1)
    with CaptureQueriesContext(connection) as seven:
        body = page_text(client.get(network_a.get_absolute_url()))
    assert body.count("Personne ") >= 7
    assert len(seven) == len(one)


# --- 4. Help on the password pages -------------------------------------------------------------


def test_the_password_reset_pages_give_a_contact(client, alice, settings, django_capture_on_commit_callbacks):
    contact = settings.PORTAL["contact_email"]
    for body in (
        page_text(client.get(reverse("account_reset_password"))),
        page_text(client.get(reverse("account_login"))),
    ):
        assert f'href="mailto:{contact}"' in body
        assert reverse("legal_notice") + "#contact" in body
        assert "contactez-nous" not in body.lower()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": alice.email}, follow=True)
    body = page_text(response)
    assert "Courriel envoyé" in body and f'href="mailto:{contact}"' in body
    [message] = outbox_to(alice.email)
    assert message.subject == "[Concertation] Réinitialisation de votre mot de passe"
    assert contact in message.body
    assert "Agence nationale de la cohésion des territoires (ANCT)" in message.body
    assert "e-mail" not in message.body.lower()


def test_the_reset_link_page_gives_a_contact_even_when_the_link_is_wrong(client, settings):
    response = client.get(reverse("account_reset_password_from_key", kwargs={"uidb36": "zz", "key": "bad-key"}))
    body = page_text(response)
    assert "Lien non valable" in body
    assert settings.PORTAL["contact_email"] in body


# --- 5. The site map -----------------------------------------------------------------------------


def sitemap_links(client) -> list[str]:
    body = client.get(reverse("sitemap")).content.decode()
    nav = body.split('id="sitemap"')[1].split("</nav>")[0]
    return re.findall(r'href="([^"]+)"', nav)


PUBLIC = ["home", "measures:list", "workgroups:minutes_list", "networks:list", "accessibility", "legal_notice"]
INSIDE = ["measures:synthesis", "measures:feedback_list", "measures:round_list", "workgroups:group_list", "dashboard"]


def test_the_site_map_lists_the_public_pages_to_anonymous_visitors(client):
    links = sitemap_links(client)
    for name in [*PUBLIC, "personal_data", "sitemap", "account_login"]:
        assert reverse(name) in links, name
    for name in [*INSIDE, "admin:index"]:
        assert reverse(name) not in links, name
    for link in links:
        assert client.get(link).status_code == 200, link


def test_the_site_map_lists_member_pages_to_members_only(client, alice, former_member, outsider):
    client.force_login(alice)
    links = sitemap_links(client)
    for name in PUBLIC + INSIDE + ["workgroups:session_list", "workgroups:calendar_settings"]:
        assert reverse(name) in links, name
    assert reverse("admin:index") not in links
    assert reverse("workgroups:attendance_by_network") not in links
    assert reverse("account_login") not in links
    for link in links:
        assert client.get(link).status_code == 200, link
    for person in (former_member, outsider):
        client.force_login(person)
        links = sitemap_links(client)
        assert reverse("dashboard") in links
        for name in INSIDE[:-1]:
            assert reverse(name) not in links, (person, name)


def test_the_site_map_lists_the_agents_pages_to_staff(client, staff):
    client.force_login(staff)
    links = sitemap_links(client)
    assert reverse("admin:index") in links
    assert reverse("workgroups:attendance_by_network") in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_the_site_map_leaves_the_roadmap_out_when_it_is_not_public(client, settings):
    settings.PUBLIC_ROADMAP = False
    assert reverse("measures:list") not in sitemap_links(client)


def test_the_footer_links_to_the_site_map(client):
    footer = client.get(reverse("home")).content.decode().split('id="footer"')[1]
    assert f'<a class="fr-footer__bottom-link" href="{reverse("sitemap")}">Plan du site</a>' in footer


# --- 6. The accessibility plan ---------------------------------------------------------------------


def test_the_accessibility_statement_has_the_multi_year_plan_and_the_annual_plan(client, settings):
    settings.PORTAL = {**settings.PORTAL, "accessibility_plan_url": "https://agence.example/schema-accessibilite"}
    body = page_text(client.get(reverse("accessibility")))
    headings = [
        "État de conformité",
        "Contenus non accessibles",
        "Établissement de cette déclaration",
        "Retour d'information et contact",
        "Voies de recours",
        "Schéma pluriannuel de mise en accessibilité 2026-2028",
        "Plan d'action annuel 2026",
    ]
    positions = [body.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert 'href="#schema-pluriannuel"' in body and 'id="schema-pluriannuel"' in body
    assert "https://agence.example/schema-accessibilite" in body
    assert "Faire réaliser l'audit de conformité au RGAA 4.1.2" in body


def test_the_accessibility_plan_period_comes_from_the_settings(client, settings):
    settings.PORTAL = {**settings.PORTAL, "accessibility_plan_period": "2027-2029"}
    assert "Schéma pluriannuel de mise en accessibilité 2027-2029" in page_text(client.get(reverse("accessibility")))


# --- 7. E-mails speak of « courriel » and avoid heavy doublets ----------------------------------------


def test_the_email_templates_use_one_word_for_email_and_no_doublets():
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR) / "templates"
    files = [*(root / "emails").rglob("*.*"), *(root / "account").rglob("*.*"), root / "pages" / "sitemap.html"]
    for path in files:
        text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|mailto:", "", path.read_text())
        assert not re.search(r"\be-?mail\b|\bmél\b", text, re.IGNORECASE), path
        assert not re.search(r"\w\((e|es)\)|·e", text), path


# --- In a real browser, checked with axe-core ------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_new_pages_pass_axe_core(page, live_server):
    from axe_playwright_python.sync_playwright import Axe
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from networks.models import User
    from tests.factories import MembershipFactory, NetworkFactory, UserFactory

    network = NetworkFactory(name="Réseau Alpha", slug="alpha")
    coordinator = UserFactory(email="coord@alpha.example", full_name="Claire Coordination")
    MembershipFactory(user=coordinator, network=network, role=Membership.Role.COORDINATOR)
    services.invitation_send(
        inviter=coordinator, network=network, email="nina@ville.example", role="representative", full_name="Nina"
    )

    def check(path):
        page.goto(live_server.url + path)
        violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in {"serious", "critical"}]
        assert not violations, (path, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations])

    for name in ("sitemap", "accessibility", "account_reset_password", "personal_data"):
        check(reverse(name))

    user = User.objects.get(pk=coordinator.pk)
    session = SessionStore()
    session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    page.context.add_cookies([{"name": "sessionid", "value": session.session_key, "url": live_server.url}])
    check(reverse("sitemap"))
    check(network.get_absolute_url())
    assert page.locator("#pending-invitations").get_by_role("link", name="nina@ville.example", exact=True).count() == 1
