"""The agent's cockpit on the round page (issue 9, item 4): response-rate tables
sortable without script, each network linked to its feedback and its
coordinators' contacts, the rates as CSV; back to the list after answering a
feedback; the admin index as agents use it."""

import csv
import io
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from measures.reports import title_slug
from networks.models import Membership, Network
from tests.factories import (
    FeedbackFactory,
    MeasureFactory,
    MembershipFactory,
    NetworkFactory,
    RoundFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("measures:feedback_list")


@pytest.fixture
def gamma(db):
    return NetworkFactory(name="Réseau Gamma", acronym="GAMMA", slug="gamma", family=Network.Family.STATE)


@pytest.fixture
def consultation(alice, bob, coordinator_a, network_a, network_b, gamma, measure, other_measure):
    """Open: Alpha answered both measures, Gamma the first, Bêta nothing (a draft does not count)."""
    consultation = RoundFactory(
        title="Consultation d'automne", measures=[measure, other_measure], networks=[network_a, network_b, gamma]
    )
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    FeedbackFactory(measure=other_measure, network=network_a, author=alice, round=consultation)
    FeedbackFactory(measure=measure, network=gamma, author=UserFactory(), round=consultation)
    FeedbackFactory(measure=measure, network=network_b, author=bob, round=consultation, status="draft")
    coordinator_a.phone = "01 23 45 67 89"
    coordinator_a.save()
    return consultation


def _body(client, user, consultation, **params):
    client.force_login(user)
    response = client.get(consultation.get_absolute_url(), params)
    assert response.status_code == 200
    return response.content.decode()


def _table(body, anchor):
    return body.split(f'id="{anchor}"', 1)[1].split("</table>", 1)[0]


def _row_names(body, anchor):
    """The row headers of a rates table, as read (tags removed)."""
    rows = re.findall(r'<th scope="row">(.*?)</th>', _table(body, anchor))
    return [re.sub(r"<span class=\"fr-sr-only\">.*?</span>|<[^>]+>", "", row) for row in rows]


def _sorted_header(body, anchor):
    return re.findall(r'<th scope="col" aria-sort="(\w+)"><a [^>]*>([^<]+)<', _table(body, anchor))


# --- Sorting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tri", "order", "header"),
    [
        ("reseau", ["Réseau Alpha", "Réseau Bêta", "Réseau Gamma"], ("ascending", "Réseau")),
        ("-reseau", ["Réseau Gamma", "Réseau Bêta", "Réseau Alpha"], ("descending", "Réseau")),
        # Ties stay in the order of the names.
        ("famille", ["Réseau Alpha", "Réseau Bêta", "Réseau Gamma"], ("ascending", "Famille")),
        ("-famille", ["Réseau Gamma", "Réseau Alpha", "Réseau Bêta"], ("descending", "Famille")),
        ("repondues", ["Réseau Bêta", "Réseau Gamma", "Réseau Alpha"], ("ascending", "Mesures renseignées")),
        ("-repondues", ["Réseau Alpha", "Réseau Gamma", "Réseau Bêta"], ("descending", "Mesures renseignées")),
        ("taux", ["Réseau Bêta", "Réseau Gamma", "Réseau Alpha"], ("ascending", "Taux")),
        ("-taux", ["Réseau Alpha", "Réseau Gamma", "Réseau Bêta"], ("descending", "Taux")),
        # Anything else: by name, ascending.
        ("inconnu", ["Réseau Alpha", "Réseau Bêta", "Réseau Gamma"], ("ascending", "Réseau")),
        ("--taux", ["Réseau Alpha", "Réseau Bêta", "Réseau Gamma"], ("ascending", "Réseau")),
        ("", ["Réseau Alpha", "Réseau Bêta", "Réseau Gamma"], ("ascending", "Réseau")),
    ],
)
def test_the_network_table_sorts_by_each_column_both_ways(client, staff, consultation, tri, order, header):
    body = _body(client, staff, consultation, tri=tri)
    assert _row_names(body, "taux-reseaux") == order
    assert _sorted_header(body, "taux-reseaux") == [header]


@pytest.mark.parametrize(
    ("tri", "order"),
    [
        ("mesure", ["9. Emplois francs", "10. PaQte avec les entreprises"]),
        ("-mesure", ["10. PaQte avec les entreprises", "9. Emplois francs"]),
        ("repondues", ["10. PaQte avec les entreprises", "9. Emplois francs"]),
        ("-repondues", ["9. Emplois francs", "10. PaQte avec les entreprises"]),
        ("taux", ["10. PaQte avec les entreprises", "9. Emplois francs"]),
        ("-taux", ["9. Emplois francs", "10. PaQte avec les entreprises"]),
        ("reseau", ["9. Emplois francs", "10. PaQte avec les entreprises"]),  # not a column of this table
    ],
)
def test_the_measure_table_sorts_by_each_column_both_ways(client, staff, consultation, tri, order):
    body = _body(client, staff, consultation, tri_mesures=tri)
    assert _row_names(body, "taux-mesures") == order
    assert "<td>2 / 3</td><td>67 %</td>" in _table(body, "taux-mesures")


def test_sort_links_reverse_the_sorted_column_and_keep_the_other_parameters(client, staff, consultation):
    body = _body(client, staff, consultation, tri="-taux", tri_mesures="taux")
    networks = _table(body, "taux-reseaux")
    # The sorted column sorts the other way; another column ascending; the other table's order is kept.
    assert (
        'href="?tri=taux&amp;tri_mesures=taux#taux-reseaux">Taux<span class="fr-sr-only"> — trier par ordre croissant'
        in networks
    )
    assert 'href="?tri=reseau&amp;tri_mesures=taux#taux-reseaux">Réseau' in networks
    assert 'aria-sort="descending"><a class="fr-link fr-link--icon-right fr-icon-arrow-down-line"' in networks
    measures = _table(body, "taux-mesures")
    assert (
        'href="?tri=-taux&amp;tri_mesures=-taux#taux-mesures">Taux'
        '<span class="fr-sr-only"> — trier par ordre décroissant' in measures
    )


# --- Links to feedback and coordinators' contacts -----------------------------------


def test_each_network_links_to_its_feedback_in_this_round(client, staff, consultation, network_a, measure):
    body = _body(client, staff, consultation)
    url = f"{LIST}?round={consultation.pk}&network={network_a.pk}"
    assert f'<a href="{url.replace("&", "&amp;")}">Réseau Alpha' in _table(body, "taux-reseaux")
    elsewhere = FeedbackFactory(measure=measure, network=network_a, what_works="Hors consultation.")
    listed = client.get(url).content.decode()
    assert listed.count('class="fr-card__title"') == 2
    assert elsewhere.what_works not in listed


def test_no_feedback_link_for_an_inactive_network_or_an_upcoming_round(client, staff, consultation, gamma):
    Network.objects.filter(pk=gamma.pk).update(is_active=False)
    table = _table(_body(client, staff, consultation), "taux-reseaux")
    assert '<th scope="row">Réseau Gamma</th>' in table
    upcoming = RoundFactory(opens_at=timezone.now() + timedelta(days=2), networks=[gamma], measures=[MeasureFactory()])
    assert LIST not in _table(_body(client, staff, upcoming), "taux-reseaux")


def test_staff_see_the_active_coordinators_contacts(client, staff, consultation, network_a, coordinator_a):
    former = UserFactory(email="ancienne.coord@alpha.example")
    MembershipFactory(user=former, network=network_a, role=Membership.Role.COORDINATOR, is_active=False)
    closed_account = UserFactory(email="fermee@alpha.example", is_active=False)
    MembershipFactory(user=closed_account, network=network_a, role=Membership.Role.COORDINATOR)
    table = _table(_body(client, staff, consultation), "taux-reseaux")
    assert (
        '<li><span>Claire Coordination</span> — <a href="mailto:coord@alpha.example">coord@alpha.example</a>'
        ' — <a href="tel:0123456789">01 23 45 67 89</a></li>'
    ) in table
    assert "ancienne.coord@alpha.example" not in table and "fermee@alpha.example" not in table
    # Bêta has no coordinator; alice is a representative, not a contact.
    assert "Personne ne coordonne ce réseau pour l'instant" in table and "alice@alpha.example" not in table


def test_a_closed_round_shows_the_sortable_rates_and_contacts_to_staff(client, staff, consultation):
    consultation.opens_at = timezone.now() - timedelta(days=20)
    consultation.closes_at = timezone.now() - timedelta(days=1)
    consultation.save()
    body = _body(client, staff, consultation, tri="-taux")
    assert "Ce que les réseaux ont répondu" in body
    assert _row_names(body, "taux-reseaux") == ["Réseau Alpha", "Réseau Gamma", "Réseau Bêta"]
    assert 'href="mailto:coord@alpha.example"' in body
    assert f"{LIST}?round={consultation.pk}&amp;network=" in _table(body, "taux-reseaux")


@pytest.mark.parametrize("who", ["alice", "bob", "coordinator_a"])
def test_members_see_neither_rates_nor_contacts(request, client, consultation, who):
    body = _body(client, request.getfixturevalue(who), consultation)
    assert "Taux de réponse" not in body and "taux-reseaux" not in body
    assert "mailto:" not in body and "01 23 45 67 89" not in body
    assert reverse("measures:round_rates_export", args=[consultation.pk]) not in body


def test_a_former_member_sees_nothing(client, former_member, consultation):
    client.force_login(former_member)
    response = client.get(consultation.get_absolute_url())
    assert response.status_code == 403
    assert "coord@alpha.example" not in response.content.decode()


# --- CSV export ----------------------------------------------------------------------


def _csv(response):
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:]), delimiter=";"))


def test_staff_download_the_rates_by_network_in_the_pages_order(client, staff, consultation, gamma):
    gamma.name = "=HYPERLINK(1)"
    gamma.save()
    body = _body(client, staff, consultation, tri="-taux")
    export = reverse("measures:round_rates_export", args=[consultation.pk])
    assert f'href="{export}?tri=-taux"' in body
    response = client.get(export, {"tri": "-taux"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="taux-par-reseau-{title_slug(consultation.title)}.csv"' in response["Content-Disposition"]
    assert _csv(response) == [
        ["Réseau", "Famille", "Coordinateurs", "Mesures attendues", "Mesures renseignées", "Taux (%)"],
        [
            "Réseau Alpha",
            "Professionnels",
            "Claire Coordination (coord@alpha.example, 01 23 45 67 89)",
            "2",
            "2",
            "100",
        ],
        ["'=HYPERLINK(1)", "Services de l'État", "", "2", "1", "50"],
        ["Réseau Bêta", "Professionnels", "", "2", "0", "0"],
    ]


def test_staff_download_the_rates_by_measure(client, staff, consultation):
    client.force_login(staff)
    export = reverse("measures:round_measure_rates_export", args=[consultation.pk])
    assert f'href="{export}?tri_mesures=mesure"' in _body(client, staff, consultation)
    rows = _csv(client.get(export))
    assert rows[0] == ["Numéro", "Mesure", "Programme", "Réseaux attendus", "Réseaux ayant répondu", "Taux (%)"]
    assert [row[0] for row in rows[1:]] == ["9", "10"]
    assert rows[1][3:] == ["3", "2", "67"]
    assert [row[0] for row in _csv(client.get(export, {"tri_mesures": "taux"}))[1:]] == ["10", "9"]


@pytest.mark.parametrize("who", ["alice", "bob", "coordinator_a", "former_member", "outsider"])
def test_only_staff_download_the_rates(request, client, consultation, who):
    client.force_login(request.getfixturevalue(who))
    for name in ("measures:round_rates_export", "measures:round_measure_rates_export"):
        assert client.get(reverse(name, args=[consultation.pk])).status_code == 403


def test_visitors_are_sent_to_sign_in_for_the_csv(client, consultation):
    response = client.get(reverse("measures:round_rates_export", args=[consultation.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_the_csv_of_an_unknown_round_is_not_found(client, staff):
    client.force_login(staff)
    assert client.get(reverse("measures:round_rates_export", args=[999999])).status_code == 404


# --- Back to the list after answering --------------------------------------------------


def test_the_agent_returns_to_the_filtered_list_after_answering(client, staff, consultation, network_a):
    client.force_login(staff)
    feedback = consultation.feedback.filter(network=network_a, status="submitted").first()
    list_url = f"{LIST}?round={consultation.pk}&network={network_a.pk}"
    listed = client.get(list_url).content.decode()
    detail = f"{feedback.get_absolute_url()}?retour={quote(list_url, safe='')}"
    assert f'href="{detail}"' in listed

    page = client.get(detail).content.decode()
    escaped = list_url.replace("&", "&amp;")
    assert f'href="{escaped}">Retour à la liste</a>' in page
    assert f'<input type="hidden" name="retour" value="{escaped}">' in page

    response = client.post(
        reverse("measures:feedback_respond", args=[feedback.pk]), {"response": "Merci.", "retour": list_url}
    )
    assert response.status_code == 302 and response.url == list_url
    followed = client.get(response.url).content.decode()
    assert "Réponse enregistrée" in followed
    feedback.refresh_from_db()
    assert feedback.response == "Merci."


@pytest.mark.parametrize(
    "retour",
    ["https://evil.example/", "//evil.example/retours/", "/\\evil.example", "https:/retours/", "/admin/", "retours/"],
)
def test_a_return_address_outside_the_portals_lists_is_ignored(client, staff, consultation, network_a, retour):
    client.force_login(staff)
    feedback = consultation.feedback.filter(network=network_a, status="submitted").first()
    page = client.get(feedback.get_absolute_url(), {"retour": retour}).content.decode()
    assert "Retour à la liste" not in page
    assert 'name="retour"' not in page
    response = client.post(
        reverse("measures:feedback_respond", args=[feedback.pk]), {"response": "Merci.", "retour": retour}
    )
    assert response.status_code == 302 and response.url == feedback.get_absolute_url()


def test_a_failed_answer_keeps_the_return_address(client, staff, consultation, network_a):
    client.force_login(staff)
    feedback = consultation.feedback.filter(network=network_a, status="submitted").first()
    list_url = f"{LIST}?round={consultation.pk}"
    response = client.post(
        reverse("measures:feedback_respond", args=[feedback.pk]), {"response": "", "retour": list_url}
    )
    assert response.status_code == 400
    assert f'<input type="hidden" name="retour" value="{list_url}">' in response.content.decode()


def test_the_round_page_is_a_list_one_returns_to(client, staff, consultation, network_a):
    client.force_login(staff)
    feedback = consultation.feedback.filter(network=network_a, status="submitted").first()
    back = f"{consultation.get_absolute_url()}?tri=-taux"
    page = client.get(feedback.get_absolute_url(), {"retour": back}).content.decode()
    assert f'href="{back}">Retour à la liste</a>' in page


# --- Query counts -----------------------------------------------------------------------


def _grow(consultation, size):
    for _ in range(size):
        network = NetworkFactory()
        consultation.networks.add(network)
        consultation.measures.add(MeasureFactory())
        MembershipFactory(network=network, role=Membership.Role.COORDINATOR)
        MembershipFactory(network=network, role=Membership.Role.COORDINATOR)
        FeedbackFactory(network=network, measure=consultation.measures.first(), round=consultation)


def test_the_round_page_runs_a_fixed_number_of_queries_for_staff(
    client, staff, consultation, django_assert_num_queries
):
    client.force_login(staff)
    url = consultation.get_absolute_url()
    client.get(url, {"tri": "-taux"})  # warm up what is cached per session
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, {"tri": "-taux"}).status_code == 200
    _grow(consultation, 6)
    with django_assert_num_queries(len(small.captured_queries)):
        body = client.get(url, {"tri": "-taux"}).content.decode()
    assert len(_row_names(body, "taux-reseaux")) == 9
    assert body.count("mailto:") == 13


# --- The admin index for agents ------------------------------------------------------------


def _index(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response


def test_agents_see_their_tables_grouped_by_task(agent_client, staff):
    # Even a permission given by mistake does not bring the superuser's tables into an agent's index.
    staff.user_permissions.add(Permission.objects.get(codename="view_group"))
    response = _index(agent_client)
    sections = [(str(app["name"]), [m["object_name"] for m in app["models"]]) for app in response.context["app_list"]]
    assert [name for name, _models in sections] == [
        "Consultations",
        "Mesures",
        "Réseaux",
        "Groupes de travail",
        "Courriels",
        "Contrôle",
    ]
    models = dict(sections)
    assert models["Consultations"][:2] == ["ConsultationRound", "Feedback"]
    assert models["Mesures"][0] == "Measure"
    assert models["Réseaux"][:4] == ["Network", "User", "Invitation", "Membership"]
    assert models["Groupes de travail"][:2] == ["WorkingGroup", "Session"]
    assert models["Courriels"] == ["OutboxMessage"]
    assert models["Contrôle"] == ["Journal"]  # the audit trail (concertation/journal_views.py)
    page = response.content.decode()
    assert reverse("admin:auth_group_changelist") not in page
    assert "/admin/account/" not in page
    # Every table listed opens for the agent.
    for app in response.context["app_list"]:
        for model in app["models"]:
            assert agent_client.get(model["admin_url"]).status_code == 200, model["object_name"]


def test_an_apps_own_page_still_lists_its_tables(agent_client):
    response = agent_client.get(reverse("admin:app_list", args=["measures"]))
    assert response.status_code == 200
    names = [m["object_name"] for m in response.context["app_list"][0]["models"]]
    assert {"ConsultationRound", "Feedback", "Measure"} <= set(names)


def test_the_superuser_still_sees_everything(client):
    superuser = UserFactory(email="root@anct.example", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    response = _index(client)
    names = [str(app["name"]) for app in response.context["app_list"]]
    assert names[:5] == ["Consultations", "Mesures", "Réseaux", "Groupes de travail", "Courriels"]
    page = response.content.decode()
    assert reverse("admin:auth_group_changelist") in page
    registered = {model._meta.object_name for model in admin.site._registry}
    listed = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert listed == registered | {"Journal"}  # every table, and the journal of changes
