"""Minutes' use cases: drafting with conflicts, publication, the PDF, the loop back to the measures."""

import hashlib
import io
from datetime import timedelta

import pypdf
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from measures.models import MeasureUpdate
from workgroups import minutes_services as services
from workgroups.models import ActionItem, MinutesVersion, Session, SessionInvitation


def _save(minutes, by, body="## Points\n\nLes **emplois francs** avancent.", items=None):
    return services.minutes_save(minutes=minutes, by=by, body=body, items=items or [], revision=minutes.revision)


def test_a_lead_drafts_and_a_second_save_from_an_old_revision_is_refused(held, lead):
    minutes = services.minutes_for(held)
    opened = minutes.revision
    services.minutes_save(minutes=minutes, by=lead, body="Première version", items=[], revision=opened)
    with pytest.raises(services.MinutesConflict) as conflict:
        services.minutes_save(minutes=minutes, by=lead, body="Autre texte", items=[], revision=opened)
    assert conflict.value.minutes.body == "Première version"


def test_only_the_groups_leads_and_staff_draft(held, alice, other_group):
    minutes = services.minutes_for(held)
    for person in (alice, other_group.leads.get()):
        with pytest.raises(PermissionDenied):
            _save(minutes, person)


def test_publishing_freezes_a_version_renders_its_pdf_and_sends_it(
    held, lead, alice, measure, django_capture_on_commit_callbacks
):
    minutes = services.minutes_for(held)
    _save(
        minutes,
        lead,
        items=[{"kind": "decision", "text": "Étendre les emplois francs à tous les QPV", "measure": measure}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        version = services.minutes_publish(minutes=minutes, by=lead)
    version.refresh_from_db()
    assert version.number == 1 and version.pdf_status == MinutesVersion.PdfStatus.READY
    content = version.pdf.read()
    assert hashlib.sha256(content).hexdigest() == version.pdf_sha256
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Étendre les emplois francs à tous les QPV" in text and "Alice Alpha" in text
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    [message] = mail.outbox
    assert message.to == [alice.email] and message.attachments[0].get_content_type() == "application/pdf"
    [entry] = MeasureUpdate.objects.filter(measure=measure, kind="decision")
    assert entry.text == "Étendre les emplois francs à tous les QPV" and "version 1" in entry.source


def test_a_correction_updates_the_timeline_entry_instead_of_adding_one(
    held, lead, measure, django_capture_on_commit_callbacks
):
    minutes = services.minutes_for(held)
    _save(minutes, lead, items=[{"kind": "decision", "text": "Décision A", "measure": measure}])
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_publish(minutes=minutes, by=lead)
    item = ActionItem.objects.get()
    minutes.refresh_from_db()
    _save(
        minutes, lead, items=[{"pk": item.pk, "kind": "decision", "text": "Décision A, précisée", "measure": measure}]
    )
    with pytest.raises(ValidationError):
        services.minutes_publish(minutes=minutes, by=lead)  # a correction says why
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_publish(minutes=minutes, by=lead, reason="Précision de la décision")
    [entry] = MeasureUpdate.objects.filter(measure=measure, kind="decision")
    assert entry.text == "Décision A, précisée" and "version 2" in entry.source


def test_a_cancelled_session_has_no_minutes_and_due_dates_follow_the_session(held, lead):
    minutes = services.minutes_for(held)
    with pytest.raises(ValidationError):
        _save(
            minutes,
            lead,
            items=[{"kind": "action", "text": "Trop tôt", "due_on": timezone.localdate() - timedelta(days=3)}],
        )
    Session.objects.filter(pk=held.pk).update(status=Session.Status.CANCELLED)
    with pytest.raises(ValidationError):
        _save(minutes, lead)


def test_a_pdf_left_pending_is_queued_again_by_the_periodic_resume(held, lead, monkeypatch):
    minutes = services.minutes_for(held)
    _save(minutes, lead)
    monkeypatch.setattr(services, "_publish_render", lambda version_id: None)  # the broker lost it
    version = services.minutes_publish(minutes=minutes, by=lead)
    MinutesVersion.objects.filter(pk=version.pk).update(published_at=timezone.now() - timedelta(minutes=11))
    queued = []
    monkeypatch.setattr(services, "_publish_render", queued.append)
    assert services.minutes_pdf_resume() == 1
    assert queued == [version.pk]


def test_a_decision_of_members_only_minutes_stays_off_the_public_roadmap(
    client, held, lead, alice, measure, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    minutes = services.minutes_for(held)
    _save(minutes, lead, items=[{"kind": "decision", "text": "Décision interne au groupe", "measure": measure}])
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_publish(minutes=minutes, by=lead)
    url = reverse("measures:detail", args=[measure.pk])
    assert "Décision interne au groupe" not in client.get(url).content.decode()
    client.force_login(alice)
    assert "Décision interne au groupe" in client.get(url).content.decode()


def test_the_distribution_keeps_one_copy_of_the_pdf(
    held, lead, alice, coordinator_a, django_capture_on_commit_callbacks
):
    from outbox.models import OutboxMessage

    SessionInvitation.objects.create(
        session=held, user=coordinator_a, network=coordinator_a.memberships.get().network, source="network"
    )
    minutes = services.minutes_for(held)
    _save(minutes, lead)
    with django_capture_on_commit_callbacks(execute=True):
        version = services.minutes_publish(minutes=minutes, by=lead)
    version.refresh_from_db()
    rows = list(OutboxMessage.objects.filter(kind="minutes_published"))
    assert len(rows) == 2
    assert all(row.attachments == [{**row.attachments[0], "storage_path": version.pdf.name}] for row in rows)
    assert all("content" not in row.attachments[0] for row in rows)
    delivered = next(m for m in mail.outbox if m.to == [coordinator_a.email])
    assert delivered.attachments[0].get_payload(decode=True) == version.pdf.open("rb").read()


def test_a_draft_never_reaches_the_owners_and_keeps_an_owners_done(
    held, lead, alice, bob, django_capture_on_commit_callbacks
):
    from workgroups.models import ActionItem

    minutes = services.minutes_for(held)
    _save(minutes, lead, items=[{"kind": "action", "text": "Recenser les employeurs", "owner_user": alice}])
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_publish(minutes=minutes, by=lead)
    [published] = ActionItem.objects.all()
    minutes.refresh_from_db()
    [drafted] = services.draft_items(minutes)
    # The lead revises the action and adds one for bob, without publishing...
    _save(
        minutes,
        lead,
        items=[
            {"pk": drafted.key, "kind": "action", "text": "Recenser les employeurs (brouillon)", "owner_user": alice},
            {"kind": "action", "text": "Action encore en brouillon", "owner_user": bob},
        ],
    )
    # ...the owners still see what was published, nothing else.
    assert list(ActionItem.objects.published().owned_by(alice).values_list("text", flat=True)) == [
        "Recenser les employeurs"
    ]
    assert not ActionItem.objects.owned_by(bob).exists()
    # Alice marks hers done meanwhile; the correction keeps it done and publishes the rest.
    services.action_item_set_status(item=published, by=alice, status=ActionItem.Status.DONE)
    minutes.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_publish(minutes=minutes, by=lead, reason="Précision")
    published.refresh_from_db()
    assert (published.text, published.status) == ("Recenser les employeurs (brouillon)", ActionItem.Status.DONE)
    assert ActionItem.objects.owned_by(bob).get().text == "Action encore en brouillon"


def test_only_the_version_in_force_is_sent_and_only_once(held, lead, staff, alice, django_capture_on_commit_callbacks):
    minutes = services.minutes_for(held)
    _save(minutes, lead)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.minutes_publish(minutes=minutes, by=lead)
    minutes.refresh_from_db()
    _save(minutes, lead, body="Texte corrigé")
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_publish(minutes=minutes, by=lead, reason="Coquille")
    assert len(mail.outbox) == 2  # v1, then v2
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_pdf_rerun(version=first, by=staff)  # superseded, and already sent
    first.refresh_from_db()
    assert first.pdf_status == MinutesVersion.PdfStatus.READY and mail.outbox == []


def test_a_session_with_published_minutes_is_not_cancelled(held, lead, django_capture_on_commit_callbacks):
    from workgroups import services as session_services

    Session.objects.filter(pk=held.pk).update(
        status=Session.Status.SCHEDULED, ends_at=timezone.now() + timedelta(hours=1)
    )
    minutes = services.minutes_for(held)
    _save(minutes, lead)
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_publish(minutes=minutes, by=lead)
    with pytest.raises(ValidationError, match="compte rendu publié"):
        session_services.session_cancel(session=held, by=lead)


def test_a_render_that_never_comes_back_ends_failed_not_queued_for_ever(held, lead, monkeypatch):
    minutes = services.minutes_for(held)
    _save(minutes, lead)
    monkeypatch.setattr(services, "_publish_render", lambda version_id: None)
    version = services.minutes_publish(minutes=minutes, by=lead)
    # Three workers were killed while rendering: each attempt was counted before the work began
    # (and the last one can no longer be running).
    MinutesVersion.objects.filter(pk=version.pk).update(
        pdf_attempts=services.PDF_MAX_ATTEMPTS, published_at=timezone.now() - timedelta(minutes=20)
    )
    assert services.minutes_pdf_resume() == 0
    version.refresh_from_db()
    assert version.pdf_status == MinutesVersion.PdfStatus.FAILED and "interrompu" in version.pdf_error


def test_a_publication_confirmed_from_a_draft_read_before_a_change_is_refused(held, lead, monkeypatch):
    monkeypatch.setattr(services, "_publish_render", lambda version_id: None)
    minutes = services.minutes_for(held)
    _save(minutes, lead)
    read = minutes.revision + 1  # what the lead read on the confirmation page
    minutes.refresh_from_db()
    _save(minutes, lead, body="Changé entre-temps")
    with pytest.raises(ValidationError, match="modifié"):
        services.minutes_publish(minutes=minutes, by=lead, revision=read)
    version = services.minutes_publish(minutes=minutes, by=lead, revision=read + 1)
    # The same confirmation sent twice does not publish the draft twice.
    with pytest.raises(ValidationError, match="modifié"):
        services.minutes_publish(minutes=minutes, by=lead, reason="Doublon", revision=read + 1)
    assert version.number == 1 and MinutesVersion.objects.count() == 1


def test_an_image_in_the_text_is_written_as_its_description():
    from concertation.lib.markdown import render_markdown

    html = render_markdown("Voir ![Carte des QPV <b>gras</b>](https://ailleurs.example/carte.png).")
    assert "<img" not in html and "ailleurs.example" not in html
    assert "[image : Carte des QPV &lt;b&gt;gras&lt;/b&gt;]" in html
