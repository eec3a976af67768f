import pytest
from django.core import mail
from django.urls import reverse

from measures.models import Feedback
from networks.models import Membership
from tests.factories import FeedbackFactory, MembershipFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db


def write(client, measure, **data):
    payload = {
        "assessment": "partly",
        "what_works": "Les entreprises jouent le jeu.",
        "obstacles": "Critères trop stricts.",
        "action": "submit",
    }
    payload.update(data)
    return client.post(reverse("measures:feedback_create", args=[measure.pk]), payload)


def test_a_representative_writes_a_draft_then_submits_it(client, alice, network_a, measure):
    client.force_login(alice)
    response = write(client, measure, network=network_a.pk, categories=["eligibility", "funding"], action="draft")
    feedback = Feedback.objects.get()
    assert response["Location"] == feedback.get_absolute_url()
    assert feedback.status == Feedback.Status.DRAFT and feedback.submitted_at is None
    assert sorted(feedback.obstacle_rows.values_list("category", flat=True)) == ["eligibility", "funding"]

    response = client.post(
        reverse("measures:feedback_edit", args=[feedback.pk]),
        {
            "assessment": "does_not_work",
            "obstacles": "Critères trop stricts.",
            "categories": ["eligibility"],
            "action": "submit",
        },
    )
    feedback.refresh_from_db()
    assert feedback.status == Feedback.Status.SUBMITTED and feedback.submitted_at is not None
    assert feedback.assessment == "does_not_work"
    assert list(feedback.obstacle_rows.values_list("category", flat=True)) == ["eligibility"]


def test_drafts_stay_private_to_their_author(client, alice, bob, network_a, measure):
    draft = FeedbackFactory(
        measure=measure, network=network_a, author=alice, status=Feedback.Status.DRAFT, submitted_at=None
    )
    client.force_login(bob)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert draft.get_absolute_url() not in client.get(reverse("measures:feedback_list")).content.decode()
    synthesis = client.get(reverse("measures:synthesis")).content.decode()
    assert "Aucun retour transmis" in synthesis
    client.force_login(alice)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_everyone_signed_in_reads_submitted_feedback_of_all_networks(client, alice, bob, network_a, measure):
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice, obstacles="Le dossier est trop long.")
    client.force_login(bob)
    assert "Le dossier est trop long." in client.get(feedback.get_absolute_url()).content.decode()
    assert feedback.get_absolute_url() in client.get(reverse("measures:feedback_list")).content.decode()


def test_anonymous_visitors_see_nothing_private(client, alice, network_a, measure):
    feedback = FeedbackFactory(
        measure=measure, network=network_a, author=alice, obstacles="Texte de terrain confidentiel"
    )
    for url in [
        feedback.get_absolute_url(),
        reverse("measures:feedback_list"),
        reverse("measures:feedback_export"),
        reverse("measures:synthesis"),
        reverse("measures:round_list"),
        reverse("measures:feedback_create", args=[measure.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and reverse("account_login") in response["Location"], url
    detail = client.get(measure.get_absolute_url()).content.decode()
    assert "Emplois francs" in detail
    assert "Texte de terrain confidentiel" not in detail
    assert "réservés aux personnes connectées" in detail


def test_a_representative_of_network_b_cannot_edit_the_feedback_of_network_a(client, alice, bob, network_a, measure):
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    client.force_login(bob)
    assert client.get(reverse("measures:feedback_edit", args=[feedback.pk])).status_code == 403
    response = client.post(
        reverse("measures:feedback_edit", args=[feedback.pk]), {"assessment": "does_not_work", "action": "submit"}
    )
    assert response.status_code == 403
    assert client.post(reverse("measures:feedback_withdraw", args=[feedback.pk])).status_code == 403
    feedback.refresh_from_db()
    assert feedback.assessment == "works" and feedback.status == Feedback.Status.SUBMITTED


def test_nobody_files_for_a_network_they_do_not_belong_to(client, bob, network_a, measure):
    client.force_login(bob)
    response = write(client, measure, network=network_a.pk)
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Feedback.objects.exists()


def test_an_observer_cannot_file(client, network_a, measure):
    observer = UserFactory()
    MembershipFactory(user=observer, network=network_a, role=Membership.Role.OBSERVER)
    client.force_login(observer)
    assert client.get(reverse("measures:feedback_create", args=[measure.pk])).status_code == 403


def test_feedback_is_refused_after_the_round_closed(client, alice, network_a, measure, open_round):
    from measures import services

    client.force_login(alice)
    write(client, measure, network=network_a.pk, round=open_round.pk)
    feedback = Feedback.objects.get()
    services.round_close_now(consultation=open_round)
    response = client.post(
        reverse("measures:feedback_edit", args=[feedback.pk]), {"assessment": "does_not_work", "action": "submit"}
    )
    assert response.status_code == 403
    feedback.refresh_from_db()
    assert feedback.assessment == "partly"
    page = client.get(feedback.get_absolute_url()).content.decode()
    assert "La consultation est close" in page
    response = write(client, measure, network=network_a.pk, round=open_round.pk)
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert Feedback.objects.count() == 1


def test_feedback_on_a_measure_outside_the_round_is_refused(alice, network_a, other_measure, open_round):
    from django.core.exceptions import ValidationError

    from measures import services

    with pytest.raises(ValidationError, match="ne fait pas partie de la consultation"):
        services.feedback_create(
            author=alice,
            measure=other_measure,
            network=network_a,
            consultation=open_round,
            content=services.FeedbackContent(assessment="works"),
            submit=True,
        )
    assert not Feedback.objects.exists()


def test_over_long_texts_are_refused_and_nothing_typed_is_lost(client, alice, network_a, measure):
    client.force_login(alice)
    response = write(client, measure, network=network_a.pk, obstacles="x" * 5001, suggestions="Garder ce texte")
    body = response.content.decode()
    assert response.status_code == 200
    assert "au plus 5000 caractères" in body
    assert "Garder ce texte" in body
    assert not Feedback.objects.exists()


def test_html_and_script_in_feedback_are_shown_as_text(client, alice, bob, network_a, measure):
    client.force_login(alice)
    write(client, measure, network=network_a.pk, obstacles="<script>alert('x')</script><b>gras</b>")
    client.force_login(bob)
    feedback = Feedback.objects.get()
    for url in [feedback.get_absolute_url(), reverse("measures:feedback_list"), measure.get_absolute_url()]:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body
        assert "&lt;script&gt;" in body


def test_a_territory_outside_the_network_is_refused(client, alice, network_a, measure):
    departement = TerritoryFactory(level="departement", code="93", name="Seine-Saint-Denis")
    elsewhere = TerritoryFactory(level="departement", code="69", name="Rhône")
    Membership.objects.filter(user=alice).update(territory=departement)
    client.force_login(alice)
    response = write(client, measure, network=network_a.pk, territory=elsewhere.pk)
    assert "Sélectionnez un choix valide" in response.content.decode()
    write(client, measure, network=network_a.pk, territory=departement.pk)
    assert Feedback.objects.get().departement == departement


def test_the_author_withdraws_after_confirming(client, alice, network_a, measure):
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    client.force_login(alice)
    confirm = client.get(reverse("measures:feedback_withdraw", args=[feedback.pk]))
    assert "Confirmer le retrait" in confirm.content.decode()
    feedback.refresh_from_db()
    assert feedback.status == Feedback.Status.SUBMITTED
    client.post(reverse("measures:feedback_withdraw", args=[feedback.pk]))
    feedback.refresh_from_db()
    assert feedback.status == Feedback.Status.WITHDRAWN
    assert "Aucun retour transmis" in client.get(reverse("measures:synthesis")).content.decode()


def test_staff_answer_and_the_author_is_told(
    client, staff, alice, network_a, measure, django_capture_on_commit_callbacks
):
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("measures:feedback_respond", args=[feedback.pk]),
            {"response": "Les critères seront assouplis en 2027."},
        )
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["alice@alpha.example"]
    assert "Les critères seront assouplis en 2027." in message.body
    client.force_login(alice)
    assert "Les critères seront assouplis en 2027." in client.get(feedback.get_absolute_url()).content.decode()
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert feedback.get_absolute_url() in dashboard.split("Réponses de l'administration")[1]


def test_only_staff_answer(client, alice, bob, network_a, measure):
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    client.force_login(bob)
    assert client.post(reverse("measures:feedback_respond", args=[feedback.pk]), {"response": "Non"}).status_code == 403
    feedback.refresh_from_db()
    assert feedback.response == ""


def test_the_response_email_is_sent_once_when_its_delivery_runs_twice(staff, alice, network_a, measure):
    from measures import services
    from outbox.models import OutboxMessage
    from outbox.tasks import send_outbox_batch

    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    services.feedback_respond(responder=staff, feedback=feedback, response="Merci.")
    message = OutboxMessage.objects.about(feedback).get(kind="feedback_response")
    assert send_outbox_batch([message.pk]) == 1
    assert send_outbox_batch([message.pk]) == 0
    assert [m.to for m in mail.outbox] == [["alice@alpha.example"]]
    assert "Merci." in mail.outbox[0].body


def test_a_member_of_a_commune_may_choose_the_priority_neighbourhoods_it_spans(client, alice, network_a, measure):
    departement = TerritoryFactory(level="departement", code="69", name="Rhône")
    commune = TerritoryFactory(level="commune", code="69256", name="Vaulx-en-Velin")
    commune.parent = departement
    commune.save()
    qpv = TerritoryFactory(level="qpv", code="QN06901M", name="Grande Île")
    qpv.parent = departement
    qpv.save()
    qpv.communes.set([commune])
    Membership.objects.filter(user=alice).update(territory=commune)
    client.force_login(alice)
    write(client, measure, network=network_a.pk, territory=qpv.pk)
    feedback = Feedback.objects.get()
    assert feedback.territory == qpv and feedback.departement == departement


def test_other_members_never_see_an_authors_email_address(client, bob, network_a, measure):
    nameless = UserFactory(email="sans.nom@alpha.example", full_name="")
    MembershipFactory(user=nameless, network=network_a)
    feedback = FeedbackFactory(measure=measure, network=network_a, author=nameless)
    client.force_login(bob)
    body = client.get(feedback.get_absolute_url()).content.decode()
    assert "sans.nom@alpha.example" not in body
    assert "Personne sans nom renseigné" in body
    assert (
        "sans.nom@alpha.example" not in client.get(reverse("networks:detail", args=[network_a.slug])).content.decode()
    )


def test_a_draft_may_wait_for_its_assessment_but_submitting_needs_one(client, alice, network_a, measure):
    client.force_login(alice)
    write(client, measure, network=network_a.pk, assessment="", action="draft", obstacles="Notes à compléter")
    draft = Feedback.objects.get()
    assert draft.status == Feedback.Status.DRAFT and draft.assessment == ""
    response = client.post(
        reverse("measures:feedback_edit", args=[draft.pk]), {"obstacles": "Notes complètes", "action": "submit"}
    )
    assert "Choisissez une appréciation pour transmettre votre retour." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Feedback.Status.DRAFT


def test_answering_a_round_takes_up_the_draft_and_returns_to_the_round(client, alice, network_a, measure, open_round):
    client.force_login(alice)
    write(client, measure, network=network_a.pk, round=open_round.pk, action="draft")
    draft = Feedback.objects.get()
    round_page = client.get(open_round.get_absolute_url()).content.decode()
    assert "reprendre le brouillon" in round_page
    answer = client.get(
        reverse("measures:feedback_create", args=[measure.pk]), {"round": open_round.pk, "network": network_a.pk}
    )
    assert answer["Location"] == reverse("measures:feedback_edit", args=[draft.pk])
    response = client.post(answer["Location"], {"assessment": "works", "action": "submit"})
    assert response["Location"] == open_round.get_absolute_url()
    assert Feedback.objects.get().status == Feedback.Status.SUBMITTED


def test_staff_find_the_feedback_awaiting_a_follow_up(client, staff, alice, network_a, measure):
    waiting = FeedbackFactory(measure=measure, network=network_a, author=alice, obstacles="Sans réponse encore")
    answered = FeedbackFactory(measure=measure, network=network_a, author=alice, obstacles="Déjà traité")
    from measures import services

    services.feedback_respond(responder=staff, feedback=answered, response="C'est noté.")
    client.force_login(staff)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "1 retour transmis attend une suite de l&#x27;administration." in dashboard or (
        "1 retour transmis attend une suite de l'administration." in dashboard
    )
    listed = client.get(reverse("measures:feedback_list"), {"follow_up": "waiting"}).content.decode()
    assert waiting.get_absolute_url() in listed and answered.get_absolute_url() not in listed
    detail = client.get(waiting.get_absolute_url()).content.decode()
    assert "Retirer ce retour" not in detail and "Enregistrer la réponse" in detail


def test_filters_that_match_nothing_say_so(client, alice, network_a, measure):
    FeedbackFactory(measure=measure, network=network_a, author=alice, assessment="works")
    client.force_login(alice)
    listed = client.get(reverse("measures:feedback_list"), {"assessment": "too_early"}).content.decode()
    assert "Aucun retour ne correspond à ces filtres." in listed
    synthesis = client.get(reverse("measures:synthesis"), {"assessment": "too_early"}).content.decode()
    assert "Aucun retour ne correspond à ces filtres." in synthesis
    assert "Télécharger les retours filtrés" not in synthesis


def test_editing_a_sent_feedback_says_the_earlier_version_is_kept(client, alice, measure, network_a):
    feedback = FeedbackFactory(author=alice, network=network_a, measure=measure, what_works="Première version")
    client.force_login(alice)

    response = client.post(
        reverse("measures:feedback_edit", args=[feedback.pk]),
        {"assessment": "works", "what_works": "Version corrigée", "action": "submit"},
        follow=True,
    )

    body = response.content.decode()
    assert "Votre retour modifié est enregistré" in body
    assert "version précédente" in body
    assert Feedback.history.filter(id=feedback.pk, what_works="Première version").exists()
