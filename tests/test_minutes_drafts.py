"""A lead's minutes pages: the draft and its conflict page, the preview, the publication."""

import html
import re
from datetime import timedelta
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from tests.factories import MeasureFactory
from workgroups import minutes_services
from workgroups.models import ActionItem, Minutes, MinutesVersion, Session, SessionInvitation

pytestmark = pytest.mark.django_db

BODY = "## Points abordés\n\nLes **emplois francs** avancent."


@pytest.fixture
def held(held, bob):
    """The shared held session (alice present), bob invited too and absent."""
    SessionInvitation.objects.create(session=held, user=bob, network=None, source="added", attended=False)
    return held


@pytest.fixture
def other_lead(other_group):
    return other_group.leads.get()


def _url(name, session):
    return reverse(f"workgroups:{name}", args=[session.pk])


def _items_data(rows=(), initial=0, extra=0):
    """The formset's fields, as the edit form posts them: ``rows`` are dicts of an item's fields."""
    data = {
        "items-TOTAL_FORMS": str(len(rows) + extra),
        "items-INITIAL_FORMS": str(initial),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
    }
    for index, row in enumerate(rows):
        values = {"pk": "", "kind": "decision", "text": "", "owner_user": "", "owner_network": ""}
        values.update({"due_on": "", "status": "open", "measure": "", "ORDER": str(index + 1)})
        values.update(row)
        for field, value in values.items():
            data[f"items-{index}-{field}"] = value
    for index in range(len(rows), len(rows) + extra):
        data.update({f"items-{index}-kind": "decision", f"items-{index}-status": "open"})
    return data


def _draft_data(body=BODY, revision=0, rows=(), initial=0, extra=0, **more):
    return {"body": body, "revision": str(revision), **_items_data(rows, initial, extra), **more}


def _messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def _text(response):
    return html.unescape(response.content.decode())


# --- Who may ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "staff"])
def test_it_lets_a_lead_or_an_agent_draft_preview_and_publish(
    client, request, role, held, django_capture_on_commit_callbacks
):
    client.force_login(request.getfixturevalue(role))
    response = client.get(_url("minutes_edit", held))
    assert response.status_code == 200
    assert "Enregistrer le brouillon" in _text(response) and "Aperçu" in _text(response)
    response = client.post(_url("minutes_edit", held), _draft_data(extra=2))
    assert response.status_code == 302 and response["Location"] == _url("minutes_edit", held)
    assert Minutes.objects.get(session=held).body == BODY
    assert client.get(_url("minutes_preview", held)).status_code == 200
    assert client.get(_url("minutes_publish", held)).status_code == 200
    with mock.patch.object(minutes_services, "_publish_render"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("minutes_publish", held), {"revision": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("workgroups:minutes_version", args=[held.pk, 1])
    assert MinutesVersion.objects.get().published_by == request.getfixturevalue(role)


@pytest.mark.parametrize("role", ["alice", "bob", "other_lead", "outsider", "former_member", "coordinator_a"])
def test_it_keeps_the_draft_from_everyone_else(client, request, role, held, lead):
    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(minutes=minutes, by=lead, body="Brouillon secret", items=[], revision=0)
    client.force_login(request.getfixturevalue(role))
    for name in ("minutes_edit", "minutes_preview", "minutes_publish"):
        response = client.get(_url(name, held))
        assert response.status_code == 403, name
        assert "Brouillon secret" not in _text(response)
        assert client.post(_url(name, held), _draft_data(body="Pris", revision=1)).status_code == 403, name
    minutes.refresh_from_db()
    assert minutes.body == "Brouillon secret" and not MinutesVersion.objects.exists()


def test_it_sends_anonymous_visitors_to_sign_in(client, held):
    for name in ("minutes_edit", "minutes_preview", "minutes_publish"):
        response = client.get(_url(name, held))
        assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_the_session_page_links_the_draft_for_leads_only_and_the_published_version_for_all(client, held, lead, alice):
    client.force_login(alice)
    page = _text(client.get(_url("session_detail", held)))
    assert f'href="{_url("minutes_edit", held)}"' not in page and 'id="minutes"' not in page
    client.force_login(lead)
    page = _text(client.get(_url("session_detail", held)))
    assert _url("minutes_edit", held) in page and "Rédiger le compte rendu" in page

    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(minutes=minutes, by=lead, body=BODY, items=[], revision=0)
    with mock.patch.object(minutes_services, "_publish_render"):
        minutes_services.minutes_publish(minutes=minutes, by=lead)
    version_url = reverse("workgroups:minutes_version", args=[held.pk, 1])
    page = _text(client.get(_url("session_detail", held)))
    assert version_url in page and "Corriger le compte rendu" in page
    client.force_login(alice)
    page = _text(client.get(_url("session_detail", held)))
    assert version_url in page and "Lire le compte rendu (version 1" in page
    assert f'href="{_url("minutes_edit", held)}"' not in page


def test_the_session_page_offers_no_minutes_before_the_session_or_once_cancelled(client, session, lead):
    client.force_login(lead)
    assert _url("minutes_edit", session) not in _text(client.get(_url("session_detail", session)))
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(hours=3),
        ends_at=timezone.now() - timedelta(hours=1),
        status=Session.Status.CANCELLED,
        cancelled_at=timezone.now(),
    )
    assert _url("minutes_edit", session) not in _text(client.get(_url("session_detail", session)))


def test_it_sends_a_lead_back_from_a_session_not_started_or_cancelled(client, session, lead):
    client.force_login(lead)
    for name in ("minutes_edit", "minutes_preview", "minutes_publish"):
        response = client.get(_url(name, session))
        assert response.status_code == 302 and response["Location"] == session.get_absolute_url()
        assert "Le compte rendu s'écrit une fois la séance commencée." in _messages(response)
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(hours=3),
        ends_at=timezone.now() - timedelta(hours=1),
        status=Session.Status.CANCELLED,
    )
    response = client.get(_url("minutes_edit", session))
    assert response.status_code == 302
    assert "Cette séance a été annulée : elle n'a pas de compte rendu." in _messages(response)
    response = client.post(_url("minutes_edit", session), _draft_data())
    assert response.status_code == 302 and not Minutes.objects.filter(session=session).exists()


# --- The draft --------------------------------------------------------------------------


def test_it_saves_decisions_and_actions_with_owners_measures_and_order(client, held, lead, alice, network_a):
    measure = MeasureFactory(number=12, title="Cités éducatives")
    client.force_login(lead)
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    rows = [
        {"kind": "decision", "text": "Étendre les cités éducatives", "measure": "12"},
        {
            "kind": "action",
            "text": "Recenser les QPV candidats",
            "owner_user": str(alice.pk),
            "owner_network": str(network_a.pk),
            "due_on": due,
            "measure": "cités éducatives",
        },
    ]
    response = client.post(_url("minutes_edit", held), _draft_data(rows=rows, extra=2))
    assert response.status_code == 302
    # Drafted, not published: no item yet for owners' dashboards.
    assert not ActionItem.objects.exists()
    first, second = minutes_services.draft_items(Minutes.objects.get(session=held))
    assert (first.text, first.measure, first.kind) == ("Étendre les cités éducatives", measure, "decision")
    assert (second.owner_user, second.owner_network, second.due_on.isoformat()) == (alice, network_a, due)

    # The page shows them again, the measure by its label, the owner selected.
    page = _text(client.get(_url("minutes_edit", held)))
    assert 'value="12 — Cités éducatives"' in page and "Alice Alpha (Réseau Alpha)" in page
    assert alice.email not in page  # a lead chooses people by name: an address is a contact detail

    # "Descendre" the first row; then delete the other.
    saved = [
        {"pk": first.key, "kind": "decision", "text": first.text, "measure": "12"},
        {"pk": second.key, "kind": "action", "text": second.text, "due_on": due},
    ]
    response = client.post(_url("minutes_edit", held), _draft_data(revision=1, rows=saved, initial=2, move="down-0"))
    assert response.status_code == 302 and response["Location"].endswith("#item-1")
    assert [i.key for i in minutes_services.draft_items(Minutes.objects.get(session=held))] == [second.key, first.key]
    saved[1]["DELETE"] = "on"
    response = client.post(_url("minutes_edit", held), _draft_data(revision=2, rows=saved, initial=2))
    assert response.status_code == 302
    assert [i.key for i in minutes_services.draft_items(Minutes.objects.get(session=held))] == [first.key]


def test_an_unknown_measure_or_a_row_without_text_is_explained_and_nothing_is_saved(client, held, lead):
    client.force_login(lead)
    rows = [{"text": "Une décision", "measure": "9999"}, {"kind": "action", "due_on": "2030-01-01"}]
    response = client.post(_url("minutes_edit", held), _draft_data(body="Mon texte à garder", rows=rows))
    assert response.status_code == 200
    page = _text(response)
    assert "Erreur :" in page and "Aucune mesure ne porte le numéro ou l'intitulé « 9999 »" in page
    assert "Écrivez la décision ou l'action." in page and "Mon texte à garder" in page
    assert Minutes.objects.get(session=held).revision == 0 and not ActionItem.objects.exists()


def test_an_action_due_before_the_session_is_refused_with_the_services_message(client, held, lead):
    client.force_login(lead)
    before = (timezone.localdate(held.starts_at) - timedelta(days=2)).isoformat()
    rows = [{"kind": "action", "text": "Trop tôt", "due_on": before}]
    response = client.post(_url("minutes_edit", held), _draft_data(body="Texte gardé", rows=rows))
    assert response.status_code == 200
    page = _text(response)
    assert "Une échéance ne peut précéder la séance" in page
    assert "Texte gardé" in page and "Trop tôt" in page
    minutes = Minutes.objects.get(session=held)
    assert minutes.revision == 0 and minutes.body == "" and not ActionItem.objects.exists()


def test_one_megabyte_of_text_is_refused_with_a_message_and_kept_in_the_form(client, held, lead):
    client.force_login(lead)
    body = ("Ligne du compte rendu, avec des accents : é à ù.\n" * 21_000)[:1_000_000] + "FIN-DU-TEXTE"
    response = client.post(_url("minutes_edit", held), _draft_data(body=body))
    assert response.status_code == 200
    page = _text(response)
    assert "Le texte compte 1000012 caractères, au-delà des 200000 permis" in page
    assert "Rien n'a été enregistré, et votre texte est toujours dans le champ." in page
    assert "FIN-DU-TEXTE" in page  # the whole text, back in the field
    [textarea] = re.findall(r"<textarea[^>]*name=\"body\"[^>]*>", page)
    assert "maxlength" not in textarea  # a browser would cut a long paste without a word
    assert Minutes.objects.get(session=held).body == ""


def test_two_editors_never_lose_text_the_second_gets_both_versions_and_merges(client, held, lead, staff):
    from django.test import Client

    first, second = client, Client()
    first.force_login(lead)
    second.force_login(staff)
    assert 'name="revision" value="0"' in first.get(_url("minutes_edit", held)).content.decode()
    assert 'name="revision" value="0"' in second.get(_url("minutes_edit", held)).content.decode()

    rows = [{"text": "Décision de Léa"}]
    assert first.post(_url("minutes_edit", held), _draft_data(body="Texte de Léa", rows=rows)).status_code == 302
    response = second.post(
        _url("minutes_edit", held), _draft_data(body="Texte de l'agent", rows=[{"text": "Action de l'agent"}])
    )
    assert response.status_code == 409
    page = _text(response)
    assert "Le compte rendu a été modifié entre-temps" in page and "Léa Animation a enregistré" in page
    assert "Texte de l'agent" in page and "Texte de Léa" in page  # both, side by side
    assert "Action de l'agent" in page and "Décision de Léa" in page
    assert 'name="revision" value="1"' in page  # resubmitting is based on the draft as it is now
    minutes = Minutes.objects.get(session=held)
    assert (minutes.body, minutes.revision) == ("Texte de Léa", 1)

    merged = _draft_data(
        body="Texte de Léa\n\nTexte de l'agent",
        revision=1,
        rows=[{"text": "Décision de Léa"}, {"kind": "action", "text": "Action de l'agent"}],
    )
    assert second.post(_url("minutes_edit", held), merged).status_code == 302
    minutes.refresh_from_db()
    assert (minutes.body, minutes.revision, minutes.updated_by) == ("Texte de Léa\n\nTexte de l'agent", 2, staff)
    assert sorted(i.text for i in minutes_services.draft_items(minutes)) == ["Action de l'agent", "Décision de Léa"]


def test_the_edit_page_runs_the_same_queries_for_few_or_many_rows(client, held, lead, django_assert_max_num_queries):
    client.force_login(lead)
    minutes = minutes_services.minutes_for(held)
    rows = [{"kind": "action", "text": f"Action {n}", "owner_user": lead} for n in range(2)]
    minutes_services.minutes_save(minutes=minutes, by=lead, body=BODY, items=rows, revision=0)
    with django_assert_max_num_queries(30) as few:
        assert client.get(_url("minutes_edit", held)).status_code == 200
    rows = [{"kind": "action", "text": f"Action {n}", "owner_user": lead} for n in range(12)]
    minutes_services.minutes_save(minutes=minutes, by=lead, body=BODY, items=rows, revision=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(_url("minutes_edit", held)).status_code == 200


# --- The preview ------------------------------------------------------------------------


def test_the_preview_shows_the_page_to_be_published_without_saving(client, held, lead, measure):
    client.force_login(lead)
    held.agenda_items.create(position=1, title="Bilan des emplois francs", measure=measure)
    rows = [{"text": "Étendre les emplois francs", "measure": "9"}]
    response = client.post(
        _url("minutes_preview", held), _draft_data(body="# Synthèse\n\n| A | B |\n|---|---|\n| 1 | 2 |", rows=rows)
    )
    assert response.status_code == 200
    page = _text(response)
    assert "Aperçu — non publié" in page and "version 1 (à publier)" in page
    assert "Réseau Alpha" in page and "Alice Alpha" in page  # attendees by network, from the attendance
    assert "Bilan des emplois francs" in page and "Mesure 9 : Emplois francs" in page
    assert "<h3>Synthèse</h3>" in page and "<td>1</td>" in page
    assert "Étendre les emplois francs" in page
    minutes = Minutes.objects.get(session=held)
    assert (minutes.body, minutes.revision) == ("", 0) and not ActionItem.objects.exists()

    # Back to the form from the preview: what was typed is still there, and still not saved.
    carried = _draft_data(body="# Synthèse", rows=rows, back="1")
    response = client.post(_url("minutes_edit", held), carried)
    assert response.status_code == 200 and "# Synthèse" in _text(response)
    assert Minutes.objects.get(session=held).revision == 0


def test_the_preview_renders_markdown_safely(client, held, lead):
    client.force_login(lead)
    body = (
        "<script>alert('x')</script>\n\n"
        "[cliquez](javascript:alert(1)) et [le site](https://www.anct.gouv.fr)\n\n"
        '<img src="x" onerror="alert(2)"> <a href="https://evil.example" onclick="alert(3)">lien</a>\n\n'
        "<div style='position:fixed'>couvre tout</div>"
    )
    response = client.post(_url("minutes_preview", held), _draft_data(body=body))
    assert response.status_code == 200
    _assert_safe(_preview_body(response))
    # The saved draft's preview (GET) goes through the same rendering.
    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(minutes=minutes, by=lead, body=body, items=[], revision=0)
    _assert_safe(_preview_body(client.get(_url("minutes_preview", held))))


def _preview_body(response) -> str:
    return response.content.decode().split('id="preview-body"')[1].split("</div>")[0].split(">", 1)[1]


def _assert_safe(fragment: str) -> None:
    """Only the tags a document needs, no event or style attribute, links to http(s) only; what was typed as
    HTML is shown as text."""

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.text = [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))

        def handle_data(self, data):
            self.text.append(data)

    parser = Tags()
    parser.feed(fragment)
    assert {tag for tag, _attrs in parser.tags} <= {"p", "a"}
    links = [attrs for tag, attrs in parser.tags if tag == "a"]
    assert links == [{"href": "https://www.anct.gouv.fr", "rel": "noopener noreferrer"}]
    text = "".join(parser.text)
    assert "<script>alert('x')</script>" in text and '<img src="x" onerror="alert(2)">' in text
    assert "[cliquez](javascript:alert(1))" in text  # a javascript: link is left as plain text


# --- Publication --------------------------------------------------------------------------


def test_the_publish_page_says_who_receives_it_and_who_reads_it(client, held, lead):
    client.force_login(lead)
    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(minutes=minutes, by=lead, body=BODY, items=[], revision=0)
    page = _text(client.get(_url("minutes_publish", held)))
    assert "envoyé par courriel à 2 personnes (2 invitées, 1 présente" in page
    assert "réservés aux membres" in page and "motif" not in page.lower().split("<form")[1]
    held.group.minutes_public = True
    held.group.save()
    assert "sont publics" in _text(client.get(_url("minutes_publish", held)))


def test_publishing_returns_at_once_and_leaves_the_pdf_to_celery(
    client, held, lead, measure, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client.force_login(lead)
    minutes = minutes_services.minutes_for(held)
    items = [{"kind": "decision", "text": f"Décision {n}", "measure": measure} for n in range(3)]
    minutes_services.minutes_save(minutes=minutes, by=lead, body=BODY, items=items, revision=0)
    with (
        mock.patch.object(minutes_services, "_publish_render") as render,
        mock.patch.object(minutes_services, "html_to_pdf") as renderer,
        django_capture_on_commit_callbacks(execute=True),
        # 48: publication writes the audit trail's rows (the version, its items, their timeline entries).
        django_assert_max_num_queries(48),
    ):
        response = client.post(_url("minutes_publish", held), {"revision": "1"})
    version = MinutesVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workgroups:minutes_version", args=[held.pk, version.number])
    render.assert_called_once_with(version.pk)
    renderer.assert_not_called()
    assert version.pdf_status == MinutesVersion.PdfStatus.PENDING and not version.pdf
    assert any("Son PDF est en cours de fabrication" in text for text in _messages(response))


def test_empty_minutes_are_not_published(client, held, lead):
    client.force_login(lead)
    minutes_services.minutes_for(held)
    response = client.post(_url("minutes_publish", held), {"revision": "0"})
    assert response.status_code == 200
    assert "Le compte rendu est vide : écrivez-le avant de le publier." in _text(response)
    assert not MinutesVersion.objects.exists()


def test_a_cancelled_session_is_not_published(client, held, lead):
    client.force_login(lead)
    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(minutes=minutes, by=lead, body=BODY, items=[], revision=0)
    Session.objects.filter(pk=held.pk).update(status=Session.Status.CANCELLED, cancelled_at=timezone.now())
    response = client.post(_url("minutes_publish", held), {"revision": "1"})
    assert response.status_code == 200
    assert "Cette séance a été annulée : elle n'a pas de compte rendu." in _text(response)
    assert not MinutesVersion.objects.exists()
    response = client.get(_url("minutes_publish", held))
    assert response.status_code == 302 and response["Location"] == held.get_absolute_url()


def test_a_draft_changed_since_the_page_opened_is_not_published_unread(client, held, lead, staff):
    client.force_login(lead)
    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(minutes=minutes, by=lead, body=BODY, items=[], revision=0)
    minutes_services.minutes_save(minutes=minutes, by=staff, body="Changé par l'agent", items=[], revision=1)
    response = client.post(_url("minutes_publish", held), {"revision": "1"})
    assert response.status_code == 200 and "relisez l'aperçu" in _text(response)
    assert 'name="revision" value="2"' in response.content.decode()
    assert not MinutesVersion.objects.exists()


def test_a_correction_needs_a_reason_and_publishes_version_2(client, held, lead):
    client.force_login(lead)
    minutes = minutes_services.minutes_for(held)
    minutes_services.minutes_save(minutes=minutes, by=lead, body=BODY, items=[], revision=0)
    with mock.patch.object(minutes_services, "_publish_render"):
        minutes_services.minutes_publish(minutes=minutes, by=lead)
    minutes_services.minutes_save(
        minutes=minutes, by=lead, body=BODY + "\n\nPrécision.", items=[], revision=2
    )  # publication moved it on
    page = _text(client.get(_url("minutes_publish", held)))
    assert "Publier la version 2 corrigée" in page and "Ce que corrige cette version" in page

    response = client.post(_url("minutes_publish", held), {"revision": "3", "reason": "  "})
    assert response.status_code == 200
    assert "Dites en quelques mots ce que corrige cette nouvelle version." in _text(response)
    assert MinutesVersion.objects.count() == 1

    with mock.patch.object(minutes_services, "_publish_render"):
        response = client.post(_url("minutes_publish", held), {"revision": "3", "reason": "Ajout d'une précision"})
    assert response["Location"] == reverse("workgroups:minutes_version", args=[held.pk, 2])
    v2 = MinutesVersion.objects.get(number=2)
    assert v2.reason == "Ajout d'une précision" and v2.body.endswith("Précision.")


def test_publish_from_the_edit_form_saves_first_then_asks(client, held, lead):
    client.force_login(lead)
    response = client.post(_url("minutes_edit", held), _draft_data(body="À publier", then="publish"))
    assert response.status_code == 302 and response["Location"] == _url("minutes_publish", held)
    assert Minutes.objects.get(session=held).body == "À publier" and not MinutesVersion.objects.exists()
