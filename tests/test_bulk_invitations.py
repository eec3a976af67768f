import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from networks import services
from networks.imports import ImportRejected
from networks.models import Invitation, Membership
from tests.factories import TerritoryFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:networks_invitation_import")


def upload(client, text, encoding="utf-8-sig"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile("personnes.csv", text.encode(encoding), "text/csv")})


def test_staff_invite_a_whole_file_and_each_person_gets_an_email(
    client, staff, network_a, network_b, bob, django_capture_on_commit_callbacks
):
    TerritoryFactory(level="departement", code="93", name="Seine-Saint-Denis")
    client.force_login(staff)
    text = (
        "nom;email;reseau;role;territoire\n"
        "Marie Exemple;marie@ville.example;alpha;représentant;93\n"
        "Paul Exemple;paul@ville.example;BETA;coordinateur;\n"
        "Bob déjà inscrit;bob@beta.example;alpha;observateur;\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, text)
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "2 invitation(s) envoyée(s), 1 personne(s) déjà inscrite(s) ajoutée(s)" in messages[0]
    assert Invitation.objects.get(email="marie@ville.example").territory.code == "93"
    assert Invitation.objects.get(email="paul@ville.example").role == Membership.Role.COORDINATOR
    assert Membership.objects.get(user=bob, network=network_a).role == Membership.Role.OBSERVER
    assert sorted(m.to[0] for m in mail.outbox) == ["bob@beta.example", "marie@ville.example", "paul@ville.example"]


def test_one_bad_line_writes_nothing_and_every_error_is_listed(
    client, staff, network_a, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    text = (
        "nom,email,reseau,role,territoire\n"
        "Marie,marie@ville.example,alpha,représentant,\n"
        "Sans adresse,pas-une-adresse,alpha,représentant,\n"
        "Inconnu,x@ville.example,reseau-inconnu,chef,\n"
        "Marie encore,MARIE@ville.example,alpha,représentant,99999\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, text)
    assert response.status_code == 200
    body = response.content.decode()
    assert "erreurs : rien n'a été importé" in body
    assert "Ligne 3 : adresse électronique « pas-une-adresse » invalide." in body
    assert "Ligne 4 : réseau « reseau-inconnu » inconnu." in body
    assert "Ligne 4 : rôle « chef » inconnu" in body
    assert "Ligne 5 : territoire « 99999 » inconnu." in body
    assert "Ligne 5 : cette personne est déjà invitée dans ce réseau à la ligne 2." in body
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_an_ambiguous_territory_code_asks_for_the_level(staff, network_a):
    TerritoryFactory(level="region", code="93", name="Provence-Alpes-Côte d'Azur")
    TerritoryFactory(level="departement", code="93", name="Seine-Saint-Denis")
    with pytest.raises(ImportRejected) as rejected:
        services.invitations_import_csv(
            inviter=staff, text="email;reseau;role;territoire\na@b.example;alpha;observateur;93\n"
        )
    assert "précisez le niveau (ex. departement:93)" in str(rejected.value.errors[0])
    result = services.invitations_import_csv(
        inviter=staff, text="email;reseau;role;territoire\na@b.example;alpha;observateur;departement:93\n"
    )
    assert result.outcomes[0].invitation.territory.name == "Seine-Saint-Denis"


def test_a_coordinator_import_is_limited_to_their_network(coordinator_a, network_b):
    with pytest.raises(ImportRejected) as rejected:
        services.invitations_import_csv(inviter=coordinator_a, text="email;reseau;role\na@b.example;beta;observateur\n")
    assert "vous ne pouvez pas inviter dans le réseau « Réseau Bêta »" in str(rejected.value.errors[0])
    assert not Invitation.objects.exists()


def test_missing_columns_are_named(staff):
    with pytest.raises(ImportRejected) as rejected:
        services.invitations_import_csv(inviter=staff, text="nom;courriel\nA;a@b.example\n")
    assert "colonnes obligatoires absentes : reseau, role" in str(rejected.value.errors[0])


def test_the_import_page_is_for_staff_only(client, coordinator_a):
    client.force_login(coordinator_a)
    response = client.get(IMPORT_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_excel_separator_line_is_understood_and_empty_cells_are_named(staff, network_a):
    text = "sep=;\nnom;email;reseau;role\nA;a@b.example;;\n"
    with pytest.raises(ImportRejected) as rejected:
        services.invitations_import_csv(inviter=staff, text=text)
    messages = [str(error) for error in rejected.value.errors]
    assert "Ligne 3 : réseau manquant." in messages
    assert "Ligne 3 : rôle manquant (coordinateur, représentant ou observateur)." in messages


def test_invitations_cannot_be_deleted_from_the_admin(client, staff, network_a):
    invitation = services.invitation_send(
        inviter=staff, network=network_a, email="x@y.example", role="observer"
    ).invitation
    client.force_login(staff)
    assert client.get(reverse("admin:networks_invitation_delete", args=[invitation.pk])).status_code == 403
    changelist = client.get(reverse("admin:networks_invitation_changelist")).content.decode()
    assert "delete_selected" not in changelist
