import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from measures import services
from measures.models import ALLOWED_TRANSITIONS, Measure, MeasureStatus, MeasureUpdate, Ministry
from networks.imports import ImportRejected
from tests.factories import MeasureFactory, ProgrammeFactory, RoadmapFactory

pytestmark = pytest.mark.django_db


def test_a_status_change_is_recorded_on_the_timeline(staff, measure):
    services.measure_change_status(
        measure=measure, new_status=MeasureStatus.IN_PROGRESS, author=staff, source="Séance du 12 mars"
    )
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.IN_PROGRESS
    entry = measure.updates.get()
    assert (entry.kind, entry.old_status, entry.new_status, entry.source) == (
        "status",
        "planned",
        "in_progress",
        "Séance du 12 mars",
    )


@pytest.mark.parametrize(
    ("current", "new"),
    [(MeasureStatus.PLANNED, MeasureStatus.IMPLEMENTED), (MeasureStatus.ABANDONED, MeasureStatus.IN_PROGRESS)],
)
def test_transitions_not_in_the_table_are_refused(staff, current, new):
    measure = MeasureFactory(status=current)
    assert new not in ALLOWED_TRANSITIONS[current]
    with pytest.raises(ValidationError, match="ne peut pas passer"):
        services.measure_change_status(measure=measure, new_status=new, author=staff)
    measure.refresh_from_db()
    assert measure.status == current
    assert not MeasureUpdate.objects.exists()


def test_staff_change_the_status_in_the_admin_and_the_timeline_follows(agent_client, measure):
    url = reverse("admin:measures_measure_change", args=[measure.pk])
    data = {
        "roadmap": measure.roadmap_id,
        "programme": measure.programme_id,
        "number": 9,
        "title": "Emplois francs",
        "summary": "",
        "indicators": "",
        "owner": "",
        "ministry_rows-TOTAL_FORMS": "0",
        "ministry_rows-INITIAL_FORMS": "0",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
        "updates-2-TOTAL_FORMS": "0",
        "updates-2-INITIAL_FORMS": "0",
    }
    refused = agent_client.post(url, {**data, "status": "implemented"})
    assert refused.status_code == 200 and "ne peut pas passer" in refused.content.decode()
    assert agent_client.post(url, {**data, "status": "in_progress"}).status_code == 302
    measure.refresh_from_db()
    assert measure.status == "in_progress"
    assert measure.updates.get().new_status == "in_progress"
    # Saving again, with the history shown read-only, leaves the history as it was.
    data["updates-INITIAL_FORMS"] = data["updates-TOTAL_FORMS"] = "1"
    data["updates-0-id"], data["updates-0-measure"] = measure.updates.get().pk, measure.pk
    assert agent_client.post(url, {**data, "status": "in_progress", "indicators": "Contrats signés"}).status_code == 302
    entry = measure.updates.get()
    assert (entry.kind, entry.old_status, entry.new_status) == ("status", "planned", "in_progress")


def test_the_measure_page_shows_its_timeline(client, staff, measure):
    services.measure_change_status(
        measure=measure, new_status=MeasureStatus.IN_PROGRESS, author=staff, text="Lancement national."
    )
    body = client.get(measure.get_absolute_url()).content.decode()
    assert "Suivi de la mesure" in body
    assert "Lancement national." in body
    assert "À engager → En cours" in body


def test_the_measure_list_filters(client, alice):
    roadmap = RoadmapFactory()
    education = ProgrammeFactory(roadmap=roadmap, title="Éducation et petite enfance", position=2)
    employment = ProgrammeFactory(roadmap=roadmap, title="Emploi et insertion professionnelle", position=3)
    MeasureFactory(
        programme=education, title="Cités éducatives", ministries=["Éducation nationale"], status="in_progress"
    )
    MeasureFactory(programme=employment, title="Emplois francs", ministries=["Travail"], status="implemented")
    url = reverse("measures:list")

    def titles(**params):
        body = client.get(url, params).content.decode()
        return [t for t in ("Cités éducatives", "Emplois francs") if t in body]

    assert titles() == ["Cités éducatives", "Emplois francs"]
    assert titles(programme=education.pk) == ["Cités éducatives"]
    assert titles(status="implemented") == ["Emplois francs"]
    assert titles(ministry=Ministry.objects.get(name="Travail").pk) == ["Emplois francs"]
    assert titles(q="éducatives") == ["Cités éducatives"]


def test_the_roadmap_can_be_closed_to_anonymous_visitors(client, settings, measure):
    settings.PUBLIC_ROADMAP = False
    response = client.get(reverse("measures:list"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


CSV = (
    "programme;numero;titre;ministere;statut;indicateurs\n"
    "Emploi et insertion professionnelle;9;Emplois francs (généralisation);Travail;En cours;Nombre de contrats signés\n"
    "3;12;Plan d'investissement dans les compétences;Travail;;\n"
)


def test_a_csv_import_creates_and_updates_measures(staff, measure):
    result = services.measures_import_csv(roadmap=measure.roadmap, text=CSV, author=staff)
    assert (result.created, result.updated) == (1, 1)
    measure.refresh_from_db()
    assert measure.title == "Emplois francs (généralisation)" and measure.status == "in_progress"
    assert measure.indicators == "Nombre de contrats signés"
    assert measure.updates.get().source == "Import CSV"
    assert Measure.objects.get(number=12).programme == measure.programme


def test_a_csv_import_with_one_bad_line_writes_nothing(agent_client, measure):
    bad = CSV + "Programme inconnu;abc;;Travail;Terminée;\n" + "3;9;Doublon;;;\n"
    response = agent_client.post(
        reverse("admin:measures_measure_import"),
        {"roadmap": measure.roadmap_id, "file": SimpleUploadedFile("mesures.csv", bad.encode("utf-8-sig"))},
    )
    body = response.content.decode()
    assert "rien n&#x27;a été importé" in body or "rien n'a été importé" in body
    assert "Ligne 4 : programme « Programme inconnu » inconnu dans cette feuille de route." in body
    assert "Ligne 4 : numéro « abc » invalide" in body
    assert "Ligne 4 : intitulé manquant." in body
    assert "Ligne 4 : statut « Terminée » inconnu." in body
    assert "Ligne 5 : mesure 9 déjà présente à la ligne 2." in body
    measure.refresh_from_db()
    assert measure.title == "Emplois francs" and Measure.objects.count() == 1


def test_a_csv_import_refuses_a_forbidden_status_change(staff):
    measure = MeasureFactory(number=9, status="abandoned")
    with pytest.raises(ImportRejected) as rejected:
        services.measures_import_csv(
            roadmap=measure.roadmap, text="programme;numero;titre;statut\n3;9;X;En cours\n", author=staff
        )
    assert "ne peut pas passer de « Abandonnée » à « En cours »" in str(rejected.value.errors[0])


def test_signed_in_people_see_the_feedback_counts_of_each_measure(client, alice, network_a, measure):
    from tests.factories import FeedbackFactory

    FeedbackFactory(measure=measure, network=network_a, assessment="works")
    FeedbackFactory(measure=measure, network=network_a, assessment="does_not_work")
    FeedbackFactory(measure=measure, network=network_a, assessment="works", status="draft", submitted_at=None)
    client.force_login(alice)
    row = client.get(reverse("measures:list")).content.decode().split("Emplois francs")[1].split("</tr>")[0]
    assert '<td class="portal-from-md">2</td><td class="portal-from-md">1 / 0 / 1 / 0</td>' in row
    client.logout()
    assert "1 / 0 / 1 / 0" not in client.get(reverse("measures:list")).content.decode()
