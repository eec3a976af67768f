import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_home_page_shows_the_accessibility_compliance_mention(client):
    body = client.get(reverse("home")).content.decode()
    assert "Accessibilité : non conforme" in body
    assert '<html lang="fr"' in body


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("legal_notice", "Mentions légales"),
        ("personal_data", "Données personnelles"),
        ("accessibility", "Déclaration d’accessibilité"),
    ],
)
def test_the_legal_pages_are_linked_from_the_footer(client, name, heading):
    url = reverse(name)
    footer = client.get(reverse("home")).content.decode().split('id="footer"')[1]
    assert f'href="{url}"' in footer
    assert f"<h1>{heading}</h1>" in client.get(url).content.decode()


def test_the_personal_data_notice_names_the_controller_and_the_dpo_contact(client, settings):
    body = client.get(reverse("personal_data")).content.decode()
    assert "Responsable du traitement" in body
    assert settings.PORTAL["dpo_email"] in body


def test_the_accessibility_statement_offers_a_contact_channel(client, settings):
    body = client.get(reverse("accessibility")).content.decode()
    assert settings.PORTAL["contact_email"] in body
    assert "RGAA" in body


def test_french_is_served_whatever_the_browser_asks(client):
    body = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert "Se connecter" in body


def test_english_is_available_on_request(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("home")).content.decode()
    assert '<html lang="en"' in body
    assert "Sign in" in body
    assert "Accessibility: non-compliant" in body
    assert "Legal notice" in body


def test_unknown_pages_answer_a_french_404(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_the_english_catalogue_translates_every_string():
    from pathlib import Path

    import polib

    catalogue = polib.pofile(str(Path(__file__).resolve().parent.parent / "locale/en/LC_MESSAGES/django.po"))
    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []


def test_pages_forbid_foreign_and_inline_scripts(client):
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_french_content_is_marked_as_french_in_the_english_interface(client, alice, network_a):
    client.force_login(alice)
    french = client.get(reverse("networks:detail", args=[network_a.slug])).content.decode()
    assert "<h1>Réseau Alpha</h1>" in french
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("networks:detail", args=[network_a.slug])).content.decode()
    assert '<h1 lang="fr">Réseau Alpha</h1>' in english
