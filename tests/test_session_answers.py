"""Invitees' answers (from the e-mail link without signing in, or from the portal),
a session's calendar file and the list of one's sessions."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from networks.models import Membership
from tests.factories import MembershipFactory, SessionFactory, UserFactory, WorkingGroupFactory
from tests.helpers import ONLINE_URL
from workgroups import services
from workgroups.models import Session, SessionInvitation
from workgroups.tokens import make_answer_token

PARIS = ZoneInfo("Europe/Paris")


def _invitation(session, user) -> SessionInvitation:
    return SessionInvitation.objects.get(session=session, user=user)


def _link(session, user) -> str:
    return reverse("workgroups:answer_by_link", args=[make_answer_token(_invitation(session, user))])


def _untouched(invitation) -> bool:
    invitation.refresh_from_db()
    return invitation.answer == SessionInvitation.Answer.PENDING and invitation.answered_at is None


def _tampered(token: str) -> str:
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


# --- The answer link ---------------------------------------------------------------------------


def test_it_shows_the_session_and_preselects_the_answer_without_recording_it(client, invited, alice):
    response = client.get(_link(invited, alice) + "?reponse=accepted")
    assert response.status_code == 200
    page = response.content.decode()
    assert invited.title in page and invited.group.title in page
    assert f"de {timezone.localtime(invited.starts_at):%H:%M} à" in page  # Paris time
    assert "Réponse pour <strong>Alice Alpha</strong>" in page
    assert 'value="accepted" checked' in page
    # The bearer is the invitee: the online link is there, and the page sends it no referrer.
    assert f'href="{ONLINE_URL}" rel="noreferrer noopener"' in page
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in page
    # A GET (a mail scanner opening the link) records nothing.
    assert _untouched(_invitation(invited, alice))


def test_it_records_the_posted_answer_and_confirms(client, invited, alice):
    link = _link(invited, alice)
    response = client.post(link, {"answer": "declined", "comment": "Je serai en déplacement"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Réponse enregistrée" in page and "Je ne participerai pas" in page
    assert "avec ce commentaire : « Je serai en déplacement »" in page
    assert f'href="{link}"' in page  # change it
    assert f'href="{link}?format=ics"' in page
    invitation = _invitation(invited, alice)
    assert (invitation.answer, invitation.comment) == ("declined", "Je serai en déplacement")
    assert invitation.answered_at is not None
    assert response["Referrer-Policy"] == "same-origin"

    # Opened again: the current answer is shown and preselected.
    page = client.get(link).content.decode()
    assert "Votre réponse actuelle" in page and 'value="declined" checked' in page


def test_the_link_downloads_the_calendar_entry_with_the_online_link(client, invited, alice):
    response = client.get(_link(invited, alice) + "?format=ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"].startswith("attachment;")
    event = icalendar.Calendar.from_ical(response.content).events[0]
    assert str(event["UID"]) == invited.calendar_uid()
    assert ONLINE_URL in str(event["DESCRIPTION"]).replace("\n", "")
    assert _untouched(_invitation(invited, alice))


def test_an_empty_answer_is_explained_and_nothing_is_recorded(client, invited, alice):
    response = client.post(_link(invited, alice), {"answer": "", "comment": "?"})
    assert response.status_code == 200
    assert "Choisissez une réponse." in response.content.decode()
    assert _untouched(_invitation(invited, alice))


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda invitation: _tampered(make_answer_token(invitation)), id="tampered"),
        pytest.param(lambda invitation: "not-a-token", id="unknown"),
        pytest.param(lambda invitation: make_answer_token(invitation).replace(":", ":x", 1), id="mangled"),
    ],
)
def test_a_bad_link_changes_nothing_and_reveals_nothing(client, invited, alice, make_token):
    invitation = _invitation(invited, alice)
    url = reverse("workgroups:answer_by_link", args=[make_token(invitation)])
    for response in (client.get(url + "?reponse=accepted"), client.post(url, {"answer": "accepted"})):
        assert response.status_code == 400
        page = response.content.decode()
        assert "ne peut pas être utilisé" in page
        assert invited.title not in page and ONLINE_URL not in page and "Alice" not in page
    assert _untouched(invitation)


def test_a_replaced_link_no_longer_works(client, invited, alice):
    invitation = _invitation(invited, alice)
    old = reverse("workgroups:answer_by_link", args=[make_answer_token(invitation)])
    SessionInvitation.objects.filter(pk=invitation.pk).update(key="a-newer-key")
    assert client.post(old, {"answer": "accepted"}).status_code == 400
    assert _untouched(invitation)


def test_an_expired_link_says_so(client, invited, alice, settings):
    settings.SESSION_ANSWER_LINK_MAX_AGE_DAYS = -1
    response = client.post(_link(invited, alice), {"answer": "accepted"})
    assert response.status_code == 410
    assert "expiré" in response.content.decode()
    assert _untouched(_invitation(invited, alice))


def test_a_link_answers_its_own_invitation_whoever_is_signed_in(client, invited, alice, coordinator_a):
    client.force_login(coordinator_a)
    link = _link(invited, alice)
    page = client.get(link).content.decode()
    assert "Réponse pour <strong>Alice Alpha</strong>" in page
    assert "Votre session est celle de Claire Coordination" in page
    response = client.post(link, {"answer": "accepted"})
    assert "Réponse pour Alice Alpha" in response.content.decode()
    assert _invitation(invited, alice).answer == "accepted"
    assert _untouched(_invitation(invited, coordinator_a))


def test_a_link_is_refused_once_the_session_has_started(client, invited, alice):
    link = _link(invited, alice)
    now = timezone.now()
    Session.objects.filter(pk=invited.pk).update(starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1))
    response = client.get(link + "?reponse=accepted")
    assert response.status_code == 410
    page = response.content.decode()
    assert "Les réponses sont closes" in page and 'name="answer"' not in page
    assert client.post(link, {"answer": "accepted"}).status_code == 410
    assert _untouched(_invitation(invited, alice))


def test_a_link_to_a_cancelled_session_shows_the_cancellation(
    client, invited, alice, lead, django_capture_on_commit_callbacks
):
    link = _link(invited, alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_cancel(session=invited, by=lead, reason="Grève des transports")
    response = client.get(link + "?reponse=accepted")
    page = response.content.decode()
    assert response.status_code == 410
    assert "Cette séance a été annulée" in page and "Grève des transports" in page
    assert 'name="answer"' not in page and ONLINE_URL not in page
    assert client.post(link, {"answer": "accepted"}).status_code == 410
    assert _untouched(_invitation(invited, alice))


def test_a_withdrawn_invitation_can_no_longer_be_answered(
    client, invited, alice, lead, django_capture_on_commit_callbacks
):
    invitation = _invitation(invited, alice)
    link = _link(invited, alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_invitation_withdraw(invitation=invitation, by=lead)
    # Withdrawing draws a new key: the old link is dead, and says it may have been withdrawn.
    response = client.post(link, {"answer": "accepted"})
    assert response.status_code == 400
    assert "retiré" in response.content.decode()
    assert _untouched(invitation)


def test_a_link_to_an_invitation_no_longer_standing_says_so(client, invited, alice):
    invitation = _invitation(invited, alice)
    link = _link(invited, alice)
    SessionInvitation.objects.filter(pk=invitation.pk).update(withdrawn_at=timezone.now())
    response = client.get(link)
    assert response.status_code == 410
    page = response.content.decode()
    assert "Votre invitation à cette séance a été retirée" in page and ONLINE_URL not in page
    assert client.post(link, {"answer": "accepted"}).status_code == 410
    assert _untouched(invitation)


def test_the_link_needs_no_account_and_works_without_a_session_cookie(client, invited, alice):
    # CSRF stays on: the form carries its token from the GET.
    csrf_client = client.__class__(enforce_csrf_checks=True)
    link = _link(invited, alice)
    page = csrf_client.get(link).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = csrf_client.post(link, {"answer": "tentative", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert _invitation(invited, alice).answer == "tentative"


# --- Answer from the portal -----------------------------------------------------------------------


def _answer_url(session):
    return reverse("workgroups:answer_in_portal", args=[session.pk])


def test_an_invitee_answers_from_the_portal(client, invited, alice):
    client.force_login(alice)
    response = client.post(_answer_url(invited), {"answer": "tentative", "comment": "Sous réserve"})
    assert response.status_code == 302 and response.url == invited.get_absolute_url()
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Réponse enregistrée : Je ne sais pas encore."]
    invitation = _invitation(invited, alice)
    assert (invitation.answer, invitation.comment) == ("tentative", "Sous réserve")


def test_a_bad_answer_from_the_portal_is_explained(client, invited, alice):
    client.force_login(alice)
    response = client.post(_answer_url(invited), {"answer": "maybe"})
    assert response.status_code == 302 and response.url == invited.get_absolute_url()
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "error" and "Réponse non enregistrée" in str(message)
    assert _untouched(_invitation(invited, alice))


def test_answers_from_the_portal_close_with_the_session(client, invited, alice, lead):
    services.session_cancel(session=invited, by=lead)
    client.force_login(alice)
    response = client.post(_answer_url(invited), {"answer": "accepted"})
    assert response.status_code == 302
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "error" and "annulée" in str(message)
    assert _untouched(_invitation(invited, alice))


@pytest.mark.parametrize("who", ["bob", "outsider", "former_member", "lead"])
def test_only_invitees_answer_from_the_portal(client, invited, request, who):
    person = request.getfixturevalue(who)
    if who == "former_member":
        # Invited while a member: the invitation stays, but access ended with the membership.
        SessionInvitation.objects.create(session=invited, user=person, source=SessionInvitation.Source.ADDED)
    client.force_login(person)
    assert client.post(_answer_url(invited), {"answer": "accepted"}).status_code == 403
    assert not SessionInvitation.objects.filter(session=invited).exclude(answer="pending").exists()


def test_answering_from_the_portal_needs_signing_in_and_a_post(client, invited, alice):
    response = client.post(_answer_url(invited), {"answer": "accepted"})
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    client.force_login(alice)
    assert client.get(_answer_url(invited)).status_code == 405
    assert _untouched(_invitation(invited, alice))


# --- A session's calendar file -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "lead", "staff"])
def test_invitees_leads_and_staff_download_the_session_with_its_link(client, invited, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("workgroups:session_ics", args=[invited.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == f'attachment; filename="seance-{invited.pk}.ics"'
    assert "private" in response["Cache-Control"]
    event = icalendar.Calendar.from_ical(response.content).events[0]
    assert str(event["UID"]) == invited.calendar_uid()
    assert ONLINE_URL in response.content.decode().replace("\r\n ", "")


def test_others_do_not_download_the_session(client, invited, bob, outsider, network_a):
    late_member = UserFactory(email="carole@alpha.example", full_name="Carole Tardive")
    MembershipFactory(user=late_member, network=network_a)  # joined after the invitations: not invited
    url = reverse("workgroups:session_ics", args=[invited.pk])
    for person in (late_member, bob, outsider):
        client.force_login(person)
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


# --- The list of one's sessions -----------------------------------------------------------------------


def _paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def _past_session(group, title, start):
    return SessionFactory(
        group=group, title=title, starts_at=start, ends_at=start + timedelta(hours=2), invitations_sent_at=start
    )


def _rows(page: str, titles) -> list[str]:
    """The given titles in the order the page shows them."""
    return sorted((t for t in titles if t in page), key=page.index)


def test_the_list_shows_ones_sessions_upcoming_first_then_past_with_ones_answer(
    client, invited, alice, other_group, django_capture_on_commit_callbacks
):
    group = invited.group
    now = timezone.now()
    later = SessionFactory(
        group=group, title="Séance lointaine", starts_at=now + timedelta(days=40), invitations_sent_at=now
    )
    long_ago = _past_session(group, "Séance ancienne", now - timedelta(days=60))
    recent = _past_session(group, "Séance récente", now - timedelta(days=5))
    SessionFactory(group=other_group, title="Séance hors groupe", invitations_sent_at=now)
    services.invitation_answer(invitation=_invitation(invited, alice), answer="accepted")

    client.force_login(alice)
    response = client.get(reverse("workgroups:session_list"))
    assert response.status_code == 200
    page = response.content.decode()
    titles = [invited.title, later.title, recent.title, long_ago.title, "Séance hors groupe"]
    assert _rows(page, titles) == [invited.title, later.title, recent.title, long_ago.title]
    # The person's own answer, in the first person.
    assert "Je participerai" in page and "Pas d'invitation" in page and "Participera" not in page
    assert "4 séances" in page


def test_the_list_filters_by_group_month_and_period(client, alice, group, network_a):
    plenary = WorkingGroupFactory(title="Plénière", is_plenary=True)
    now = timezone.now()
    march = SessionFactory(
        group=group,
        title="Séance de mars",
        starts_at=_paris(2027, 3, 28, 10),
        ends_at=_paris(2027, 3, 28, 12),
        invitations_sent_at=now,
    )
    # Paris midnight on 1 April is still 31 March in UTC: the month is Paris's.
    april = SessionFactory(
        group=plenary,
        title="Séance en avril",
        starts_at=_paris(2027, 4, 1, 0, 30),
        ends_at=_paris(2027, 4, 1, 2),
        invitations_sent_at=now,
    )
    past = _past_session(group, "Séance passée", now - timedelta(days=3))
    titles = [march.title, april.title, past.title]
    client.force_login(alice)
    url = reverse("workgroups:session_list")

    page = client.get(url).content.decode()
    assert _rows(page, titles) == [march.title, april.title, past.title]
    assert '<option value="2027-03">Mars 2027</option>' in page and "Plénière" in page

    assert _rows(client.get(url, {"group": plenary.pk}).content.decode(), titles) == [april.title]
    assert _rows(client.get(url, {"month": "2027-03"}).content.decode(), titles) == [march.title]
    assert _rows(client.get(url, {"month": "2027-04"}).content.decode(), titles) == [april.title]
    assert _rows(client.get(url, {"period": "passees"}).content.decode(), titles) == [past.title]
    assert _rows(client.get(url, {"period": "a-venir", "group": group.pk}).content.decode(), titles) == [march.title]
    assert (
        "Aucune séance ne correspond à ces filtres."
        in client.get(url, {"group": plenary.pk, "period": "passees"}).content.decode()
    )


def test_bad_filter_values_are_explained_never_a_database_error(client, alice, group, other_group):
    SessionFactory(group=group, title="Séance du groupe", invitations_sent_at=timezone.now())
    client.force_login(alice)
    url = reverse("workgroups:session_list")
    for params in ({"group": other_group.pk}, {"group": "9" * 30}, {"month": "2027-13"}, {"period": "hier"}):
        response = client.get(url, params)
        assert response.status_code == 200
        page = response.content.decode()
        assert "fr-select--error" in page or "fr-message--error" in page
        assert "Séance du groupe" in page  # the bad filter is ignored


def test_the_list_has_an_empty_state_and_is_for_those_who_read_groups(client, alice, outsider, former_member):
    client.force_login(alice)
    page = client.get(reverse("workgroups:session_list")).content.decode()
    assert "Aucune séance pour l'instant" in page
    assert "0 séance" not in page  # the empty state says it
    for person in (outsider, former_member):
        client.force_login(person)
        assert client.get(reverse("workgroups:session_list")).status_code == 403
    client.logout()
    assert client.get(reverse("workgroups:session_list")).status_code == 302


def test_staff_and_leads_see_the_list(client, staff, lead, session):
    for person in (staff, lead):
        client.force_login(person)
        assert session.title in client.get(reverse("workgroups:session_list")).content.decode()


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_the_list_runs_the_same_number_of_queries_whatever_its_length(client, alice, group, network_a):
    def add(n):
        for i in range(n):
            session = SessionFactory(group=group, starts_at=timezone.now() + timedelta(days=3 + i))
            SessionInvitation.objects.create(session=session, user=alice, network=network_a)

    client.force_login(alice)
    url = reverse("workgroups:session_list")
    add(2)
    small = (_queries(client, url), _queries(client, url, {"group": group.pk, "period": "a-venir"}))
    add(15)
    assert (_queries(client, url), _queries(client, url, {"group": group.pk, "period": "a-venir"})) == small


def test_the_header_offers_groups_sessions_and_the_agenda_to_those_who_read_groups(client, alice, outsider):
    client.force_login(alice)
    page = client.get(reverse("home")).content.decode()
    assert reverse("workgroups:session_list") in page
    assert reverse("workgroups:group_list") in page
    assert reverse("workgroups:calendar_settings") in page
    client.force_login(outsider)
    page = client.get(reverse("home")).content.decode()
    assert reverse("workgroups:session_list") not in page and reverse("workgroups:calendar_settings") not in page


def test_a_member_whose_membership_ended_loses_the_list(client, alice):
    client.force_login(alice)
    assert client.get(reverse("workgroups:session_list")).status_code == 200
    Membership.objects.filter(user=alice).update(is_active=False)
    assert client.get(reverse("workgroups:session_list")).status_code == 403


# --- Walk-through fixes -------------------------------------------------------------------------


def test_an_answer_chosen_in_the_e_mail_is_said_to_be_not_yet_recorded(client, invited, alice):
    link = _link(invited, alice)
    page = client.get(link + "?reponse=declined").content.decode()
    assert "Votre réponse n'est pas encore enregistrée : confirmez-la ci-dessous." in page
    assert "Je ne participerai pas" in page
    assert "pas encore enregistrée" not in client.get(link).content.decode()
    # The session's card is as tall as its content (it ran over the footer).
    assert "fr-card fr-card--no-arrow portal-card--auto" in page


def test_the_current_answer_and_its_comment_read_without_double_punctuation(client, invited, alice):
    services.invitation_answer(invitation=_invitation(invited, alice), answer="accepted", comment="Marc me remplace.")
    page = client.get(_link(invited, alice)).content.decode()
    assert "<strong>Je participerai</strong>, avec ce commentaire : « Marc me remplace. »</p>" in page
    assert "» ." not in page and "».<" not in page


def test_a_failed_answer_says_erreur_in_the_title(client, invited, alice):
    page = client.post(_link(invited, alice), {"answer": ""}).content.decode()
    assert "<title>Erreur : " in page and "js/error_focus.js" in page


def test_closed_answer_pages_say_whom_to_turn_to(client, invited, alice, lead, settings):
    services.session_cancel(session=invited, by=lead, reason="")
    link = _link(invited, alice)
    page = client.get(link).content.decode()
    assert "écrivez à l&#x27;animation du groupe de travail." not in page
    assert "Pour toute question, connectez-vous au portail" in page  # no reachable address is configured
    settings.SESSION_ORGANIZER_EMAIL = "Animation <animation@anct.example>"
    assert 'href="mailto:animation@anct.example"' in client.get(link).content.decode()
    client.force_login(alice)
    page = client.get(link).content.decode()
    assert f'href="{invited.group.get_absolute_url()}"' in page


def test_the_invitation_e_mail_names_the_network_in_one_sentence(invited, alice, lead):
    from outbox.models import OutboxMessage

    message = OutboxMessage.objects.filter(to_email=alice.email, kind__contains="invitation").latest("pk")
    sentence = f"Une invitation vous est adressée pour la séance « {invited.title} », au titre du réseau Réseau Alpha."
    assert sentence in message.body_text
    assert "(au titre du réseau" not in message.body_text
    assert "au titre du réseau Réseau Alpha." in message.body_html
