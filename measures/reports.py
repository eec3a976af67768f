"""A consultation round's report, as PDF: what was asked and to whom, who answered, what they said.

Every request is a new ``RoundReport`` row (unless one of the round is still in
preparation: that one is returned), rendered by the Celery task
``measures.tasks.render_round_report`` into a new dated file; older reports and
their files stay. Rendering follows the minutes' PDF
(``workgroups.minutes_services.minutes_pdf_render``): only a pending report is
rendered, the attempt is counted and committed before the work (a worker killed
or stopped by the task's time limits still used it up), and after
``REPORT_MAX_ATTEMPTS`` the report shows as failed with its reason. An attempt
holds its report (``started_at``) while it may run: a second task for the same
report skips it, and the periodic task queues again only reports never started
or whose attempt died.

The data is gathered by ``round_report_data`` in a fixed number of queries,
whatever the size of the round: its measures, its networks, one grouped count
(network × measure × assessment × département), one count of obstacle
categories by measure, and the feedback that staff marked to quote or answered.
"""

import hashlib
import io
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from concertation.lib import audit
from concertation.lib.dates import PARIS, paris_moment
from concertation.lib.pdf import html_to_pdf
from measures import synthesis
from measures.maps import departement_map
from measures.models import ConsultationRound, Feedback, FeedbackObstacle, RoundReport
from networks.models import User

logger = logging.getLogger(__name__)

REPORT_MAX_ATTEMPTS = 3
# A report still pending this long after its request, never started, has lost its task
# (broker down, queue flushed): the periodic task queues it again; /healthz counts it late.
REPORT_RESUME_GRACE = timedelta(minutes=10)
# An attempt holds its report (``started_at``) for the task's hard time limit; past that and
# this margin, it died without a word (worker killed) and the periodic task queues it again.
REPORT_LEASE_MARGIN = timedelta(minutes=5)
# The periodic task asks for at most this many reports per run (every 5 minutes), for rounds
# closed in the last ``settings.ROUND_REPORT_AUTO_DAYS`` days: renders share the workers with
# the e-mails. Older rounds get theirs on demand.
ROUND_REPORTS_PER_TICK = 3
# Obstacle categories shown per measure, most frequent first.
MOST_FREQUENT_OBSTACLES = 5
# A quote's texts are cut to this many characters each (the feedback's page has the whole text).
QUOTE_MAX_CHARS = 700


# --- Requests -------------------------------------------------------------------


def _queue_render(report_id: int) -> None:
    from measures.tasks import render_round_report

    try:
        render_round_report.delay(report_id)
    except Exception as exc:  # noqa: BLE001 - broker down: the report waits pending, beat queues it again
        logger.warning("round report %s left pending: %s", report_id, exc)


@transaction.atomic
def round_report_request(*, consultation: ConsultationRound, by: User | None) -> RoundReport:
    """A new report of ``consultation``, pending; its rendering is queued on
    commit. ``by`` is the staff member who asked, or None when the portal asks
    (the round closed).

    A report of the round still in preparation (pending, attempts left) is
    returned instead: no new row, no new task. The returned report's
    ``reused`` says which (the pages tell staff)."""
    if by is not None and not by.has_perm("measures.request_round_report", consultation):
        raise PermissionDenied
    # Under the round's lock, so that two requests at once make one report.
    ConsultationRound.objects.select_for_update().filter(pk=consultation.pk).first()
    report = (
        RoundReport.objects.filter(
            round=consultation, status=RoundReport.Status.PENDING, attempts__lt=REPORT_MAX_ATTEMPTS
        )
        .order_by("-requested_at", "-pk")
        .first()
    )
    if report is not None:
        report.reused = True
        return report
    report = RoundReport.objects.create(round=consultation, requested_by=by)
    report.reused = False
    transaction.on_commit(lambda: _queue_render(report.pk))
    return report


def round_reports_for_closed_rounds(*, now=None) -> int:
    """Periodic: a report for each round closed in the last
    ``ROUND_REPORT_AUTO_DAYS`` days that has none yet (once per round: any
    report, whatever its state, counts), at most ``ROUND_REPORTS_PER_TICK`` per
    run, the longest closed first. Older rounds get a report on demand only (a
    first deployment does not render every past round at once). Returns how
    many were asked for."""
    now = now or timezone.now()
    asked = 0
    closed = (
        ConsultationRound.objects.filter(
            closes_at__lte=now, closes_at__gt=now - timedelta(days=settings.ROUND_REPORT_AUTO_DAYS)
        )
        .exclude(Exists(RoundReport.objects.filter(round=OuterRef("pk"))))
        .order_by("closes_at", "pk")
    )
    for round_id in closed.values_list("pk", flat=True)[:ROUND_REPORTS_PER_TICK]:
        with transaction.atomic():
            # Under the round's lock, so that two sweeps (or a sweep and the closing) ask once.
            consultation = ConsultationRound.objects.select_for_update().get(pk=round_id)
            if consultation.reports.exists():
                continue
            round_report_request(consultation=consultation, by=None)
            asked += 1
    return asked


def _given_up_after() -> timedelta:
    """How long after its request a report whose every attempt is used up may still be
    rendering: each attempt's hard time limit, the pauses between them, and a margin for
    the queue."""
    from measures.tasks import REPORT_RETRY_SECONDS, REPORT_TIME_LIMIT

    pauses = sum(REPORT_RETRY_SECONDS * retry for retry in range(1, REPORT_MAX_ATTEMPTS))
    return timedelta(seconds=REPORT_MAX_ATTEMPTS * REPORT_TIME_LIMIT + pauses, minutes=5)


def _lease() -> timedelta:
    """How long an attempt holds its report: the task's hard time limit."""
    from measures.tasks import REPORT_TIME_LIMIT

    return timedelta(seconds=REPORT_TIME_LIMIT)


def round_reports_resume(*, grace_minutes: int | None = None) -> int:
    """Periodic: queue again the pending reports whose task is lost: never
    started ``grace_minutes`` after their request (broker down), or whose
    attempt began longer ago than it may run, plus a margin (the worker died);
    a report queued or rendering right now is left alone. Mark failed those
    whose every attempt is used up, once the last can no longer be running."""
    now = timezone.now()
    late = now - (REPORT_RESUME_GRACE if grace_minutes is None else timedelta(minutes=grace_minutes))
    given_up = list(
        RoundReport.objects.filter(
            status=RoundReport.Status.PENDING,
            requested_at__lte=now - _given_up_after(),
            attempts__gte=REPORT_MAX_ATTEMPTS,
        ).values_list("pk", "round_id")
    )
    if given_up:
        RoundReport.objects.filter(pk__in=[pk for pk, _round in given_up], status=RoundReport.Status.PENDING).update(
            status=RoundReport.Status.FAILED, error=_("Le rendu a été interrompu à chaque essai.")
        )
        for pk, round_id in given_up:
            logger.error("round report %s (round %s) failed: every attempt was interrupted", pk, round_id)
    pending = list(
        RoundReport.objects.filter(status=RoundReport.Status.PENDING, attempts__lt=REPORT_MAX_ATTEMPTS)
        # Reports from before the lease (0009) started no later than their request.
        .annotate(last_start=Coalesce("started_at", "requested_at"))
        .filter(
            Q(attempts=0, requested_at__lte=late)
            | Q(attempts__gt=0, last_start__lte=now - _lease() - REPORT_LEASE_MARGIN)
        )
        .values_list("pk", flat=True)
    )
    for report_id in pending:
        _queue_render(report_id)
    return len(pending)


# Why the audit trail's rows were written (concertation.lib.audit).
QUOTE_CHOSEN = gettext_lazy("Retour cité dans le rapport")
QUOTE_DROPPED = gettext_lazy("Citation retirée du rapport")


@transaction.atomic
def feedback_quote_set(*, feedback: Feedback, quoted: bool, by: User) -> Feedback:
    """Staff mark (or unmark) a submitted feedback as a quote for its round's report."""
    if not by.has_perm("measures.quote_feedback", feedback):
        raise PermissionDenied
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if quoted and feedback.status != Feedback.Status.SUBMITTED:
        raise ValidationError(_("Seul un retour transmis peut être cité dans le rapport."))
    if feedback.quoted_in_report != quoted:
        feedback.quoted_in_report = quoted
        with audit.change(QUOTE_CHOSEN if quoted else QUOTE_DROPPED, by=by):
            feedback.save(update_fields=["quoted_in_report"])
    return feedback


# --- Data -------------------------------------------------------------------------


def _rate(item, answered: int, total: int) -> dict:
    return {"item": item, "answered": answered, "total": total, "rate": round(100 * answered / total) if total else 0}


def _excerpt(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(QUOTE_MAX_CHARS)


def _quote(feedback: Feedback) -> dict:
    parts = [
        (label, _excerpt(text))
        for label, text in (
            (_("Ce qui fonctionne"), feedback.what_works),
            (_("Freins rencontrés"), feedback.obstacles),
            (_("Ajustements proposés"), feedback.suggestions),
        )
        if text.strip()
    ]
    return {"feedback": feedback, "network": feedback.network.name, "parts": parts}


# The map's outlines: WeasyPrint applies to an inline SVG only the styles written inside it.
MAP_STYLE = (
    "<style>.map-area { stroke: #666666; stroke-width: 0.5 } "
    ".map-inset { fill: none; stroke: #929292; stroke-width: 1 }</style>"
)


def _outlined(map_: dict) -> dict:
    svg = str(map_["svg"]).replace('<title id="map-title">', MAP_STYLE + '<title id="map-title">', 1)
    return {**map_, "svg": mark_safe(svg)}  # noqa: S308 - render_map's escaped markup and a constant


def round_report_data(consultation: ConsultationRound, *, now=None) -> dict:
    """Everything the report shows, in five queries whatever the round's size
    (fewer when the round has no network or measure)."""
    measures = list(consultation.measures.select_related("programme").order_by("number"))
    networks = list(consultation.networks.order_by("name"))
    measure_ids, network_ids = [m.pk for m in measures], [n.pk for n in networks]
    # Only what is still part of the round: a network or measure taken out since leaves its feedback out.
    feedback = Feedback.objects.submitted().filter(
        round=consultation, network_id__in=network_ids, measure_id__in=measure_ids
    )
    rows = list(feedback.count_by("network_id", "measure_id", "assessment", "departement__code", "departement__name"))
    obstacle_rows = list(
        FeedbackObstacle.objects.filter(feedback__in=feedback.order_by().values("pk"))
        .values("feedback__measure_id", "category")
        .annotate(count=Count("id"))
        .order_by("-count", "category")
    )
    noted = list(
        feedback.filter(Q(quoted_in_report=True) | ~Q(response=""))
        .select_related("network", "territory")
        .order_by("measure_id", "submitted_at", "pk")
    )

    answered = {(row["network_id"], row["measure_id"]) for row in rows}
    by_network = Counter(network for network, _measure in answered)
    by_measure_answered = Counter(measure for _network, measure in answered)
    counts: dict[int, Counter] = defaultdict(Counter)
    feedback_by_network: Counter = Counter()
    for row in rows:
        counts[row["measure_id"]][row["assessment"]] += row["count"]
        feedback_by_network[row["network_id"]] += row["count"]
    obstacles_by_measure: dict[int, list[dict]] = defaultdict(list)
    for row in obstacle_rows:
        obstacles_by_measure[row["feedback__measure_id"]].append(row)
    quotes: dict[int, list[dict]] = defaultdict(list)
    responses: dict[int, list[Feedback]] = defaultdict(list)
    for item in noted:
        if item.quoted_in_report:
            quotes[item.measure_id].append(_quote(item))
        if item.response:
            responses[item.measure_id].append(item)

    per_measure = []
    for measure in measures:
        dist = synthesis.distribution(counts.get(measure.pk, {}))
        per_measure.append(
            {
                "measure": measure,
                "distribution": dist,
                "obstacles": synthesis.obstacles(
                    obstacles_by_measure[measure.pk][:MOST_FREQUENT_OBSTACLES], dist.total
                ),
                "quotes": quotes[measure.pk],
                "responses": responses[measure.pk],
                "rate": _rate(measure, by_measure_answered[measure.pk], len(networks)),
            }
        )
    all_obstacles: Counter = Counter()
    for row in obstacle_rows:
        all_obstacles[row["category"]] += row["count"]
    total = sum(row["count"] for row in rows)
    departements = synthesis.by_territory(
        synthesis.regroup(rows, ("departement__code", "departement__name")), "departement__code", "departement__name"
    )
    return {
        "round": consultation,
        "measures": measures,
        "networks": networks,
        "feedback_count": total,
        "distribution": synthesis.distribution(
            {row["assessment"]: row["count"] for row in synthesis.regroup(rows, ())}
        ),
        "networks_answered": len(by_network),
        "pairs_answered": len(answered),
        "pairs_total": len(measures) * len(networks),
        "overall_rate": round(100 * len(answered) / (len(measures) * len(networks))) if measures and networks else 0,
        "network_rates": [
            {**_rate(n, by_network[n.pk], len(measures)), "feedback_count": feedback_by_network[n.pk]} for n in networks
        ],
        "measure_rates": [item["rate"] for item in per_measure],
        "per_measure": per_measure,
        "obstacles": synthesis.obstacles(
            [{"category": c, "count": n} for c, n in sorted(all_obstacles.items(), key=lambda i: (-i[1], i[0]))],
            total,
        ),
        "quote_count": sum(len(items) for items in quotes.values()),
        "response_count": sum(len(items) for items in responses.values()),
        "departements": departements,
        "map": _outlined(departement_map(departements, "count")) if total else None,
        "extraction": _("Extraction du %(moment)s (heure de Paris)") % {"moment": paris_moment(now or timezone.now())},
        "period": {"opens": paris_moment(consultation.opens_at), "closes": paris_moment(consultation.closes_at)},
    }


def round_report_html(consultation: ConsultationRound, *, now=None) -> str:
    """The HTML the PDF is made of (also what the benchmark renders), always in French."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("measures/report/round_report.html", round_report_data(consultation, now=now))


# --- Rendering --------------------------------------------------------------------


@dataclass(frozen=True)
class RenderOutcome:
    status: str
    error: str = ""


def _locked_report(report_id: int) -> RoundReport | None:
    return (
        RoundReport.objects.select_for_update(of=("self",))
        .select_related("round__roadmap")
        .filter(pk=report_id)
        .first()
    )


def _lease_held(report: RoundReport, now) -> bool:
    """An attempt is rendering ``report`` now: it began less than the task's hard time
    limit ago and has not failed (a failed attempt leaves its reason in ``error``)."""
    return (
        report.status == RoundReport.Status.PENDING
        and report.started_at is not None
        and report.started_at > now - _lease()
        and not report.error
    )


def _page_count(pdf: bytes) -> int | None:
    try:
        import pypdf

        return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    except Exception:  # noqa: BLE001 - a nicety: the report stands without its page count
        return None


def round_report_render(*, report_id: int) -> RenderOutcome:
    """The task's work: render a pending report once and store it under a new
    dated name with its SHA-256. Safe to run twice: a ready or failed report is
    left alone, and a report another attempt is rendering (its lease,
    ``started_at``, is live) is skipped without using an attempt."""
    with transaction.atomic():
        report = _locked_report(report_id)
        if report is None:
            return RenderOutcome(status=RoundReport.Status.FAILED, error="no such report")
        if report.status != RoundReport.Status.PENDING:
            return RenderOutcome(status=report.status)
        started = timezone.now()
        if _lease_held(report, started):
            logger.info("round report %s is being rendered by another attempt: skipped", report_id)
            return RenderOutcome(status=report.status)
        if report.attempts >= REPORT_MAX_ATTEMPTS:
            report.status = RoundReport.Status.FAILED
            report.error = report.error or _("Le rendu a été interrompu à chaque essai (durée ou mémoire).")
            report.save(update_fields=["status", "error"])
            logger.error("round report %s (round %s) failed: %s", report_id, report.round_id, report.error)
            return RenderOutcome(status=report.status, error=report.error)
        # The attempt is counted and the report held, committed before the work.
        report.attempts += 1
        report.started_at = started
        report.error = ""
        report.save(update_fields=["attempts", "started_at", "error"])
    try:
        pdf = html_to_pdf(round_report_html(report.round, now=started))
    except Exception as exc:  # the reason is kept for staff (time limit included)
        with transaction.atomic():
            report = _locked_report(report_id)
            report.error = f"{type(exc).__name__}: {exc}"[:2000]
            if report.attempts >= REPORT_MAX_ATTEMPTS:
                report.status = RoundReport.Status.FAILED
            report.save(update_fields=["error", "status"])
        if report.status == RoundReport.Status.FAILED:
            logger.error(
                "round report %s (round %s) failed after %s attempts: %s",
                report_id,
                report.round_id,
                report.attempts,
                exc,
                exc_info=True,
            )
        else:
            logger.warning("round report %s failed (attempt %s): %s", report_id, report.attempts, exc)
        return RenderOutcome(status=report.status, error=report.error)
    page_count = _page_count(pdf)
    with transaction.atomic():
        report = _locked_report(report_id)
        if report.status != RoundReport.Status.PENDING:
            return RenderOutcome(status=report.status)  # another run finished it meanwhile
        stamp = timezone.localtime(started, PARIS).strftime("%Y%m%d-%H%M%S")
        report.file.save(f"rapport-{report.round_id}-{stamp}.pdf", ContentFile(pdf), save=False)
        try:
            report.sha256 = hashlib.sha256(pdf).hexdigest()
            report.size = len(pdf)
            report.page_count = page_count
            report.status = RoundReport.Status.READY
            report.rendered_at = timezone.now()
            report.error = ""
            report.save(update_fields=["file", "sha256", "size", "page_count", "status", "rendered_at", "error"])
        except Exception:
            report.file.storage.delete(report.file.name)  # the row rolls back: leave no file behind
            raise
    return RenderOutcome(status=RoundReport.Status.READY)


# --- File names -------------------------------------------------------------------

# A title in a file name stays readable: « Consultation d'automne 2026 » → « consultation-d-automne-2026 ».
FILE_SLUG_MAX_LENGTH = 80


def title_slug(title: str) -> str:
    """The slug of a round's title for a downloaded file's name (apostrophes split words)."""
    slug = slugify(title.replace("'", " ").replace("’", " "))[:FILE_SLUG_MAX_LENGTH].strip("-")
    return slug or "consultation"


def report_download_name(report: RoundReport) -> str:
    """``rapport-<round title>-<date>-<hhmm>.pdf`` (Paris time of its rendering): the name a
    downloaded report gets; the stored file keeps its own (``round_report_path``)."""
    moment = timezone.localtime(report.rendered_at or report.requested_at, PARIS)
    return f"rapport-{title_slug(report.round.title)}-{moment:%Y-%m-%d-%H%M}.pdf"
