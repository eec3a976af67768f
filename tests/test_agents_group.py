"""Agents work in the admin as plain staff of the "Agents" group, not as superusers.

The group's model permissions come from its data migration; the portal's own
rules never take a model permission's name, so the admin asks only the group.
"""

import re
from datetime import date, datetime, timedelta

import pytest
import rules
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from concertation.agents import AGENT_PERMISSIONS, AGENTS_GROUP
from measures.models import MeasureStatus
from networks.models import Membership, User
from tests.factories import FeedbackFactory, MembershipFactory, RoundFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db

MODEL_PERMISSION = re.compile(r"^[a-z_]+\.(add|change|delete|view)_")


def model_permissions() -> set[str]:
    """Every model permission Django knows of: "<app>.<codename>" for each installed model."""
    names = set()
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        names |= {f"{opts.app_label}.{action}_{opts.model_name}" for action in opts.default_permissions}
        names |= {f"{opts.app_label}.{codename}" for codename, _name in opts.permissions}
    names |= {
        f"{app}.{codename}" for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    return names


def form_data(response) -> dict:
    """The admin form of a page as the browser would send it back unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name, field in form.fields.items():
            value, key = form[name].value(), form.add_prefix(name)
            if field.disabled or value is None or value is False:
                continue
            if value is True:
                data[key] = "on"
            elif isinstance(value, (list, tuple)):
                data[key] = [str(v) for v in value]
            elif isinstance(value, (date, datetime)) and hasattr(field.widget, "widgets"):
                data.update({f"{key}_{i}": str(part) for i, part in enumerate(field.widget.decompress(value))})
            else:
                data[key] = str(value)
    return data


# --- The rules and the group ------------------------------------------------------


def test_it_names_no_rule_like_a_model_permission():
    rule_names = set(rules.permissions.permissions.keys())
    assert "networks.read_inside" in rule_names and "measures.read_feedback" in rule_names
    assert rule_names & model_permissions() == set()
    assert [name for name in rule_names if MODEL_PERMISSION.match(name)] == []


def test_it_ships_the_agents_group_with_exactly_its_list(agents):
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in agents.permissions.select_related("content_type")}
    assert granted == set(AGENT_PERMISSIONS)
    # Nothing is deleted but working lists: a hand-written entry of a measure's timeline, a session's
    # agenda items, a network's named delegates. Groups stay with the superuser.
    assert {name for name in granted if ".delete_" in name} == {
        "measures.delete_measureupdate",
        "measures.delete_measureministry",
        "workgroups.delete_agendaitem",
        "workgroups.delete_networkdelegate",
    }
    assert not any(name.startswith("auth.") for name in granted)


def test_it_creates_the_group_in_its_migration_and_removes_it_on_the_way_back(agents):
    executor = MigrationExecutor(connection)
    executor.migrate([("concertation", None)])
    assert not Group.objects.filter(name=AGENTS_GROUP).exists()
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("concertation"))
    group = Group.objects.get(name=AGENTS_GROUP)
    assert group.permissions.count() == len(AGENT_PERMISSIONS)


def test_it_makes_the_demo_agent_a_plain_staff_member_of_the_group():
    from networks.demo import load_demo

    load_demo()
    agent = User.objects.get(email="agent@anct.example")
    assert agent.is_staff and not agent.is_superuser
    assert list(agent.groups.values_list("name", flat=True)) == [AGENTS_GROUP]
    assert not User.objects.filter(is_superuser=True).exists()
    # Every demo account signs in with its address, verified (ProConnect matches on it).
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.filter(user=agent, email=agent.email, primary=True, verified=True).exists()


def test_it_makes_the_test_agent_a_plain_staff_member_of_the_group(staff):
    assert staff.is_staff and not staff.is_superuser
    assert staff.has_perm("measures.change_consultationround") and not staff.has_perm("auth.change_group")


# --- What an agent does in the admin ------------------------------------------------


@pytest.fixture
def admin_objects(network_a, alice, open_round, measure, staff):
    from networks import services

    invitation = services.invitation_send(
        inviter=staff, network=network_a, email="nina@ville.example", role="observer"
    ).invitation
    return {
        "networks_user": alice,
        "networks_network": network_a,
        "networks_territory": TerritoryFactory(),
        "networks_membership": alice.memberships.get(),
        "networks_invitation": invitation,
        "measures_roadmap": measure.roadmap,
        "measures_programme": measure.programme,
        "measures_measure": measure,
        "measures_consultationround": open_round,
        "measures_feedback": FeedbackFactory(measure=measure, network=network_a, author=alice),
    }


CHANGELISTS = [
    "networks_user",
    "networks_network",
    "networks_territory",
    "networks_membership",
    "networks_invitation",
    "measures_roadmap",
    "measures_measure",
    "measures_consultationround",
    "measures_feedback",
    "outbox_outboxmessage",
]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_it_opens_each_changelist_to_an_agent(agent_client, admin_objects, model):
    response = agent_client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", [name for name in CHANGELISTS if name != "outbox_outboxmessage"])
def test_it_opens_each_record_to_an_agent(agent_client, admin_objects, model):
    response = agent_client.get(reverse(f"admin:{model}_change", args=[admin_objects[model].pk]))
    assert response.status_code == 200


# Feedback comes from the networks and e-mails from the portal: agents add neither by hand.
ADDABLE = [name for name in CHANGELISTS if name not in {"measures_feedback", "outbox_outboxmessage"}]


@pytest.mark.parametrize("model", ADDABLE)
def test_it_lets_an_agent_add_records(agent_client, model):
    assert agent_client.get(reverse(f"admin:{model}_add")).status_code == 200


def test_it_lets_an_agent_change_a_role_in_a_network(agent_client, alice, network_a):
    membership = alice.memberships.get()
    url = reverse("admin:networks_membership_change", args=[membership.pk])
    data = {**form_data(agent_client.get(url)), "role": Membership.Role.COORDINATOR}
    assert agent_client.post(url, data).status_code == 302
    membership.refresh_from_db()
    assert membership.role == Membership.Role.COORDINATOR


def test_it_lets_an_agent_edit_a_round_and_open_it_now(agent_client, measure, network_a, alice):
    consultation = RoundFactory(
        title="Consultation de printemps",
        measures=[measure],
        networks=[network_a],
        opens_at=timezone.now() + timedelta(days=3),
    )
    url = reverse("admin:measures_consultationround_change", args=[consultation.pk])
    data = {**form_data(agent_client.get(url)), "title": "Consultation du printemps"}
    assert agent_client.post(url, data).status_code == 302
    response = agent_client.post(
        reverse("admin:measures_consultationround_changelist"),
        {"action": "open_now", "_selected_action": [consultation.pk]},
        follow=True,
    )
    assert "« Consultation du printemps » est ouverte." in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.title == "Consultation du printemps" and consultation.opens_at <= timezone.now()


def test_it_lets_an_agent_change_a_measures_status(agent_client, measure, staff):
    url = reverse("admin:measures_measure_change", args=[measure.pk])
    data = {**form_data(agent_client.get(url)), "status": MeasureStatus.IN_PROGRESS}
    assert agent_client.post(url, data).status_code == 302
    assert measure.updates.get().author == staff


def test_it_lets_an_agent_edit_a_person_but_not_their_rights(agent_client, alice, agents, staff):
    url = reverse("admin:networks_user_change", args=[alice.pk])
    page = agent_client.get(url)
    assert 'name="is_superuser"' not in page.content.decode() and 'name="groups"' not in page.content.decode()
    data = {
        **form_data(page),
        "full_name": "Alice Alpha-Martin",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [str(agents.pk)],
        "user_permissions": [str(Permission.objects.get(codename="delete_user").pk)],
    }
    assert agent_client.post(url, data).status_code == 302
    alice.refresh_from_db()
    assert alice.full_name == "Alice Alpha-Martin"
    assert not (alice.is_staff or alice.is_superuser or alice.groups.exists() or alice.user_permissions.exists())
    # Nor their own.
    own = reverse("admin:networks_user_change", args=[staff.pk])
    agent_client.post(own, {**form_data(agent_client.get(own)), "is_superuser": "on"})
    staff.refresh_from_db()
    assert not staff.is_superuser


def test_it_keeps_an_agent_off_a_superusers_account(agent_client):
    root = User.objects.create_superuser("exploitation@anct.example", "mot-de-passe-du-deploiement")
    url = reverse("admin:networks_user_change", args=[root.pk])
    page = agent_client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # shown, read-only
    assert agent_client.post(url, {"email": "pirate@example.org"}).status_code == 403
    assert agent_client.get(reverse("admin:auth_user_password_change", args=[root.pk])).status_code == 403
    root.refresh_from_db()
    assert root.email == "exploitation@anct.example"


@pytest.mark.parametrize(
    "url",
    [
        lambda o: reverse("admin:networks_user_delete", args=[o["networks_user"].pk]),
        lambda o: reverse("admin:networks_membership_delete", args=[o["networks_membership"].pk]),
        lambda o: reverse("admin:networks_invitation_delete", args=[o["networks_invitation"].pk]),
        lambda o: reverse("admin:networks_network_delete", args=[o["networks_network"].pk]),
        lambda o: reverse("admin:measures_consultationround_delete", args=[o["measures_consultationround"].pk]),
        lambda o: reverse("admin:measures_feedback_delete", args=[o["measures_feedback"].pk]),
        lambda o: reverse("admin:auth_group_changelist"),
        lambda o: reverse("admin:auth_group_add"),
    ],
    ids=[
        "delete person",
        "delete membership",
        "delete invitation",
        "delete network",
        "delete round",
        "delete feedback",
        "groups",
        "add group",
    ],
)
def test_it_keeps_superuser_work_from_agents(agent_client, admin_objects, url):
    assert agent_client.get(url(admin_objects)).status_code == 403


def test_it_shows_feedback_to_an_agent_read_only(agent_client, admin_objects):
    # Feedback is read in the admin and answered in the portal; agents change only the mark that quotes it in its
    # round's report (tests/test_round_report.py).
    feedback = admin_objects["measures_feedback"]
    page = agent_client.get(reverse("admin:measures_feedback_change", args=[feedback.pk]))
    assert page.status_code == 200 and feedback.what_works in page.content.decode()
    assert list(page.context["adminform"].form.fields) == ["quoted_in_report"]
    agent_client.post(page.request["PATH_INFO"], {"what_works": "Réécrit"})
    feedback.refresh_from_db()
    assert feedback.what_works != "Réécrit"


def test_it_offers_no_delete_action_on_people_to_an_agent(agent_client, alice):
    response = agent_client.get(reverse("admin:networks_user_changelist"))
    assert "delete_selected" not in response.content.decode()


# --- Access comes from the group's model permissions, not from is_staff -----------


@pytest.fixture
def staff_without_group(client):
    user = UserFactory(email="stagiaire@anct.example", is_staff=True)
    client.force_login(user)
    return user


@pytest.mark.parametrize("model", CHANGELISTS)
def test_it_gives_staff_outside_the_group_no_model_in_the_admin(client, staff_without_group, model):
    # Among them the feedback, which a rule named "measures.view_feedback" used to open.
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 403


def test_it_offers_round_actions_only_to_those_who_may_change_rounds(client, staff_without_group, open_round):
    readers = Group.objects.create(name="Lecture des consultations")
    readers.permissions.add(Permission.objects.get(codename="view_consultationround"))
    staff_without_group.groups.add(readers)
    changelist = reverse("admin:measures_consultationround_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    assert 'value="open_now"' not in page.content.decode() and 'value="close_now"' not in page.content.decode()
    client.post(changelist, {"action": "close_now", "_selected_action": [open_round.pk], "confirm": "yes"})
    open_round.refresh_from_db()
    assert open_round.is_open()


def test_it_offers_invitation_actions_to_agents(agent_client, admin_objects):
    page = agent_client.get(reverse("admin:networks_invitation_changelist")).content.decode()
    assert 'value="resend"' in page and 'value="revoke"' in page


def test_it_keeps_the_portals_business_rules_on_is_staff(staff, staff_without_group, alice):
    feedback = FeedbackFactory(network=MembershipFactory(user=UserFactory()).network)
    assert staff.has_perm("measures.respond_feedback", feedback)
    assert staff_without_group.has_perm("measures.respond_feedback", feedback)
    assert not alice.has_perm("measures.respond_feedback", feedback)


def test_an_agent_cannot_take_over_another_staff_account(agent_client, agents):
    from networks.models import User
    from tests.factories import UserFactory

    colleague = UserFactory(email="collegue@anct.example", is_staff=True)
    colleague.groups.add(agents)
    password_page = reverse("admin:auth_user_password_change", args=[colleague.pk]).replace(
        "auth/user", "networks/user"
    )
    assert agent_client.get(password_page).status_code == 403
    response = agent_client.post(
        reverse("admin:networks_user_change", args=[colleague.pk]),
        {"email": "pirate@example.org", "full_name": "X", "is_active": "on"},
    )
    assert response.status_code == 403
    assert User.objects.get(pk=colleague.pk).email == "collegue@anct.example"
