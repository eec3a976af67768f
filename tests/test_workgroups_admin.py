"""Working groups and sessions in the admin, as a plain agent (staff in the Agents group) runs them."""

from datetime import timedelta
from email import message_from_bytes

import icalendar
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.factories import SessionFactory, UserFactory
from tests.test_agents_group import form_data
from workgroups import services
from workgroups.models import NetworkDelegate, Session, SessionInvitation, SessionReminder, WorkingGroup

pytestmark = pytest.mark.django_db


def _ics_of(message) -> icalendar.Calendar:
    """The calendar attached to a sent e-mail, parsed back."""
    parsed = message_from_bytes(message.message().as_bytes())
    (part,) = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


@pytest.fixture
def admin_objects(session, alice, network_a, group):
    invitation = SessionInvitation.objects.create(session=session, user=alice, network=network_a, source="network")
    return {
        "workgroups_workinggroup": group,
        "workgroups_session": session,
        "workgroups_sessioninvitation": invitation,
        "workgroups_sessionreminder": session.reminders.first(),
    }


MODELS = ["workgroups_workinggroup", "workgroups_session", "workgroups_sessioninvitation", "workgroups_sessionreminder"]


@pytest.mark.parametrize("model", MODELS)
def test_it_opens_each_changelist_and_record_to_an_agent(agent_client, admin_objects, model):
    assert agent_client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert agent_client.get(reverse(f"admin:{model}_change", args=[admin_objects[model].pk])).status_code == 200


@pytest.mark.parametrize("model", ["workgroups_workinggroup", "workgroups_session"])
def test_it_lets_an_agent_add_groups_and_sessions(agent_client, model):
    assert agent_client.get(reverse(f"admin:{model}_add")).status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_it_gives_staff_outside_the_agents_group_nothing(client, admin_objects, model):
    client.force_login(UserFactory(email="stagiaire@anct.example", is_staff=True))
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 403


# --- Groups ---------------------------------------------------------------------------------


def _local(moment):
    local = timezone.localtime(moment)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def test_an_agent_creates_a_group_with_a_named_participant(agent_client, staff, network_a, alice, lead, measure):
    url = reverse("admin:workgroups_workinggroup_add")
    data = {
        **form_data(agent_client.get(url)),
        "title": "Éducation et petite enfance",
        "theme": "Éducation",
        "is_active": "on",
        "leads": [str(lead.pk)],
        "networks": [str(network_a.pk)],
        "measures": [str(measure.pk)],
        "delegates-TOTAL_FORMS": "1",
        "delegates-0-network": str(network_a.pk),
        "delegates-0-user": str(alice.pk),
    }
    response = agent_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    group = WorkingGroup.objects.get(title="Éducation et petite enfance")
    assert list(group.leads.all()) == [lead] and list(group.measures.all()) == [measure]
    delegate = NetworkDelegate.objects.get()
    assert (delegate.user, delegate.named_by) == (alice, staff)


def test_only_active_members_of_the_network_are_named_in_the_admin(agent_client, network_a, bob):
    url = reverse("admin:workgroups_workinggroup_add")
    data = {
        **form_data(agent_client.get(url)),
        "title": "Groupe",
        "is_active": "on",
        "networks": [str(network_a.pk)],
        "delegates-TOTAL_FORMS": "1",
        "delegates-0-network": str(network_a.pk),
        "delegates-0-user": str(bob.pk),
    }
    response = agent_client.post(url, data)
    assert response.status_code == 200
    assert "Ne désignez que des membres actifs du réseau." in response.content.decode()
    assert not WorkingGroup.objects.exists()


def test_a_second_plenary_is_refused(agent_client):
    WorkingGroup.objects.create(title="Plénière", is_plenary=True)
    url = reverse("admin:workgroups_workinggroup_add")
    data = {**form_data(agent_client.get(url)), "title": "Autre plénière", "is_plenary": "on", "is_active": "on"}
    assert agent_client.post(url, data).status_code == 200
    assert WorkingGroup.objects.filter(is_plenary=True).count() == 1


# --- Sessions ----------------------------------------------------------------------------------


def _new_session_data(agent_client, group, starts, **changes):
    url = reverse("admin:workgroups_session_add")
    day, hour = _local(starts)
    end_day, end_hour = _local(starts + timedelta(hours=2))
    return url, {
        **form_data(agent_client.get(url)),
        "group": str(group.pk),
        "title": "Séance depuis l'administration",
        "starts_at_0": day,
        "starts_at_1": hour,
        "ends_at_0": end_day,
        "ends_at_1": end_hour,
        "format": "in_person",
        "place": "Salle 1",
        "online_url": "",
        "reminders": ["10080", "1440"],
        **changes,
    }


def test_an_agent_schedules_a_session_with_its_agenda_and_reminders(agent_client, staff, group, measure):
    starts = (timezone.now() + timedelta(days=20)).replace(second=0, microsecond=0)
    url, data = _new_session_data(
        agent_client,
        group,
        starts,
        **{
            "agenda_items-TOTAL_FORMS": "1",
            "agenda_items-0-position": "1",
            "agenda_items-0-title": "Bilan",
            "agenda_items-0-measure": str(measure.pk),
        },
    )
    response = agent_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    session = Session.objects.get()
    assert session.created_by == staff and session.starts_at == starts
    assert session.agenda_items.get().measure == measure
    assert sorted(session.reminders.values_list("offset_minutes", flat=True)) == [1440, 10080]
    assert not mail.outbox


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"starts_at_0": "2020-01-06"}, "Cette date est passée"),
        ({"ends_at_1": "08:00"}, "La fin doit venir après le début."),
        ({"format": "online", "online_url": ""}, "Une séance en ligne ou hybride a besoin"),
    ],
    ids=["past", "end before start", "online without link"],
)
def test_bad_sessions_are_refused_with_a_clear_message(agent_client, group, changes, message):
    starts = (timezone.now() + timedelta(days=20)).replace(hour=10, minute=0, second=0, microsecond=0)
    url, data = _new_session_data(agent_client, group, starts, **changes)
    response = agent_client.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body and body.count(message) == 1
    assert not Session.objects.exists() and not SessionReminder.objects.exists()


@pytest.fixture
def invited(session, alice, staff, django_capture_on_commit_callbacks):
    """``session`` with its group invited (alice, of network A)."""
    with django_capture_on_commit_callbacks(execute=True):
        services.session_invite_group(session=session, by=staff)
    assert SessionInvitation.objects.filter(session=session, user=alice).exists()
    mail.outbox.clear()
    return session


def test_moving_a_session_in_the_admin_sends_invitees_an_update(
    agent_client, invited, alice, django_capture_on_commit_callbacks
):
    url = reverse("admin:workgroups_session_change", args=[invited.pk])
    later = invited.starts_at + timedelta(days=2)
    day, hour = _local(later)
    end_day, end_hour = _local(later + timedelta(hours=2))
    data = {
        **form_data(agent_client.get(url)),
        "starts_at_0": day,
        "starts_at_1": hour,
        "ends_at_0": end_day,
        "ends_at_1": end_hour,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    invited.refresh_from_db()
    assert invited.starts_at == later and invited.sequence == 1
    assert [m.to for m in mail.outbox] == [[alice.email]]
    event = next(c for c in _ics_of(mail.outbox[0]).walk() if c.name == "VEVENT")
    assert event["SEQUENCE"] == 1 and event["UID"] == invited.calendar_uid()
    due = sorted(invited.reminders.values_list("due_at", flat=True))
    assert due == [later - timedelta(days=7), later - timedelta(days=1)]


def test_renaming_nothing_sends_nothing(agent_client, invited, django_capture_on_commit_callbacks):
    url = reverse("admin:workgroups_session_change", args=[invited.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert agent_client.post(url, form_data(agent_client.get(url))).status_code == 302
    assert not mail.outbox
    invited.refresh_from_db()
    assert invited.sequence == 0


def test_moving_a_session_into_the_past_is_refused(agent_client, invited, django_capture_on_commit_callbacks):
    url = reverse("admin:workgroups_session_change", args=[invited.pk])
    before = invited.starts_at
    data = {**form_data(agent_client.get(url)), "starts_at_0": "2020-01-06", "ends_at_0": "2020-01-06"}
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(url, data)
    assert response.status_code == 200
    assert "Cette date est passée" in response.content.decode()
    invited.refresh_from_db()
    assert invited.starts_at == before and invited.sequence == 0 and not mail.outbox


def test_a_held_session_is_shown_read_only(agent_client, session):
    session.status = Session.Status.HELD
    session.save()
    url = reverse("admin:workgroups_session_change", args=[session.pk])
    page = agent_client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert agent_client.post(url, {"title": "Réécrite"}).status_code == 403


def test_sessions_are_never_deleted(agent_client, session):
    assert agent_client.get(reverse("admin:workgroups_session_delete", args=[session.pk])).status_code == 403
    assert "delete_selected" not in agent_client.get(reverse("admin:workgroups_session_changelist")).content.decode()


def test_the_list_shows_answer_counts(agent_client, invited, alice):
    SessionInvitation.objects.filter(user=alice).update(answer="accepted")
    body = agent_client.get(reverse("admin:workgroups_session_changelist")).content.decode()
    assert "1 personne invitée : 1 oui, 0 peut-être, 0 non, 0 sans réponse" in body


# --- Actions ------------------------------------------------------------------------------------


def _action(agent_client, action, session, **extra):
    return agent_client.post(
        reverse("admin:workgroups_session_changelist"),
        {"action": action, "_selected_action": [session.pk], **extra},
        follow=True,
    )


def test_the_invite_action_asks_then_invites_the_group(
    agent_client, session, alice, django_capture_on_commit_callbacks
):
    page = _action(agent_client, "invite_group", session).content.decode()
    # A confirmation first, as for cancelling: nothing sent yet.
    assert "Oui, envoyer les invitations" in page and session.title in page
    assert "1 personne à inviter" in page
    assert not SessionInvitation.objects.filter(session=session).exists() and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        response = _action(agent_client, "invite_group", session, confirm="yes")
    assert "les invitations partent aux membres du groupe" in response.content.decode()
    assert SessionInvitation.objects.get(session=session).user == alice
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_the_reminder_action_reminds_now(agent_client, invited, alice, django_capture_on_commit_callbacks):
    page = _action(agent_client, "remind_now", invited).content.decode()
    # A confirmation first, saying how many people it reaches: nothing sent yet.
    assert "Oui, envoyer le rappel" in page and "1 personne à qui rappeler la séance" in page
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        response = _action(agent_client, "remind_now", invited, confirm="yes")
    assert "1 rappel envoyé" in response.content.decode()
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_a_reminder_that_sends_nothing_says_why(agent_client, invited, alice, django_capture_on_commit_callbacks):
    nobody = SessionFactory(group=invited.group, title="Séance sans invité")
    body = _action(agent_client, "remind_now", nobody, confirm="yes").content.decode()
    assert "aucun rappel envoyé, car personne n&#x27;est invité à cette séance." in body
    with django_capture_on_commit_callbacks(execute=True):
        _action(agent_client, "remind_now", invited, confirm="yes")
    body = _action(agent_client, "remind_now", invited, confirm="yes").content.decode()
    assert "car un rappel vient de partir (un seul par minute)" in body
    SessionInvitation.objects.filter(session=invited).update(answer="declined")
    body = _action(agent_client, "remind_now", invited, confirm="yes").content.decode()
    assert "car toutes les personnes invitées ont décliné." in body


def test_reminders_and_labels_read_in_french(agent_client, session):
    from workgroups.models import reminder_offset_label

    assert [reminder_offset_label(m) for m in (7 * 1440, 1440, 120, 60, 90)] == [
        "7 jours avant",
        "1 jour avant",
        "2 heures avant",
        "1 heure avant",
        "90 minutes avant",
    ]
    session.created_by = session.group.leads.get()
    session.save()
    body = agent_client.get(reverse("admin:workgroups_session_change", args=[session.pk])).content.decode()
    assert "7 jours avant" in body and "1 jour avant" in body
    assert "days," not in body and "0:00:00" not in body
    assert "Créée par" in body and "Created by" not in body
    assert "Lien de connexion" in body


def test_the_reminder_action_explains_a_refusal(agent_client, session):
    session.status = Session.Status.CANCELLED
    session.save()
    response = _action(agent_client, "remind_now", session, confirm="yes")
    assert "On ne rappelle qu&#x27;une séance programmée" in response.content.decode()


def test_the_cancel_action_asks_then_cancels_and_tells_invitees(
    agent_client, invited, alice, django_capture_on_commit_callbacks
):
    page = _action(agent_client, "cancel_sessions", invited)
    assert "Oui, annuler ces séances" in page.content.decode() and invited.title in page.content.decode()
    invited.refresh_from_db()
    assert invited.status == Session.Status.SCHEDULED
    with django_capture_on_commit_callbacks(execute=True):
        response = _action(agent_client, "cancel_sessions", invited, confirm="yes", reason="Salle indisponible")
    assert "est annulée" in response.content.decode()
    invited.refresh_from_db()
    assert invited.status == Session.Status.CANCELLED and invited.cancellation_reason == "Salle indisponible"
    assert [m.to for m in mail.outbox] == [[alice.email]]
    assert str(_ics_of(mail.outbox[0])["METHOD"]) == "CANCEL"


def test_actions_are_offered_to_agents(agent_client, session):
    body = agent_client.get(reverse("admin:workgroups_session_changelist")).content.decode()
    assert 'value="invite_group"' in body and 'value="remind_now"' in body and 'value="cancel_sessions"' in body


# --- Invitations and reminders ---------------------------------------------------------------------


def test_the_session_links_to_its_invitations(agent_client, admin_objects, alice, bob):
    session = admin_objects["workgroups_session"]
    other = SessionFactory(group=session.group)
    SessionInvitation.objects.create(session=other, user=bob, source="added")
    page = agent_client.get(reverse("admin:workgroups_session_change", args=[session.pk])).content.decode()
    link = reverse("admin:workgroups_sessioninvitation_changelist") + f"?session__id__exact={session.pk}"
    assert link in page
    listing = agent_client.get(link)
    assert listing.status_code == 200
    assert alice.full_name in listing.content.decode() and bob.full_name not in listing.content.decode()


def test_an_agent_corrects_attendance_and_nothing_else(agent_client, admin_objects, alice):
    invitation = admin_objects["workgroups_sessioninvitation"]
    url = reverse("admin:workgroups_sessioninvitation_change", args=[invitation.pk])
    data = {**form_data(agent_client.get(url)), "attended": "true", "answer": "declined"}
    assert agent_client.post(url, data).status_code == 302
    invitation.refresh_from_db()
    assert invitation.attended is True and invitation.answer == "pending"
    assert agent_client.get(reverse("admin:workgroups_sessioninvitation_add")).status_code == 403
    assert (
        agent_client.get(reverse("admin:workgroups_sessioninvitation_delete", args=[invitation.pk])).status_code == 403
    )


def test_reminders_are_read_only(agent_client, admin_objects):
    reminder = admin_objects["workgroups_sessionreminder"]
    page = agent_client.get(reverse("admin:workgroups_sessionreminder_change", args=[reminder.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert agent_client.get(reverse("admin:workgroups_sessionreminder_add")).status_code == 403
