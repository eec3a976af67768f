"""Decisions of published minutes on their measure's page, and the demo's minutes."""

import hashlib
import io
from io import StringIO

import pypdf
import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from measures.models import Measure, MeasureUpdate
from networks.models import User
from outbox.models import OutboxMessage
from workgroups import minutes_services
from workgroups.models import ActionItem, Minutes, MinutesVersion, Session, WorkingGroup

pytestmark = pytest.mark.django_db

DECISION = "Étendre les emplois francs à tous les quartiers prioritaires"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _timeline(client, measure) -> str:
    """The measure page's "Suivi de la mesure" section."""
    response = client.get(reverse("measures:detail", args=[measure.pk]))
    assert response.status_code == 200
    return response.content.decode().split("Suivi de la mesure", 1)[1]


def _publish(minutes, lead, items, reason="", capture=None):
    minutes.refresh_from_db()
    minutes_services.minutes_save(minutes=minutes, by=lead, body="Relevé.", items=items, revision=minutes.revision)
    with capture(execute=True):
        return minutes_services.minutes_publish(minutes=minutes, by=lead, reason=reason)


def test_a_decision_shows_on_its_measures_timeline_with_a_link_and_a_correction_updates_it(
    client, held, lead, alice, measure, django_capture_on_commit_callbacks
):
    minutes = minutes_services.minutes_for(held)
    _publish(
        minutes,
        lead,
        [{"kind": "decision", "text": DECISION, "measure": measure}],
        capture=django_capture_on_commit_callbacks,
    )
    client.force_login(alice)
    timeline = _timeline(client, measure)
    link = f'href="/seances/{held.pk}/compte-rendu/v1/"'
    assert DECISION in timeline and link in timeline and "Décision" in timeline
    assert f"« {held.title} »" in timeline and "compte rendu, version 1" in timeline

    item = ActionItem.objects.get()
    corrected = DECISION + ", en commençant par les QPV des métropoles"
    _publish(
        minutes,
        lead,
        [{"pk": item.pk, "kind": "decision", "text": corrected, "measure": measure}],
        reason="Précision de la décision",
        capture=django_capture_on_commit_callbacks,
    )
    timeline = _timeline(client, measure)
    assert timeline.count(DECISION) == 1 and corrected in timeline  # the entry updated, not doubled
    assert f'href="/seances/{held.pk}/compte-rendu/v2/"' in timeline and link not in timeline
    assert MeasureUpdate.objects.filter(measure=measure, kind="decision").count() == 1


def test_a_timeline_entry_without_a_link_shows_its_source_as_text(client, alice, measure):
    MeasureUpdate.objects.create(
        measure=measure, kind="decision", text="Arbitrage du comité interministériel", source="CIV du 29 janvier"
    )
    client.force_login(alice)
    timeline = _timeline(client, measure)
    assert "Source : CIV du 29 janvier" in timeline and "<a" not in timeline.split("Source : CIV", 1)[1][:80]


# --- The demo --------------------------------------------------------------------------------


def _demo_state():
    return {
        "versions": sorted(MinutesVersion.objects.values_list("number", flat=True)),
        "items": ActionItem.objects.count(),
        "revisions": list(Minutes.objects.values_list("revision", flat=True)),
        "entries": MeasureUpdate.objects.filter(source_key__startswith="minutes-item:").count(),
    }


def test_the_demo_publishes_its_minutes_twice_once_and_sends_nothing(client, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=out)
    assert "comptes rendus réservés aux membres" in out.getvalue() and "comptes rendus publics" in out.getvalue()
    first = _demo_state()
    assert first["versions"] == [1, 2] and first["items"] == 3 and first["entries"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=StringIO())
    assert _demo_state() == first  # nothing published again
    # The demo sends nothing: neither the invitations nor the minutes.
    assert mail.outbox == [] and not OutboxMessage.objects.exists()

    thematic = WorkingGroup.objects.get(is_plenary=False)
    assert not thematic.minutes_public and WorkingGroup.objects.get(is_plenary=True).minutes_public
    v1, v2 = MinutesVersion.objects.order_by("number")
    assert v1.minutes.session.group == thematic and v1.minutes.session.status == Session.Status.HELD
    assert not v1.reason and "Métropole de Lyon" in v2.reason
    assert v1.minutes.session.starts_at < v1.published_at < v2.published_at < timezone.now()
    for version, figure in ((v1, "238"), (v2, "283")):
        assert version.pdf_status == MinutesVersion.PdfStatus.READY
        content = version.pdf.read()
        assert hashlib.sha256(content).hexdigest() == version.pdf_sha256
        text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)
        assert "Métropole de Lyon" in text and str(figure) in text and "Emplois francs" in text
    assert all(tag in v2.body_html for tag in ("<h3>", "<ul>", "<table>"))  # headings, a list, a table
    items = list(ActionItem.objects.order_by("position"))
    assert all(item.owner_user or item.owner_network for item in items)
    assert [item.measure_id is not None for item in items] == [True, False, False]

    # A member of the group reads the decision, with its link, on the measure's timeline.
    [entry] = MeasureUpdate.objects.filter(source_key__startswith="minutes-item:")
    measure = Measure.objects.get(pk=entry.measure_id)
    assert measure.number == 9 and entry.text == items[0].text and entry.source_url.endswith("/compte-rendu/v2/")
    client.force_login(User.objects.get(email="representant@irdsu.example"))  # IRDSU is in the group
    timeline = _timeline(client, measure)
    assert timeline.count(items[0].text) == 1 and f'href="{entry.source_url}"' in timeline
