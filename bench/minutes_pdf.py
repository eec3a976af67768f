"""A 30-page minutes PDF: the portal's rendering against WeasyPrint alone, and the lead's publication.

Minutes of a plenary session (40 attendees in 8 networks, an agenda of six
points on measures, a body of headings, paragraphs, lists and tables, 30
decisions and actions linked to measures), published then timed, in one run:

1. baseline: WeasyPrint alone on the very HTML of the PDF
   (``minutes_pdf_html``, built before the clock starts), with the same
   options as the portal: ``HTML(string=..., base_url=PORTAL_ASSETS,
   url_fetcher=StaticOnlyFetcher()).write_pdf(pdf_variant="pdf/ua-1",
   pdf_tags=True)``. The same fetcher, since the document's stylesheet and
   Marianne fonts have to come from somewhere and reading them is part of
   rendering; the same tagged PDF/UA variant, which is what the portal ships;
2. the portal: ``minutes_pdf_render``, the Celery task's work: the HTML from
   the template and the frozen snapshot, ``html_to_pdf``, the file stored,
   its SHA-256, the 40 distribution e-mails rendered and queued in the
   outbox with the PDF attached (the outbox's batches go to a Redis queue no
   worker takes);
3. the lead's publication: ``minutes_publish`` (a correction, with its reason)
   as the view calls it, the version frozen, the 30 timeline entries
   updated, the render task queued on commit to Redis and not run here.

Steps 1 and 2 alternate for ``--rounds`` rounds after a warm-up of each; the
medians are compared. Prints the times, the ratio 2 / 1 (target at most
1.3), the page count, the median publication time (target under 500 ms) and
the 2-vs-3 s target for the 30 pages.

    .venv/bin/python bench/minutes_pdf.py [--rounds 5]

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
TARGET_RENDER_SECONDS = 3.0
TARGET_PUBLISH_SECONDS = 0.5
NETWORKS, PER_NETWORK, ITEMS, AGENDA = 8, 5, 30, 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    queue = f"bench-minutes-{os.getpid()}"
    media = tempfile.mkdtemp(prefix="bench-minutes-")
    # No worker takes this queue: the render task and the outbox's batches wait in Redis, never run here.
    env = harness.build_env(
        queue=queue, smtp_port=harness.free_port(), PORTAL_BASE_URL="https://concertation.example", MEDIA_ROOT=media
    )
    harness.use_env(env)

    import django

    django.setup()
    import pypdf
    from django.core.management import call_command
    from weasyprint import HTML

    from concertation.lib.pdf import PDF_OPTIONS, PORTAL_ASSETS, StaticOnlyFetcher
    from outbox.models import OutboxMessage
    from workgroups import minutes_services as services
    from workgroups.models import MinutesVersion

    call_command("migrate", verbosity=0)
    lead, minutes = _minutes()

    def publish(number: int) -> tuple[MinutesVersion, float]:
        started = time.perf_counter()
        version = services.minutes_publish(minutes=minutes, by=lead, reason=f"Correction n° {number}" if number else "")
        return version, time.perf_counter() - started

    def weasyprint_alone(html: str) -> tuple[bytes, float]:
        started = time.perf_counter()
        pdf = HTML(string=html, base_url=PORTAL_ASSETS, url_fetcher=StaticOnlyFetcher()).write_pdf(**PDF_OPTIONS)
        return pdf, time.perf_counter() - started

    def portal(version: MinutesVersion) -> float:
        started = time.perf_counter()
        outcome = services.minutes_pdf_render(version_id=version.pk)
        elapsed = time.perf_counter() - started
        assert outcome.status == "ready", outcome
        return elapsed

    # Warm-up: templates, fonts, code paths of both.
    version, _ = publish(0)
    html = services.minutes_pdf_html(version)
    weasyprint_alone(html)
    portal(version)

    bare_times, portal_times, publish_times = [], [], []
    for number in range(1, args.rounds + 1):
        version, published = publish(number)
        publish_times.append(published)
        html = services.minutes_pdf_html(version)
        baseline_pdf, bare = weasyprint_alone(html)
        bare_times.append(bare)
        portal_times.append(portal(version))

    version.refresh_from_db()
    pages = len(pypdf.PdfReader(io.BytesIO(baseline_pdf)).pages)
    portal_pages = len(pypdf.PdfReader(version.pdf.open("rb")).pages)
    assert pages == portal_pages, (pages, portal_pages)
    mails = OutboxMessage.objects.filter(kind="minutes_published").count()
    bare, rendered, publish_median = (statistics.median(times) for times in (bare_times, portal_times, publish_times))
    ratio = rendered / bare

    print(
        f"Minutes of {pages} pages ({len(html):,} characters of HTML, PDF {version.pdf.size / 1024:.0f} KiB): "
        f"{NETWORKS * PER_NETWORK} attendees in {NETWORKS} networks, {ITEMS} decisions and actions; "
        f"{args.rounds} rounds on {os.cpu_count()} cores, medians"
    )
    print(f"  WeasyPrint alone, same HTML and options:  {bare:6.2f} s   ({_list(bare_times)})")
    print(
        f"  portal, minutes_pdf_render (HTML, PDF, file, SHA-256, {mails // (args.rounds + 1)} e-mails queued): "
        f"{rendered:6.2f} s   ({_list(portal_times)}; target under {TARGET_RENDER_SECONDS:.0f} s)"
    )
    print(f"  ratio portal / WeasyPrint alone: {ratio:.2f} (target at most {TARGET_RATIO})")
    print(
        f"  lead's publication (minutes_publish, render queued to Redis): {publish_median * 1000:.0f} ms "
        f"({', '.join(f'{t * 1000:.0f}' for t in publish_times)} ms; "
        f"target under {TARGET_PUBLISH_SECONDS * 1000:.0f} ms)"
    )
    ok = ratio <= TARGET_RATIO and rendered < TARGET_RENDER_SECONDS and publish_median < TARGET_PUBLISH_SECONDS
    sys.exit(0 if ok else 1)


def _list(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def _body() -> str:
    """About 25 pages of Markdown: 12 sections of paragraphs, a list and a table each."""
    paragraph = (
        "Les représentants des réseaux ont rappelé que l'accès à l'emploi des habitants des quartiers prioritaires "
        "reste très inégal selon les territoires ; la délégation a présenté les premiers chiffres consolidés, et les "
        "élus ont souligné l'importance d'un accompagnement de proximité, en lien avec les missions locales, "
        "France Travail et les associations de quartier. "
    )
    sections = []
    for n in range(1, 13):
        sections.append(f"# {n}. Point d'étape : emplois francs, quartiers d'été et cités éducatives ({n})")
        sections.extend(paragraph * 3 for _ in range(4))
        sections.append("## Retours des réseaux")
        sections.append(
            "\n".join(
                f"- **Réseau {k}** : remarque détaillée sur la mise en œuvre, les délais et les moyens."
                for k in range(1, 9)
            )
        )
        sections.extend(paragraph * 2 for _ in range(2))
        sections.append(
            "| Indicateur | 2024 | 2025 | Écart |\n|---|---:|---:|---:|\n"
            + "\n".join(f"| Contrats signés, territoire {k} | {k * 120} | {k * 135} | +{k * 15} |" for k in range(1, 9))
        )
        sections.append(f"Référence : https://www.example.gouv.fr/documents/seance-{n}/synthese-des-retours.pdf")
    return "\n\n".join(sections)


def _minutes():
    """A lead; the minutes of a held plenary session, drafted: (lead, minutes)."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from measures.models import Measure, Programme, Roadmap
    from networks.models import Membership, Network, User
    from workgroups import minutes_services as services
    from workgroups import services as session_services
    from workgroups.models import Session, SessionInvitation, WorkingGroup

    password = make_password(None)
    roadmap = Roadmap.objects.create(title="Quartiers 2030", slug="quartiers-2030")
    programme = Programme.objects.create(roadmap=roadmap, title="Emploi et insertion professionnelle", position=1)
    measures = [
        Measure.objects.create(
            roadmap=roadmap,
            programme=programme,
            number=n,
            title=f"Mesure {n} : emplois francs",
        )
        for n in range(1, AGENDA + 1)
    ]
    lead = User.objects.create(email="animation@anct.example", full_name="Léa Animation", password=password)
    networks = Network.objects.bulk_create(
        Network(name=f"Réseau des acteurs n° {n}", acronym=f"RA{n}", slug=f"ra-{n}", family=Network.Family.values[0])
        for n in range(1, NETWORKS + 1)
    )
    people = User.objects.bulk_create(
        User(email=f"personne{n}@ville.example", full_name=f"Élodie Personne-{n}", password=password)
        for n in range(NETWORKS * PER_NETWORK)
    )
    Membership.objects.bulk_create(
        Membership(user=person, network=networks[n % NETWORKS], role=Membership.Role.REPRESENTATIVE)
        for n, person in enumerate(people)
    )
    group = WorkingGroup.objects.create(title="Emploi et développement économique dans les quartiers", theme="Emploi")
    group.networks.set(networks)
    group.leads.add(lead)
    group.measures.set(measures)
    starts = (timezone.now() + timedelta(days=2)).replace(hour=9, minute=30, second=0, microsecond=0)
    session = session_services.session_create(
        group=group,
        by=lead,
        title="Séance plénière : bilan de la feuille de route « Quartiers 2030 »",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        format="hybrid",
        place="ANCT, 20 avenue de Ségur, 75007 Paris",
        online_url="https://visio.example/pleniere",
        agenda=tuple(
            {"title": f"Point {n} : bilan de la mesure {n}", "measure": measure, "duration_minutes": 30}
            for n, measure in enumerate(measures, start=1)
        ),
    )
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(days=1, hours=4),
        ends_at=timezone.now() - timedelta(days=1, hours=1),
        status=Session.Status.HELD,
    )
    session.refresh_from_db()
    SessionInvitation.objects.bulk_create(
        SessionInvitation(session=session, user=person, network=networks[n % NETWORKS], source="network", attended=True)
        for n, person in enumerate(people)
    )
    minutes = services.minutes_for(session)
    items = [
        {
            "kind": "decision" if n % 2 else "action",
            "text": f"Décision n° {n} : étendre le dispositif à tous les quartiers prioritaires du territoire concerné",
            "owner_network": networks[n % NETWORKS],
            "due_on": timezone.localdate() + timedelta(days=30 + n),
            "measure": measures[n % AGENDA],
        }
        for n in range(1, ITEMS + 1)
    ]
    minutes = services.minutes_save(minutes=minutes, by=lead, body=_body(), items=items, revision=minutes.revision)
    return lead, minutes


if __name__ == "__main__":
    main()
