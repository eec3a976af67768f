"""The groups' pages: list, group page, naming a network's participants, staff attendance per network."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from networks.models import Membership
from tests.factories import MembershipFactory, NetworkFactory, SessionFactory, UserFactory, WorkingGroupFactory
from workgroups.models import NetworkDelegate, Session, SessionInvitation

pytestmark = pytest.mark.django_db


def _page(client, user, url):
    client.force_login(user)
    return client.get(url)


def _main(response) -> str:
    """The page's own content, without the header's menus."""
    return response.content.decode().split('id="content"')[-1]


def _past_session(group, *, days_ago=7, status=Session.Status.SCHEDULED, title=None):
    starts = (timezone.now() - timedelta(days=days_ago)).replace(hour=9, minute=30, second=0, microsecond=0)
    return SessionFactory(
        group=group,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        status=status,
        invitations_sent_at=starts - timedelta(days=7),
        **({"title": title} if title else {}),
    )


# --- The list ---------------------------------------------------------------------------


@pytest.fixture
def plenary(db):
    return WorkingGroupFactory(title="Plénière des réseaux", is_plenary=True)


def test_it_lists_a_members_groups_first_and_marks_them(client, alice, group, other_group, plenary):
    WorkingGroupFactory(title="Ancien groupe", is_active=False)
    body = _main(_page(client, alice, reverse("workgroups:group_list")))
    assert "Ancien groupe" not in body
    # Alice's groups (the plenary, through her network, and the group of network A) before the others.
    assert body.index("Plénière des réseaux") < body.index(group.title) < body.index(other_group.title)
    assert body.count("Votre groupe") == 2
    assert "Plénière</span>" in body


def test_it_marks_the_groups_a_lead_runs(client, lead, group, other_group):
    body = _main(_page(client, lead, reverse("workgroups:group_list")))
    assert "Vous l'animez" in body
    assert body.index(group.title) < body.index(other_group.title)


def test_it_shows_staff_every_group_inactive_ones_included(client, staff, group):
    WorkingGroupFactory(title="Ancien groupe", is_active=False)
    body = _page(client, staff, reverse("workgroups:group_list")).content.decode()
    assert "Ancien groupe" in body and "Inactif" in body and group.title in body


def test_it_shows_the_groups_to_a_member_of_another_network(client, bob, group, other_group):
    body = _main(_page(client, bob, reverse("workgroups:group_list")))
    assert group.title in body and other_group.title in body
    assert body.index(other_group.title) < body.index(group.title)


@pytest.mark.parametrize("role", ["outsider", "former_member"])
def test_it_keeps_people_without_membership_out(client, request, group, role):
    user = request.getfixturevalue(role)
    for url in (reverse("workgroups:group_list"), reverse("workgroups:group_detail", args=[group.pk])):
        response = _page(client, user, url)
        assert response.status_code == 403
        assert "Réservé aux membres des réseaux" in response.content.decode()


def test_it_sends_anonymous_visitors_to_sign_in(client, group):
    for url in (reverse("workgroups:group_list"), reverse("workgroups:group_detail", args=[group.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login")) and "next=" in response["Location"]


def test_the_list_runs_a_fixed_number_of_queries(client, alice, group, django_assert_max_num_queries):
    client.force_login(alice)
    url = reverse("workgroups:group_list")
    client.get(url)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for _ in range(5):
        SessionFactory(group=WorkingGroupFactory(networks=[NetworkFactory()]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


# --- A group's page ------------------------------------------------------------------------


def test_a_member_sees_the_group_its_people_measures_and_sessions(client, alice, group, session, measure, lead):
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    past = _past_session(group, status=Session.Status.HELD, title="Séance de lancement")
    body = _page(client, alice, reverse("workgroups:group_detail", args=[group.pk])).content.decode()
    assert group.title in body and lead.public_name in body and "Réseau Alpha" in body
    assert reverse("measures:detail", args=[measure.pk]) in body
    # Upcoming first, then past.
    assert body.index("Séances à venir") < body.index(session.title) < body.index("Séances passées")
    assert body.index("Séances passées") < body.index(past.title)
    assert "Programmer une séance" not in body
    assert "Désigner les participants" not in body
    assert "invitées" not in body  # answer counts are for leads


def test_a_lead_gets_the_button_and_the_answer_counts(client, lead, group, session, alice, bob):
    SessionInvitation.objects.create(
        session=session, user=alice, network=alice.memberships.get().network, source="network", answer="accepted"
    )
    SessionInvitation.objects.create(session=session, user=bob, source="added")
    body = _page(client, lead, reverse("workgroups:group_detail", args=[group.pk])).content.decode()
    assert reverse("workgroups:session_create", args=[group.pk]) in body
    assert "2 personnes invitées : 1 oui, 0 peut-être, 0 non, 1 sans réponse" in body


def test_a_plain_agent_may_schedule_a_session_too(client, staff, group):
    body = _page(client, staff, reverse("workgroups:group_detail", args=[group.pk])).content.decode()
    assert reverse("workgroups:session_create", args=[group.pk]) in body
    assert "Désigner les participants" in body


def test_another_groups_lead_gets_no_button(client, other_group, group):
    other_lead = other_group.leads.get()
    body = _page(client, other_lead, reverse("workgroups:group_detail", args=[group.pk])).content.decode()
    assert "Programmer une séance" not in body


def test_a_cancelled_session_is_marked(client, alice, group):
    SessionFactory(
        group=group, title="Séance annulée", status=Session.Status.CANCELLED, invitations_sent_at=timezone.now()
    )
    body = _page(client, alice, reverse("workgroups:group_detail", args=[group.pk])).content.decode()
    assert "Annulée" in body


def test_the_plenary_lists_every_active_network(client, alice, network_b, plenary):
    NetworkFactory(name="Réseau dormant", is_active=False)
    body = _page(client, alice, reverse("workgroups:group_detail", args=[plenary.pk])).content.decode()
    assert "Réseau Alpha" in body and "Réseau Bêta" in body and "Réseau dormant" not in body
    assert "tous les réseaux actifs" in body


def test_an_inactive_group_is_hidden_from_members_not_from_staff(client, alice, staff, group):
    group.is_active = False
    group.save()
    assert _page(client, alice, reverse("workgroups:group_detail", args=[group.pk])).status_code == 404
    assert _page(client, staff, reverse("workgroups:group_detail", args=[group.pk])).status_code == 200


def test_the_coordinator_of_a_member_network_gets_the_link_to_name_participants(client, coordinator_a, group, alice):
    NetworkDelegate.objects.create(group=group, network=alice.memberships.get().network, user=alice)
    body = _page(client, coordinator_a, reverse("workgroups:group_detail", args=[group.pk])).content.decode()
    assert reverse("workgroups:delegates_edit", args=[group.pk, group.networks.get().pk]) in body
    assert alice.public_name in body


def test_the_group_page_runs_a_fixed_number_of_queries(client, lead, group, alice, bob, django_assert_num_queries):
    client.force_login(lead)
    url = reverse("workgroups:group_detail", args=[group.pk])

    def sessions(n):
        for _ in range(n):
            session = SessionFactory(group=group)
            SessionInvitation.objects.create(session=session, user=alice, source="network")
            SessionInvitation.objects.create(session=session, user=bob, source="added", answer="declined")
        _past_session(group, status=Session.Status.HELD)

    sessions(1)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    sessions(5)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)


# --- Naming a network's participants ----------------------------------------------------------


def _delegates_url(group, network):
    return reverse("workgroups:delegates_edit", args=[group.pk, network.pk])


def test_a_coordinator_names_who_attends_for_the_network(client, coordinator_a, group, network_a, alice):
    page = _page(client, coordinator_a, _delegates_url(group, network_a))
    assert page.status_code == 200
    assert alice.public_name in page.content.decode()
    response = client.post(_delegates_url(group, network_a), {"people": [alice.pk]})
    assert response.status_code == 302 and response["Location"] == group.get_absolute_url()
    assert list(NetworkDelegate.objects.values_list("user", "named_by")) == [(alice.pk, coordinator_a.pk)]
    # Nobody checked: every active member again.
    client.post(_delegates_url(group, network_a), {})
    assert not NetworkDelegate.objects.exists()


def test_only_active_members_of_the_network_can_be_named(client, coordinator_a, group, network_a, bob, former_member):
    client.force_login(coordinator_a)
    for person in (bob, former_member):
        response = client.post(_delegates_url(group, network_a), {"people": [person.pk]})
        assert response.status_code == 200
        assert "Le formulaire contient une erreur" in response.content.decode()
    assert not NetworkDelegate.objects.exists()


def test_staff_may_name_participants(client, staff, group, network_a, alice):
    client.force_login(staff)
    assert client.post(_delegates_url(group, network_a), {"people": [alice.pk]}).status_code == 302
    assert NetworkDelegate.objects.get().user == alice


def test_a_representative_may_not_name_participants(client, alice, group, network_a):
    assert _page(client, alice, _delegates_url(group, network_a)).status_code == 403
    assert client.post(_delegates_url(group, network_a), {"people": [alice.pk]}).status_code == 403
    assert not NetworkDelegate.objects.exists()


def test_the_coordinator_of_another_network_may_not_name_participants(client, group, network_a, network_b, alice):
    coordinator_b = UserFactory(email="coord@beta.example")
    MembershipFactory(user=coordinator_b, network=network_b, role=Membership.Role.COORDINATOR)
    assert _page(client, coordinator_b, _delegates_url(group, network_a)).status_code == 403
    assert client.post(_delegates_url(group, network_a), {"people": [alice.pk]}).status_code == 403


def test_a_network_outside_the_group_is_not_found(client, staff, group, network_b):
    assert _page(client, staff, _delegates_url(group, network_b)).status_code == 404


# --- Attendance per network, for staff -----------------------------------------------------------


@pytest.fixture
def held_sessions(group, network_a, network_b, alice, bob):
    """Two held sessions of ``group`` where network A came once; network B was invited once and never came."""
    first = _past_session(group, days_ago=40, status=Session.Status.HELD, title="Première séance")
    second = _past_session(group, days_ago=10, status=Session.Status.HELD, title="Deuxième séance")
    SessionInvitation.objects.create(session=first, user=alice, network=network_a, source="network", attended=True)
    SessionInvitation.objects.create(session=second, user=alice, network=network_a, source="network", attended=False)
    SessionInvitation.objects.create(session=second, user=bob, network=network_b, source="added", attended=False)
    return first, second


def test_staff_see_which_networks_come_and_which_never_do(client, staff, held_sessions):
    first, _second = held_sessions
    NetworkFactory(name="Réseau Gamma")
    response = _page(client, staff, reverse("workgroups:attendance_by_network"))
    assert response.status_code == 200
    body = response.content.decode()
    # Invited and never came, and never invited: two lists, two different problems.
    invited = body.split('id="invited-never-came"')[1].split("</ul>")[0]
    assert "Réseau Bêta</span> — invité à 1 séance" in invited
    assert "Réseau Gamma" not in invited and "Réseau Alpha" not in invited
    never_invited = body.split('id="never-invited"')[1].split("</ul>")[0]
    assert "Réseau Gamma" in never_invited
    assert "Réseau Bêta" not in never_invited and "Réseau Alpha" not in never_invited
    table = body.split('id="attendance-table"')[1]
    alpha = table.split("Réseau Alpha")[1].split("</tr>")[0]
    assert "<td>1 / 2 (50 %)</td>" in alpha
    assert timezone.localtime(first.starts_at).strftime("%Y") in alpha
    # Column dates with the French abbreviated month, in a table that scrolls rather than being cut.
    local = timezone.localtime(first.starts_at)
    assert date_format(local, "j N Y") in body.split('id="attendance-table"')[1].split("</thead>")[0]
    assert 'class="fr-table__container"' in body


def test_the_attendance_table_filters_by_group_and_period(client, staff, held_sessions, other_group):
    client.force_login(staff)
    url = reverse("workgroups:attendance_by_network")
    body = client.get(url, {"group": other_group.pk}).content.decode()
    assert "Aucune séance tenue sur la période." in body
    since = timezone.localdate() - timedelta(days=20)
    body = client.get(url, {"since": since.isoformat()}).content.decode()
    assert "1 séance tenue sur la période." in body
    body = client.get(url, {"since": "2026-05-01", "until": "2026-04-01"}).content.decode()
    assert "La fin de la période doit venir après son début." in body
    body = client.get(url, {"columns": "months"}).content.decode()
    assert "pour le mois" in body


@pytest.mark.parametrize("role", ["alice", "lead", "coordinator_a"])
def test_attendance_per_network_is_for_staff_only(client, request, role, group):
    assert _page(client, request.getfixturevalue(role), reverse("workgroups:attendance_by_network")).status_code == 403


def test_attendance_per_network_asks_anonymous_visitors_to_sign_in(client):
    assert client.get(reverse("workgroups:attendance_by_network")).status_code == 302


def test_attendance_per_network_runs_a_fixed_number_of_queries(
    client, staff, group, held_sessions, alice, network_a, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff)
    url = reverse("workgroups:attendance_by_network")
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    for days in range(60, 65):
        session = _past_session(group, days_ago=days, status=Session.Status.HELD)
        SessionInvitation.objects.create(
            session=session, user=alice, network=network_a, source="network", attended=True
        )
        NetworkFactory()
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)


# --- Demo data -------------------------------------------------------------------------------------


def test_the_demo_loads_twice_without_duplicates(client):
    from io import StringIO

    from django.core.management import call_command

    from workgroups.models import AgendaItem, WorkingGroup

    def counts():
        return [
            model.objects.count() for model in (WorkingGroup, Session, AgendaItem, SessionInvitation, NetworkDelegate)
        ]

    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "animation@anct.example" in out.getvalue() and "agent@anct.example" in out.getvalue()
    first = counts()
    call_command("load_demo", stdout=StringIO())
    assert counts() == first
    assert WorkingGroup.objects.filter(is_plenary=True).count() == 1 and first[0] == 2
    past = Session.objects.get(status=Session.Status.HELD)
    assert past.ends_at < timezone.now() and past.invitations.filter(attended=True).exists()
    upcoming = Session.objects.get(status=Session.Status.SCHEDULED)
    assert upcoming.starts_at > timezone.now() and upcoming.invitations_sent_at is not None
    assert upcoming.agenda_items.filter(measure__isnull=False).count() == 2
    assert upcoming.invitations.exclude(answer="pending").exists() and upcoming.invitations.filter(answer="pending")
    # The lead signs in with the printed password and runs the group from the portal.
    from networks.demo import DEMO_PASSWORD

    assert client.login(email="animation@anct.example", password=DEMO_PASSWORD)
    body = client.get(reverse("workgroups:group_detail", args=[upcoming.group.pk])).content.decode()
    assert "Programmer une séance" in body and upcoming.title in body


def test_the_list_keeps_a_drafts_date_for_its_leads(client, alice, lead, group):

    draft = SessionFactory(group=group, title="Séance encore en préparation")
    day = date_format(timezone.localtime(draft.starts_at), "j F Y")
    assert day not in _main(_page(client, alice, reverse("workgroups:group_list")))
    assert day in _main(_page(client, lead, reverse("workgroups:group_list")))
