"""Files that would be misread or fail at the database are refused with a line
number, by the one reader every import shares; line endings of any system are read."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from measures import services as measure_services
from measures.models import Measure
from networks.imports import ImportRejected, read_table
from networks.models import Invitation, Territory
from tests.factories import MeasureFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:networks_invitation_import")
COLUMNS = {"name": {"nom"}, "email": {"email"}, "network": {"reseau"}, "role": {"role"}}
REQUIRED = {"email": "email", "network": "reseau", "role": "role"}

MARIE = "marie@ville.example;alpha;représentant;Marie Exemple\n"
PAUL = "paul@ville.example;alpha;représentant;Paul Exemple\n"
JEANNE = "jeanne@ville.example;alpha;observateur;Jeanne Exemple\n"
HEADER = "email;reseau;role;nom\n"

# Each bad file, the line the error names and what it says.
BAD_FILES = {
    "NUL byte": (HEADER + MARIE + "paul@ville.example;alpha;représentant;Paul\x00\n" + JEANNE, 3, "caractère nul"),
    "UTF-16 without BOM": (
        (HEADER + "marie@ville.example;alpha;observateur;Marie\n").encode("utf-16-le").decode("ascii"),
        1,
        "enregistré en UTF-16",
    ),
    "cell over the field limit": (HEADER + MARIE + PAUL.replace("Paul", "P" * 200_000) + JEANNE, 3, "dépasse"),
    # Today the name swallows Paul's and Jeanne's lines, and the import reports success for Marie alone.
    "quote open until the end": (HEADER + MARIE.replace("Marie", '"Marie') + PAUL + JEANNE, 2, "jamais refermé"),
    "quote closed lines later": (
        HEADER + MARIE.replace("Marie", '"Marie') + PAUL.replace("Exemple", 'Exemple"') + JEANNE,
        2,
        "n'est refermé qu'à la ligne 3",
    ),
    "quote closed lines later, text after it": (
        HEADER + MARIE + PAUL.replace("Paul", '"Paul') + JEANNE.replace("jeanne@", '"jeanne@'),
        3,
        "n'est refermé qu'à la ligne 4",
    ),
    "text after a closing quote": (HEADER + MARIE + PAUL.replace("Paul Exemple", '"Paul" Exemple'), 3, "texte après"),
    "unquoted separator in a cell": (
        HEADER + MARIE + PAUL.replace("Paul Exemple", "Paul;Exemple;Fils"),
        3,
        "6 colonnes",
    ),
}


def upload(client, text):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile("personnes.csv", text.encode("utf-8"), "text/csv")})


def read(text, **options):
    return read_table(text, columns=COLUMNS, required=REQUIRED, **options)


@pytest.mark.parametrize("case", BAD_FILES)
def test_it_refuses_a_bad_file_with_its_line_number(case):
    text, line, message = BAD_FILES[case]
    with pytest.raises(ImportRejected) as rejected:
        read(text)
    first = rejected.value.errors[0]
    assert first.line == line
    assert message in str(first)
    assert str(first).startswith(f"Ligne {line} : ")


@pytest.mark.parametrize("case", BAD_FILES)
def test_it_refuses_a_bad_invitation_file_in_the_admin_and_invites_nobody(
    client, staff, network_a, case, django_capture_on_commit_callbacks
):
    text, line, message = BAD_FILES[case]
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, text)
    assert response.status_code == 200
    body = response.content.decode().replace("&#x27;", "'")
    assert "rien n'a été importé" in body
    assert f"Ligne {line} : " in body and message in body
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"], ids=["old Mac CR", "Windows CRLF", "Unix LF"])
def test_it_reads_every_line_ending(ending):
    text = (HEADER + MARIE + "\n" + PAUL).replace("\n", ending)
    lines = read(text)
    assert [(line.number, line["name"]) for line in lines] == [(2, "Marie Exemple"), (4, "Paul Exemple")]


def test_it_invites_everyone_from_an_old_mac_file_in_the_admin(
    client, staff, network_a, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, (HEADER + MARIE + PAUL + JEANNE).replace("\n", "\r"))
    assert response.status_code == 302
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "jeanne@ville.example",
        "marie@ville.example",
        "paul@ville.example",
    ]


def test_it_keeps_quoted_separators_and_doubled_quotes_in_one_cell():
    [line] = read(HEADER + 'marie@ville.example;alpha;représentant;"Marie ""la grande""; Exemple"\n')
    assert line["name"] == 'Marie "la grande"; Exemple'


def test_it_lists_a_problem_on_many_lines_briefly():
    text = HEADER + "".join(f"p{n}@ville.example;alpha;représentant;P\x00\n" for n in range(100))
    with pytest.raises(ImportRejected) as rejected:
        read(text)
    errors = [str(error) for error in rejected.value.errors]
    assert len(errors) == 21
    assert errors[-1] == "Ligne 22 : et 80 autre(s) ligne(s) avec le même problème."


def test_it_accepts_a_cell_over_several_lines_only_where_the_import_allows_it():
    text = HEADER + 'marie@ville.example;alpha;représentant;"Marie\nExemple"\n'
    with pytest.raises(ImportRejected) as rejected:
        read(text)
    assert str(rejected.value.errors[0]).startswith("Ligne 2 : un guillemet ouvert sur cette ligne n'est refermé qu'à")
    [line] = read(text, multiline={"name"})
    assert line["name"] == "Marie\nExemple"
    # Even there, lines that look like rows of the table were swallowed by a quote left open.
    with pytest.raises(ImportRejected) as rejected:
        read(
            HEADER + MARIE.replace("Marie", '"Marie') + PAUL + JEANNE.replace("Exemple", 'Exemple"'), multiline={"name"}
        )
    assert "n'est refermé qu'à la ligne 4" in str(rejected.value.errors[0])


# --- Measures: same reader ---------------------------------------------------


@pytest.fixture
def programme():
    return ProgrammeFactory(title="Emploi", position=1)


def import_measures(client, programme, text):
    return client.post(
        reverse("admin:measures_measure_import"),
        {"roadmap": programme.roadmap.pk, "file": SimpleUploadedFile("mesures.csv", text.encode(), "text/csv")},
    )


def test_it_keeps_a_measure_summary_written_over_several_lines(staff, programme):
    text = 'programme;numero;titre;resume\nEmploi;12;Emplois francs;"Une aide à l\'embauche.\nPour les quartiers."\n'
    measure_services.measures_import_csv(roadmap=programme.roadmap, text=text, author=staff)
    assert Measure.objects.get(number=12).summary == "Une aide à l'embauche.\nPour les quartiers."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'programme;numero;titre;resume\nEmploi;12;Emplois;"Début\nEmploi;13;Autre;x\nEmploi;14;Encore;x"\n',
            "Ligne 2 : un guillemet ouvert sur cette ligne n'est refermé qu'à la ligne 4",
        ),
        ("programme;numero;titre\nEmploi;²;Emplois francs\n", "Ligne 2 : numéro « ² » invalide"),
        ("programme;numero;titre\nEmploi;" + "9" * 5000 + ";Emplois francs\n", "Ligne 2 : numéro « 999"),
        ("programme;numero;titre\r\nEmploi;12;Emplois\x00francs\r\n", "Ligne 2 : caractère nul"),
    ],
    ids=["swallowed rows", "superscript digit", "5000 digits", "NUL"],
)
def test_it_refuses_a_bad_measures_file_in_the_admin(client, staff, programme, text, expected):
    MeasureFactory(roadmap=programme.roadmap, programme=programme, number=3)
    client.force_login(staff)
    response = import_measures(client, programme, text)
    assert response.status_code == 200
    assert expected in response.content.decode().replace("&#x27;", "'")
    assert list(Measure.objects.values_list("number", flat=True)) == [3]


# --- Priority neighbourhoods: same reader ------------------------------------


def write(tmp_path, text):
    path = tmp_path / "listeqp2024-cog2024.csv"
    path.write_bytes(text.encode("utf-8"))
    return path


def test_it_refuses_a_neighbourhood_file_with_a_quote_left_open(tmp_path, capsys):
    text = (
        "code_qp;lib_qp;insee_com;lib_com\n"
        "QN09301M;Franc-Moisin Bel-Air;93066;Saint-Denis\n"
        'QN06901M;Grande Île;"69256; 69259;Vaulx-en-Velin; Vénissieux\n'
        "QN00101M;Reyssouze;01053;Bourg-en-Bresse\n"
    )
    with pytest.raises(CommandError, match="aucun quartier importé"):
        call_command("import_qpv", write(tmp_path, text))
    assert "Ligne 3 : un guillemet ouvert sur cette ligne n'est jamais refermé" in capsys.readouterr().err
    assert not Territory.objects.filter(level__in=["qpv", "commune"]).exists()


def test_it_imports_a_neighbourhood_file_with_old_mac_line_endings(tmp_path, capsys):
    text = (
        "code_qp;lib_qp;insee_com;lib_com\r"
        "QN09301M;Franc-Moisin Bel-Air;93066;Saint-Denis\r"
        "QN00101M;Reyssouze;1053;Bourg-en-Bresse\r"
    )
    call_command("import_qpv", write(tmp_path, text))
    assert "2 quartier(s) créé(s)" in capsys.readouterr().out
    assert sorted(Territory.objects.filter(level="qpv").values_list("code", flat=True)) == ["QN00101M", "QN09301M"]
