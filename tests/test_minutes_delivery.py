"""Minutes through the real parts: the lead publishes (the transaction commits), a Celery worker process on
Redis renders the PDF with WeasyPrint and stores it, the outbox delivers it to an SMTP server on loopback;
the PDF is read back from the received message's bytes, as a mail client would."""

import hashlib
import io
import time
from datetime import timedelta

import pypdf
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from outbox.models import OutboxMessage
from tests.helpers import wait_until
from tests.real_services import start_worker, stop_worker
from workgroups import minutes_services as services
from workgroups.models import MinutesVersion, Session, SessionInvitation

pytestmark = pytest.mark.worker
DECISION = "Étendre les emplois francs à tous les quartiers prioritaires"


@pytest.fixture
def draft(session, lead, alice, bob, network_b, measure):
    """Minutes of ``session``, held yesterday with alice (network A) and bob (network B): a body and a decision."""
    session.group.networks.add(network_b)
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(days=1, hours=3),
        ends_at=timezone.now() - timedelta(days=1, hours=1),
        status=Session.Status.HELD,
        invitations_sent_at=timezone.now() - timedelta(days=8),
    )
    session.refresh_from_db()
    for person in (alice, bob):
        SessionInvitation.objects.create(
            session=session, user=person, network=person.memberships.get().network, source="network", attended=True
        )
    minutes = services.minutes_for(session)
    return services.minutes_save(
        minutes=minutes,
        by=lead,
        body="# Bilan\n\nLes réseaux ont présenté leurs retours ; l'été sera consacré à la synthèse.",
        items=[{"kind": "decision", "text": DECISION, "measure": measure}],
        revision=minutes.revision,
    )


def _ready(version) -> MinutesVersion:
    def rendered():
        version.refresh_from_db()
        return version.pdf_status != MinutesVersion.PdfStatus.PENDING

    wait_until(rendered, what="the PDF rendered by the worker")
    assert version.pdf_status == MinutesVersion.PdfStatus.READY, version.pdf_error
    return version


def _settled():
    return not OutboxMessage.objects.filter(
        status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING]
    ).exists()


def _text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_publishing_renders_the_pdf_in_the_worker_and_mails_it_attached(real_worker, draft, lead, alice, bob):
    started = time.monotonic()
    version = services.minutes_publish(minutes=draft, by=lead)
    assert time.monotonic() - started < 2  # rendering is the worker's job, not the request's

    _ready(version)
    assert version.pdf_attempts == 1 and version.pdf_error == ""
    assert default_storage.exists(version.pdf.name)
    with default_storage.open(version.pdf.name, "rb") as handle:
        stored = handle.read()
    assert hashlib.sha256(stored).hexdigest() == version.pdf_sha256
    text = _text(stored)
    assert "Emplois francs : premiers retours" in text and DECISION in text and "page 1 / 1" in text

    for person in (alice, bob):
        message = real_worker.wait_for(person.email)
        assert "Compte rendu publié : Emplois francs : premiers retours (version 1)" in " ".join(
            message["Subject"].split()
        )
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == f"compte-rendu-{draft.session.starts_at:%Y-%m-%d}-v1.pdf"
        received = attachment.get_payload(decode=True)
        assert hashlib.sha256(received).hexdigest() == version.pdf_sha256  # the very file, byte for byte
        received_text = _text(received)
        assert DECISION in received_text and "Alice Alpha" in received_text and "Bob Bêta" in received_text
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "Il est joint à ce courriel en PDF." in body
    wait_until(_settled, what="outbox settled")
    assert sorted(message["To"] for message in real_worker.messages) == sorted([alice.email, bob.email])


def test_a_pdf_over_the_attachment_limit_goes_out_as_a_link(
    celery_worker_process, real_worker, smtp_server, draft, lead, alice
):
    """A worker of its own, whose settings say no PDF is small enough to attach."""
    from concertation.celery import app

    # The session's worker stops taking tasks while this one, with the tiny limit, does the work.
    app.control.cancel_consumer(settings.CELERY_TASK_DEFAULT_QUEUE, reply=True)
    worker = start_worker(smtp_server, MINUTES_PDF_ATTACH_MAX_BYTES="1000")
    try:
        version = _ready(services.minutes_publish(minutes=draft, by=lead))
        message = real_worker.wait_for(alice.email)
        wait_until(_settled, what="outbox settled")
    finally:
        stop_worker(worker)
        app.control.add_consumer(settings.CELERY_TASK_DEFAULT_QUEUE, reply=True)

    assert list(message.iter_attachments()) == []
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Le PDF est trop lourd pour être joint : téléchargez-le depuis le portail." in body
    link = "http://testserver" + reverse("workgroups:minutes_version", args=[draft.session_id, version.number])
    assert link in body
    assert default_storage.exists(version.pdf.name)  # the file is there for the link
