"""Personal calendar feeds (secret address, no sign-in) and the page that gives and resets them."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from networks.models import Membership
from tests.factories import MembershipFactory, SessionFactory, UserFactory
from tests.helpers import ONLINE_URL
from workgroups import services
from workgroups.models import CalendarFeed, SessionInvitation
from workgroups.views.answers import feed_sessions

PARIS = ZoneInfo("Europe/Paris")


def _feed_url(user) -> str:
    return reverse("workgroups:calendar_feed", args=[services.calendar_feed_for(user).token])


def _feed(client, user) -> icalendar.Calendar:
    response = client.get(_feed_url(user))
    assert response.status_code == 200, response.status_code
    return icalendar.Calendar.from_ical(response.content)


def _events(client, user) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in _feed(client, user).events}


def _unfolded(event) -> str:
    return event.to_ical().decode().replace("\r\n ", "")


# --- The feed --------------------------------------------------------------------------------------


def test_the_feed_needs_no_sign_in_and_holds_the_invitees_sessions_with_their_link(client, invited, alice):
    response = client.get(_feed_url(alice))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "private" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert "METHOD" not in calendar  # a subscribed feed, not an invitation
    [event] = calendar.events
    assert str(event["UID"]) == invited.calendar_uid()
    assert event["SUMMARY"] == invited.title
    assert ONLINE_URL in _unfolded(event)


def test_a_member_not_invited_gets_no_online_link(client, invited, network_a, alice):
    late_member = UserFactory(email="carole@alpha.example", full_name="Carole Tardive")
    MembershipFactory(user=late_member, network=network_a)  # joined after the invitations
    body = client.get(_feed_url(late_member)).content.decode().replace("\r\n ", "")
    assert ONLINE_URL not in body and "visio.example" not in body
    # The link reaches an invitee's feed only while the invitation stands.
    SessionInvitation.objects.filter(session=invited, user=alice).update(withdrawn_at=timezone.now())
    body = client.get(_feed_url(alice)).content.decode().replace("\r\n ", "")
    assert ONLINE_URL not in body and invited.calendar_uid() not in body


def test_a_leads_feed_holds_their_groups_sessions_and_only_theirs(client, invited, lead, other_group):
    other = SessionFactory(group=other_group, title="Séance hors groupe")
    events = _events(client, lead)
    assert set(events) == {invited.calendar_uid()}
    assert ONLINE_URL in _unfolded(events[invited.calendar_uid()])
    assert other.calendar_uid() not in events


def test_a_staff_feed_holds_the_sessions_they_lead_or_are_invited_to(client, invited, staff, lead, other_group):
    SessionFactory(group=other_group, title="Séance hors groupe")
    assert _events(client, staff) == {}
    services.session_invite_person(session=invited, by=lead, user=staff)
    events = _events(client, staff)
    assert set(events) == {invited.calendar_uid()}
    assert ONLINE_URL in _unfolded(events[invited.calendar_uid()])


def test_the_link_in_the_feed_follows_the_read_online_link_rule(invited, alice, lead, staff, other_group):
    services.session_invite_person(session=invited, by=lead, user=staff)
    other_group.leads.add(lead)
    SessionFactory(group=other_group, format="hybrid", online_url="https://visio.example/autre")
    for owner in (alice, lead, staff):
        pairs = feed_sessions(owner)
        assert pairs
        assert [with_link for _s, with_link in pairs] == [
            owner.has_perm("workgroups.read_online_link", session) for session, _w in pairs
        ]


def test_the_uid_is_stable_and_the_sequence_rises_with_each_change(
    client, invited, alice, lead, django_capture_on_commit_callbacks
):
    uid = invited.calendar_uid()
    assert _events(client, alice)[uid]["SEQUENCE"] == 0
    new_start = invited.starts_at + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_update(session=invited, by=lead, starts_at=new_start, ends_at=new_start + timedelta(hours=2))
    event = _events(client, alice)[uid]
    assert event["SEQUENCE"] == 1
    assert event.start == new_start
    with django_capture_on_commit_callbacks(execute=True):
        services.session_update(session=invited, by=lead, place="Salle 3")
    assert _events(client, alice)[uid]["SEQUENCE"] == 2


def test_a_cancelled_session_stays_in_the_feed_marked_cancelled(
    client, invited, alice, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.session_cancel(session=invited, by=lead, reason="Grève des transports")
    event = _events(client, alice)[invited.calendar_uid()]
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1


def test_times_are_right_on_both_sides_of_daylight_saving_changes(client, group, lead):
    spring = datetime(2027, 3, 28, 10, 0, tzinfo=PARIS)  # clocks went forward at 2:00 that morning: UTC+2
    autumn = datetime(2027, 10, 31, 10, 0, tzinfo=PARIS)  # clocks went back at 3:00 that morning: UTC+1
    sessions = [
        services.session_create(
            group=group, by=lead, title=title, starts_at=start, ends_at=start + timedelta(hours=2), place="Salle 2"
        )
        for title, start in (("Printemps", spring), ("Automne", autumn))
    ]
    response = client.get(_feed_url(lead))
    body = response.content.decode()
    assert "DTSTART;TZID=Europe/Paris:20270328T100000" in body
    assert "DTSTART;TZID=Europe/Paris:20271031T100000" in body
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    events = {str(event["UID"]): event for event in calendar.events}
    for session, offset in zip(sessions, (2, 1), strict=True):
        event = events[session.calendar_uid()]
        assert event["DTSTART"].params["TZID"] == "Europe/Paris"
        assert (event.start.hour, event.start.minute) == (10, 0)
        assert event.start.utcoffset() == timedelta(hours=offset)
        assert event.start == session.starts_at
        assert event.end == session.ends_at


def test_the_feed_reaches_three_months_back(client, group, lead):
    now = timezone.now()
    recent = SessionFactory(group=group, starts_at=now - timedelta(days=80), ends_at=now - timedelta(days=80, hours=-2))
    old = SessionFactory(group=group, starts_at=now - timedelta(days=120), ends_at=now - timedelta(days=120, hours=-2))
    events = _events(client, lead)
    assert recent.calendar_uid() in events and old.calendar_uid() not in events


def test_the_feed_stops_working_when_the_membership_ends(client, invited, alice):
    url = _feed_url(alice)
    assert client.get(url).status_code == 200
    Membership.objects.filter(user=alice).update(is_active=False)
    assert client.get(url).status_code == 404


def test_the_feed_stops_working_when_the_account_is_closed(client, invited, alice):
    url = _feed_url(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404


def test_a_leads_feed_stops_when_they_lead_no_more(client, invited, lead):
    url = _feed_url(lead)
    assert client.get(url).status_code == 200
    invited.group.leads.remove(lead)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("token", ["inconnu", "x" * 65, "x" * 5000])
def test_an_unknown_feed_is_not_found(client, invited, alice, token):
    services.calendar_feed_for(alice)
    assert client.get(reverse("workgroups:calendar_feed", args=[token])).status_code == 404


def test_the_feed_runs_the_same_number_of_queries_whatever_its_length(client, group, lead, alice, network_a):
    def add(n):
        for i in range(n):
            session = SessionFactory(group=group, starts_at=timezone.now() + timedelta(days=3 + i))
            session.agenda_items.create(position=1, title="Tour de table")
            SessionInvitation.objects.create(session=session, user=alice, network=network_a)

    def queries(user):
        url = _feed_url(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    add(2)
    small = (queries(alice), queries(lead))
    add(12)
    assert (queries(alice), queries(lead)) == small
    assert len(_feed(client, alice).events) == 14


# --- The page that gives the address ------------------------------------------------------------------


def test_the_page_gives_the_secret_address_and_explains_it(client, alice):
    client.force_login(alice)
    response = client.get(reverse("workgroups:calendar_settings"))
    assert response.status_code == 200
    page = response.content.decode()
    feed = CalendarFeed.objects.get(user=alice)
    assert f'value="http://testserver/agenda/{feed.token}.ics"' in page
    for words in ("Outlook", "Google", "Thunderbird", "toute personne qui la connaît voit vos séances"):
        assert words in page
    assert "des trois derniers mois et à venir" in page
    assert "no-store" in response["Cache-Control"]


def test_leads_have_an_address_and_outsiders_do_not(client, group, lead, outsider, former_member):
    client.force_login(lead)
    assert client.get(reverse("workgroups:calendar_settings")).status_code == 200
    for person in (outsider, former_member):
        client.force_login(person)
        assert client.get(reverse("workgroups:calendar_settings")).status_code == 403
        assert not CalendarFeed.objects.filter(user=person).exists()
    client.logout()
    assert client.get(reverse("workgroups:calendar_settings")).status_code == 302


def test_resetting_asks_first_then_kills_the_old_address(client, invited, alice):
    old_url = _feed_url(alice)
    client.force_login(alice)
    settings_url = reverse("workgroups:calendar_settings")
    page = client.get(settings_url, {"reinitialiser": "1"}).content.decode()
    assert "cessera aussitôt de fonctionner" in page and 'method="post"' in page
    assert client.get(old_url).status_code == 200  # asking changed nothing

    response = client.post(settings_url + "?reinitialiser=1")
    assert response.status_code == 302 and response.url == settings_url
    assert client.get(old_url).status_code == 404
    new_url = _feed_url(alice)
    assert new_url != old_url
    assert client.get(new_url).status_code == 200
    assert new_url in client.get(settings_url).content.decode()


def test_resetting_needs_signing_in(client, alice):
    old_url = _feed_url(alice)
    assert client.post(reverse("workgroups:calendar_settings")).status_code == 302
    assert _feed_url(alice) == old_url
