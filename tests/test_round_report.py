"""A round's PDF report: asked for by staff or by the round's closing, rendered by Celery with WeasyPrint, read
back with pypdf; each request a new dated file; quotes chosen by staff; who may download and ask for it."""

import hashlib
import io
from datetime import timedelta

import pypdf
import pytest
from celery.exceptions import Retry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from measures import reports, services
from measures.models import Assessment, ConsultationRound, Feedback, FeedbackObstacle, RoundReport
from measures.tasks import render_round_report, request_round_reports
from networks.models import Membership
from tests.factories import (
    MeasureFactory,
    MembershipFactory,
    NetworkFactory,
    RoundFactory,
    TerritoryFactory,
    UserFactory,
)
from tests.helpers import wait_until

QUOTE = "Les permanences emploi au pied des immeubles ont doublé les inscriptions des jeunes"
ANSWER = "La délégation interministérielle réunira les missions locales avant l'été"


def _feedback(round_, network, author, measure, assessment, *, departement=None, obstacles=(), **fields):
    feedback = Feedback.objects.create(
        round=round_,
        network=network,
        author=author,
        measure=measure,
        assessment=assessment,
        status=Feedback.Status.SUBMITTED,
        submitted_at=timezone.now(),
        territory=departement,
        departement=departement,
        **fields,
    )
    for category in obstacles:
        FeedbackObstacle.objects.create(feedback=feedback, category=category)
    return feedback


@pytest.fixture
def answered_round(open_round, measure, other_measure, network_a, network_b, alice, bob):
    """``open_round`` on two measures: A answered both (one quoted, one answered by staff), B none; then closed."""
    open_round.measures.add(other_measure)
    seine = TerritoryFactory(code="93", name="Seine-Saint-Denis")
    nord = TerritoryFactory(code="59", name="Nord")
    _feedback(
        open_round,
        network_a,
        alice,
        measure,
        Assessment.WORKS,
        departement=seine,
        obstacles=["funding", "staffing"],
        what_works=QUOTE,
        quoted_in_report=True,
    )
    _feedback(
        open_round,
        network_a,
        alice,
        other_measure,
        Assessment.DOES_NOT_WORK,
        departement=nord,
        obstacles=["funding"],
        response=ANSWER,
        responded_at=timezone.now(),
    )
    ConsultationRound.objects.filter(pk=open_round.pk).update(
        opens_at=timezone.now() - timedelta(days=10), closes_at=timezone.now() - timedelta(minutes=1)
    )
    open_round.refresh_from_db()
    return open_round


def _reader(content: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(content))


def _text(reader) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


# --- Services -------------------------------------------------------------------------


def test_a_request_is_pending_then_the_task_renders_it(answered_round, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = reports.round_report_request(consultation=answered_round, by=staff)
    report.refresh_from_db()
    assert report.status == RoundReport.Status.PENDING and report.requested_by == staff and not report.file
    assert len(callbacks) == 1  # the task is queued on commit
    callbacks[0]()
    report.refresh_from_db()
    assert report.status == RoundReport.Status.READY and report.attempts == 1, report.error
    content = report.file.read()
    assert content.startswith(b"%PDF-") and hashlib.sha256(content).hexdigest() == report.sha256
    assert report.size == len(content) and report.page_count == len(_reader(content).pages)
    assert report.file.name.startswith(f"rapports/{answered_round.pk}/rapport-{answered_round.pk}-")


def _render(consultation, by, callbacks) -> RoundReport:
    with callbacks(execute=True):
        report = reports.round_report_request(consultation=consultation, by=by)
    report.refresh_from_db()
    assert report.status == RoundReport.Status.READY, report.error
    return report


def test_the_pdf_reads_back_with_rates_measures_quotes_answers_and_the_map(
    answered_round, staff, measure, other_measure, django_capture_on_commit_callbacks
):
    reader = _reader(_render(answered_round, staff, django_capture_on_commit_callbacks).file.read())
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    text = " ".join(pages)
    count = len(reader.pages)
    assert count > 1
    for number, page in enumerate(pages, start=1):
        assert f"page {number} / {count}" in page
    # What was asked and to whom.
    assert "Consultation d'automne" in text and "Réseau Alpha" in text and "Réseau Bêta" in text
    assert f"Mesure n° {measure.number} : {measure.title}" in text
    assert f"Mesure n° {other_measure.number} : {other_measure.title}" in text
    # Response rates: A answered both measures, B none; each measure by one network of two.
    assert "Réseaux ayant répondu : 1 sur 2" in text and "renseignés : 2 sur 4, soit 50 %" in text
    assert "Réseau Alpha 2 / 2 2 100 %" in text and "Réseau Bêta 0 / 2 0 0 %" in text
    assert f"{measure.number}. {measure.title} 1 / 2 50 %" in text
    # Per measure: assessments, obstacles, the staff's quote signed by the network, the answer given.
    assert "Fonctionne 1 100 %" in text and "Ne fonctionne pas 1 100 %" in text
    assert "Financement 1 100 %" in text and "Moyens humains 1 100 %" in text
    assert QUOTE in text and "— Réseau Alpha, Seine-Saint-Denis (93)" in text
    assert "Alice Alpha" not in text  # quotes name the network, never the person
    assert " ".join(ANSWER.split()) in text
    # The map's table, and the extraction time in Paris.
    assert "Seine-Saint-Denis (93) 1 Fonctionne" in text and "Nord (59) 1 Ne fonctionne pas" in text
    assert "Extraction du" in text and "(heure de Paris)" in text
    # A running header with the round's title from page 2 on.
    assert all("Rapport — Consultation d'automne" in page for page in pages[1:])
    # Tagged PDF: language, title, Marianne.
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "fr" and bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root
    assert reader.metadata.title == "Rapport de consultation — Consultation d'automne"
    fonts = {
        str(font.get_object()["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("Marianne" in name for name in fonts)


def test_a_round_nobody_answered_says_so(open_round, staff, django_capture_on_commit_callbacks):
    ConsultationRound.objects.filter(pk=open_round.pk).update(closes_at=timezone.now())
    text = _text(_reader(_render(open_round, staff, django_capture_on_commit_callbacks).file.read()))
    assert "Aucun réseau n'a transmis de retour dans cette consultation." in text
    assert "Aucun retour transmis sur cette mesure." in text and "Aucun retour transmis : pas de carte." in text


def test_regenerating_makes_a_new_dated_file_and_the_first_stays(
    answered_round, staff, django_capture_on_commit_callbacks, monkeypatch
):
    first = _render(answered_round, staff, django_capture_on_commit_callbacks)
    # One second later (names are dated to the second).
    later = timezone.now() + timedelta(seconds=2)
    monkeypatch.setattr(reports.timezone, "now", lambda: later)
    second = _render(answered_round, staff, django_capture_on_commit_callbacks)
    assert second.pk != first.pk and second.file.name != first.file.name
    assert first.file.storage.exists(first.file.name) and second.file.storage.exists(second.file.name)
    stamp = timezone.localtime(later, reports.PARIS).strftime("%Y%m%d-%H%M%S")
    assert second.file.name == f"rapports/{answered_round.pk}/rapport-{answered_round.pk}-{stamp}.pdf"
    assert list(answered_round.reports.all()) == [second, first]


def test_running_the_task_twice_renders_once(answered_round, staff, django_capture_on_commit_callbacks):
    report = _render(answered_round, staff, django_capture_on_commit_callbacks)
    assert render_round_report.apply(args=[report.pk]).get() == RoundReport.Status.READY
    again = RoundReport.objects.get(pk=report.pk)
    assert again.attempts == 1 and again.file.name == report.file.name and again.sha256 == report.sha256


def test_a_failing_render_is_retried_then_marked_failed_with_its_reason(answered_round, staff, monkeypatch):
    calls = []

    def broken(html):
        calls.append(html)
        raise RuntimeError("Pango a rendu l'âme")

    monkeypatch.setattr(reports, "html_to_pdf", broken)
    report = RoundReport.objects.create(round=answered_round, requested_by=staff)
    retries = 0
    while True:
        try:
            status = render_round_report.apply(args=[report.pk], retries=retries).get()
            break
        except Retry as retry:
            assert retry.when == 30 * (retries + 1)
            report.refresh_from_db()
            assert report.status == RoundReport.Status.PENDING and report.attempts == retries + 1
            retries += 1
    report.refresh_from_db()
    assert status == RoundReport.Status.FAILED == report.status
    assert len(calls) == reports.REPORT_MAX_ATTEMPTS == report.attempts
    assert report.error == "RuntimeError: Pango a rendu l'âme" and not report.file


def test_a_closed_round_gets_its_report_once_through_the_periodic_task(
    answered_round, open_round, django_capture_on_commit_callbacks
):
    still_open = RoundFactory(title="Consultation d'hiver")
    with django_capture_on_commit_callbacks(execute=True):
        assert request_round_reports.apply().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert request_round_reports.apply().get() == 0
    report = answered_round.reports.get()
    assert report.requested_by is None and report.status == RoundReport.Status.READY
    assert not still_open.reports.exists()


def test_closing_a_round_now_asks_for_its_report(open_round, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.round_close_now(consultation=open_round) is True
    report = open_round.reports.get()
    assert report.requested_by is None and report.status == RoundReport.Status.READY
    with django_capture_on_commit_callbacks(execute=True):
        assert request_round_reports.apply().get() == 0
        assert services.round_close_now(consultation=open_round) is False
    assert open_round.reports.count() == 1


def test_reports_left_pending_are_queued_again_or_failed(answered_round, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - timedelta(hours=1)
    lost = RoundReport.objects.create(round=answered_round, requested_at=long_ago)
    worn_out = RoundReport.objects.create(round=answered_round, requested_at=long_ago, attempts=3)
    fresh = RoundReport.objects.create(round=answered_round)
    assert reports.round_reports_resume() == 1
    for report in (lost, worn_out, fresh):
        report.refresh_from_db()
    assert lost.status == RoundReport.Status.READY
    assert worn_out.status == RoundReport.Status.FAILED and worn_out.error
    assert fresh.status == RoundReport.Status.PENDING


def test_staff_mark_a_submitted_feedback_as_a_quote(answered_round, staff, alice, measure):
    feedback = Feedback.objects.get(measure=measure)
    reports.feedback_quote_set(feedback=feedback, quoted=False, by=staff)
    feedback.refresh_from_db()
    assert feedback.quoted_in_report is False
    with pytest.raises(PermissionDenied):
        reports.feedback_quote_set(feedback=feedback, quoted=True, by=alice)
    draft = Feedback.objects.create(round=answered_round, network=feedback.network, author=alice, measure=measure)
    with pytest.raises(ValidationError):
        reports.feedback_quote_set(feedback=draft, quoted=True, by=staff)


def test_the_quote_toggle_on_the_feedback_page(client, answered_round, staff, alice, measure, other_measure):
    feedback = Feedback.objects.get(measure=other_measure)
    client.force_login(staff)
    page = client.get(feedback.get_absolute_url()).content.decode()
    assert "Citer dans le rapport" in page
    response = client.post(reverse("measures:feedback_quote", args=[feedback.pk]), {"quoted": "1"})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.quoted_in_report
    assert "Ne plus citer dans le rapport" in client.get(feedback.get_absolute_url()).content.decode()
    client.force_login(alice)
    assert "Citer dans le rapport" not in client.get(feedback.get_absolute_url()).content.decode()
    assert client.post(reverse("measures:feedback_quote", args=[feedback.pk]), {"quoted": "0"}).status_code == 403
    feedback.refresh_from_db()
    assert feedback.quoted_in_report


# --- Who may download and ask -----------------------------------------------------------------


@pytest.fixture
def ready_report(answered_round, staff, django_capture_on_commit_callbacks):
    return _render(answered_round, staff, django_capture_on_commit_callbacks)


@pytest.mark.parametrize("role", ["alice", "coordinator_a", "bob", "former_member", "outsider", None])
def test_only_staff_download_or_ask_for_reports(client, request, role, ready_report, answered_round):
    if role:
        client.force_login(request.getfixturevalue(role))
    download = client.get(reverse("measures:round_report_download", args=[ready_report.pk]))
    create = client.post(reverse("measures:round_report_create", args=[answered_round.pk]))
    if role is None:
        assert download.status_code == create.status_code == 302
        assert download["Location"].startswith(reverse("account_login"))
    else:
        assert download.status_code == create.status_code == 403
    assert answered_round.reports.count() == 1


def test_staff_download_the_report_as_an_attachment(client, staff, ready_report):
    client.force_login(staff)
    response = client.get(reverse("measures:round_report_download", args=[ready_report.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    name = reports.report_download_name(ready_report)  # the round's title and the time, not the stored name
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert b"".join(response.streaming_content) == ready_report.file.open("rb").read()
    pending = RoundReport.objects.create(round=ready_report.round)
    assert client.get(reverse("measures:round_report_download", args=[pending.pk])).status_code == 404


def test_the_round_page_lists_reports_with_their_state_for_staff_only(
    client, staff, alice, ready_report, answered_round, django_capture_on_commit_callbacks
):
    RoundReport.objects.create(round=answered_round, status=RoundReport.Status.FAILED, error="MemoryError: trop lourd")
    RoundReport.objects.create(round=answered_round)
    client.force_login(staff)
    page = client.get(answered_round.get_absolute_url()).content.decode()
    assert "Rapports de la consultation (PDF)" in page
    assert reverse("measures:round_report_download", args=[ready_report.pk]) in page
    assert "Prêt" in page and "Échec" in page and "En préparation" in page and "MemoryError: trop lourd" in page
    assert "Générer un nouveau rapport" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("measures:round_report_create", args=[answered_round.pk]))
    assert response.status_code == 302 and response["Location"].endswith("#rapports")
    # The report in preparation is the answer: no second one (tests/test_round_report_ops.py).
    assert answered_round.reports.count() == 3
    client.force_login(alice)
    page = client.get(answered_round.get_absolute_url()).content.decode()
    assert "Rapports de la consultation" not in page and "Générer un nouveau rapport" not in page


# --- Admin, as a plain agent ------------------------------------------------------------------


def test_an_agent_asks_for_a_report_from_the_rounds_admin_and_downloads_it(
    agent_client, staff, answered_round, django_capture_on_commit_callbacks
):
    url = reverse("admin:measures_consultationround_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url, {"action": "generate_report", "_selected_action": [answered_round.pk]}, follow=True
        )
    assert response.status_code == 200 and "le rapport est en préparation" in response.content.decode()
    report = answered_round.reports.get()
    assert report.requested_by == staff and report.status == RoundReport.Status.READY
    change = agent_client.get(reverse("admin:measures_consultationround_change", args=[answered_round.pk]))
    assert reverse("measures:round_report_download", args=[report.pk]) in change.content.decode()
    listing = agent_client.get(reverse("admin:measures_roundreport_changelist"))
    assert listing.status_code == 200
    assert reverse("measures:round_report_download", args=[report.pk]) in listing.content.decode()
    assert agent_client.get(reverse("admin:measures_roundreport_add")).status_code == 403


def test_an_agent_marks_a_quote_in_the_feedback_admin(agent_client, answered_round, other_measure):
    feedback = Feedback.objects.get(measure=other_measure)
    url = reverse("admin:measures_feedback_change", args=[feedback.pk])
    response = agent_client.post(url, {"quoted_in_report": "on", "_save": "Enregistrer"})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.quoted_in_report and feedback.response == ANSWER  # nothing else changed
    quoted = agent_client.get(reverse("admin:measures_feedback_changelist") + "?quoted_in_report__exact=1")
    assert quoted.status_code == 200 and quoted.context["cl"].result_count == 2


# --- The data, in a fixed number of queries ---------------------------------------------------


def _grow(consultation, size: int):
    for index in range(size):
        network = NetworkFactory()
        user = UserFactory()
        MembershipFactory(user=user, network=network, role=Membership.Role.REPRESENTATIVE)
        measure = MeasureFactory(number=100 + index + consultation.measures.count() * 10)
        consultation.networks.add(network)
        consultation.measures.add(measure)
        _feedback(
            consultation,
            network,
            user,
            measure,
            Assessment.PARTLY,
            departement=TerritoryFactory(code=f"{10 + index}", name=f"Département {index}"),
            obstacles=["timing"],
            what_works=f"Citation {index}",
            quoted_in_report=True,
            response=f"Réponse {index}",
        )


def test_the_report_data_costs_the_same_queries_whatever_the_rounds_size(answered_round):
    def queries() -> int:
        consultation = ConsultationRound.objects.select_related("roadmap").get(pk=answered_round.pk)
        with CaptureQueriesContext(connection) as captured:
            data = reports.round_report_data(consultation)
            reports.render_to_string("measures/report/round_report.html", data)
        return len(captured)

    small = queries()
    _grow(answered_round, 8)
    assert queries() == small == 5


# --- Through the real parts -------------------------------------------------------------------


@pytest.mark.worker
def test_a_report_asked_for_is_rendered_by_the_worker_and_reads_back(real_worker, answered_round, staff, measure):
    report = reports.round_report_request(consultation=answered_round, by=staff)  # commits: the task goes to Redis

    def rendered():
        report.refresh_from_db()
        return report.status != RoundReport.Status.PENDING

    wait_until(rendered, what="the report rendered by the worker")
    assert report.status == RoundReport.Status.READY and report.attempts == 1, report.error
    content = report.file.read()
    assert hashlib.sha256(content).hexdigest() == report.sha256
    reader = _reader(content)
    text = _text(reader)
    assert len(reader.pages) == report.page_count > 1
    assert f"Mesure n° {measure.number} : {measure.title}" in text
    assert "Réseau Alpha 2 / 2 2 100 %" in text and "Réseau Bêta 0 / 2 0 0 %" in text
    assert QUOTE in text and reader.trailer["/Root"]["/Lang"] == "fr"
