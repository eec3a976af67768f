"""A round's PDF report at scale: the portal's rendering against WeasyPrint alone on the same HTML.

A closed round of 60 measures and 10 networks with 3,000 submitted feedback
spread over 40 départements (obstacle categories ticked, 60 quoted by staff,
300 answered), then, for ``--rounds`` rounds after a warm-up of each:

1. baseline: WeasyPrint alone on the very HTML of the report
   (``round_report_html``, built before the clock starts), with the portal's
   fetcher and options (tagged PDF/UA);
2. the portal: ``round_report_render``, the Celery task's work: the data
   gathered (five queries), the HTML, ``html_to_pdf``, the page count, the
   dated file stored with its SHA-256.

Prints the medians, the ratio 2 / 1 (target at most 1.3) and the page count.

    .venv/bin/python bench/round_report.py [--rounds 3]

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL: see
``bench/harness.py``); both are emptied first.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET_RATIO = 1.3
MEASURES, NETWORKS, FEEDBACK, DEPARTEMENTS, QUOTED, ANSWERED = 60, 10, 3000, 40, 60, 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    queue = f"bench-report-{os.getpid()}"
    media = tempfile.mkdtemp(prefix="bench-report-")
    env = harness.build_env(queue=queue, smtp_port=harness.free_port(), MEDIA_ROOT=media)
    harness.use_env(env)

    import django

    django.setup()
    import pypdf
    from django.core.management import call_command
    from weasyprint import HTML

    from concertation.lib.pdf import PDF_OPTIONS, PORTAL_ASSETS, StaticOnlyFetcher
    from measures import reports
    from measures.models import RoundReport

    call_command("migrate", verbosity=0)
    consultation = _round()

    def weasyprint_alone(html: str) -> tuple[bytes, float]:
        started = time.perf_counter()
        pdf = HTML(string=html, base_url=PORTAL_ASSETS, url_fetcher=StaticOnlyFetcher()).write_pdf(**PDF_OPTIONS)
        return pdf, time.perf_counter() - started

    def portal() -> tuple[RoundReport, float]:
        # The row as round_report_request writes it, without queueing the task (no worker takes the queue).
        report = RoundReport.objects.create(round=consultation)
        started = time.perf_counter()
        outcome = reports.round_report_render(report_id=report.pk)
        elapsed = time.perf_counter() - started
        assert outcome.status == "ready", outcome
        report.refresh_from_db()
        return report, elapsed

    html = reports.round_report_html(consultation)
    weasyprint_alone(html)  # warm-up: templates, fonts, code paths of both
    portal()
    bare_times, portal_times = [], []
    for _round_number in range(args.rounds):
        html = reports.round_report_html(consultation)
        baseline_pdf, bare = weasyprint_alone(html)
        bare_times.append(bare)
        report, rendered = portal()
        portal_times.append(rendered)
    pages = len(pypdf.PdfReader(io.BytesIO(baseline_pdf)).pages)
    assert pages == report.page_count, (pages, report.page_count)
    bare, rendered = statistics.median(bare_times), statistics.median(portal_times)
    ratio = rendered / bare
    print(
        f"Report of {pages} pages ({len(html):,} characters of HTML, PDF {report.size / 1024:.0f} KiB): "
        f"{MEASURES} measures, {NETWORKS} networks, {FEEDBACK:,} feedback in {DEPARTEMENTS} départements; "
        f"{args.rounds} rounds on {os.cpu_count()} cores, medians"
    )
    print(f"  WeasyPrint alone, same HTML and options:  {bare:6.2f} s   ({_list(bare_times)})")
    print(
        f"  portal, round_report_render (data, HTML, PDF, file, SHA-256): {rendered:6.2f} s   ({_list(portal_times)})"
    )
    print(f"  ratio portal / WeasyPrint alone: {ratio:.2f} (target at most {TARGET_RATIO})")
    sys.exit(0 if ratio <= TARGET_RATIO else 1)


def _list(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def _round():
    """The closed round, its measures, networks, people and feedback, written in bulk."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from measures.models import (
        Assessment,
        ConsultationRound,
        Feedback,
        FeedbackObstacle,
        Measure,
        ObstacleCategory,
        Programme,
        Roadmap,
    )
    from networks.models import Membership, Network, Territory, User

    password = make_password(None)
    roadmap = Roadmap.objects.create(title="Quartiers 2030", slug="quartiers-2030")
    programme = Programme.objects.create(roadmap=roadmap, title="Emploi et insertion professionnelle", position=1)
    measures = Measure.objects.bulk_create(
        Measure(roadmap=roadmap, programme=programme, number=n, title=f"Mesure {n} : accompagnement vers l'emploi")
        for n in range(1, MEASURES + 1)
    )
    networks = Network.objects.bulk_create(
        Network(name=f"Réseau des acteurs n° {n}", acronym=f"RA{n}", slug=f"ra-{n}", family=Network.Family.values[0])
        for n in range(1, NETWORKS + 1)
    )
    people = User.objects.bulk_create(
        User(email=f"personne{n}@ville.example", full_name=f"Élodie Personne-{n}", password=password)
        for n in range(NETWORKS)
    )
    Membership.objects.bulk_create(
        Membership(user=person, network=network, role=Membership.Role.REPRESENTATIVE)
        for person, network in zip(people, networks, strict=True)
    )
    departements = Territory.objects.bulk_create(
        Territory(level=Territory.Level.DEPARTEMENT, code=f"{n:02d}", name=f"Département {n:02d}")
        for n in range(1, DEPARTEMENTS + 1)
    )
    now = timezone.now()
    consultation = ConsultationRound.objects.create(
        roadmap=roadmap,
        title="Consultation nationale sur l'emploi dans les quartiers",
        instructions="Dites-nous, mesure par mesure, ce qui fonctionne sur votre territoire et ce qui bloque.",
        opens_at=now - timedelta(days=30),
        closes_at=now - timedelta(minutes=1),
    )
    consultation.measures.set(measures)
    consultation.networks.set(networks)
    assessments, categories = Assessment.values, ObstacleCategory.values
    text = (
        "Les permanences de la mission locale au pied des immeubles ont permis de toucher des jeunes que "
        "personne ne voyait plus ; les employeurs du territoire demandent un interlocuteur unique. "
    )
    feedback = Feedback.objects.bulk_create(
        Feedback(
            round=consultation,
            measure=measures[n % MEASURES],
            network=networks[n % NETWORKS],
            author=people[n % NETWORKS],
            territory=departements[n % DEPARTEMENTS],
            departement=departements[n % DEPARTEMENTS],
            assessment=assessments[n % len(assessments)],
            what_works=text * 2,
            obstacles=text,
            suggestions=text,
            status=Feedback.Status.SUBMITTED,
            submitted_at=now - timedelta(days=1, minutes=n),
            quoted_in_report=n % (FEEDBACK // QUOTED) == 0,
            response=(text if n % (FEEDBACK // ANSWERED) == 0 else ""),
            responded_at=(now if n % (FEEDBACK // ANSWERED) == 0 else None),
        )
        for n in range(FEEDBACK)
    )
    FeedbackObstacle.objects.bulk_create(
        FeedbackObstacle(feedback=item, category=categories[(n + shift) % len(categories)])
        for n, item in enumerate(feedback)
        for shift in range(n % 3)
    )
    return consultation


if __name__ == "__main__":
    main()
