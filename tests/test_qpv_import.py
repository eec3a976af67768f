import pytest
from django.core.management import CommandError, call_command

from networks.models import Territory
from networks.services import territories_load_reference

pytestmark = pytest.mark.django_db

GOOD_FILE = (
    "\ufeffcode_qp;lib_qp;insee_com;lib_com\n"
    "QN09301M;Franc-Moisin Bel-Air;93066;Saint-Denis\n"
    # A neighbourhood over two communes, joined by "; " inside one field.
    'QN06901M;Grande Île;"69256; 69259";"Vaulx-en-Velin; Vénissieux"\n'
    # A spreadsheet dropped the leading zero of 01053 (Bourg-en-Bresse).
    "QN00101M;Reyssouze;1053;Bourg-en-Bresse\n"
)


@pytest.fixture
def reference_territories():
    territories_load_reference()


def write(tmp_path, text, name="listeqp2024-cog2024.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_it_imports_the_official_file_format(tmp_path, reference_territories, capsys):
    call_command("import_qpv", write(tmp_path, GOOD_FILE))
    assert "3 quartier(s) créé(s)" in capsys.readouterr().out

    franc_moisin = Territory.objects.get(level="qpv", code="QN09301M")
    assert franc_moisin.name == "Franc-Moisin Bel-Air"
    assert franc_moisin.parent.code == "93" and franc_moisin.parent.parent.name == "Île-de-France"
    grande_ile = Territory.objects.get(code="QN06901M")
    assert sorted(grande_ile.communes.values_list("code", flat=True)) == ["69256", "69259"]
    assert Territory.objects.get(code="QN00101M").communes.get().code == "01053"
    assert Territory.objects.get(level="commune", code="69259").name == "Vénissieux"


def test_importing_twice_updates_without_duplicating(tmp_path, reference_territories, capsys):
    call_command("import_qpv", write(tmp_path, GOOD_FILE))
    call_command("import_qpv", write(tmp_path, GOOD_FILE.replace("Franc-Moisin Bel-Air", "Franc-Moisin")))
    assert "0 quartier(s) créé(s), 3 mis à jour" in capsys.readouterr().out
    assert Territory.objects.filter(level="qpv").count() == 3
    assert Territory.objects.get(code="QN09301M").name == "Franc-Moisin"


def test_a_malformed_file_is_reported_line_by_line_and_nothing_is_imported(tmp_path, reference_territories, capsys):
    bad = (
        "code_qp;lib_qp;insee_com;lib_com\n"
        "QN09301M;Franc-Moisin Bel-Air;93066;Saint-Denis\n"
        "XX123;Sans code valable;93066;Saint-Denis\n"
        "QN09302M;;930;Saint-Denis\n"
        "QN09301M;Doublon;93066;Saint-Denis\n"
        'QN06901M;Deux communes;"69256; 69259";Vaulx-en-Velin\n'
    )
    with pytest.raises(CommandError, match="aucun quartier importé"):
        call_command("import_qpv", write(tmp_path, bad))
    errors = capsys.readouterr().err
    assert "Ligne 3 : code de quartier « XX123 » invalide" in errors
    assert "Ligne 4 : nom du quartier manquant." in errors
    assert "Ligne 4 : code INSEE de commune « 930 » invalide." in errors
    assert "Ligne 5 : quartier QN09301M déjà présent à la ligne 2." in errors
    assert "Ligne 6 : 2 code(s) de commune pour 1 nom(s) de commune." in errors
    assert not Territory.objects.filter(level__in=["qpv", "commune"]).exists()


def test_a_file_with_other_columns_is_refused(tmp_path, capsys):
    with pytest.raises(CommandError):
        call_command("import_qpv", write(tmp_path, "code;nom\nQN09301M;X\n"))
    assert "absentes : code_qp, lib_qp, insee_com, lib_com" in capsys.readouterr().err


def test_a_file_not_in_utf8_is_refused_with_advice(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("code_qp;lib_qp;insee_com;lib_com\nQN09301M;Île;93066;Saint-Denis\n".encode("latin-1"))
    with pytest.raises(CommandError):
        call_command("import_qpv", path)
    assert "UTF-8" in capsys.readouterr().err


def test_reference_territories_cover_every_region_and_departement(reference_territories):
    assert Territory.objects.filter(level="region").count() == 18
    assert Territory.objects.filter(level="departement").count() == 101
    assert Territory.objects.get(level="departement", code="976").parent.name == "Mayotte"
    assert Territory.objects.get(level="departement", code="2A").parent.code == "94"


def test_an_unquoted_multi_commune_field_is_refused_rather_than_misread(tmp_path, reference_territories, capsys):
    text = "code_qp;lib_qp;insee_com;lib_com\nQN06901M;Grande Île;69256; 69259;Vaulx-en-Velin; Vénissieux\n"
    with pytest.raises(CommandError):
        call_command("import_qpv", write(tmp_path, text))
    assert "Ligne 2 : 6 colonnes au lieu de 4" in capsys.readouterr().err
    assert not Territory.objects.filter(level="qpv").exists()
