"""A lead's pages for running sessions: schedule, agenda, invitations, cancellation, attendance."""

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutboxMessage
from tests.factories import MeasureFactory, MembershipFactory, SessionFactory, UserFactory
from workgroups.forms import parse_reminder_offsets, resolve_measure
from workgroups.models import AgendaItem, Session, SessionInvitation

pytestmark = pytest.mark.django_db


def _day(days=10):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _schedule(**overrides):
    data = {
        "title": "Emplois francs : bilan",
        "date": _day(),
        "start_time": "09:30",
        "end_time": "12:00",
        "format": "in_person",
        "place": "ANCT, salle 2",
        "online_url": "",
        "reminders": "7 j, 1 j",
    }
    data.update(overrides)
    return data


def _invite(session, user, **fields):
    fields.setdefault("network", None)
    return SessionInvitation.objects.create(session=session, user=user, source=fields.pop("source", "added"), **fields)


@pytest.fixture
def past_session(group):
    """A session of ``group`` that started two hours ago."""
    starts = timezone.now() - timedelta(hours=2)
    return SessionFactory(group=group, title="Séance passée", starts_at=starts, ends_at=starts + timedelta(hours=1))


@pytest.fixture
def other_lead(other_group):
    return other_group.leads.get()


MANAGE_PAGES = [
    ("session_edit", False),
    ("agenda_edit", False),
    ("session_invitations", False),
    ("invite_group", False),
    ("session_cancel", False),
    ("attendance_edit", True),
]


def _url(name, session):
    return reverse(f"workgroups:{name}", args=[session.pk])


# --- Who may ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "staff"])
def test_it_lets_a_lead_or_an_agent_open_every_management_page(client, request, role, session, past_session):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("workgroups:session_create", args=[session.group.pk])).status_code == 200
    for name, needs_past in MANAGE_PAGES:
        response = client.get(_url(name, past_session if needs_past else session))
        assert response.status_code == 200, name
    invitation = _invite(session, UserFactory())
    assert client.get(reverse("workgroups:invitation_withdraw", args=[session.pk, invitation.pk])).status_code == 200
    assert client.get(_url("session_detail", session)).status_code == 200


@pytest.mark.parametrize("role", ["other_lead", "alice", "bob", "outsider"])
def test_it_refuses_management_to_everyone_else(client, request, role, session, past_session):
    client.force_login(request.getfixturevalue(role))
    invitation = _invite(session, UserFactory())
    urls = [reverse("workgroups:session_create", args=[session.group.pk])]
    urls += [_url(name, past_session if needs_past else session) for name, needs_past in MANAGE_PAGES]
    urls.append(reverse("workgroups:invitation_withdraw", args=[session.pk, invitation.pk]))
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, _schedule()).status_code == 403, url
    assert Session.objects.count() == 2
    invitation.refresh_from_db()
    assert invitation.withdrawn_at is None
    assert session.status == Session.Status.SCHEDULED


def test_it_sends_anonymous_visitors_to_sign_in(client, session):
    for url in [reverse("workgroups:session_create", args=[session.group.pk]), _url("session_detail", session)]:
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]
    for name, _needs_past in MANAGE_PAGES:
        assert client.get(_url(name, session)).status_code == 302


def test_it_answers_404_for_unknown_ids(client, lead, session):
    client.force_login(lead)
    assert client.get(reverse("workgroups:session_create", args=[999999])).status_code == 404
    for name, _needs_past in [*MANAGE_PAGES, ("session_detail", False)]:
        assert client.get(reverse(f"workgroups:{name}", args=[999999])).status_code == 404
    assert client.get(reverse("workgroups:invitation_withdraw", args=[session.pk, 999999])).status_code == 404


# --- Scheduling ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "staff"])
def test_it_schedules_a_session_in_paris_time(client, request, role, group):
    client.force_login(request.getfixturevalue(role))
    response = client.post(
        reverse("workgroups:session_create", args=[group.pk]),
        _schedule(format="hybrid", online_url="https://visio.example/salle", reminders="2 h, 1 j"),
    )
    session = Session.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workgroups:agenda_edit", args=[session.pk])
    local = timezone.localtime(session.starts_at)
    assert (local.isoformat()[:10], local.strftime("%H:%M")) == (_day(), "09:30")
    assert str(local.tzinfo) == "Europe/Paris"
    assert session.reminder_offsets == [24 * 60, 120]
    assert session.reminders.count() == 2
    assert OutboxMessage.objects.count() == 0
    page = client.get(response["Location"], follow=True)
    assert "Séance programmée" in page.content.decode()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"end_time": "08:00"}, "L&#x27;heure de fin doit venir après l&#x27;heure de début."),
        ({"date": _day(-1)}, "Cette date est passée"),
        ({"format": "online", "place": ""}, "Une séance en ligne ou hybride a besoin d&#x27;un lien de connexion."),
        ({"format": "hybrid", "online_url": "https://visio.example/x", "place": ""}, "Indiquez le lieu"),
        ({"reminders": "7 jours, demain"}, "« demain » n&#x27;est pas compris"),
        ({"date": "2026-02-30"}, "Cette date n&#x27;existe pas."),
    ],
)
def test_it_refuses_bad_schedules_and_keeps_what_was_typed(client, lead, group, overrides, message):
    client.force_login(lead)
    data = _schedule(title="Un intitulé tapé", **overrides)
    response = client.post(reverse("workgroups:session_create", args=[group.pk]), data)
    content = response.content.decode()
    assert response.status_code == 200
    assert message in content
    assert 'id="form-errors"' in content
    assert 'value="Un intitulé tapé"' in content
    assert Session.objects.count() == 0


def test_reminder_offsets_are_read_in_days_and_hours():
    assert parse_reminder_offsets("7 j, 1 j") == [7 * 1440, 1440]
    assert parse_reminder_offsets("2 h") == [120]
    assert parse_reminder_offsets("3 jours et 4 heures") == [3 * 1440, 240]
    assert parse_reminder_offsets("7 days, 1 d, 2 hours") == [7 * 1440, 1440, 120]  # in English too
    assert parse_reminder_offsets("") == []


def test_the_form_offers_the_default_reminders(client, lead, group):
    client.force_login(lead)
    content = client.get(reverse("workgroups:session_create", args=[group.pk])).content.decode()
    assert 'value="7 j, 1 j"' in content
    assert 'type="date"' in content and 'type="time"' in content


def test_editing_before_invitations_tells_nobody(client, lead, session):
    client.force_login(lead)
    data = _schedule(
        title=session.title, date=timezone.localtime(session.starts_at).date().isoformat(), place="Salle 4"
    )
    response = client.post(_url("session_edit", session), data, follow=True)
    session.refresh_from_db()
    assert session.place == "Salle 4"
    assert "personne n&#x27;a été prévenu" in response.content.decode()
    assert OutboxMessage.objects.count() == 0


def test_editing_after_invitations_sends_an_update_and_says_so(client, lead, session, alice):
    _invite(session, alice)
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    client.force_login(lead)
    start = timezone.localtime(session.starts_at)
    response = client.get(_url("session_edit", session))
    assert f'value="{start.date().isoformat()}"' in response.content.decode()
    data = _schedule(title=session.title, date=start.date().isoformat(), start_time="10:00", end_time="11:30")
    data["place"] = session.place
    response = client.post(_url("session_edit", session), data, follow=True)
    session.refresh_from_db()
    assert timezone.localtime(session.starts_at).strftime("%H:%M") == "10:00"
    assert session.sequence == 1
    assert "Les personnes invitées ont reçu une mise à jour" in response.content.decode()
    assert OutboxMessage.objects.filter(to_email=alice.email).count() == 1


def test_a_cancelled_session_cannot_be_edited(client, lead, session):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    client.force_login(lead)
    response = client.post(_url("session_edit", session), _schedule(place="Ailleurs"), follow=True)
    assert "elle ne peut plus être modifiée" in response.content.decode()
    session.refresh_from_db()
    assert session.place != "Ailleurs"


# --- Reading ----------------------------------------------------------------------------


def test_the_online_link_shows_only_to_invitees_leads_and_staff(client, lead, staff, alice, bob, group):
    session = SessionFactory(
        group=group, format="hybrid", online_url="https://visio.example/secret", invitations_sent_at=timezone.now()
    )
    url = _url("session_detail", session)
    for person in (alice, bob):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 200
        assert "visio.example/secret" not in response.content.decode()
        assert "Communiqué aux seules personnes invitées" in response.content.decode()
    _invite(session, alice)
    client.force_login(alice)
    content = client.get(url).content.decode()
    assert "https://visio.example/secret" in content
    assert reverse("workgroups:answer_in_portal", args=[session.pk]) in content
    assert reverse("workgroups:session_ics", args=[session.pk]) in content
    assert "Votre réponse" in content
    for person in (lead, staff):
        client.force_login(person)
        assert "https://visio.example/secret" in client.get(url).content.decode()


def test_the_session_page_shows_its_agenda_with_measures_and_actions_for_leads(client, lead, alice, session, measure):
    AgendaItem.objects.create(session=session, position=1, title="Bilan", measure=measure, duration_minutes=30)
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    client.force_login(alice)
    content = client.get(_url("session_detail", session)).content.decode()
    assert reverse("measures:detail", args=[measure.pk]) in content
    assert "Mesure 9 : Emplois francs" in content
    assert _url("session_edit", session) not in content
    client.force_login(lead)
    content = client.get(_url("session_detail", session)).content.decode()
    for name in ("session_edit", "agenda_edit", "session_invitations", "session_cancel"):
        assert _url(name, session) in content
    assert _url("attendance_edit", session) not in content


# --- Agenda -------------------------------------------------------------------------------


def _agenda(rows, extra=0, **more):
    data = {
        "agenda-TOTAL_FORMS": str(len(rows) + extra),
        "agenda-INITIAL_FORMS": str(sum(1 for row in rows if row.get("pk"))),
        "agenda-MIN_NUM_FORMS": "0",
        "agenda-MAX_NUM_FORMS": "50",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"agenda-{index}-{key}"] = value
    data.update(more)
    return data


@pytest.mark.parametrize("typed", ["9", "emplois FRANCS", "9 — Emplois francs"])
def test_an_agenda_item_links_a_measure_by_number_or_title(client, lead, session, measure, other_measure, typed):
    client.force_login(lead)
    response = client.post(
        _url("agenda_edit", session),
        _agenda([{"title": "Bilan", "duration_minutes": "30", "measure": typed}, {"title": "Suites"}], extra=1),
    )
    assert response.status_code == 302
    assert [(i.title, i.measure_id) for i in session.agenda_items.all()] == [("Bilan", measure.pk), ("Suites", None)]
    assert OutboxMessage.objects.count() == 0


def test_an_unknown_or_ambiguous_measure_is_refused_and_nothing_is_saved(client, lead, session, measure):
    MeasureFactory(number=11, title="Cités éducatives", programme=measure.programme)
    MeasureFactory(number=12, title="cités éducatives", programme=measure.programme)
    client.force_login(lead)
    for typed, message in [("999", "Aucune mesure ne porte"), ("Cités éducatives", "désigne plusieurs mesures")]:
        response = client.post(_url("agenda_edit", session), _agenda([{"title": "Point tapé", "measure": typed}]))
        content = response.content.decode()
        assert response.status_code == 200
        assert message in content
        assert 'value="Point tapé"' in content
        assert "9 — Emplois francs" in content  # the suggestions of the datalist
    assert not session.agenda_items.exists()


def test_agenda_items_move_up_and_down_and_are_deleted(client, lead, session):
    items = [AgendaItem.objects.create(session=session, position=n, title=f"Point {n}") for n in (1, 2, 3)]
    client.force_login(lead)
    rows = [{"pk": str(item.pk), "title": item.title, "ORDER": str(n)} for n, item in enumerate(items, start=1)]
    response = client.post(_url("agenda_edit", session), _agenda(rows, extra=1, move="up-2"))
    # Back to the moved item, where it now stands (second), so focus and scroll land on it.
    assert response["Location"] == _url("agenda_edit", session) + "#agenda-item-1"
    assert [i.title for i in session.agenda_items.all()] == ["Point 1", "Point 3", "Point 2"]
    assert 'id="agenda-item-1"' in client.get(_url("agenda_edit", session)).content.decode()
    items = list(session.agenda_items.all())
    rows = [{"pk": str(item.pk), "title": item.title, "ORDER": str(n)} for n, item in enumerate(items, start=1)]
    rows[0]["DELETE"] = "on"
    client.post(_url("agenda_edit", session), _agenda(rows, move="down-1"))
    assert [i.title for i in session.agenda_items.all()] == ["Point 2", "Point 3"]
    rows = [
        {"pk": str(item.pk), "title": item.title, "ORDER": order}
        for item, order in zip(items, ["3", "1", "2"], strict=True)
    ]
    client.post(_url("agenda_edit", session), _agenda(rows))
    assert [i.title for i in session.agenda_items.all()] == ["Point 3", "Point 2", "Point 1"]


# --- Invitations -----------------------------------------------------------------------------


def test_the_invitation_list_shows_answers_and_counts(client, lead, session, network_a, alice, bob):
    _invite(
        session, alice, network=network_a, answer="accepted", comment="Avec une collègue", answered_at=timezone.now()
    )
    _invite(session, bob, answer="declined")
    client.force_login(lead)
    content = client.get(_url("session_invitations", session)).content.decode()
    assert "Alice Alpha" in content and "Bob Bêta" in content
    assert "Avec une collègue" in content
    assert "Réseau Alpha (1)" in content
    assert "alice@alpha.example" not in content  # a contact detail: staff only
    assert 'data-live-refresh="20"' in content and "workgroups/live_region.js" in content
    filtered = client.get(_url("session_invitations", session), {"reseau": str(network_a.pk)}).content.decode()
    assert "Alice Alpha" in filtered and "Bob Bêta" not in filtered
    assert client.get(_url("session_invitations", session), {"reseau": "99999999999999999999"}).status_code == 200


def test_a_lead_invites_one_person_by_email(client, lead, session, alice):
    client.force_login(lead)
    response = client.post(_url("session_invitations", session), {"email": "ALICE@alpha.example"}, follow=True)
    assert "Invitation envoyée à Alice Alpha" in response.content.decode()
    invitation = SessionInvitation.objects.get(session=session, user=alice)
    assert invitation.source == SessionInvitation.Source.ADDED
    assert OutboxMessage.objects.filter(to_email=alice.email).count() == 1


GROUP_ONLY = "Aucun membre du groupe n&#x27;a l&#x27;adresse"


@pytest.mark.parametrize(
    "email, message",
    [
        # A lead learns nothing of accounts outside the group: one answer for unknown, closed or outside.
        ("personne@nulle.part", GROUP_ONLY),
        ("ferme@example.org", GROUP_ONLY),
        ("bob@beta.example", GROUP_ONLY),
        ("alice@alpha.example", "a déjà une invitation à cette séance"),
        ("pas une adresse", "Saisissez une adresse"),
    ],
)
def test_bad_invitations_are_refused_and_nothing_is_written(client, lead, session, alice, bob, email, message):
    UserFactory(email="ferme@example.org", is_active=False)
    _invite(session, alice)
    client.force_login(lead)
    response = client.post(_url("session_invitations", session), {"email": email})
    content = response.content.decode()
    assert response.status_code == 200
    assert message in content
    assert f'value="{email}"' in content
    assert SessionInvitation.objects.count() == 1
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize(
    "email, message",
    [
        ("personne@nulle.part", "Aucun compte du portail n&#x27;a l&#x27;adresse personne@nulle.part"),
        ("ferme@example.org", "est désactivé"),
    ],
)
def test_staff_are_told_why_an_address_cannot_be_invited(client, staff, session, email, message):
    UserFactory(email="ferme@example.org", is_active=False)
    client.force_login(staff)
    response = client.post(_url("session_invitations", session), {"email": email})
    assert message in response.content.decode()
    assert SessionInvitation.objects.count() == 0


def test_a_lead_adds_a_member_of_the_group_and_an_agent_anyone(client, lead, staff, session, alice, bob):
    client.force_login(lead)
    client.post(_url("session_invitations", session), {"email": "ALICE@alpha.example"})
    assert SessionInvitation.objects.get(session=session, user=alice).source == SessionInvitation.Source.ADDED
    client.force_login(staff)
    client.post(_url("session_invitations", session), {"email": "bob@beta.example"})
    assert SessionInvitation.objects.filter(session=session, user=bob).exists()


def test_adding_and_withdrawing_someone_in_a_loop_stops_before_flooding_them(
    lead, session, alice, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    from workgroups import services

    with django_capture_on_commit_callbacks(execute=True):
        for _round in range(services.REINVITES_PER_HOUR):
            invitation = services.session_invite_person(session=session, by=lead, user=alice)
            services.session_invitation_withdraw(invitation=invitation, by=lead)
        with pytest.raises(ValidationError, match="plusieurs invitations"):
            services.session_invite_person(session=session, by=lead, user=alice)
    assert OutboxMessage.objects.filter(to_email=alice.email, kind="session_invitation").count() == 3


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def test_the_invitation_list_runs_the_same_queries_at_3_and_30_invitations(
    client, lead, session, network_a, django_assert_num_queries
):
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    answers = ["pending", "accepted", "declined"]
    for n in range(3):
        _invite(session, UserFactory(), network=network_a, answer=answers[n % 3], source="network")
    client.force_login(lead)
    url = _url("session_invitations", session)
    client.get(url)
    count = _queries(client, url)
    for n in range(27):
        _invite(session, UserFactory(), network=network_a, answer=answers[n % 3], source="network")
    with django_assert_num_queries(count):
        response = client.get(url)
    assert "30 personnes" in response.content.decode()


def test_inviting_the_group_asks_first_then_fans_out(
    client, lead, session, network_a, alice, django_capture_on_commit_callbacks
):
    other = UserFactory(full_name="Zoé Alpha")
    MembershipFactory(user=other, network=network_a)
    client.force_login(lead)
    content = client.get(_url("invite_group", session)).content.decode()
    assert "2 personnes recevront une invitation" in content
    assert "Réseau Alpha (2)" in content
    assert not SessionInvitation.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("invite_group", session))
    assert response["Location"] == _url("session_invitations", session)
    assert set(SessionInvitation.objects.values_list("user__email", flat=True)) == {alice.email, other.email}
    assert OutboxMessage.objects.count() == 2
    session.refresh_from_db()
    assert session.invitations_sent_at is not None


def test_the_list_shows_progress_while_the_fan_out_runs(client, lead, session, network_a, alice):
    MembershipFactory(user=UserFactory(), network=network_a)
    Session.objects.filter(pk=session.pk).update(
        invitations_sent_at=timezone.now(), fan_out_requested_at=timezone.now()
    )
    _invite(session, alice, network=network_a, source="network")
    client.force_login(lead)
    assert (
        "Envoi des invitations en cours : 1 sur 2." in client.get(_url("session_invitations", session)).content.decode()
    )


def test_a_lead_withdraws_an_invitation_after_confirming(client, lead, session, alice):
    invitation = _invite(session, alice)
    client.force_login(lead)
    url = reverse("workgroups:invitation_withdraw", args=[session.pk, invitation.pk])
    assert "Retirer une invitation" in client.get(url).content.decode()
    invitation.refresh_from_db()
    assert invitation.withdrawn_at is None
    response = client.post(url, follow=True)
    assert "ne fait plus partie des personnes invitées" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.withdrawn_at is not None


def test_an_invitation_of_another_session_is_not_found(client, lead, session, group, alice):
    elsewhere = _invite(SessionFactory(group=group), alice)
    client.force_login(lead)
    url = reverse("workgroups:invitation_withdraw", args=[session.pk, elsewhere.pk])
    assert client.post(url).status_code == 404


# --- Cancellation -------------------------------------------------------------------------------


def test_a_lead_cancels_after_confirming_and_the_session_stays(client, lead, alice, session):
    _invite(session, alice)
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    client.force_login(lead)
    content = client.get(_url("session_cancel", session)).content.decode()
    assert "Motif (facultatif)" in content and "Confirmer l'annulation" in content
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED
    response = client.post(_url("session_cancel", session), {"reason": "Salle indisponible"}, follow=True)
    content = response.content.decode()
    assert "Les personnes invitées ont reçu une annulation" in content
    assert "Motif : Salle indisponible" in content
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert OutboxMessage.objects.filter(to_email=alice.email, kind="session_cancellation").count() == 1
    client.force_login(alice)
    assert "Séance annulée le" in client.get(_url("session_detail", session)).content.decode()


# --- Attendance --------------------------------------------------------------------------------


def test_attendance_waits_for_the_start(client, lead, session):
    client.force_login(lead)
    response = client.get(_url("attendance_edit", session), follow=True)
    assert "Les présences se relèvent une fois la séance commencée." in response.content.decode()


def test_a_lead_records_attendance_with_walk_ins_and_marks_the_session_held(client, lead, past_session, alice, bob):
    came = _invite(past_session, alice, answer="accepted")
    stayed_home = _invite(past_session, bob, answer="accepted")
    walk_in = UserFactory(email="venue@exemple.fr", full_name="Venue Sans Invitation")
    MembershipFactory(user=walk_in, network=past_session.group.networks.get())  # of the group, not invited
    client.force_login(lead)
    content = client.get(_url("attendance_edit", past_session)).content.decode()
    assert f'value="{came.pk}" id="present-{came.pk}" checked' in content  # accepted: checked in advance
    response = client.post(
        _url("attendance_edit", past_session),
        {"present": [str(came.pk)], "walk_ins": "Venue@exemple.fr", "mark_held": "on"},
        follow=True,
    )
    assert "Présences enregistrées : 2 personnes." in response.content.decode()
    came.refresh_from_db()
    stayed_home.refresh_from_db()
    past_session.refresh_from_db()
    assert (came.attended, stayed_home.attended) == (True, False)
    assert SessionInvitation.objects.get(session=past_session, user=walk_in).source == "walk_in"
    assert past_session.status == Session.Status.HELD
    content = client.get(_url("attendance_edit", past_session)).content.decode()
    assert f'id="present-{stayed_home.pk}">' in content  # what was recorded, not the answers


def test_unknown_walk_ins_are_refused_and_nothing_is_recorded(client, lead, past_session, alice):
    came = _invite(past_session, alice, answer="accepted")
    client.force_login(lead)
    response = client.post(
        _url("attendance_edit", past_session), {"present": [str(came.pk)], "walk_ins": "inconnu@nulle.part"}
    )
    assert "Aucun membre du groupe n&#x27;a ces adresses : inconnu@nulle.part." in response.content.decode()
    assert "inconnu@nulle.part</textarea>" in response.content.decode()
    came.refresh_from_db()
    assert came.attended is None


def test_the_attendance_page_runs_the_same_queries_at_3_and_30_invitations(
    client, lead, past_session, network_a, django_assert_num_queries
):
    for _n in range(3):
        _invite(past_session, UserFactory(), network=network_a, answer="accepted")
    client.force_login(lead)
    url = _url("attendance_edit", past_session)
    client.get(url)
    count = _queries(client, url)
    for _n in range(27):
        _invite(past_session, UserFactory(), network=network_a, answer="accepted")
    with django_assert_num_queries(count):
        client.get(url)


def test_an_invitee_answers_from_the_session_page_and_the_lead_sees_it(client, lead, alice, session):
    _invite(session, alice)
    client.force_login(alice)
    client.post(
        reverse("workgroups:answer_in_portal", args=[session.pk]), {"answer": "accepted", "comment": "Avec Zoé"}
    )
    client.force_login(lead)
    content = client.get(_url("session_invitations", session)).content.decode()
    assert "Participera" in content and "Avec Zoé" in content
    assert "<td>1</td><td>1</td><td>0</td><td>0</td><td>0</td>" in content


def test_nobody_is_added_once_the_session_has_started(client, lead, past_session, bob):
    client.force_login(lead)
    response = client.post(_url("session_invitations", past_session), {"email": bob.email}, follow=True)
    assert "Cette séance a commencé : on ne peut plus y inviter." in response.content.decode()
    assert not SessionInvitation.objects.exists()


# --- Walk-through fixes ---------------------------------------------------------------------------

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "workgroups"
BUTTON_GROUP = re.compile(r'<ul class="(fr-btns-group[^"]*)"[^>]*>(.*?)</ul>', re.S)


def test_icon_buttons_in_a_group_keep_their_text():
    """DSFR hides the text of icon buttons in a ``fr-btns-group`` without ``--icon-left``."""
    groups_with_icons = 0
    for path in sorted(TEMPLATES_DIR.glob("*.html")):
        for classes, inside in BUTTON_GROUP.findall(path.read_text()):
            if "fr-btn--icon-left" in inside:
                groups_with_icons += 1
                assert "fr-btns-group--icon-left" in classes.split(), path.name
    assert groups_with_icons >= 5


def test_a_session_page_renders_its_icon_buttons_with_their_text(client, lead, session):
    client.force_login(lead)
    content = client.get(_url("session_detail", session)).content.decode()
    assert 'class="fr-btns-group fr-btns-group--icon-left' in content
    assert "Modifier la séance</a>" in content


def test_inviting_one_person_is_not_inviting_the_group(client, lead, session, alice, bob, network_a):
    client.force_login(lead)
    response = client.post(_url("session_invitations", session), {"email": alice.email})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.invitations_sent_at and session.fan_out_requested_at is None
    content = client.get(_url("session_invitations", session)).content.decode()
    assert "Inviter le groupe</a>" in content
    assert "Inviter les nouveaux membres du groupe</a>" not in content
    assert "Envoi des invitations en cours" not in content
    assert "n'a pas d'invitation" not in content and "n'ont pas d'invitation" not in content


def test_group_invitation_progress_then_newcomers(client, lead, session, alice, network_a):
    Session.objects.filter(pk=session.pk).update(
        invitations_sent_at=timezone.now(), fan_out_requested_at=timezone.now()
    )
    client.force_login(lead)
    content = client.get(_url("session_invitations", session)).content.decode()
    assert "Envoi des invitations en cours : 0 sur" in content  # requested, not finished
    _invite(session, alice, network=network_a, source="network")
    Session.objects.filter(pk=session.pk).update(fanned_out_at=timezone.now())
    newcomer = UserFactory(full_name="Nina Nouvelle")
    MembershipFactory(user=newcomer, network=network_a)
    content = client.get(_url("session_invitations", session)).content.decode()
    assert "Envoi des invitations en cours" not in content
    assert "1 personne du groupe n'a pas d'invitation" in content
    assert "Inviter les nouveaux membres du groupe</a>" in content


def test_a_sessions_draft_is_for_its_leads_and_staff_only(client, lead, staff, alice, session, measure):
    AgendaItem.objects.create(session=session, position=1, title="Bilan", measure=measure)
    client.force_login(alice)
    assert client.get(_url("session_detail", session)).status_code == 404
    assert session.title not in client.get(reverse("workgroups:session_list")).content.decode()
    assert session.title not in client.get(session.group.get_absolute_url()).content.decode()
    assert session.title not in client.get(reverse("measures:detail", args=[measure.pk])).content.decode()
    for person in (lead, staff):
        client.force_login(person)
        content = client.get(_url("session_detail", session)).content.decode()
        assert "Invitations pas encore envoyées" in content
        assert "Invitations pas encore envoyées" in client.get(session.group.get_absolute_url()).content.decode()
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    client.force_login(alice)
    content = client.get(_url("session_detail", session)).content.decode()
    assert "Invitations pas encore envoyées" not in content
    assert session.title in client.get(reverse("workgroups:session_list")).content.decode()


def test_a_measure_is_linked_by_part_of_its_title_without_case_or_accents(measure, other_measure):
    from django import forms

    measures = [measure, other_measure, MeasureFactory(number=11, title="Éducation prioritaire renforcée")]
    assert resolve_measure("emplois", measures) == measure
    assert resolve_measure("EDUCATION prioritaire", measures) == measures[2]
    assert resolve_measure("paqte avec", measures) == other_measure
    with pytest.raises(forms.ValidationError) as error:
        resolve_measure("e", measures)
    assert "désigne plusieurs mesures" in str(error.value) and "9 — Emplois francs" in str(error.value)
    with pytest.raises(forms.ValidationError):
        resolve_measure("rien de tel", measures)


def test_a_held_session_shows_who_came(client, lead, alice, bob, network_a, past_session):
    Session.objects.filter(pk=past_session.pk).update(status=Session.Status.HELD, invitations_sent_at=timezone.now())
    _invite(past_session, alice, network=network_a, source="network", attended=True)
    _invite(past_session, bob, attended=True, source="walk_in")
    _invite(past_session, UserFactory(), attended=False)
    client.force_login(lead)
    content = client.get(_url("session_detail", past_session)).content.decode()
    assert "2 personnes présentes." in content
    by_network = content.split('id="attendance-by-network"')[1].split("</ul>")[0]
    assert "Réseau Alpha" in by_network and "Sans réseau" in by_network
    client.force_login(alice)
    content = client.get(_url("session_detail", past_session)).content.decode()
    assert "2 personnes présentes." in content and 'id="attendance-by-network"' not in content


def test_the_organisation_line_has_a_plural_per_count(client, lead, session, alice, bob, network_a):
    _invite(session, alice, network=network_a, answer="accepted")
    for _ in range(3):
        _invite(session, UserFactory(), answer="declined")
    _invite(session, bob)
    Session.objects.filter(pk=session.pk).update(invitations_sent_at=timezone.now())
    client.force_login(lead)
    line = client.get(_url("session_detail", session)).content.decode().split('id="answer-counts"')[1]
    line = " ".join(line.split("</p>")[0].split())
    assert "5 personnes invitées" in line
    assert "1 participera," in line and "3 ne participeront pas," in line and "0 peut-être" in line


def test_the_first_of_the_month_is_written_1er(settings):
    from django.template import Context, Template

    first = timezone.make_aware(datetime(2027, 12, 1, 9, 30))
    second = timezone.make_aware(datetime(2027, 12, 2, 9, 30))
    template = Template('{% load workgroups_tags %}{{ a|full_date:"l j F Y" }} / {{ b|full_date:"j F Y" }}')
    assert template.render(Context({"a": first, "b": second})) == "mercredi 1er décembre 2027 / 2 décembre 2027"


def test_a_start_earlier_today_is_said_to_be_past(client, lead, group, monkeypatch):
    # Two in the afternoon, whenever the suite runs: midnight is then earlier the same day.
    afternoon = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()).replace(hour=14))
    monkeypatch.setattr(timezone, "now", lambda: afternoon)
    client.force_login(lead)
    data = _schedule(date=afternoon.date().isoformat(), start_time="00:00", end_time="23:59")
    content = client.post(reverse("workgroups:session_create", args=[group.pk]), data).content.decode()
    assert "Cet horaire est déjà passé" in content
    assert "<title>Erreur : " in content  # the page title says it first
    assert "js/error_focus.js" in content  # focus moves to the error summary
    assert 'id="form-errors" tabindex="-1"' in content


def test_reminders_accept_a_decimal_comma_and_explain_the_range():
    from django import forms

    assert parse_reminder_offsets("1,5 j") == [36 * 60]
    assert parse_reminder_offsets("7 j,1 j") == [7 * 1440, 1440]
    for text in ("0 j", "10 min", "91 j"):
        with pytest.raises(forms.ValidationError) as error:
            parse_reminder_offsets(text)
        assert error.value.messages == ["Un rappel se place entre 30 minutes et 90 jours avant."]


def test_the_empty_invitations_page_shows_what_to_do_not_zeros(client, lead, session):
    client.force_login(lead)
    content = client.get(_url("session_invitations", session)).content.decode()
    assert 'id="invitations-empty"' in content and "Inviter le groupe</a>" in content
    assert "Réponses aux invitations" not in content and "Filtrer" not in content
    assert "Inviter une personne" in content


def test_delegates_messages_avoid_elision(client, coordinator_a, group, network_a):
    client.force_login(coordinator_a)
    url = reverse("workgroups:delegates_edit", args=[group.pk, network_a.pk])
    assert "Participants désignés pour le réseau Réseau Alpha" in client.get(url).content.decode()
    response = client.post(url, {"people": [coordinator_a.pk]}, follow=True)
    assert "Participants désignés pour le réseau Réseau Alpha au groupe" in response.content.decode()
