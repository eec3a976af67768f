"""Issue 9, item 6: dates written « 1er », ministries as a list, the measures list on a
phone, territories found by name or code (suggestions endpoint and form)."""

import datetime
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from concertation.lib.dates import date_format
from measures import services
from measures.models import Measure, Ministry
from networks.forms import InvitationForm
from networks.models import Invitation
from tests.factories import MeasureFactory, ProgrammeFactory, RoadmapFactory, TerritoryFactory

pytestmark = pytest.mark.django_db

FIRST = datetime.date(2026, 12, 1)
SECOND = datetime.date(2026, 12, 2)


def render(text, **context):
    return Template(text).render(Context(context))


# --- 1. Dates --------------------------------------------------------------------------


def test_every_template_writes_the_first_of_the_month_1er():
    assert render('{{ d|date:"j F Y" }}', d=FIRST) == "1er décembre 2026"
    assert render('{{ d|date:"l j F Y" }}', d=FIRST) == "mardi 1er décembre 2026"
    assert render('{{ d|date:"j N Y" }}', d=FIRST).startswith("1er déc")
    assert render("{{ d|date }}", d=FIRST) == "1er décembre 2026"  # DATE_FORMAT in French is « j F Y »
    assert render('{{ d|date:"j F Y" }}', d=SECOND) == "2 décembre 2026"


def test_numeric_dates_times_and_english_are_untouched():
    moment = datetime.datetime(2026, 12, 1, 9, 5)
    assert render('{{ d|date:"j/m/Y" }}', d=FIRST) == "1/12/2026"
    assert render('{{ d|date:"d/m/Y" }}', d=FIRST) == "01/12/2026"
    assert render('{{ d|date:"SHORT_DATE_FORMAT" }}', d=FIRST) == "01/12/2026"
    assert render('{{ d|time:"H:i" }}', d=moment) == "09:05"
    assert render('{{ d|date:"H:i" }}', d=moment) == "09:05"
    assert render(r'{{ d|date:"\j j F" }}', d=FIRST) == "j 1er décembre"
    with translation.override("en"):
        assert render('{{ d|date:"F j, Y" }}', d=FIRST) == "December 1, 2026"
        assert render('{{ d|date:"j F Y" }}', d=FIRST) == "1 December 2026"


def test_full_date_still_works_as_an_alias():
    assert render('{% load workgroups_tags %}{{ d|full_date:"j F Y" }}', d=FIRST) == "1er décembre 2026"
    assert render('{{ d|full_date:"j F Y" }}', d=SECOND) == "2 décembre 2026"


def test_python_side_dates_share_the_rule():
    assert date_format(FIRST, "j F Y") == "1er décembre 2026"
    assert date_format(SECOND, "j F Y") == "2 décembre 2026"
    assert date_format(FIRST, "d/m/Y") == "01/12/2026"
    with translation.override("en"):
        assert date_format(FIRST, "j F Y") == "1 December 2026"


def test_the_printed_extraction_note_says_1er():
    from measures.views import _extraction_note

    moment = datetime.datetime(2026, 12, 1, 14, 5, tzinfo=datetime.UTC)
    assert _extraction_note(moment).startswith("Extraction du 1er décembre 2026 à 15 h 05")


# --- 4. Ministries ---------------------------------------------------------------------


def titles(client, **params):
    body = client.get(reverse("measures:list"), params).content.decode()
    return [t for t in ("Cités éducatives", "Emplois francs") if t in body]


def test_the_ministry_filter_finds_a_measure_by_any_of_its_ministries(client):
    MeasureFactory(title="Cités éducatives", ministries=["Éducation nationale", "Ville"])
    MeasureFactory(title="Emplois francs", ministries=["Travail"])
    ville, education = Ministry.objects.get(name="Ville"), Ministry.objects.get(name="Éducation nationale")
    assert titles(client, ministry=ville.pk) == ["Cités éducatives"]
    assert titles(client, ministry=education.pk) == ["Cités éducatives"]
    assert titles(client, q="ville") == ["Cités éducatives"]
    assert titles(client, ministry="99999999999999999999") == ["Cités éducatives", "Emplois francs"]
    options = client.get(reverse("measures:list")).content.decode()
    assert f'<option value="{ville.pk}">Ville</option>' in options


def test_the_measure_shows_its_lead_ministry_first(client):
    measure = MeasureFactory(title="Cités éducatives", ministries=["Éducation nationale", "Ville"])
    assert measure.lead_ministry.name == "Éducation nationale"
    assert [m.name for m in Measure.objects.with_ministries().get().ministry_list] == ["Éducation nationale", "Ville"]
    body = client.get(measure.get_absolute_url()).content.decode()
    assert "Ministère chef de file : Éducation nationale — avec : Ville" in body
    listed = client.get(reverse("measures:list")).content.decode()
    assert "Éducation nationale" in listed and "(chef de file)</span>, Ville" in listed


def test_the_measure_list_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    for n in range(3):
        MeasureFactory(ministries=["Travail", f"Ministère {n}"])
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("measures:list"))
    for n in range(3, 15):
        MeasureFactory(ministries=["Travail", f"Ministère {n}"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("measures:list") + "?page=1&q=")


def test_the_import_takes_ministries_separated_by_semicolons(staff):
    roadmap = RoadmapFactory()
    ProgrammeFactory(roadmap=roadmap, title="Éducation et petite enfance", position=1)
    Ministry.objects.create(name="Éducation nationale", short_name="MENJ")
    text = (
        "programme;numero;titre;ministeres\n"
        '1;5;Cités éducatives;"menj; Ville"\n'
        '1;6;Santé au travail;"Travail, Santé et Solidarités"\n'
    )
    result = services.measures_import_csv(roadmap=roadmap, text=text, author=staff)
    assert (result.created, result.new_ministries) == (2, ("Ville", "Travail, Santé et Solidarités"))
    five, six = roadmap.measures.order_by("number")
    assert [m.name for m in five.ministry_list] == ["Éducation nationale", "Ville"]
    assert [m.name for m in six.ministry_list] == ["Travail, Santé et Solidarités"]
    # Updating without the column keeps them; with it, replaces them in the new order.
    services.measures_import_csv(roadmap=roadmap, text="programme;numero;titre\n1;5;Cités éducatives\n", author=staff)
    assert len(Measure.objects.get(pk=five.pk).ministry_list) == 2
    services.measures_import_csv(
        roadmap=roadmap, text="programme;numero;titre;ministere\n1;5;Cités éducatives;Ville\n", author=staff
    )
    assert [m.name for m in Measure.objects.get(pk=five.pk).ministry_list] == ["Ville"]


def test_the_data_migration_splits_on_commas_and_semicolons_only():
    migration = import_module("measures.migrations.0008_ministries")
    assert migration.split_ministries("Éducation nationale, Ville") == ["Éducation nationale", "Ville"]
    assert migration.split_ministries(" Intérieur ; Ville;; intérieur") == ["Intérieur", "Ville"]
    assert migration.split_ministries("Travail et Solidarités") == ["Travail et Solidarités"]
    assert migration.split_ministries("") == []


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_turns_the_old_text_into_the_list():
    executor = MigrationExecutor(connection)
    before, after = [("measures", "0007_round_reports")], [("measures", "0008_ministries")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    roadmap = old.get_model("measures", "Roadmap").objects.create(title="R", slug="r")
    programme = old.get_model("measures", "Programme").objects.create(roadmap=roadmap, title="P")
    OldMeasure = old.get_model("measures", "Measure")
    OldMeasure.objects.create(
        roadmap=roadmap, programme=programme, number=5, lead_ministry="Éducation nationale, Ville"
    )
    OldMeasure.objects.create(roadmap=roadmap, programme=programme, number=6, lead_ministry="ville")
    OldMeasure.objects.create(roadmap=roadmap, programme=programme, number=7, lead_ministry="")
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    rows = new.get_model("measures", "MeasureMinistry").objects.order_by("measure__number", "position")
    assert [(r.measure.number, r.ministry.name, r.position) for r in rows] == [
        (5, "Éducation nationale", 1),
        (5, "Ville", 2),
        (6, "Ville", 1),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    back = executor.loader.project_state(before).apps.get_model("measures", "Measure")
    assert dict(back.objects.values_list("number", "lead_ministry")) == {
        5: "Éducation nationale; Ville",
        6: "Ville",
        7: "",
    }
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_agents_manage_ministries_in_the_admin(agent_client):
    assert agent_client.get(reverse("admin:measures_ministry_add")).status_code == 200
    measure = MeasureFactory(ministries=["Travail", "Ville"])
    page = agent_client.get(reverse("admin:measures_measure_changelist")).content.decode()
    assert "Travail, Ville" in page
    assert agent_client.get(reverse("admin:measures_measure_change", args=[measure.pk])).status_code == 200


# --- 3. Territories ----------------------------------------------------------------------


@pytest.fixture
def territories(db):
    idf = TerritoryFactory(level="region", code="11", name="Île-de-France")
    paca = TerritoryFactory(level="region", code="93", name="Provence-Alpes-Côte d'Azur")
    ssd = TerritoryFactory(level="departement", code="93", name="Seine-Saint-Denis", parent=idf)
    TerritoryFactory(level="departement", code="77", name="Seine-et-Marne", parent=idf)
    saint_denis = TerritoryFactory(level="commune", code="93066", name="Saint-Denis", parent=ssd)
    TerritoryFactory(level="commune", code="91228", name="Évry-Courcouronnes", parent=idf)
    qpv = TerritoryFactory(level="qpv", code="QN09301M", name="Franc-Moisin Bel-Air", parent=ssd)
    return {"ssd": ssd, "paca": paca, "saint_denis": saint_denis, "qpv": qpv}


def search(client, q):
    response = client.get(reverse("networks:territory_search"), {"q": q})
    assert response.status_code == 200
    return [r["label"] for r in response.json()["results"]]


def test_the_search_finds_territories_by_name_and_code(client, alice, territories):
    client.force_login(alice)
    assert search(client, "seine s") == ["Seine-Saint-Denis (département 93)"]
    assert search(client, "Seine-Saint-Denis")[0] == "Seine-Saint-Denis (département 93)"
    assert search(client, "evry") == ["Évry-Courcouronnes (commune 91228)"]
    assert search(client, "ÉVRY cour") == ["Évry-Courcouronnes (commune 91228)"]
    assert search(client, "93") == [
        "Provence-Alpes-Côte d'Azur (région 93)",
        "Seine-Saint-Denis (département 93)",
        "Saint-Denis (commune 93066)",
    ]
    assert search(client, "departement:93") == ["Seine-Saint-Denis (département 93)"]
    assert search(client, "93066") == ["Saint-Denis (commune 93066)"]
    assert search(client, "qn093") == ["Franc-Moisin Bel-Air (QPV QN09301M)"]
    assert search(client, "bel air") == ["Franc-Moisin Bel-Air (QPV QN09301M)"]
    assert search(client, "s") == [] and search(client, "") == [] and search(client, ".*") == []
    assert search(client, "x" * 500) == []


def test_the_search_is_bounded(client, alice, territories, settings):
    for n in range(30):
        TerritoryFactory(level="commune", code=f"930{n:02d}", name=f"Commune test {n}")
    client.force_login(alice)
    data = client.get(reverse("networks:territory_search"), {"q": "commune test"}).json()
    assert len(data["results"]) == 20 and data["more"] is True


def test_the_search_is_for_members_and_agents_only(client, territories, outsider, former_member, staff):
    url = reverse("networks:territory_search") + "?q=seine"
    assert client.get(url).status_code == 302  # anonymous: the sign-in page
    for person in (outsider, former_member):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 403 and b"Seine" not in response.content
    client.force_login(staff)
    assert client.get(url).status_code == 200


def test_the_search_refuses_too_many_requests(client, alice, territories, monkeypatch):
    from networks import views

    monkeypatch.setattr(views, "TERRITORY_SEARCHES_PER_MINUTE", 3)
    client.force_login(alice)
    codes = [client.get(reverse("networks:territory_search"), {"q": "seine"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_the_invitation_form_accepts_a_suggestion_a_code_or_a_name(territories):
    def territory(text):
        form = InvitationForm({"email": "nina@ville.example", "role": "representative", "territory_code": text})
        assert form.is_valid(), form.errors
        return form.territory

    assert territory("Seine-Saint-Denis (département 93)") == territories["ssd"]
    assert territory("Provence-Alpes-Côte d'Azur (région 93)") == territories["paca"]
    assert territory("departement:93") == territories["ssd"]
    assert territory("93066") == territories["saint_denis"]
    assert territory("QN09301M") == territories["qpv"]
    assert territory("seine saint denis") == territories["ssd"]
    assert territory("") is None


def test_the_invitation_form_explains_an_unknown_territory(territories):
    form = InvitationForm({"email": "nina@ville.example", "role": "representative", "territory_code": "Seine St D"})
    assert not form.is_valid()
    assert form.errors["territory_code"] == [
        "Territoire inconnu : « Seine St D ». Tapez les premières lettres du nom ou le code officiel, puis "
        "choisissez dans la liste (par exemple : Seine-Saint-Denis, 93, 93066, QN09301M)."
    ]
    ambiguous = InvitationForm({"email": "nina@ville.example", "role": "representative", "territory_code": "93"})
    assert not ambiguous.is_valid() and "précisez le niveau" in ambiguous.errors["territory_code"][0]


def test_the_invitation_page_offers_the_suggestions(client, coordinator_a, network_a, territories):
    client.force_login(coordinator_a)
    url = reverse("networks:invite", args=[network_a.slug])
    page = client.get(url).content.decode()
    assert f'data-territory-search="{reverse("networks:territory_search")}"' in page
    assert "js/territory_combobox.js" in page and 'autocomplete="off"' in page
    client.post(
        url,
        {
            "email": "nina@ville.example",
            "role": "representative",
            "territory_code": "Seine-Saint-Denis (département 93)",
        },
    )
    assert Invitation.objects.get().territory == territories["ssd"]


def test_the_data_migration_keeps_official_names_whole():
    split = import_module("measures.migrations.0008_ministries").split_ministries
    assert split("Éducation nationale, Ville") == ["Éducation nationale", "Ville"]
    assert split("Ministère du Travail, de la Santé, des Solidarités et des Familles ; Ville") == [
        "Ministère du Travail, de la Santé, des Solidarités et des Familles",
        "Ville",
    ]
    assert split("Éducation nationale; Ville; ville") == ["Éducation nationale", "Ville"]
    # What going back writes is read the same way again.
    assert split("; ".join(["Ministère du Travail, de la Santé et des Solidarités", "Ville"])) == [
        "Ministère du Travail, de la Santé et des Solidarités",
        "Ville",
    ]


def test_an_import_with_commas_says_how_to_separate_ministries(agent_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    roadmap = RoadmapFactory()
    ProgrammeFactory(roadmap=roadmap, title="Éducation et petite enfance", position=1)
    text = 'programme;numero;titre;ministere\n1;5;Cités éducatives;"Éducation nationale, Ville"\n'
    response = agent_client.post(
        reverse("admin:measures_measure_import"),
        {"roadmap": roadmap.pk, "file": SimpleUploadedFile("mesures.csv", text.encode())},
        follow=True,
    )
    page = response.content.decode().replace("&#x27;", "'")
    assert "« Éducation nationale, Ville » contient une virgule" in page
    assert "séparez-les par « ; »" in page
