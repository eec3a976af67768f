"""A closed round shows its results, not a to-do list (issue 9, item 3)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from measures.models import Assessment, Feedback
from tests.factories import (
    FeedbackFactory,
    MeasureFactory,
    MembershipFactory,
    NetworkFactory,
    RoundFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_round(alice, bob, network_a, network_b, measure, other_measure):
    """Closed yesterday: network A answered both measures (twice on the first), B nothing."""
    now = timezone.now()
    consultation = RoundFactory(
        title="Consultation d'hiver",
        opens_at=now - timedelta(days=20),
        closes_at=now - timedelta(days=1),
        measures=[measure, other_measure],
        networks=[network_a, network_b],
    )
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation, assessment=Assessment.WORKS)
    FeedbackFactory(
        measure=measure, network=network_a, author=alice, round=consultation, assessment=Assessment.DOES_NOT_WORK
    )
    FeedbackFactory(
        measure=other_measure, network=network_a, author=alice, round=consultation, assessment=Assessment.PARTLY
    )
    # Neither a draft nor withdrawn feedback counts as an answer.
    FeedbackFactory(measure=measure, network=network_b, author=bob, round=consultation, status=Feedback.Status.DRAFT)
    return consultation


def _page(client, user, consultation):
    client.force_login(user)
    response = client.get(consultation.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def _section(body, title, end="<h2"):
    return body.split(title, 1)[1].split(end, 1)[0]


def test_a_representative_sees_the_results_and_is_asked_nothing(client, alice, closed_round, measure):
    body = _page(client, alice, closed_round)
    assert "Cette consultation est close depuis le" in body
    assert "Close" in body
    answers = _section(body, "Ce que les réseaux ont répondu")
    assert "Retours transmis : 3 ; réseaux ayant répondu : 1." in answers
    alpha = _section(answers, "Réseau Alpha</h3>", "</table>")
    assert "Retours transmis : 3 ; mesures renseignées : 2." in alpha
    for feedback in Feedback.objects.submitted().filter(round=closed_round):
        assert f'href="{feedback.get_absolute_url()}"' in alpha
    assert "Fonctionne<span" in alpha and "Ne fonctionne pas<span" in alpha and "Fonctionne en partie<span" in alpha
    # Network B has not answered: representatives are not told who did not.
    assert "Réseau Bêta" not in body
    assert "Réseaux sans réponse" not in body and "Taux de réponse" not in body
    # Nothing to do, nothing to file.
    assert "À faire pour" not in body and "répondre" not in body and "brouillon" not in body
    assert reverse("measures:feedback_create", args=[measure.pk]) not in body
    # The synthesis and the feedback of this round, filtered on it.
    assert f'href="{reverse("measures:synthesis")}?round={closed_round.pk}"' in body
    assert f'href="{reverse("measures:feedback_list")}?round={closed_round.pk}"' in body
    measures = _section(body, "Mesures soumises à la consultation")
    assert "2 retours (fonctionne : 1, ne fonctionne pas : 1)" in measures
    assert "1 retour (fonctionne en partie : 1)" in measures


def test_the_links_lead_to_this_round_only(client, alice, closed_round, open_round, measure, network_a):
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=open_round, what_works="Ailleurs.")
    client.force_login(alice)
    listed = client.get(reverse("measures:feedback_list"), {"round": closed_round.pk}).content.decode()
    assert listed.count("Consultation d&#x27;hiver") >= 3 or listed.count("Consultation d'hiver") >= 3
    assert "Ailleurs." not in listed
    synthesis = client.get(reverse("measures:synthesis"), {"round": closed_round.pk})
    assert synthesis.status_code == 200


def test_staff_also_see_who_did_not_answer(client, staff, closed_round, network_a, network_b, measure, other_measure):
    third = NetworkFactory(name="Réseau Gamma")
    closed_round.networks.add(third)
    FeedbackFactory(measure=other_measure, network=third, author=UserFactory(), round=closed_round)
    body = _page(client, staff, closed_round)
    assert "Retours transmis : 4 ; réseaux ayant répondu : 2." in body
    missing = _section(body, "Réseaux sans réponse</h2>")
    assert "<strong>Réseau Bêta</strong> : aucune réponse" in missing
    assert (
        f'<strong>Réseau Gamma</strong> : pas de réponse sur la mesure <a href="{measure.get_absolute_url()}"'
        ' title="9 : Emplois francs">9<span class="fr-sr-only"> : <span>Emplois francs</span></span></a></li>'
    ) in missing
    assert "Réseau Alpha" not in missing
    assert (
        'Réseau Alpha<span class="fr-sr-only"> — ses retours dans cette consultation</span></a></th>'
        "<td>Professionnels</td><td>2 / 2</td><td>100 %</td>"
    ) in body
    assert (
        'Réseau Bêta<span class="fr-sr-only"> — ses retours dans cette consultation</span></a></th>'
        "<td>Professionnels</td><td>0 / 2</td><td>0 %</td>"
    ) in body
    assert "À faire pour" not in body


def test_staff_are_told_when_everyone_answered(client, staff, closed_round, network_b):
    closed_round.networks.remove(network_b)
    body = _page(client, staff, closed_round)
    assert "Tous les réseaux invités ont répondu sur toutes les mesures." in body


def test_a_closed_round_without_feedback_says_so(client, bob, network_b, measure):
    now = timezone.now()
    consultation = RoundFactory(
        opens_at=now - timedelta(days=5), closes_at=now - timedelta(hours=1), measures=[measure], networks=[network_b]
    )
    body = _page(client, bob, consultation)
    assert "Aucun réseau n'a transmis de retour dans cette consultation." in body.replace("&#x27;", "'")
    assert "aucun retour" in body
    assert "À faire pour" not in body


def test_members_of_networks_not_invited_do_not_see_it(client, closed_round):
    member_elsewhere = UserFactory()
    MembershipFactory(user=member_elsewhere, network=NetworkFactory(name="Réseau Delta"))
    client.force_login(member_elsewhere)
    assert client.get(closed_round.get_absolute_url()).status_code == 404


def test_visitors_are_sent_to_sign_in(client, closed_round):
    response = client.get(closed_round.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_people_without_membership_are_refused(client, outsider, former_member, closed_round):
    for user in (outsider, former_member):
        client.force_login(user)
        assert client.get(closed_round.get_absolute_url()).status_code == 403


def test_an_open_round_still_lists_what_to_do(client, alice, network_a, measure, other_measure, network_b):
    consultation = RoundFactory(measures=[measure, other_measure], networks=[network_a, network_b])
    FeedbackFactory(measure=measure, network=network_a, author=alice, round=consultation)
    body = _page(client, alice, consultation)
    todo = _section(body, "À faire pour Réseau Alpha")
    assert "10. PaQte avec les entreprises" in todo and "Emplois francs" not in todo
    create = reverse("measures:feedback_create", args=[other_measure.pk])
    assert f"{create}?round={consultation.pk}&amp;network={network_a.pk}" in body
    assert "est close" not in body and "Ce que les réseaux ont répondu" not in body


def test_nobody_is_asked_to_answer_a_closed_round_elsewhere(client, alice, network_a, closed_round, other_measure):
    client.force_login(alice)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Consultation d&#x27;hiver" not in dashboard and "Consultation d'hiver" not in dashboard
    assert "à renseigner" not in dashboard
    create = reverse("measures:feedback_create", args=[other_measure.pk])
    form = client.get(create, {"round": closed_round.pk, "network": network_a.pk}).content.decode()
    assert f'<option value="{closed_round.pk}"' not in form
    response = client.post(
        create,
        {"round": closed_round.pk, "network": network_a.pk, "assessment": "works", "action": "submit"},
    )
    assert response.status_code == 200
    assert Feedback.objects.filter(round=closed_round, measure=other_measure).count() == 1


def _grow(consultation, networks: int, measures: int):
    """More invited networks and measures, each network answering each measure."""
    for _ in range(measures):
        consultation.measures.add(MeasureFactory())
    for _ in range(networks):
        network = NetworkFactory()
        consultation.networks.add(network)
        author = UserFactory()
        for measure in consultation.measures.all():
            FeedbackFactory(measure=measure, network=network, author=author, round=consultation)
    # And one network that answers nothing.
    consultation.networks.add(NetworkFactory())


@pytest.mark.parametrize("who", ["alice", "staff"])
def test_the_closed_round_page_runs_a_fixed_number_of_queries(
    request, client, who, closed_round, django_assert_num_queries
):
    user = request.getfixturevalue(who)
    client.force_login(user)
    url = closed_round.get_absolute_url()
    client.get(url)  # warm up what is cached per session
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(closed_round, networks=6, measures=5)
    with django_assert_num_queries(len(small.captured_queries)):
        body = client.get(url).content.decode()
    assert "Retours transmis : 45 ; réseaux ayant répondu : 7." in body


def test_networks_and_measures_taken_out_of_a_closed_round_are_not_counted(client, staff, network_a, network_b):
    from measures.models import ConsultationRound
    from tests.factories import FeedbackFactory, MeasureFactory, RoundFactory

    kept, removed = MeasureFactory(number=31), MeasureFactory(number=32)
    consultation = RoundFactory(measures=[kept, removed], networks=[network_a, network_b])
    for network, measure in ((network_a, kept), (network_a, removed), (network_b, kept)):
        FeedbackFactory(round=consultation, network=network, measure=measure, status="submitted")
    consultation.measures.remove(removed)
    consultation.networks.remove(network_b)
    ConsultationRound.objects.filter(pk=consultation.pk).update(
        opens_at=consultation.opens_at.replace(year=2020), closes_at=consultation.closes_at.replace(year=2020)
    )
    client.force_login(staff)
    page = client.get(reverse("measures:round_detail", args=[consultation.pk])).content.decode()
    # No rate above 100 % from a measure or network taken out of the round.
    assert not re.search(r"\b200\s*(&nbsp;|\u00a0|\u202f)?%", page)
    assert "Retours transmis : 1 ;" in page
