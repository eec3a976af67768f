"""The audit trail: who changed what, when and why, read by agents in the admin's journal.

Every change of the models that matter is a history row (django-simple-history), written
in the change's transaction; the services give the significant ones a reason in French.
"""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from concertation import journal_views
from concertation.lib import audit
from concertation.lib import journal as journal_lib
from concertation.lib.dates import date_format, paris_moment
from measures import services as measure_services
from measures.models import Feedback, Measure, MeasureStatus, Ministry
from networks import services as network_services
from networks.models import Invitation, Membership, User
from networks.tokens import make_invitation_token
from tests.factories import FeedbackFactory, MembershipFactory, NetworkFactory, UserFactory
from tests.test_agents_group import form_data
from workgroups import minutes_services
from workgroups.models import MinutesVersion

pytestmark = pytest.mark.django_db

JOURNAL = reverse("admin:journal")
JOURNAL_CSV = reverse("admin:journal_export")


def latest(model, **filters):
    return model.history.filter(**filters).order_by("-history_date", "-history_id").first()


def journal(client, **params):
    response = client.get(JOURNAL, params)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def content(**texts):
    return measure_services.FeedbackContent(assessment="works", **texts)


# --- What is recorded, by whom and why ---------------------------------------------------------


def test_an_agents_change_in_the_admin_is_recorded_with_the_agent_as_author(agent_client, staff):
    ministry = Ministry.objects.create(name="Ville")

    response = agent_client.post(
        reverse("admin:measures_ministry_change", args=[ministry.pk]), {"name": "Ville et logement", "short_name": ""}
    )

    assert response.status_code == 302
    row = latest(Ministry, id=ministry.pk)
    assert (row.history_type, row.history_user, row.name) == ("~", staff, "Ville et logement")
    body = journal(agent_client, type="measures.ministry", objet=ministry.pk)
    assert "Agent Central" in body and "Modification" in body
    assert "Ville → Ville et logement" in body
    history = agent_client.get(reverse("admin:measures_ministry_history", args=[ministry.pk]))
    assert history.status_code == 200
    assert "Ville et logement" in history.content.decode() and "Agent Central" in history.content.decode()


def test_feedback_edited_after_submission_keeps_the_earlier_text_and_never_the_draft(
    agent_client, alice, network_a, measure, open_round
):
    draft = measure_services.feedback_create(
        author=alice,
        measure=measure,
        network=network_a,
        consultation=open_round,
        content=content(what_works="Brouillon que personne ne lit"),
        submit=False,
    )
    measure_services.feedback_update(
        actor=alice, feedback=draft, content=content(what_works="Les emplois francs marchent à Évry"), submit=True
    )
    measure_services.feedback_update(
        actor=alice, feedback=draft, content=content(what_works="Ils marchent à Évry et à Grigny"), submit=True
    )

    rows = list(Feedback.history.filter(id=draft.pk).order_by("history_id"))
    assert [row.history_change_reason for row in rows] == ["Retour transmis", "Retour modifié après transmission"]
    assert [row.what_works for row in rows] == ["Les emplois francs marchent à Évry", "Ils marchent à Évry et à Grigny"]
    assert {row.history_user for row in rows} == {alice}
    body = journal(agent_client, type="measures.feedback")
    assert "Les emplois francs marchent à Évry → Ils marchent à Évry et à Grigny" in body
    assert "Brouillon" not in body
    record = agent_client.get(reverse("admin:journal_record", args=["measures.feedback", rows[-1].history_id]))
    assert "Les emplois francs marchent à Évry" in html.unescape(record.content.decode())


def test_a_deleted_draft_leaves_nothing_in_the_trail(alice, network_a, measure, open_round):
    draft = measure_services.feedback_create(
        author=alice,
        measure=measure,
        network=network_a,
        consultation=open_round,
        content=content(what_works="Rien de définitif"),
        submit=False,
    )
    measure_services.feedback_withdraw(actor=alice, feedback=draft)

    assert not Feedback.history.filter(id=draft.pk).exists()


def test_a_live_draft_is_nowhere_in_the_admin(agent_client, alice, network_a, measure, open_round):
    draft = measure_services.feedback_create(
        author=alice,
        measure=measure,
        network=network_a,
        consultation=open_round,
        content=content(what_works="Pas encore relu"),
        submit=False,
    )
    row = latest(Feedback, id=draft.pk)

    assert agent_client.get(reverse("admin:measures_feedback_history", args=[draft.pk])).status_code == 404
    assert (
        agent_client.get(reverse("admin:journal_record", args=["measures.feedback", row.history_id])).status_code == 404
    )
    assert "Pas encore relu" not in journal(agent_client)


def test_withdrawal_and_answer_are_recorded_with_their_reason_and_author(staff, alice, network_a, measure):
    answered = FeedbackFactory(measure=measure, network=network_a, author=alice)
    withdrawn = FeedbackFactory(measure=measure, network=network_a, author=alice)

    measure_services.feedback_respond(responder=staff, feedback=answered, response="Nous étendons le dispositif.")
    measure_services.feedback_withdraw(actor=alice, feedback=withdrawn)

    row = latest(Feedback, id=answered.pk)
    assert (row.history_change_reason, row.history_user, row.response) == (
        "Réponse de l'administration",
        staff,
        "Nous étendons le dispositif.",
    )
    row = latest(Feedback, id=withdrawn.pk)
    assert (row.history_change_reason, row.history_user, row.status) == ("Retour retiré", alice, "withdrawn")


def test_an_invitation_sent_then_accepted_grants_the_membership(staff, network_a):
    outcome = network_services.invitation_send(
        inviter=staff, network=network_a, email="Nadia@Exemple.org", role=Membership.Role.OBSERVER, full_name="Nadia"
    )
    invitation = outcome.invitation
    sent = latest(Invitation, id=invitation.pk)
    assert (sent.history_change_reason, sent.history_user, sent.email) == (
        "Invitation envoyée",
        staff,
        "nadia@exemple.org",
    )
    assert not hasattr(sent, "key"), "the link's secret key is never in the trail"

    accepted = network_services.invitation_accept(
        token=make_invitation_token(invitation), full_name="Nadia Nouvelle", password="un-mot-de-passe-solide"
    )

    person = accepted.user
    account = User.history.filter(id=person.pk).earliest("history_date")
    assert (account.history_type, account.history_change_reason, account.history_user) == (
        "+",
        "Compte créé par invitation",
        person,
    )
    assert not hasattr(account, "password"), "the password's hash is never in the trail"
    membership = Membership.objects.get(user=person, network=network_a)
    row = latest(Membership, id=membership.pk)
    assert (row.history_type, row.history_change_reason, row.history_user) == ("+", "Adhésion accordée", person)
    assert latest(Invitation, id=invitation.pk).history_change_reason == "Invitation acceptée"


def test_an_ended_membership_and_a_changed_address_are_recorded(staff, alice):
    membership = alice.memberships.get()
    network_services.membership_deactivate(actor=staff, membership=membership)
    network_services.user_change_email(user=alice, new_email="alice.nouvelle@alpha.example", changed_by=staff)

    row = latest(Membership, id=membership.pk)
    assert (row.history_change_reason, row.history_user, row.is_active) == ("Adhésion terminée", staff, False)
    row = latest(User, id=alice.pk)
    assert (row.history_change_reason, row.history_user, row.email) == (
        "Adresse électronique changée",
        staff,
        "alice.nouvelle@alpha.example",
    )
    address = latest(EmailAddress, user_id=alice.pk)
    assert (address.history_type, address.email, address.history_change_reason) == (
        "+",
        "alice.nouvelle@alpha.example",
        "Adresse électronique changée",
    )


def test_a_status_change_and_published_minutes_are_recorded(staff, lead, measure, held):
    measure_services.measure_change_status(measure=measure, new_status=MeasureStatus.IN_PROGRESS, author=staff)
    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(minutes=minutes, by=lead, body="Les emplois francs avancent.", items=[], revision=0)
    version = minutes_services.minutes_publish(minutes=minutes, by=lead)

    row = latest(Measure, id=measure.pk)
    assert (row.history_change_reason, row.history_user, row.status) == (
        "Statut de la mesure changé",
        staff,
        MeasureStatus.IN_PROGRESS,
    )
    row = latest(MinutesVersion, id=version.pk)
    assert (row.history_type, row.history_change_reason, row.history_user) == ("+", "Compte rendu publié", lead)


def test_a_pdfs_rendering_and_a_sign_in_write_no_row(
    client, alice, lead, held, password, django_capture_on_commit_callbacks
):
    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(minutes=minutes, by=lead, body="Texte", items=[], revision=0)
    with django_capture_on_commit_callbacks(execute=True):
        version = minutes_services.minutes_publish(minutes=minutes, by=lead)  # the PDF is rendered on commit
    version.refresh_from_db()
    rows_of_alice = User.history.filter(id=alice.pk).count()

    client.post(reverse("account_login"), {"login": alice.email, "password": password})

    assert client.session.get("_auth_user_id") == str(alice.pk)
    assert version.pdf_status == MinutesVersion.PdfStatus.READY
    assert MinutesVersion.history.filter(id=version.pk).count() == 1
    assert User.history.filter(id=alice.pk).count() == rows_of_alice


def test_data_exports_are_recorded_with_who_and_what(agent_client, staff, alice):
    member = Client()
    member.force_login(alice)
    assert member.get(reverse("networks:my_data_json")).status_code == 200
    assert agent_client.get(reverse("measures:feedback_export")).status_code == 200

    row = latest(User, id=alice.pk)
    assert (row.history_user, row.history_change_reason) == (
        alice,
        "Données exportées : données personnelles — fichier JSON",
    )
    row = latest(User, id=staff.pk)
    assert row.history_user == staff
    assert row.history_change_reason.startswith("Données exportées — retours de terrain (CSV)")
    assert "Aucun champ suivi n'a changé" in journal(agent_client, personne=alice.email)


# --- Erasure reaches the trail -----------------------------------------------------------------


def test_erasure_is_recorded_and_anonymises_the_persons_history(agent_client, staff, alice, network_a, measure):
    network_services.user_change_email(user=alice, new_email="alice.perso@exemple.org", changed_by=staff)
    Invitation.objects.create(
        network=NetworkFactory(name="Réseau Gamma"), email="alice.perso@exemple.org", role="observer"
    )
    feedback = FeedbackFactory(measure=measure, network=network_a, author=alice)
    measure_services.feedback_withdraw(actor=alice, feedback=feedback)

    network_services.user_erase(user=alice, by=staff)

    erased = f"efface-{alice.pk}@compte.invalid"
    row = latest(User, id=alice.pk)
    assert (row.history_change_reason, row.history_user, row.email) == ("Données effacées", staff, erased)
    for old in ("alice@alpha.example", "alice.perso@exemple.org"):
        assert not User.history.filter(email__iexact=old).exists()
        assert not Invitation.history.filter(email__iexact=old).exists()
        assert not EmailAddress.history.filter(email__iexact=old).exists()
    assert not User.history.filter(id=alice.pk).exclude(full_name="").exists()
    assert Invitation.history.filter(email=erased).exists()
    assert latest(Membership, user_id=alice.pk).history_change_reason == "Adhésion terminée"
    # Who did what stays: her withdrawal still names her account, anonymised.
    assert latest(Feedback, id=feedback.pk).history_user_id == alice.pk
    body = journal(agent_client, personne=alice.pk)
    assert "Retour retiré" in body and f"Compte effacé n° {alice.pk}" in body
    assert erased not in body, "an erased account reads as such, not as its anonymised address"
    assert "Alice" not in body and "alice@alpha.example" not in body
    # Her account's own rows, earlier ones included, name it the same way.
    rows = journal(agent_client, type="networks.user", objet=alice.pk)
    assert re.search(rf"n° {alice.pk} :\s+(<a [^>]*>)?Compte effacé n° {alice.pk}", rows)


# --- The journal in the admin ------------------------------------------------------------------


@pytest.fixture
def changes(staff, alice, bob):
    """Ministries renamed by the agent, a membership ended by the agent, a week-old change by alice."""
    ville = Ministry.objects.create(name="Ville")
    with audit.change("Renommage", by=staff):
        ville.name = "Ville et logement"
        ville.save()
    old = Ministry.objects.create(name="Éducation nationale")
    Ministry.history.filter(id=old.pk).update(
        history_user=alice, history_date=timezone.now() - timedelta(days=7), history_change_reason="Création ancienne"
    )
    network_services.membership_deactivate(actor=staff, membership=bob.memberships.get())
    return ville, old


def test_the_journal_filters_by_person_object_and_dates(agent_client, staff, alice, changes):
    ville, _old = changes
    today = timezone.localdate()

    by_agent = journal(agent_client, personne="agent@anct")
    assert "Ville et logement" in by_agent and "Adhésion terminée" in by_agent
    assert "Éducation nationale" not in by_agent
    assert "Éducation nationale" in journal(agent_client, personne=str(alice.pk))
    by_object = journal(agent_client, type="measures.ministry", objet=str(ville.pk))
    assert "Ville et logement" in by_object and "Éducation nationale" not in by_object
    assert "Adhésion terminée" not in by_object
    recent = journal(agent_client, type="measures.ministry", du=(today - timedelta(days=1)).isoformat())
    assert "Ville et logement" in recent and "Éducation nationale" not in recent
    older = journal(
        agent_client, du=(today - timedelta(days=8)).isoformat(), au=(today - timedelta(days=6)).isoformat()
    )
    assert "Éducation nationale" in older and "Ville et logement" not in older


def test_the_journal_explains_bad_filters_in_french(agent_client, changes):
    body = journal(agent_client, du="31/02/2026", au="2026-01-01", objet="douze")
    assert "<title>Erreur :" in body
    assert "Date invalide : écrivez-la sous la forme JJ/MM/AAAA" in body
    assert "Le numéro d'un objet est un nombre entier positif" in body
    assert "Ville et logement" not in body

    body = journal(agent_client, du="2026-03-10", au="2026-03-01")
    assert "La date de fin précède la date de début" in body
    assert "Type d'objet inconnu" in journal(agent_client, type="auth.group")


def test_the_journal_paginates_newest_first(agent_client):
    for number in range(55):
        Ministry.objects.create(name=f"Ministère {number:02d}")

    first = journal(agent_client, type="measures.ministry")
    second = journal(agent_client, type="measures.ministry", page=2)

    assert "55 modifications" in first and "page 1 sur 2" in first
    assert "Ministère 54" in first and "Ministère 04" not in first
    assert "Ministère 04" in second and "Ministère 54" not in second


def test_the_csv_export_has_the_filtered_rows_with_their_accents(agent_client, staff, changes):
    response = agent_client.get(JOURNAL_CSV, {"personne": staff.pk})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw[1:]), delimiter=";"))
    assert rows[0][:4] == ["Date (heure de Paris)", "Personne", "N° du compte", "Type de modification"]
    reasons = [row[7] for row in rows[1:]]
    assert "Renommage" in reasons and "Adhésion terminée" in reasons and "Création ancienne" not in reasons
    renamed = next(row for row in rows[1:] if row[7] == "Renommage")
    assert renamed[1] == "Agent Central" and renamed[4] == "Ministère"
    assert "Nom : Ville → Ville et logement" in renamed[8]
    # The export itself is recorded.
    assert latest(User, id=staff.pk).history_change_reason.startswith("Données exportées — journal des modifications")


def test_agents_read_the_journal_and_members_do_not(client, agent_client, alice, changes):
    assert agent_client.get(reverse("admin:index")).content.decode().count(JOURNAL) >= 1
    assert agent_client.get(JOURNAL).status_code == 200

    client.force_login(alice)
    for url in (JOURNAL, JOURNAL_CSV):
        response = client.get(url)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_a_staff_account_outside_the_agents_group_is_refused(client, changes):
    client.force_login(UserFactory(email="sans.droits@anct.example", is_staff=True))
    assert client.get(JOURNAL).status_code == 403
    assert client.get(JOURNAL_CSV).status_code == 403


@pytest.mark.parametrize("size", [3, 30])
def test_the_journal_runs_a_bounded_number_of_queries(
    agent_client, staff, network_a, size, django_assert_max_num_queries
):
    for number in range(size):
        person = UserFactory(email=f"personne{number}@exemple.org", full_name=f"Personne {number}")
        membership = MembershipFactory(user=person, network=network_a)
        network_services.membership_deactivate(actor=staff, membership=membership)
        feedback = FeedbackFactory(author=person, network=network_a)
        measure_services.feedback_respond(responder=staff, feedback=feedback, response=f"Réponse {number}")
    agent_client.get(JOURNAL)  # sessions and permissions cached

    # Per page: its count and keys, then per table present a few (rows, previous rows, many-to-many,
    # existence) and one per related model; never per row.
    with django_assert_max_num_queries(45):
        body = journal(agent_client)

    assert "Réponse de l'administration" in body and "Adhésion terminée" in body


def test_many_to_many_changes_read_as_additions_and_removals(agent_client, staff, alice, network_b, open_round):
    with audit.change("Réseaux invités revus", by=staff):
        open_round.networks.remove(network_b)
        open_round.networks.add(NetworkFactory(name="Réseau Gamma"))

    body = journal(agent_client, type="measures.consultationround", objet=open_round.pk)
    assert "Réseaux invités revus" in body
    assert "retrait : Réseau Bêta (BETA) → —" in body
    assert "— → ajout : Réseau Gamma" in body
    for url in (
        reverse("admin:measures_consultationround_history", args=[open_round.pk]),
        reverse("admin:networks_user_history", args=[alice.pk]),
    ):
        response = agent_client.get(url)
        assert response.status_code == 200
        assert "Historique :" in html.unescape(response.content.decode())


# --- Dates out of range, empty pages, saves that change nothing, events, labels and values ---


OUT_OF_RANGE = [
    {"au": "9999-12-31"},
    {"du": "9999-12-31"},
    {"du": "0001-01-01"},
    {"du": "1999-12-31", "au": "2101-01-01"},
]


@pytest.mark.parametrize("params", OUT_OF_RANGE)
def test_a_date_out_of_range_is_a_filter_to_correct_never_a_server_error(agent_client, staff, changes, params):
    exports = User.history.filter(id=staff.pk).count()
    for url in (JOURNAL, JOURNAL_CSV):
        response = agent_client.get(url, params)

        assert response.status_code == 200
        body = html.unescape(response.content.decode())
        assert "<title>Erreur :" in body
        assert "Date hors du journal : choisissez une année entre 2000 et 2100." in body
        assert "Ville et logement" not in body
    assert User.history.filter(id=staff.pk).count() == exports, "nothing was exported"


def test_filters_that_match_nothing_say_so(agent_client, changes):
    body = journal(agent_client, type="measures.ministry", objet="999999")

    assert "0 modification" in body and "0 modifications" not in body
    assert "Aucune modification ne correspond à ces filtres." in body
    assert 'id="result_list"' not in body


def test_the_filters_say_what_they_match(agent_client):
    body = journal(agent_client)

    assert '<label for="id_personne">Modifié par' in body
    assert "le numéro de compte de la personne qui a fait la modification" in body
    assert "avec un type d'objet ; sinon le numéro de tout type" in body


def test_a_save_that_changes_no_tracked_field_writes_no_row_but_an_event_does(staff):
    ministry = Ministry.objects.create(name="Ville")
    ministry.save()
    with audit.change("Rien de neuf", by=staff):
        Ministry.objects.get(pk=ministry.pk).save()
    assert Ministry.history.filter(id=ministry.pk).count() == 1

    audit.record(ministry, "Données exportées", by=staff, detail="ministères")
    ministry.name = "Ville et logement"
    ministry.save()

    rows = Ministry.history.filter(id=ministry.pk).order_by("history_id")
    assert [(row.history_type, row.history_change_reason) for row in rows] == [
        ("+", None),
        ("~", "Données exportées — ministères"),
        ("~", None),
    ]


def test_a_status_changed_in_the_admin_is_one_row_with_its_reason(agent_client, staff, measure):
    url = reverse("admin:measures_measure_change", args=[measure.pk])
    before = Measure.history.filter(id=measure.pk).count()

    data = {**form_data(agent_client.get(url)), "status": MeasureStatus.IN_PROGRESS}
    assert agent_client.post(url, data).status_code == 302
    assert agent_client.post(url, form_data(agent_client.get(url))).status_code == 302  # saved again, unchanged

    rows = list(Measure.history.filter(id=measure.pk).order_by("history_id"))[before:]
    assert [(row.history_change_reason, row.status, row.history_user) for row in rows] == [
        ("Statut de la mesure changé", MeasureStatus.IN_PROGRESS, staff)
    ]
    body = journal(agent_client, type="measures.measure", objet=measure.pk)
    assert "Aucun champ suivi n'a changé" not in body


def test_exports_read_as_events_with_their_filters_in_words(agent_client, staff, alice, changes):
    today = timezone.localdate()
    start = today - timedelta(days=6)
    # As the form sends them: empty filters too.
    params = {"personne": "", "type": "measures.ministry", "objet": "", "du": start.isoformat(), "au": f"{today}"}
    assert agent_client.get(JOURNAL_CSV, params).status_code == 200
    assert latest(User, id=staff.pk).history_change_reason == (
        "Données exportées — journal des modifications (CSV) "
        f"(Type : Ministère ; du {start:%d/%m/%Y} au {today:%d/%m/%Y})"
    )
    feedback_csv = reverse("measures:feedback_export")
    assert agent_client.get(feedback_csv, {"assessment": "works", "page": "2"}).status_code == 200
    assert latest(User, id=staff.pk).history_change_reason == (
        "Données exportées — retours de terrain (CSV) (Filtres : Appréciation « Fonctionne »)"
    )
    # The person chooses the filters: what the trail keeps of them is bounded.
    for number in range(60):
        UserFactory(email=f"homonyme{number}@exemple.org", full_name=f"Camille Homonyme {number}")
    assert agent_client.get(JOURNAL_CSV, {"personne": "Homonyme"}).status_code == 200
    reason = latest(User, id=staff.pk).history_change_reason
    filters = reason.removeprefix("Données exportées — journal des modifications (CSV) (").removesuffix(")")
    assert filters.startswith("Modifié par : comptes n° ") and filters.endswith("…")
    assert len(filters) == audit.FILTERS_MAX_LENGTH
    assert "Homonyme" not in filters and "@" not in filters

    body = journal(agent_client, type="networks.user", objet=staff.pk)
    assert body.count("<td>Événement</td>") == 3
    assert "personne=&amp;type=" not in body and "personne=&type=" not in body
    member = Client()
    member.force_login(alice)
    assert member.get(reverse("networks:my_data_json")).status_code == 200
    assert "<td>Événement</td>" in journal(agent_client, type="networks.user", objet=alice.pk)


def test_an_exports_person_filter_is_written_as_the_accounts_it_matched(agent_client, staff, alice, changes):
    assert agent_client.get(JOURNAL_CSV, {"personne": alice.email}).status_code == 200
    reason = latest(User, id=staff.pk).history_change_reason
    assert reason == f"Données exportées — journal des modifications (CSV) (Modifié par : compte n° {alice.pk})"
    assert alice.email not in reason

    assert agent_client.get(JOURNAL_CSV, {"personne": "inconnue@exemple.org"}).status_code == 200
    reason = latest(User, id=staff.pk).history_change_reason
    assert reason == "Données exportées — journal des modifications (CSV) (Modifié par : aucun compte)"


def csv_rows(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(raw.removeprefix("\ufeff")), delimiter=";"))[1:]


def test_an_export_above_the_limit_is_refused_with_the_way_to_narrow_it(agent_client, staff, changes, settings):
    ville, _old = changes
    settings.JOURNAL_EXPORT_MAX_ROWS = 2
    exports = User.history.filter(id=staff.pk).count()
    limit = "L'export est limité à 2 lignes : resserrez les filtres (dates, type d'objet, personne)."

    response = agent_client.get(JOURNAL_CSV, {"type": "measures.ministry"})

    assert response.status_code == 302
    assert response["Location"] == f"{JOURNAL}?type=measures.ministry"
    body = journal(agent_client, type="measures.ministry")
    assert "3 modifications" in body and limit in body
    assert JOURNAL_CSV not in body, "no link to a file that would be refused"
    assert User.history.filter(id=staff.pk).count() == exports, "nothing was exported"
    # Narrower filters: the file, whole.
    narrower = {"type": "measures.ministry", "objet": ville.pk}
    body = journal(agent_client, **narrower)
    assert limit not in body and JOURNAL_CSV in body
    response = agent_client.get(JOURNAL_CSV, narrower)
    assert response.status_code == 200
    assert [row[7] for row in csv_rows(response)] == ["Renommage", ""]
    assert User.history.filter(id=staff.pk).count() == exports + 1


def test_the_csv_of_the_whole_journal_within_the_limit_is_complete(agent_client, staff, changes, settings, monkeypatch):
    settings.JOURNAL_EXPORT_MAX_ROWS = 1000
    monkeypatch.setattr(journal_views, "CSV_CHUNK", 2)  # read in many steps
    expected = sum(journal_lib.history_model(model).objects.count() for model in audit.tracked_models())

    response = agent_client.get(JOURNAL_CSV)

    assert response.status_code == 200
    rows = csv_rows(response)
    # Every row, its own export's event included (recorded before the file is read), newest first.
    assert len(rows) == expected + 1
    assert rows[0][7].startswith("Données exportées — journal des modifications")
    renamed = next(row for row in rows if row[7] == "Renommage")
    assert "Nom : Ville → Ville et logement" in renamed[8]


@pytest.mark.parametrize("size", [3, 30])
def test_the_csv_export_runs_a_bounded_number_of_queries(
    agent_client, staff, network_a, size, django_assert_max_num_queries
):
    for number in range(size):
        person = UserFactory(email=f"personne{number}@exemple.org", full_name=f"Personne {number}")
        membership = MembershipFactory(user=person, network=network_a)
        network_services.membership_deactivate(actor=staff, membership=membership)
        feedback = FeedbackFactory(author=person, network=network_a)
        measure_services.feedback_respond(responder=staff, feedback=feedback, response=f"Réponse {number}")
        network_services.user_change_email(user=person, new_email=f"nouvelle{number}@exemple.org", changed_by=staff)
    agent_client.get(JOURNAL)  # sessions and permissions cached

    # The count, the export's own event, the merged keys; then per table present a few (rows,
    # previous rows, many-to-many) and one per related model; never per row.
    with django_assert_max_num_queries(35):
        response = agent_client.get(JOURNAL_CSV)
        rows = csv_rows(response)

    reasons = [row[7] for row in rows]
    assert reasons.count("Réponse de l'administration") == size
    assert reasons.count("Adresse électronique changée") >= size
    changed = [row[8] for row in rows if row[7] == "Adresse électronique changée" and row[4] == "Utilisateur"]
    assert "Adresse électronique : personne0@exemple.org → nouvelle0@exemple.org" in changed


def test_values_read_as_people_read_them(agent_client, staff, measure, session):
    measure_services.measure_change_status(measure=measure, new_status=MeasureStatus.IN_PROGRESS, author=staff)

    body = journal(agent_client, type="workgroups.session", objet=session.pk)
    assert "Rappels (minutes avant le début) : — → 10080, 1440" in strip_tags(body)
    assert "[10080" not in body
    assert paris_moment(session.starts_at) in body
    updates = journal(agent_client, type="measures.measureupdate")
    assert date_format(timezone.localdate(), "j F Y") in updates
