"""Who sees what, decided where it is written (issue 10, item 5).

- A measure's timeline: each entry is public, for members of the networks, or
  internal (staff notes); ``MeasureUpdate.objects.visible_to(user)`` is the one
  place that decides, and the page's cache key follows it.
- Rounds a network was not invited to are never listed to its members: neither
  in the round list nor in the round filter of the feedback list, the synthesis
  or the CSV export (``ConsultationRound.objects.visible_to(user)``).
- Response rates are staff's; what members read cannot rebuild them.
- Sessions end after SESSION_MAX_AGE_HOURS and after SESSION_IDLE_MINUTES
  without a request; the admin lives at ADMIN_PATH.
"""

import re
import secrets
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from concertation.middleware import IdleSessionMiddleware
from measures.models import Feedback, MeasureUpdate
from tests.factories import FeedbackFactory, NetworkFactory, RoundFactory
from tests.test_deployment import APP_ENV
from tests.test_settings import run_manage

ROLES = ["anonymous", "alice", "bob", "staff", "former_member"]


def _client_for(client, role, request):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    return client


def _text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


# --- 1. The timeline: public, members, internal -------------------------------------------


@pytest.fixture
def timeline(measure):
    return {
        level: MeasureUpdate.objects.create(measure=measure, text=f"Entrée {label}.", visibility=level)
        for level, label in [("public", "publique"), ("members", "des membres"), ("internal", "interne aux agents")]
    }


EXPECTED_TIMELINE = {
    "anonymous": {"public"},
    "alice": {"public", "members"},
    "bob": {"public", "members"},
    "staff": {"public", "members", "internal"},
    # Access ends with the last membership: a former member reads what visitors read.
    "former_member": {"public"},
}
TEXTS = {"public": "Entrée publique.", "members": "Entrée des membres.", "internal": "Entrée interne aux agents."}


@pytest.mark.parametrize("role", ROLES)
def test_each_reader_sees_the_timeline_entries_meant_for_them(client, settings, request, role, measure, timeline):
    settings.PUBLIC_ROADMAP = True
    page = _text(_client_for(client, role, request).get(measure.get_absolute_url()))
    timeline_html = page.split("Suivi de la mesure</h2>", 1)[1]
    for level, text in TEXTS.items():
        assert (text in timeline_html) == (level in EXPECTED_TIMELINE[role]), (role, level)
    # Staff see which notes are theirs alone.
    assert ('fr-badge--warning fr-badge--no-icon">Interne</span>' in page) == (role == "staff")


@pytest.mark.parametrize("role", ROLES)
def test_the_queryset_decides_in_one_place(request, role, measure, timeline):
    user = request.getfixturevalue(role) if role != "anonymous" else None
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    visible = set(MeasureUpdate.objects.visible_to(user).values_list("visibility", flat=True))
    assert visible == EXPECTED_TIMELINE[role]


def test_a_staff_page_in_the_cache_never_shows_internal_notes_to_members(client, settings, staff, alice, timeline):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    url = timeline["public"].measure.get_absolute_url()
    client.force_login(staff)
    assert "Entrée interne aux agents." in _text(client.get(url))
    client.force_login(alice)
    page = _text(client.get(url))
    assert "Entrée des membres." in page and "Entrée interne aux agents." not in page
    client.logout()
    assert "Entrée des membres." not in _text(client.get(url))


def test_staff_mark_a_note_internal_in_the_admin(client, settings, agent_client, measure):
    entry = MeasureUpdate.objects.create(measure=measure, kind="note", text="Note de travail.")
    page = agent_client.get(reverse("admin:measures_measure_change", args=[measure.pk])).content.decode()
    # The inline for notes comes after the status history, on the same model (prefix updates-2).
    assert re.search(r'name="updates(-\d+)?-0-visibility"', page) and "Interne (agents)" in page
    assert entry.visibility == MeasureUpdate.Visibility.PUBLIC  # the default: as before


@pytest.mark.django_db(transaction=True)
def test_the_migration_maps_members_only_to_members_and_the_rest_to_public():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("measures", "0009_round_report_lease")])
    old_apps = executor.loader.project_state([("measures", "0009_round_report_lease")]).apps
    Roadmap = old_apps.get_model("measures", "Roadmap")
    Programme = old_apps.get_model("measures", "Programme")
    Measure = old_apps.get_model("measures", "Measure")
    Update = old_apps.get_model("measures", "MeasureUpdate")
    roadmap = Roadmap.objects.create(title="Feuille", slug="feuille")
    programme = Programme.objects.create(roadmap=roadmap, title="Programme", position=1)
    measure = Measure.objects.create(roadmap=roadmap, programme=programme, number=1, title="Mesure")
    members = Update.objects.create(measure=measure, text="Pour les membres", members_only=True)
    public = Update.objects.create(measure=measure, text="Pour tous", members_only=False)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert MeasureUpdate.objects.get(pk=members.pk).visibility == "members"
    assert MeasureUpdate.objects.get(pk=public.pk).visibility == "public"


# --- 2. Rounds a network was not invited to -----------------------------------------------


@pytest.fixture
def rounds(measure, network_a, network_b):
    """One round for each network, and one for both."""
    return {
        "a": RoundFactory(title="Consultation réservée Alpha", measures=[measure], networks=[network_a]),
        "b": RoundFactory(title="Consultation réservée Bêta", measures=[measure], networks=[network_b]),
        "ab": RoundFactory(title="Consultation commune", measures=[measure], networks=[network_a, network_b]),
    }


def _round_options(page: str) -> set[str]:
    select = re.search(r'<select[^>]*name="round"[^>]*>(.*?)</select>', page, re.S)
    assert select, "no round filter on the page"
    return set(re.findall(r'<option value="(\d+)"', select.group(1)))


SEEN_ROUNDS = {"alice": {"a", "ab"}, "bob": {"b", "ab"}, "staff": {"a", "b", "ab"}}


@pytest.mark.parametrize("role", ["alice", "bob", "staff"])
@pytest.mark.parametrize("url_name", ["measures:feedback_list", "measures:synthesis"])
def test_the_round_filter_lists_only_the_rounds_of_ones_networks(client, request, role, url_name, rounds):
    page = _text(_client_for(client, role, request).get(reverse(url_name)))
    assert _round_options(page) == {str(rounds[key].pk) for key in SEEN_ROUNDS[role]}


@pytest.mark.parametrize("role", ["alice", "bob", "staff"])
def test_the_round_list_shows_only_the_rounds_of_ones_networks(client, request, role, rounds):
    page = _text(_client_for(client, role, request).get(reverse("measures:round_list")))
    for key, consultation in rounds.items():
        assert (consultation.title in page) == (key in SEEN_ROUNDS[role]), (role, key)


@pytest.mark.parametrize("role", ["anonymous", "former_member", "outsider"])
def test_people_outside_see_no_round_at_all(client, request, role, rounds):
    response = _client_for(client, role, request).get(reverse("measures:feedback_list"))
    assert response.status_code in (302, 403)
    assert "Consultation réservée" not in _text(response)


def test_a_round_of_another_network_is_a_filter_error_not_a_filter(client, alice, rounds):
    client.force_login(alice)
    other = rounds["b"].pk
    for name in ("measures:feedback_list", "measures:synthesis"):
        page = _text(client.get(reverse(name), {"round": other}))
        assert "Consultation réservée Bêta" not in page
    assert client.get(reverse("measures:round_detail", args=[other])).status_code == 404


def test_a_page_cached_for_staff_keeps_its_rounds_to_itself(client, settings, staff, alice, bob, rounds):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    for name in ("measures:feedback_list", "measures:synthesis"):
        client.force_login(staff)
        assert str(rounds["b"].pk) in _round_options(_text(client.get(reverse(name))))
        client.force_login(alice)
        assert str(rounds["b"].pk) not in _round_options(_text(client.get(reverse(name))))
        client.force_login(bob)
        assert str(rounds["a"].pk) not in _round_options(_text(client.get(reverse(name))))


def test_a_member_who_leaves_a_network_no_longer_sees_its_rounds(alice, network_a, network_b, rounds):
    from measures.models import ConsultationRound
    from tests.factories import MembershipFactory

    MembershipFactory(user=alice, network=network_b)
    assert set(ConsultationRound.objects.visible_to(alice)) == set(rounds.values())
    alice.memberships.filter(network=network_b).update(is_active=False)
    assert set(ConsultationRound.objects.visible_to(alice)) == {rounds["a"], rounds["ab"]}


# --- 3. Response rates stay staff's -------------------------------------------------------


@pytest.fixture
def closed_round(measure, network_a, network_b, alice, bob):
    """Closed; invited A, B and Gamma. A answered, B left only a draft, Gamma nothing."""
    gamma = NetworkFactory(name="Réseau Gamma", acronym="GAMMA", slug="gamma")
    consultation = RoundFactory(
        title="Consultation close",
        measures=[measure],
        networks=[network_a, network_b, gamma],
        opens_at=timezone.now() - timedelta(days=20),
        closes_at=timezone.now() - timedelta(days=1),
    )
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    FeedbackFactory(
        measure=measure, network=network_b, author=bob, round=consultation, status="draft", submitted_at=None
    )
    # Never invited, so that its absence looks the same as Gamma's.
    NetworkFactory(name="Réseau Delta", acronym="DELTA", slug="delta")
    return consultation


def _results(page: str) -> str:
    """The part of a page that depends on the data (not the filter form, which lists every network)."""
    after_filters = page[page.index("portal-filters") :].split("</form>", 1)[1]
    return after_filters.split("</main>", 1)[0]


def test_members_cannot_rebuild_response_rates_from_what_they_read(client, alice, network_b, closed_round):
    """A response rate needs two things: who answered (submitted feedback, which every
    member reads) and who was invited and did not. Only the second is staff's: members
    are never shown the invited networks that did not answer, nor drafts. So:

    - the round's page lists what was submitted, never « Réseaux sans réponse » nor the
      invited networks without feedback, and the rate pages and CSV refuse members;
    - the synthesis, the list and the CSV count submitted feedback only (a draft adds nothing);
    - filtering on an invited network that did not answer (Gamma) gives exactly what
      filtering on a network never invited (Delta) gives: « no feedback » tells nothing
      about the invitation;
    - the network filter lists every active network whatever the round, so its choices
      do not reveal who was invited either.
    """
    from networks.models import Network

    client.force_login(alice)
    gamma, delta = Network.objects.get(slug="gamma"), Network.objects.get(slug="delta")
    page = _text(client.get(closed_round.get_absolute_url()))
    assert "Réseaux sans réponse" not in page and "Taux de réponse" not in page
    assert "Réseau Gamma" not in page and "Réseau Bêta" not in page and "Réseau Alpha" in page
    for name in ("measures:round_rates_export", "measures:round_measure_rates_export"):
        assert client.get(reverse(name, args=[closed_round.pk])).status_code == 403

    synthesis = reverse("measures:synthesis")
    by_round = _text(client.get(synthesis, {"round": closed_round.pk}))
    assert "Réseau Gamma" not in _results(by_round) and "Réseau Bêta" not in _results(by_round)
    results = {}
    for network in (network_b, gamma, delta):
        response = client.get(synthesis, {"round": closed_round.pk, "network": network.pk})
        shown = _results(_text(response)).replace(f"network={network.pk}", "network=N")
        results[network.slug] = shown.replace(f'"network" value="{network.pk}"', '"network" value="N"')
        assert "Aucun retour ne correspond à ces filtres." in results[network.slug]
    # Invited without answering, a draft left, or never invited: the same page.
    assert results["gamma"] == results["delta"] == results["beta"]

    export = client.get(reverse("measures:feedback_export"), {"round": closed_round.pk})
    rows = b"".join(export.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(rows) == 2 and "Réseau Alpha" in rows[1]

    network_options = set(
        re.findall(r'<option value="(\d+)"', by_round.split('name="network"', 1)[1].split("</select>")[0])
    )
    assert {str(gamma.pk), str(delta.pk), str(network_b.pk)} <= network_options


def test_staff_still_read_the_rates_and_the_networks_without_answer(agent_client, closed_round):
    page = _text(agent_client.get(closed_round.get_absolute_url()))
    assert "Réseaux sans réponse" in page and "Réseau Gamma" in page
    assert agent_client.get(reverse("measures:round_rates_export", args=[closed_round.pk])).status_code == 200
    assert Feedback.objects.filter(round=closed_round, status="draft").exists()


# --- 4. Sessions: total length and idle expiry ---------------------------------------------


def _set_last_activity(client, seconds_ago: int) -> None:
    session = client.session
    session[IdleSessionMiddleware.KEY] = int(time.time()) - seconds_ago
    session.save()


def test_a_session_idle_too_long_signs_out_and_says_why(client, settings, alice):
    settings.SESSION_IDLE_MINUTES = 120
    client.force_login(alice)
    _set_last_activity(client, 121 * 60)
    response = client.get(reverse("dashboard"), follow=True)
    assert response.redirect_chain and reverse("account_login") in response.redirect_chain[-1][0]
    assert "Votre session a expiré après 120 minutes d'inactivité." in _text(response)
    assert not response.wsgi_request.user.is_authenticated
    assert client.get(reverse("dashboard")).status_code == 302


@pytest.mark.parametrize("role", ["alice", "staff", "former_member"])
def test_activity_keeps_the_session_alive(client, settings, request, role):
    settings.SESSION_IDLE_MINUTES = 120
    client.force_login(request.getfixturevalue(role))
    _set_last_activity(client, 119 * 60)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200 and response.wsgi_request.user.is_authenticated
    # The clock starts again from this request.
    assert int(time.time()) - client.session[IdleSessionMiddleware.KEY] < 5


def test_staff_are_signed_out_of_the_admin_too(client, settings, staff):
    settings.SESSION_IDLE_MINUTES = 30
    client.force_login(staff)
    _set_last_activity(client, 31 * 60)
    response = client.get(reverse("admin:index"), follow=True)
    assert "Votre session a expiré après 30 minutes d'inactivité." in _text(response)
    assert not response.wsgi_request.user.is_authenticated


def test_idle_expiry_can_be_turned_off_and_visitors_get_no_session(client, settings, alice):
    settings.SESSION_IDLE_MINUTES = 0
    client.force_login(alice)
    _set_last_activity(client, 10 * 24 * 3600)
    assert client.get(reverse("dashboard")).status_code == 200
    client.logout()
    settings.SESSION_IDLE_MINUTES = 120
    client.get(reverse("home"))
    assert IdleSessionMiddleware.KEY not in client.session


def test_the_session_is_written_at_most_once_a_minute(client, settings, alice):
    settings.SESSION_IDLE_MINUTES = 120
    client.force_login(alice)
    assert IdleSessionMiddleware.KEY in client.session  # the clock starts at sign-in
    _set_last_activity(client, 10)
    stamp = client.session[IdleSessionMiddleware.KEY]
    client.get(reverse("dashboard"))
    assert client.session[IdleSessionMiddleware.KEY] == stamp
    _set_last_activity(client, 61)
    client.get(reverse("dashboard"))
    assert client.session[IdleSessionMiddleware.KEY] > stamp


def test_a_session_ends_at_its_maximum_length_however_active(client, settings, alice):
    """Requests push the cookie's expiry forward; the sign-in time does not move."""
    settings.SESSION_COOKIE_AGE = 12 * 3600
    settings.SESSION_IDLE_MINUTES = 120
    client.force_login(alice)
    assert int(time.time()) - client.session[IdleSessionMiddleware.SIGNED_IN_KEY] < 5
    session = client.session
    session[IdleSessionMiddleware.SIGNED_IN_KEY] = int(time.time()) - 12 * 3600 + 60
    session.save()
    _set_last_activity(client, 30)  # active a moment ago
    assert client.get(reverse("dashboard")).status_code == 200

    session = client.session
    session[IdleSessionMiddleware.SIGNED_IN_KEY] = int(time.time()) - 12 * 3600 - 1
    session.save()
    _set_last_activity(client, 30)
    response = client.get(reverse("dashboard"), follow=True)

    assert "Votre session a atteint sa durée maximale de 12 heures." in _text(response)
    assert not response.wsgi_request.user.is_authenticated


SETTINGS_CODE = (
    "from django.conf import settings; from django.urls import reverse, resolve;"
    "print(settings.SESSION_COOKIE_AGE, settings.SESSION_IDLE_MINUTES, reverse('admin:index'),"
    " resolve(reverse('admin:index') + 'login/').func.__name__)"
)


def test_session_lengths_and_admin_path_come_from_the_environment():
    default = run_manage("shell", "-c", SETTINGS_CODE)
    assert default.returncode == 0, default.stderr
    assert default.stdout.splitlines()[-1].split() == ["43200", "120", "/admin/", "admin_login"]
    custom = run_manage(
        "shell", "-c", SETTINGS_CODE, SESSION_MAX_AGE_HOURS="8", SESSION_IDLE_MINUTES="30", ADMIN_PATH="gestion-4f2a/"
    )
    assert custom.returncode == 0, custom.stderr
    assert custom.stdout.splitlines()[-1].split() == ["28800", "30", "/gestion-4f2a/", "admin_login"]
    moved = run_manage(
        "shell",
        "-c",
        "from django.urls import resolve, Resolver404\ntry:\n resolve('/admin/')\nexcept Resolver404:\n print('no')",
        ADMIN_PATH="gestion-4f2a/",
    )
    assert moved.stdout.splitlines()[-1] == "no", moved.stderr


@pytest.mark.parametrize("value", ["/admin/", "admin", "", "../admin/", "ad min/"])
def test_a_malformed_admin_path_is_refused_at_start(value):
    result = run_manage("check", ADMIN_PATH=value, SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode != 0
    assert "ADMIN_PATH=" in result.stderr and "ending with '/' and not starting with one" in result.stderr


def test_the_stack_passes_the_three_settings_on():
    assert APP_ENV["SESSION_MAX_AGE_HOURS"] == "${SESSION_MAX_AGE_HOURS:-12}"
    assert APP_ENV["SESSION_IDLE_MINUTES"] == "${SESSION_IDLE_MINUTES:-120}"
    assert APP_ENV["ADMIN_PATH"] == "${ADMIN_PATH:-admin/}"
