"""Published minutes for their readers: a version's page and its PDF per role, the
list with its search, action items marked done, and the dashboard's panel."""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import SessionFactory, WorkingGroupFactory
from workgroups import minutes_filters
from workgroups import minutes_services as services
from workgroups.models import (
    ActionItem,
    AgendaItem,
    Minutes,
    MinutesVersion,
    Session,
    WorkingGroup,
)

pytestmark = pytest.mark.django_db

BODY = "## Points\n\nLa **décision** d'étendre les emplois francs est prise.\n\n<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _save(minutes, by, *, body=BODY, items=()):
    minutes.refresh_from_db()
    return services.minutes_save(minutes=minutes, by=by, body=body, items=list(items), revision=minutes.revision)


def _publish(minutes, by, capture, *, reason=""):
    """Publish for real: the PDF is rendered by WeasyPrint in the on-commit task."""
    with capture(execute=True):
        version = services.minutes_publish(minutes=minutes, by=by, reason=reason)
    version.refresh_from_db()
    return version


@pytest.fixture
def drafted(held, lead, alice, network_a, measure):
    """The minutes of ``held``, drafted: a decision on ``measure``, an action for alice, one for network A."""
    AgendaItem.objects.create(session=held, position=1, title="Point sur les emplois francs", measure=measure)
    minutes = services.minutes_for(held)
    due = timezone.localdate() + timedelta(days=14)
    _save(
        minutes,
        lead,
        items=[
            {"kind": "decision", "text": "Étendre les emplois francs à tous les QPV", "measure": measure},
            {"kind": "action", "text": "Recenser les employeurs volontaires", "owner_user": alice, "due_on": due},
            {"kind": "action", "text": "Diffuser la fiche aux adhérents", "owner_network": network_a},
        ],
    )
    return minutes


@pytest.fixture
def published(drafted, lead, django_capture_on_commit_callbacks):
    """Version 1 of ``drafted``, its PDF rendered."""
    version = _publish(drafted, lead, django_capture_on_commit_callbacks)
    assert version.pdf_status == MinutesVersion.PdfStatus.READY
    return version


def _version_url(version, name="minutes_version"):
    return reverse(f"workgroups:{name}", args=[version.minutes.session_id, version.number])


def _make_public(version):
    group = version.minutes.session.group
    group.minutes_public = True
    group.save(update_fields=["minutes_public"])


# --- A version's page and its PDF, per role -----------------------------------------------


def test_it_shows_public_minutes_and_their_pdf_to_anonymous_visitors(client, published, measure):
    _make_public(published)
    response = client.get(_version_url(published))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Emplois francs : premiers retours" in body and "Emploi et développement économique" in body
    # The body, rendered and sanitised at publication: markup kept, the script typed in the text shown as text.
    assert "La <strong>décision</strong> d&#x27;étendre" in body or "La <strong>décision</strong> d'étendre" in body
    assert "<script>alert(1)</script>" not in body
    assert "Alice Alpha" in body and "Réseau Alpha" in body  # attendees by network
    assert reverse("measures:detail", args=[measure.pk]) in body  # agenda and decision link to the measure
    assert "Étendre les emplois francs à tous les QPV" in body and "Recenser les employeurs volontaires" in body
    assert _version_url(published, "minutes_pdf") in body and "PDF –" in body
    assert 'id="current-version"' in body
    pdf = client.get(_version_url(published, "minutes_pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "public" in pdf["Cache-Control"]


def test_members_only_minutes_send_anonymous_visitors_to_sign_in(client, published):
    for name in ("minutes_version", "minutes_pdf"):
        response = client.get(_version_url(published, name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("role", ["outsider", "former_member"])
def test_members_only_minutes_are_refused_to_people_without_access(client, published, role, request):
    client.force_login(request.getfixturevalue(role))
    for name in ("minutes_version", "minutes_pdf"):
        response = client.get(_version_url(published, name))
        assert response.status_code == 403
        assert b"%PDF" not in response.content


@pytest.mark.parametrize("role", ["alice", "lead"])
def test_members_and_leads_read_members_only_minutes_and_download_the_pdf(client, published, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get(_version_url(published)).status_code == 200
    response = client.get(_version_url(published, "minutes_pdf"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content[:5] == b"%PDF-"
    assert hashlib.sha256(content).hexdigest() == published.pdf_sha256


def test_the_pdf_is_served_with_its_name_and_private_headers(client, alice, published):
    client.force_login(alice)
    response = client.get(_version_url(published, "minutes_pdf"))
    day = timezone.localdate(published.minutes.session.starts_at).isoformat()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="compte-rendu-{day}-v1.pdf"'
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    with published.pdf.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


def test_drafts_and_unknown_versions_have_no_page(client, drafted, lead, alice, held):
    for person in (lead, alice):
        client.force_login(person)
        for number in (1, 0, 2**40):
            assert client.get(reverse("workgroups:minutes_version", args=[held.pk, number])).status_code == 404
            assert client.get(reverse("workgroups:minutes_pdf", args=[held.pk, number])).status_code == 404


def test_a_superseded_version_stays_readable_and_is_marked(
    client, alice, lead, published, drafted, django_capture_on_commit_callbacks
):
    _save(drafted, lead, body="Texte corrigé après relecture.")
    second = _publish(drafted, lead, django_capture_on_commit_callbacks, reason="Coquille dans le texte")
    client.force_login(alice)
    first_page = client.get(_version_url(published)).content.decode()
    assert "Remplacée par la version 2" in first_page and 'id="superseded"' in first_page
    assert _version_url(second) in first_page
    assert "La <strong>décision</strong>" in first_page  # its own text, as published
    assert client.get(_version_url(published, "minutes_pdf")).status_code == 200
    second_page = client.get(_version_url(second)).content.decode()
    assert 'id="current-version"' in second_page and "Coquille dans le texte" in second_page
    versions = second_page.split('id="version-list"')[1].split("</ul>")[0]
    assert "remplacée par la version 2" in versions and "en vigueur" in versions
    assert _version_url(published) in versions


def test_a_pdf_still_rendering_is_announced_and_not_served(client, alice, drafted, lead, monkeypatch):
    monkeypatch.setattr(services, "_publish_render", lambda version_id: None)
    version = services.minutes_publish(minutes=drafted, by=lead)
    client.force_login(alice)
    body = client.get(_version_url(version)).content.decode()
    assert "PDF en cours de fabrication" in body and "Recenser les employeurs volontaires" in body
    assert _version_url(version, "minutes_pdf") not in body
    assert client.get(_version_url(version, "minutes_pdf")).status_code == 404


def test_a_failed_pdf_shows_its_reason_to_leads_and_staff_only(client, alice, lead, staff, drafted, monkeypatch):
    monkeypatch.setattr(services, "_publish_render", lambda version_id: None)
    version = services.minutes_publish(minutes=drafted, by=lead)
    MinutesVersion.objects.filter(pk=version.pk).update(
        pdf_status=MinutesVersion.PdfStatus.FAILED, pdf_error="URLFetchingError: police introuvable"
    )
    for person in (lead, staff):
        client.force_login(person)
        assert "police introuvable" in client.get(_version_url(version)).content.decode()
    client.force_login(alice)
    body = client.get(_version_url(version)).content.decode()
    assert "PDF indisponible pour le moment" in body and "police introuvable" not in body
    assert client.get(_version_url(version, "minutes_pdf")).status_code == 404


def test_members_see_the_actions_status_of_today_and_visitors_the_published_one(client, alice, lead, published):
    _make_public(published)
    item = ActionItem.objects.get(owner_user=alice)
    services.action_item_set_status(item=item, by=alice, status=ActionItem.Status.DONE)
    client.force_login(alice)
    actions = client.get(_version_url(published)).content.decode().split('id="actions"')[1]
    assert "État aujourd&#x27;hui" in actions or "État aujourd'hui" in actions
    assert "Faite" in actions
    client.logout()
    actions = client.get(_version_url(published)).content.decode().split('id="actions"')[1]
    assert "État à la publication" in actions and "Faite" not in actions


# --- The list and its search -------------------------------------------------------------


def _quick_version(session, *, body="Compte rendu de la séance.", number=1, minutes=None):
    """A published version written straight into the tables (no PDF), for lists."""
    minutes = minutes or Minutes.objects.create(session=session, body=body)
    return MinutesVersion.objects.create(
        minutes=minutes, number=number, body=body, body_html=f"<p>{body}</p>", snapshot={"items": []}
    )


def _held_session(group, title, days_ago=1):
    starts = timezone.now() - timedelta(days=days_ago)
    return SessionFactory(
        group=group, title=title, starts_at=starts, ends_at=starts + timedelta(hours=2), status=Session.Status.HELD
    )


def _listed(client, **params) -> str:
    response = client.get(reverse("workgroups:minutes_list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_shows_members_their_groups_minutes_and_everyone_the_public_ones(
    client, group, other_group, alice, bob, staff, outsider
):
    ours = _quick_version(_held_session(group, "Séance réservée du groupe emploi"))
    public_group = WorkingGroupFactory(title="Groupe ouvert", minutes_public=True)
    _quick_version(_held_session(public_group, "Séance publique du groupe ouvert"))
    _quick_version(_held_session(other_group, "Séance réservée du cadre de vie"))
    anonymous = _listed(client)
    assert "Séance publique du groupe ouvert" in anonymous
    assert "Séance réservée" not in anonymous
    client.force_login(outsider)
    assert "Séance réservée" not in _listed(client)
    client.force_login(alice)
    mine = _listed(client)
    assert "Séance réservée du groupe emploi" in mine and "Séance publique du groupe ouvert" in mine
    assert "Séance réservée du cadre de vie" not in mine
    assert _version_url(ours) in mine
    client.force_login(bob)
    assert "Séance réservée du groupe emploi" not in _listed(client)
    client.force_login(staff)
    assert _listed(client).count("Séance réservée") == 2


def test_the_list_shows_the_latest_version_newest_first_and_filters_by_group(client, alice, group, other_group):
    older = _quick_version(_held_session(group, "Première séance", days_ago=20))
    MinutesVersion.objects.filter(pk=older.pk).update(published_at=timezone.now() - timedelta(days=19))
    first = _quick_version(_held_session(group, "Deuxième séance", days_ago=2))
    second = _quick_version(first.minutes.session, number=2, minutes=first.minutes, body="Corrigé.")
    public_group = WorkingGroupFactory(title="Groupe ouvert", minutes_public=True)
    _quick_version(_held_session(public_group, "Séance ouverte", days_ago=40))
    client.force_login(alice)
    body = _listed(client)
    assert body.index("Deuxième séance") < body.index("Première séance")
    assert _version_url(second) in body and _version_url(first) not in body
    assert "3 comptes rendus" in body
    only_ours = _listed(client, group=group.pk)
    assert "Séance ouverte" not in only_ours and "2 comptes rendus" in only_ours
    # An impossible group is a filter error, never a database error.
    assert "Séance ouverte" in _listed(client, group="99999999999999999999")


def test_the_search_ignores_accents_and_says_when_nothing_matches(client, alice, group):
    if connection.vendor != "postgresql":
        pytest.skip("full-text search runs on PostgreSQL")
    _quick_version(_held_session(group, "Séance des décisions"), body="Une décision importante sur les QPV.")
    _quick_version(_held_session(group, "Séance sans rapport"), body="Un échange sur la mobilité.")
    client.force_login(alice)
    found = _listed(client, q="decision")
    assert "Séance des décisions" in found and "Séance sans rapport" not in found
    assert "Séance des décisions" in _listed(client, q="DÉCISIONS importantes")  # stemmed, any case
    assert "Séance sans rapport" in _listed(client, q="mobilite -decision")
    empty = _listed(client, q="aéroport")
    assert "Aucun compte rendu ne correspond à cette recherche." in empty


def test_the_search_falls_back_to_icontains_on_other_databases(alice, group, monkeypatch):
    version = _quick_version(_held_session(group, "Séance"), body="Une décision importante.")

    class _Other:
        vendor = "sqlite"

    monkeypatch.setattr(minutes_filters, "connections", {"default": _Other()})
    queryset = MinutesVersion.objects.all()
    search = minutes_filters.MinutesFilter(queryset=queryset, groups=WorkingGroup.objects.none()).search
    assert list(search(queryset, "q", "  décision  ")) == [version]
    assert list(search(queryset, "q", "absent")) == []


def test_the_list_says_when_there_are_no_minutes_yet(client, alice):
    assert "Aucun compte rendu public pour l'instant." in _listed(client)
    client.force_login(alice)
    assert "Aucun compte rendu publié pour l'instant" in _listed(client)


def test_the_list_runs_the_same_queries_at_3_and_25_minutes(client, alice, group, django_assert_num_queries):
    public_group = WorkingGroupFactory(title="Groupe ouvert", minutes_public=True)
    for n in range(3):
        _quick_version(_held_session(group if n % 2 else public_group, f"Séance {n}", days_ago=n + 1))
    client.force_login(alice)
    url = reverse("workgroups:minutes_list")
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        client.get(url, {"q": "séance"})
    count = len(context)
    for n in range(3, 25):
        _quick_version(_held_session(group if n % 2 else public_group, f"Séance {n}", days_ago=n + 1))
    with django_assert_num_queries(count):
        response = client.get(url, {"q": "séance"})
    assert "Page 2 sur 2" in response.content.decode()  # paginated
    assert "25 comptes rendus" in response.content.decode()


# --- Action items ----------------------------------------------------------------------


def _mark(client, item, **data):
    return client.post(reverse("workgroups:action_item_status", args=[item.pk]), {"status": "done", **data})


def test_the_owner_marks_an_action_done_and_goes_back_where_they_were(client, alice, published):
    item = ActionItem.objects.get(owner_user=alice)
    client.force_login(alice)
    response = _mark(client, item, next=_version_url(published))
    assert response.status_code == 302 and response["Location"] == _version_url(published)
    item.refresh_from_db()
    assert item.status == ActionItem.Status.DONE and item.done_at is not None
    [message] = get_messages(response.wsgi_request)
    assert "Recenser les employeurs volontaires" in str(message) and "faite" in str(message)


def test_the_coordinator_marks_the_networks_action_done(client, coordinator_a, network_a, published):
    item = ActionItem.objects.get(owner_network=network_a)
    client.force_login(coordinator_a)
    response = _mark(client, item, next="https://ailleurs.example/piege")
    assert response["Location"] == reverse("dashboard")  # a foreign address is never followed
    item.refresh_from_db()
    assert item.status == ActionItem.Status.DONE


@pytest.mark.parametrize("role", ["bob", "outsider", "former_member"])
def test_others_may_not_mark_an_action(client, published, alice, role, request):
    item = ActionItem.objects.get(owner_user=alice)
    client.force_login(request.getfixturevalue(role))
    assert _mark(client, item).status_code == 403
    item.refresh_from_db()
    assert item.status == ActionItem.Status.OPEN


def test_the_network_action_is_not_alices_though_she_is_in_the_network(client, alice, network_a, published):
    item = ActionItem.objects.get(owner_network=network_a)
    client.force_login(alice)
    assert _mark(client, item).status_code == 403


def test_marking_needs_a_post_a_sign_in_and_a_published_item(client, alice, drafted, published):
    item = ActionItem.objects.get(owner_user=alice)
    url = reverse("workgroups:action_item_status", args=[item.pk])
    assert client.post(url, {"status": "done"})["Location"].startswith(reverse("account_login"))
    client.force_login(alice)
    assert client.get(url).status_code == 405
    response = _mark(client, item, status="fini")
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ActionItem.Status.OPEN  # unknown status: refused with a message, nothing written
    draft = Minutes.objects.create(session=_held_session(drafted.session.group, "Autre séance"))
    unpublished = ActionItem.objects.create(minutes=draft, kind="action", text="Brouillon", owner_user=alice)
    assert _mark(client, unpublished).status_code == 404


# --- The dashboard's panel -------------------------------------------------------------


def _panel(client, user) -> str:
    client.force_login(user)
    body = client.get(reverse("dashboard")).content.decode()
    return body.split('id="panel-actions"')[1].split("</section>")[0] if 'id="panel-actions"' in body else ""


def test_the_owner_finds_the_open_action_on_the_dashboard_until_done(client, alice, published):
    panel = _panel(client, alice)
    assert "Recenser les employeurs volontaires" in panel
    assert "Diffuser la fiche aux adhérents" not in panel  # the network's, for its coordinator
    item = ActionItem.objects.get(owner_user=alice)
    assert "Échéance :" in panel and "Emplois francs : premiers retours" in panel
    assert reverse("workgroups:action_item_status", args=[item.pk]) in panel and "Marquer comme faite" in panel
    assert _version_url(published) in panel
    response = _mark(client, item, next=reverse("dashboard"))
    assert response["Location"] == reverse("dashboard")
    assert "Recenser les employeurs volontaires" not in _panel(client, alice)
    assert "Aucune action ouverte ne vous est confiée." in _panel(client, alice)


def test_the_coordinator_finds_the_networks_actions(client, coordinator_a, published):
    panel = _panel(client, coordinator_a)
    assert "Diffuser la fiche aux adhérents" in panel and "pour le réseau Réseau Alpha" in panel
    assert "Recenser les employeurs volontaires" not in panel


def test_draft_actions_and_other_peoples_stay_off_the_dashboard(client, alice, bob, drafted):
    assert "Recenser les employeurs volontaires" not in _panel(client, alice)  # not published yet
    assert "Aucune action ouverte" in _panel(client, bob)


def test_the_panel_runs_the_same_queries_at_2_and_12_actions(client, alice, group, django_assert_num_queries):
    def add_actions(count):
        for n in range(count):
            version = _quick_version(_held_session(group, f"Séance {n}", days_ago=n + 1))
            ActionItem.objects.create(minutes=version.minutes, kind="action", text=f"Action {n}", owner_user=alice)

    add_actions(2)
    client.force_login(alice)
    url = reverse("dashboard")
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        client.get(url)
    add_actions(10)
    with django_assert_num_queries(len(context)):
        body = client.get(url).content.decode()
    assert body.count("Marquer comme faite<") == 12


def test_the_header_offers_the_minutes_to_everyone(client):
    assert f'href="{reverse("workgroups:minutes_list")}"' in client.get(reverse("home")).content.decode()


def test_a_search_that_cannot_be_read_finds_nothing(client, alice, published):
    from django.urls import reverse

    client.force_login(alice)
    response = client.get(reverse("workgroups:minutes_list"), {"q": "x" * 300})
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 0
