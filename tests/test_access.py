"""Reading the inside of the portal takes an active membership, or being staff.

Each page that shows the inside is opened by four people: a member whose only
membership has ended, a signed-in account that never had one, an active member
and an agent. The first two get the page that explains why (403) and none of
the data; the last two get the page.
"""

from html import unescape

import pytest
from django.urls import reverse

from measures.models import Feedback
from networks import services as network_services
from tests.factories import FeedbackFactory, MembershipFactory, NetworkFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "Le tutorat des jeunes diplômés marche très bien à Vaulx"
MEMBERS_ONLY = "Réservé aux membres des réseaux"


@pytest.fixture
def feedback(measure, network_a, open_round, coordinator_a):
    return FeedbackFactory(
        measure=measure, network=network_a, author=coordinator_a, round=open_round, what_works=SECRET
    )


@pytest.fixture
def people(alice, staff, former_member, outsider):
    return {"former_member": former_member, "outsider": outsider, "member": alice, "staff": staff}


INSIDE_PAGES = {
    "feedback list": lambda f: reverse("measures:feedback_list"),
    "feedback detail": lambda f: f.get_absolute_url(),
    "feedback list of a measure": lambda f: reverse("measures:feedback_list") + f"?measure={f.measure_id}",
    "CSV export": lambda f: reverse("measures:feedback_export"),
    "synthesis and map": lambda f: reverse("measures:synthesis") + "?carte=works",
    "round list": lambda f: reverse("measures:round_list"),
    "round page": lambda f: f.round.get_absolute_url(),
}


def content_of(response) -> str:
    """What the person reads: the page's text with its entities decoded, or the CSV."""
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return unescape(response.content.decode())


@pytest.mark.parametrize("page", INSIDE_PAGES)
@pytest.mark.parametrize("who", ["former_member", "outsider"])
def test_it_refuses_the_inside_to_people_without_an_active_membership(client, people, feedback, page, who):
    client.force_login(people[who])
    response = client.get(INSIDE_PAGES[page](feedback))
    body = content_of(response)
    assert response.status_code == 403
    assert MEMBERS_ONLY in body
    assert "votre adhésion a pris fin" in body
    assert SECRET not in body and feedback.round.title not in body


@pytest.mark.parametrize("page", INSIDE_PAGES)
@pytest.mark.parametrize("who", ["member", "staff"])
def test_it_opens_the_inside_to_active_members_and_staff(client, people, feedback, page, who):
    client.force_login(people[who])
    response = client.get(INSIDE_PAGES[page](feedback))
    assert response.status_code == 200
    assert MEMBERS_ONLY not in content_of(response)


@pytest.mark.parametrize("page", INSIDE_PAGES)
def test_it_sends_anonymous_visitors_to_the_sign_in_page(client, feedback, page):
    response = client.get(INSIDE_PAGES[page](feedback))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["member", "staff"])
def test_it_shows_the_feedback_itself_to_members_and_staff(client, people, feedback, who):
    client.force_login(people[who])
    assert SECRET in content_of(client.get(feedback.get_absolute_url()))
    assert SECRET in content_of(client.get(reverse("measures:feedback_list")))
    assert SECRET in content_of(client.get(reverse("measures:feedback_export")))
    assert "1 retour" in content_of(client.get(reverse("measures:synthesis")))


@pytest.mark.parametrize("who", ["former_member", "outsider"])
def test_it_refuses_writing_feedback_to_people_without_an_active_membership(client, people, measure, who):
    client.force_login(people[who])
    response = client.get(reverse("measures:feedback_create", args=[measure.pk]))
    assert response.status_code == 403 and MEMBERS_ONLY in content_of(response)


@pytest.mark.parametrize(
    ("who", "sees"), [("former_member", False), ("outsider", False), ("member", True), ("staff", True)]
)
def test_it_shows_a_network_page_and_its_members_only_to_the_inside(
    client, people, network_a, coordinator_a, who, sees
):
    client.force_login(people[who])
    response = client.get(network_a.get_absolute_url())
    body = content_of(response)
    assert response.status_code == 200  # the directory itself is public
    assert network_a.name in body
    assert ("Claire Coordination" in body) is sees
    assert ("réservée aux membres actifs des réseaux" in body) is not sees


@pytest.mark.parametrize(
    ("who", "sees"), [("former_member", False), ("outsider", False), ("member", True), ("staff", True)]
)
def test_it_keeps_the_measure_page_public_without_the_feedback_for_outsiders(client, people, feedback, who, sees):
    client.force_login(people[who])
    response = client.get(feedback.measure.get_absolute_url())
    body = content_of(response)
    assert response.status_code == 200
    assert feedback.measure.title in body
    assert (SECRET in body) is sees
    assert ("Ce qu'en disent les réseaux" in body) is sees
    assert ("réservés aux membres actifs des réseaux" in body) is not sees


@pytest.mark.parametrize(
    ("who", "sees"), [("former_member", False), ("outsider", False), ("member", True), ("staff", True)]
)
def test_it_counts_feedback_in_the_measure_list_only_for_the_inside(client, people, feedback, who, sees):
    client.force_login(people[who])
    body = content_of(client.get(reverse("measures:list")))
    assert feedback.measure.title in body
    assert ("Fonctionne / en partie / non / trop tôt" in body) is sees


def test_it_shows_the_measure_page_to_anonymous_visitors_with_an_invitation_to_sign_in(client, feedback, settings):
    settings.PUBLIC_ROADMAP = True
    body = content_of(client.get(feedback.measure.get_absolute_url()))
    assert feedback.measure.title in body and SECRET not in body
    assert "réservés aux personnes connectées" in body


@pytest.mark.parametrize(
    ("who", "sees"), [("former_member", False), ("outsider", False), ("member", True), ("staff", True)]
)
def test_it_links_the_synthesis_and_rounds_in_the_menu_only_for_the_inside(client, people, who, sees):
    client.force_login(people[who])
    body = content_of(client.get(reverse("dashboard")))
    assert (f'href="{reverse("measures:synthesis")}"' in body) is sees
    assert (f'href="{reverse("measures:round_list")}"' in body) is sees


@pytest.mark.parametrize("who", ["former_member", "outsider", "member"])
def test_it_counts_feedback_awaiting_an_answer_on_the_dashboard_for_staff_only(client, people, feedback, who):
    client.force_login(people[who])
    assert "Retours en attente d'une suite" not in content_of(client.get(reverse("dashboard")))
    client.force_login(people["staff"])
    assert "1 retour transmis attend une suite" in content_of(client.get(reverse("dashboard")))


def test_it_lists_nothing_of_the_inside_on_a_former_members_dashboard(client, former_member, network_a, measure):
    FeedbackFactory(measure=measure, network=network_a, author=former_member, what_works=SECRET)
    client.force_login(former_member)
    body = content_of(client.get(reverse("dashboard")))
    assert "Vous n'êtes membre d'aucun réseau pour le moment." in body
    assert SECRET not in body and "Mes retours de terrain" not in body


def test_it_ends_access_when_the_coordinator_removes_the_last_membership(
    client, alice, coordinator_a, network_a, feedback
):
    client.force_login(alice)
    assert client.get(feedback.get_absolute_url()).status_code == 200
    membership = alice.memberships.get(network=network_a)
    network_services.membership_deactivate(actor=coordinator_a, membership=membership)
    assert client.get(feedback.get_absolute_url()).status_code == 403
    assert client.get(reverse("measures:synthesis")).status_code == 403
    assert "Claire Coordination" not in content_of(client.get(network_a.get_absolute_url()))


def test_it_keeps_access_while_another_membership_runs(client, alice, coordinator_a, network_a, feedback):
    MembershipFactory(user=alice, network=NetworkFactory(name="Réseau Gamma"))
    network_services.membership_deactivate(actor=coordinator_a, membership=alice.memberships.get(network=network_a))
    client.force_login(alice)
    assert SECRET in content_of(client.get(feedback.get_absolute_url()))


def test_it_ends_access_when_the_only_network_is_deactivated(client, alice, network_a, feedback):
    network_a.is_active = False
    network_a.save()
    client.force_login(alice)
    assert client.get(reverse("measures:feedback_list")).status_code == 403


def test_it_does_not_let_a_former_author_read_even_their_own_feedback(client, former_member, network_a, measure):
    own = FeedbackFactory(measure=measure, network=network_a, author=former_member, what_works=SECRET)
    client.force_login(former_member)
    response = client.get(own.get_absolute_url())
    assert response.status_code == 403 and SECRET not in content_of(response)


def test_it_still_hides_drafts_from_active_members_other_than_their_author(client, alice, bob, network_a, measure):
    draft = FeedbackFactory(
        measure=measure, network=network_a, author=alice, status=Feedback.Status.DRAFT, submitted_at=None
    )
    client.force_login(bob)
    assert client.get(draft.get_absolute_url()).status_code == 404
    client.force_login(alice)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_it_lets_staff_who_are_no_longer_active_read_nothing(client, staff, feedback):
    staff.is_active = False
    staff.save()
    client.force_login(staff)
    # An inactive account is signed out: the inside asks to sign in again.
    assert client.get(reverse("measures:feedback_list")).status_code == 302


def test_it_answers_the_read_inside_rule_for_each_role(people, network_a):
    assert {who: user.has_perm("networks.read_inside") for who, user in people.items()} == {
        "former_member": False,
        "outsider": False,
        "member": True,
        "staff": True,
    }
    assert UserFactory(is_staff=True, is_active=False).has_perm("networks.read_inside") is False


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_explains_the_refusal_in_an_accessible_page(page, live_server, password, former_member):
    from playwright.sync_api import expect

    from tests.test_browser_journeys import assert_accessible

    page.goto(live_server.url + "/compte/login/")
    page.get_by_label("Courriel").fill(former_member.email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.get_by_role("heading", name="Mon tableau de bord")).to_be_visible()
    expect(page.get_by_role("link", name="Synthèse", exact=True)).to_have_count(0)
    page.goto(live_server.url + reverse("measures:synthesis"))
    expect(page.get_by_role("heading", level=1)).to_have_text(MEMBERS_ONLY)
    assert_accessible(page)
