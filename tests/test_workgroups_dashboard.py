"""The working groups' dashboard panel, the sessions on a measure's page, and the registry of panels by slot."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from concertation.lib import dashboard as registry
from tests.factories import SessionFactory
from workgroups.models import AgendaItem, Session, SessionInvitation

pytestmark = pytest.mark.django_db


def _section(body: str, marker: str) -> str:
    return body.split(f'id="{marker}"')[1].split("</ul>")[0] if f'id="{marker}"' in body else ""


def _dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def _started_session(group, title="Séance d'hier"):
    starts = timezone.now() - timedelta(days=1)
    return SessionFactory(group=group, title=title, starts_at=starts, ends_at=starts + timedelta(hours=2))


# --- Dashboard --------------------------------------------------------------------------


def test_an_invitee_sees_what_awaits_an_answer(client, alice, session, network_a):
    SessionInvitation.objects.create(session=session, user=alice, network=network_a, source="network")
    body = _dashboard(client, alice)
    to_answer = _section(body, "sessions-to-answer")
    assert session.title in to_answer
    # "Répondre" opens the session page at its answer form (the answer itself is a POST there).
    assert session.get_absolute_url() + "#reponse" in to_answer
    assert session.title not in _section(body, "sessions-upcoming")
    assert "Présences à relever" not in body  # not a lead


def test_an_accepted_session_moves_to_upcoming(client, alice, session, network_a):
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    SessionInvitation.objects.create(
        session=session, user=alice, network=network_a, source="network", answer="accepted"
    )
    body = _dashboard(client, alice)
    assert "Aucune invitation n'attend votre réponse." in body
    upcoming = _section(body, "sessions-upcoming")
    assert session.title in upcoming and "vous participerez" in upcoming
    assert session.get_absolute_url() in upcoming


def test_withdrawn_declined_cancelled_and_started_sessions_await_no_answer(client, alice, group, network_a):
    withdrawn = SessionFactory(group=group, title="Retirée")
    SessionInvitation.objects.create(session=withdrawn, user=alice, source="added", withdrawn_at=timezone.now())
    declined = SessionFactory(group=group, title="Déclinée")
    SessionInvitation.objects.create(session=declined, user=alice, source="added", answer="declined")
    cancelled = SessionFactory(group=group, title="Annulée", status=Session.Status.CANCELLED)
    SessionInvitation.objects.create(session=cancelled, user=alice, source="added")
    started = _started_session(group, "Commencée")
    SessionInvitation.objects.create(session=started, user=alice, source="added")
    body = _dashboard(client, alice)
    assert "Aucune invitation n'attend votre réponse." in body
    assert "Aucune séance à venir." in body


def test_a_lead_sees_the_groups_sessions_and_the_attendance_to_record(client, lead, session, group):
    started = _started_session(group)
    held = _started_session(group, "Séance tenue")
    held.status = Session.Status.HELD
    held.save()
    body = _dashboard(client, lead)
    assert session.title in _section(body, "sessions-upcoming")
    awaiting = _section(body, "sessions-awaiting-attendance")
    assert reverse("workgroups:attendance_edit", args=[started.pk]) in awaiting
    assert held.title not in awaiting


def test_another_groups_lead_does_not_see_them(client, other_group, session):
    body = _dashboard(client, other_group.leads.get())
    assert session.title not in body
    assert "Toutes les séances passées de vos groupes ont leurs présences relevées." in body


def test_people_who_do_not_read_the_groups_get_no_panel(client, outsider):
    assert "Mes séances de travail" not in _dashboard(client, outsider)


def test_the_panel_runs_a_fixed_number_of_queries(client, lead, alice, group, network_a, django_assert_num_queries):
    def sessions(n):
        for _ in range(n):
            session = SessionFactory(group=group)
            SessionInvitation.objects.create(session=session, user=alice, network=network_a, source="network")
            _started_session(group)

    sessions(1)
    for user in (lead, alice):
        client.force_login(user)
        client.get(reverse("dashboard"))
        with CaptureQueriesContext(connection) as first:
            client.get(reverse("dashboard"))
        sessions(4)
        with django_assert_num_queries(len(first.captured_queries)):
            client.get(reverse("dashboard"))


# --- A measure's page ------------------------------------------------------------------------


@pytest.fixture
def discussed(session, measure, group):
    """``session`` has the measure on its agenda; a past cancelled session too."""
    AgendaItem.objects.create(session=session, position=1, title="Bilan", measure=measure)
    session.format, session.online_url = Session.Format.HYBRID, "https://visio.example/secret-link"
    session.invitations_sent_at = timezone.now()
    session.save()
    starts = timezone.now() - timedelta(days=30)
    past = SessionFactory(
        group=group,
        title="Séance annulée en été",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        status=Session.Status.CANCELLED,
        invitations_sent_at=starts - timedelta(days=7),
    )
    AgendaItem.objects.create(session=past, position=1, title="Bilan", measure=measure)
    return session, past


def test_a_measures_page_lists_the_sessions_that_discuss_it(client, alice, measure, other_measure, discussed):
    session, past = discussed
    client.force_login(alice)
    body = client.get(reverse("measures:detail", args=[measure.pk])).content.decode()
    upcoming = _section(body, "measure-sessions-upcoming")
    assert session.title in upcoming and session.get_absolute_url() in upcoming
    previous = _section(body, "measure-sessions-past")
    assert past.title in previous and "Annulée" in previous
    assert "secret-link" not in body
    other = client.get(reverse("measures:detail", args=[other_measure.pk])).content.decode()
    assert session.title not in other and "Aucune séance de groupe de travail" in other


@pytest.mark.parametrize("role", [None, "outsider", "former_member"])
def test_the_sessions_stay_inside(client, request, measure, discussed, role):
    if role:
        client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("measures:detail", args=[measure.pk]))
    assert response.status_code == 200
    assert "Séances des groupes de travail" not in response.content.decode()
    assert discussed[0].title not in response.content.decode()


def test_sessions_of_an_inactive_group_are_left_out_for_members(client, alice, staff, measure, discussed, group):
    group.is_active = False
    group.save()
    client.force_login(alice)
    assert discussed[0].title not in client.get(reverse("measures:detail", args=[measure.pk])).content.decode()
    client.force_login(staff)
    assert discussed[0].title in client.get(reverse("measures:detail", args=[measure.pk])).content.decode()


def test_the_measure_page_runs_a_fixed_number_of_queries(client, alice, measure, group, django_assert_num_queries):
    def sessions(n):
        for _ in range(n):
            session = SessionFactory(group=group, invitations_sent_at=timezone.now())
            AgendaItem.objects.create(session=session, title="Point", measure=measure)

    sessions(1)
    client.force_login(alice)
    url = reverse("measures:detail", args=[measure.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    sessions(5)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)


# --- The registry -----------------------------------------------------------------------------


def test_the_registry_keeps_slots_apart(rf, alice, measure):
    request = rf.get("/")
    request.user = alice
    dashboard_templates = [panel["template"] for panel in registry.panels_for(request)]
    assert "workgroups/dashboard_panel.html" in dashboard_templates
    assert "workgroups/measure_sessions.html" not in dashboard_templates
    measure_panels = registry.panels_for(request, slot="measure", obj=measure)
    assert [panel["template"] for panel in measure_panels] == ["workgroups/measure_sessions.html"]
    assert measure_panels[0]["visible"] is True


def test_a_lead_sees_a_draft_marked_and_members_do_not_see_it(client, lead, alice, session):
    upcoming = _section(_dashboard(client, lead), "sessions-upcoming")
    assert session.title in upcoming and "Invitations pas encore envoyées" in upcoming
    assert session.title not in _dashboard(client, alice)
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    assert "Invitations pas encore envoyées" not in _section(_dashboard(client, lead), "sessions-upcoming")
