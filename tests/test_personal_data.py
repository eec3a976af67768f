"""A person's own data (RGPD): the download from the account page, the review of
inactive accounts in the admin, and the « données personnelles » page."""

import html
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from measures.models import Feedback
from networks.models import Invitation, Membership
from tests.factories import FeedbackFactory, MembershipFactory, SessionFactory, UserFactory
from workgroups.models import ActionItem, Minutes, SessionInvitation

pytestmark = pytest.mark.django_db


def _alice_data(alice, bob, network_a, network_b, measure, open_round, session, coordinator_a, n=1, start=0):
    """Alice's feedback (a submitted one and a draft), an invitation she received and
    one she sent, answers to sessions, an action item she owns; bob's feedback beside."""
    for i in range(start, start + n):
        FeedbackFactory(
            author=alice,
            network=network_a,
            measure=measure,
            round=open_round,
            what_works=f"Alice : les missions locales suivent <b>bien</b> n°{i}",
        )
        Invitation.objects.create(
            network=network_a,
            email=f"invitee{i}@alpha.example",
            full_name=f"Invitée {i}",
            role="representative",
            invited_by=alice,
        )
        other = SessionFactory(group=session.group, title=f"Séance de suivi {i}")
        SessionInvitation.objects.create(
            session=other,
            user=alice,
            network=network_a,
            source=SessionInvitation.Source.NETWORK,
            answer=SessionInvitation.Answer.ACCEPTED,
            comment=f"J'apporte les chiffres {i}",
            attended=True,
        )
        minutes = Minutes.objects.create(session=other)
        ActionItem.objects.create(
            minutes=minutes, kind=ActionItem.Kind.ACTION, text=f"Relancer la préfecture {i}", owner_user=alice
        )
    FeedbackFactory(
        author=alice,
        network=network_a,
        measure=measure,
        round=open_round,
        status=Feedback.Status.DRAFT,
        submitted_at=None,
        what_works="Brouillon d'Alice",
    )
    Invitation.objects.create(
        network=network_a,
        email=alice.email,
        role="representative",
        invited_by=coordinator_a,
        accepted_at=timezone.now(),
        accepted_by=alice,
    )
    FeedbackFactory(author=bob, network=network_b, measure=measure, round=open_round, what_works="Texte de Bob")
    SessionInvitation.objects.get_or_create(session=session, user=bob, defaults={"comment": "Commentaire de Bob"})


def _download(client, user):
    client.force_login(user)
    response = client.get(reverse("networks:my_data_json"))
    assert response.status_code == 200
    return response


def test_alice_downloads_her_data_and_nothing_of_bob(
    client, alice, bob, network_a, network_b, measure, open_round, session, coordinator_a
):
    _alice_data(alice, bob, network_a, network_b, measure, open_round, session, coordinator_a)
    response = _download(client, alice)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="mes-donnees-concertation-')
    text = response.content.decode("utf-8")
    assert "Bêta" not in text and "bob@beta.example" not in text
    assert "Texte de Bob" not in text and "Commentaire de Bob" not in text
    assert "Invitée 0" in text  # ensure_ascii off: accents as they are
    data = json.loads(text)
    sections = {section["key"]: section for section in data["sections"]}
    assert data["person"] == "alice@alpha.example"
    assert sections["profile"]["items"][0]["full_name"] == "Alice Alpha"
    assert "password" not in text and "key" not in sections["invitations_received"]["items"][0]
    feedback_texts = {item["what_works"] for item in sections["feedback"]["items"]}
    assert feedback_texts == {"Alice : les missions locales suivent <b>bien</b> n°0", "Brouillon d'Alice"}
    assert [m["network"] for m in sections["memberships"]["items"]] == [str(network_a)]
    assert sections["memberships"]["items"][0]["role"] == "Représentant ou représentante"
    received = sections["invitations_received"]["items"]
    assert [(i["network"], i["state"], i["invited_by"]) for i in received] == [
        (str(network_a), "acceptée", "Claire Coordination")
    ]
    assert [i["email"] for i in sections["invitations_sent"]["items"]] == ["invitee0@alpha.example"]
    answers = sections["session_invitations"]["items"]
    assert [(a["session"], a["answer"], a["comment"], a["attended"]) for a in answers] == [
        ("Séance de suivi 0", "Participera", "J'apporte les chiffres 0", True)
    ]
    assert [a["text"] for a in sections["action_items"]["items"]] == ["Relancer la préfecture 0"]
    # Dates in ISO 8601, in Paris time with its offset, as the readable page shows them.
    joined = sections["profile"]["items"][0]["date_joined"]
    moment = timezone.datetime.fromisoformat(joined)
    assert moment.utcoffset() == moment.astimezone(ZoneInfo("Europe/Paris")).utcoffset()
    assert not joined.endswith("Z")


def test_bob_does_not_see_alices_data(
    client, alice, bob, network_a, network_b, measure, open_round, session, coordinator_a
):
    _alice_data(alice, bob, network_a, network_b, measure, open_round, session, coordinator_a)
    text = _download(client, bob).content.decode()
    assert "Alice" not in text and "alice@alpha.example" not in text
    assert "Texte de Bob" in text and "Commentaire de Bob" in text


@pytest.mark.parametrize("name", ["networks:my_data", "networks:my_data_json"])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_former_member_and_an_outsider_get_their_own_data(client, former_member, outsider):
    data = json.loads(_download(client, former_member).content)
    memberships = next(s for s in data["sections"] if s["key"] == "memberships")["items"]
    assert memberships[0]["is_active"] is False and memberships[0]["ended_on"] == "2025-01-31"
    data = json.loads(_download(client, outsider).content)
    assert next(s for s in data["sections"] if s["key"] == "memberships")["items"] == []


def test_the_readable_page_has_a_heading_per_section_and_escapes_text(
    client, alice, bob, network_a, network_b, measure, open_round, session, coordinator_a
):
    _alice_data(alice, bob, network_a, network_b, measure, open_round, session, coordinator_a)
    client.force_login(alice)
    response = client.get(reverse("networks:my_data"))
    assert response.status_code == 200
    body = response.content.decode()
    for heading in [
        "Profil",
        "Adhésions aux réseaux",
        "Invitations reçues",
        "Invitations envoyées",
        "Retours de terrain rédigés",
        "Invitations aux séances, réponses et présence",
        "Décisions et actions dont vous êtes chargé",
    ]:
        assert f">{heading}</h2>" in body
    assert "<h1>Mes données</h1>" in body
    assert "&lt;b&gt;bien&lt;/b&gt;" in body and "<b>bien</b>" not in body
    assert reverse("networks:my_data_json") in body
    assert "Texte de Bob" not in body
    assert 'class="fr-breadcrumb' in body


def test_the_dashboard_links_to_the_download(client, alice):
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert reverse("networks:my_data") in body and "Télécharger mes données" in body


def _queries(client, user, name):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(name)).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["networks:my_data", "networks:my_data_json"])
def test_query_count_does_not_grow_with_the_data(
    client, alice, bob, network_a, network_b, measure, open_round, session, coordinator_a, name
):
    client.force_login(alice)
    _alice_data(alice, bob, network_a, network_b, measure, open_round, session, coordinator_a, n=1)
    client.get(reverse(name))  # the first request loads the session into the cache
    small = _queries(client, alice, name)
    _alice_data(alice, bob, network_a, network_b, measure, open_round, session, coordinator_a, n=6, start=1)
    MembershipFactory(user=alice, network=network_b, role=Membership.Role.OBSERVER)
    assert _queries(client, alice, name) == small


def test_agents_list_inactive_accounts_for_review(agent_client, settings, alice):
    settings.INACTIVE_ACCOUNT_DAYS = 90
    long_ago = timezone.now() - timedelta(days=120)
    UserFactory(email="dormant@exemple.fr", full_name="Jamais Venu", date_joined=long_ago)
    UserFactory(email="parti@exemple.fr", full_name="Parti Depuis", date_joined=long_ago, last_login=long_ago)
    UserFactory(email="recent@exemple.fr", date_joined=long_ago, last_login=timezone.now() - timedelta(days=10))
    url = reverse("admin:networks_user_changelist")
    body = agent_client.get(url).content.decode()
    assert "Inactif depuis plus de 90 jours" in body
    response = agent_client.get(url, {"inactif": "oui"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "dormant@exemple.fr" in body and "parti@exemple.fr" in body
    assert "recent@exemple.fr" not in body and "alice@alpha.example" not in body


def test_the_personal_data_page_states_durations_and_contacts_from_settings(client, settings):
    settings.INVITATION_MAX_AGE_DAYS = 21
    settings.INACTIVE_ACCOUNT_DAYS = 400
    settings.SESSION_ANSWER_LINK_MAX_AGE_DAYS = 200
    body = client.get(reverse("personal_data")).content.decode()
    assert "21 jours" in body and "400 jours" in body and "200 jours" in body
    assert settings.PORTAL["dpo_email"] in body and settings.PORTAL["contact_email"] in body
    assert "Mission d&#x27;intérêt public" in body or "Mission d'intérêt public" in body
    assert reverse("networks:my_data") in body
    assert "deux ans" not in body  # nothing in the code deletes accounts after two years


def test_the_personal_data_page_states_the_audit_trails_retention(client, settings):
    settings.AUDIT_RETENTION_DAYS = 730
    body = html.unescape(client.get(reverse("personal_data")).content.decode())
    assert "Le journal des modifications est conservé 730 jours, puis effacé automatiquement." in body
    assert "le journal des modifications perd votre nom" in body
    settings.AUDIT_RETENTION_DAYS = 0
    body = html.unescape(client.get(reverse("personal_data")).content.decode())
    assert "Le journal des modifications est conservé sans limite de durée." in body


def test_sign_in_methods_are_listed_without_their_secrets(client, staff):
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(user=staff, provider="proconnect", uid="sub-agent-0001", extra_data={"idp_id": "x"})
    data = json.loads(_download(client, staff).content)
    methods = {section["key"]: section for section in data["sections"]}["sign_in_methods"]["items"]

    kinds = [item["kind"] for item in methods]
    assert kinds[:2] == ["Mot de passe", "Connexion ProConnect"]
    assert "Application d'authentification (second facteur)" in kinds
    assert "sub-agent-0001" in [item["identifier"] for item in methods]
    secret = Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in json.dumps(data)
