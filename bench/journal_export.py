"""Benchmark of the journal's CSV export on PostgreSQL.

Generates N history rows (default 50,000) in a database of its own, a mix of what a running
portal writes: feedback transmitted, edited and answered (whole texts at each
row), memberships granted and changed, measures whose status changed, data exports recorded
on the exporting accounts (many rows of few objects), a round's invited networks changed
(many-to-many rows); dates over a year. Then times the whole export (no filter), as an agent
downloads it (the admin's view, its stream read to the end), and prints rows/s, the queries per
1,000 rows, the rows that fit in the web server's 30 s and the time JOURNAL_EXPORT_MAX_ROWS rows
take at that rate.

    .venv/bin/python bench/journal_export.py [N] [--runs 2]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/concertation_bench);
the database is dropped and created again.
"""

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import prepare_database  # noqa: E402 - after the path is set

# The gunicorn worker's timeout in production (its default): the largest export allowed
# (JOURNAL_EXPORT_MAX_ROWS) must end well within it.
WORKER_TIMEOUT_S = 30
TARGET_S = 20


def bench_environment() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/concertation_bench")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "concertation.settings",
            "DEBUG": "false",
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
            "CELERY_TASK_ALWAYS_EAGER": "true",
        }
    )
    return url


def generate(rows: int, seed: int = 2026) -> dict:
    """History rows written with bulk inserts, each with its author and reason; the tables'
    rows interleaved over a year, each table's dates in the order of its rows."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    from concertation.lib import audit
    from concertation.lib.journal import history_model
    from measures.models import Assessment, ConsultationRound, Feedback, Measure, MeasureStatus
    from networks.models import Membership, Network, User

    rng = random.Random(seed)
    agent = User.objects.filter(is_staff=True).order_by("pk").first()
    people = list(User.objects.filter(is_staff=False).order_by("pk"))
    staff = list(User.objects.filter(is_staff=True).order_by("pk"))
    measures = list(Measure.objects.all())
    networks = list(Network.objects.all())
    memberships = list(Membership.objects.select_related("user", "network"))
    authors = [m for m in memberships if m.role == "representative"] or memberships
    now = timezone.now()
    year = timedelta(days=365)
    pending = defaultdict(list)  # history model: its rows, in order

    def add(instance, kind, reason, by):
        history = history_model(type(instance))
        pending[history].append(
            history(
                history_user_id=by.pk if by else None,
                history_change_reason=reason,
                history_type=kind,
                **{f.attname: getattr(instance, f.attname) for f in history.tracked_fields},
            )
        )

    # Feedback: about half of the rows; each transmitted, then edited or answered once or twice.
    feedback_rows = rows // 2
    feedback = Feedback.objects.bulk_create(
        [
            Feedback(
                measure=rng.choice(measures),
                network=(member := rng.choice(authors)).network,
                author=member.user,
                assessment=rng.choice(Assessment.values),
                what_works="Les partenaires se sont saisis du dispositif. " * rng.randint(1, 6),
                obstacles="Les crédits arrivent tard et les associations avancent les frais.",
                suggestions="Publier un calendrier des versements.",
                status=Feedback.Status.SUBMITTED,
                submitted_at=now - year * rng.random(),
            )
            for _ in range(max(1, feedback_rows // 2))
        ],
        batch_size=2000,
    )
    for item in feedback:
        add(item, "+", "Retour transmis", item.author)
    for number in range(feedback_rows - len(feedback)):
        item = rng.choice(feedback)
        if rng.random() < 0.5:
            item.response = f"Nous étendons le dispositif (réponse {number})."
            item.responded_by_id = rng.choice(staff).pk
            item.responded_at = now - year * rng.random()
            add(item, "~", "Réponse de l'administration", rng.choice(staff))
        else:
            item.what_works += " Et aussi à Grigny."
            add(item, "~", "Retour modifié après transmission", item.author)
    # Memberships (a tenth), measures (a tenth), and the rest: exports recorded on the accounts
    # of the few people who export (many rows of few objects).
    roles = [choice for choice, _label in Membership.Role.choices]
    for _ in range(rows // 10):
        member = rng.choice(memberships)
        member.role = rng.choice(roles)
        add(member, "~", "Rôle changé", rng.choice(staff))
    statuses = list(MeasureStatus.values)
    for _ in range(rows // 10):
        measure = rng.choice(measures)
        measure.status = rng.choice(statuses)
        add(measure, "~", "Statut de la mesure changé", rng.choice(staff))
    existing = sum(history_model(model).objects.count() for model in audit.tracked_models())
    rounds = 40
    for number in range(max(0, rows - existing - rounds - sum(map(len, pending.values())))):
        person = rng.choice(staff + people[:5])
        add(person, "~", f"Données exportées — retours de terrain (CSV) (Page {number})", person)
    for history, batch in pending.items():
        moments = sorted(rng.random() for _ in batch)
        for row, moment in zip(batch, moments, strict=True):
            row.history_date = now - year + year * moment
        history.objects.bulk_create(batch, batch_size=2000)
    # A round's invited networks changed (many-to-many rows), today.
    round_ = ConsultationRound.objects.order_by("pk").first()
    for number in range(rounds):
        with audit.change("Réseaux invités revus", by=agent):
            if number % 2:
                round_.networks.add(rng.choice(networks))
            else:
                round_.networks.remove(*list(round_.networks.all())[:1])

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"agent": agent, "rows": sum(history_model(model).objects.count() for model in audit.tracked_models())}


def run_export(agent) -> dict:
    """The whole export, as the admin's view streams it to an agent: seconds, lines, queries."""
    from django.contrib import admin
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    from concertation import journal_views

    request = RequestFactory().get(reverse("admin:journal_export"))
    request.user = agent
    # The whole trail in one file, whatever the limit (whose cost this measures).
    with override_settings(JOURNAL_EXPORT_MAX_ROWS=10**9), CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = journal_views.journal_export(request, admin.site)
        lines = sum(chunk.count(b"\r\n") for chunk in response.streaming_content) - 1
        seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return {"seconds": seconds, "lines": lines, "queries": len(queries)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", type=int, nargs="?", default=50_000, help="history rows to generate")
    parser.add_argument("--runs", type=int, default=2, help="exports timed, one after the other")
    args = parser.parse_args()

    database_url = bench_environment()
    print(f"Préparation : base {urlparse(database_url).path.lstrip('/')}, {args.rows} lignes d'historique…", flush=True)
    prepare_database(database_url)
    started = time.monotonic()
    data = generate(args.rows)
    print(f"  {data['rows']} lignes générées en {time.monotonic() - started:.1f} s\n", flush=True)
    from django.conf import settings

    cap = settings.JOURNAL_EXPORT_MAX_ROWS
    print(f"{'export':<8}{'lignes':>9}{'durée':>10}{'lignes/s':>11}{'requêtes/1000':>15}{'en 30 s':>10}")
    rates = []
    for run in range(1, args.runs + 1):
        figures = run_export(data["agent"])
        rate = figures["lines"] / figures["seconds"]
        rates.append(rate)
        print(
            f"{run:<8}{figures['lines']:>9}{figures['seconds']:>9.1f}s{rate:>11.0f}"
            f"{1000 * figures['queries'] / max(figures['lines'], 1):>15.1f}{rate * WORKER_TIMEOUT_S:>10.0f}"
        )
    seconds = cap / min(rates)
    missed = seconds > TARGET_S
    print(
        f"\nJOURNAL_EXPORT_MAX_ROWS = {cap} : {seconds:.1f} s au débit le plus lent "
        f"(objectif ≤ {TARGET_S} s, délai du serveur {WORKER_TIMEOUT_S} s) : {'MANQUÉ' if missed else 'atteint'}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
