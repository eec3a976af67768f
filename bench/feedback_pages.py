"""Benchmark of the feedback pages on PostgreSQL under gunicorn.

Generates 60 measures and 50,000 feedback entries in a database of its own,
serves the portal with gunicorn (2 workers, persistent connections) next to a
view that runs one SELECT, then drives each page from a bounded load generator
on loopback, signed in as a representative. Prints requests/s, p50 and p95 per
page and each page's throughput as a fraction of the one-SELECT view's.

    .venv/bin/python bench/feedback_pages.py [--feedback 50000] [--seconds 8] [--concurrency 4]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/concertation_bench);
the database is dropped and created again.
"""

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import prepare_database  # noqa: E402 - after the path is set

TARGETS_MS = {"synthesis": 300, "default": 150}
MIN_FRACTION = 0.10


def generate(feedback_count: int, seed: int = 60) -> dict:
    """Measures, networks, territories and feedback, written with bulk inserts."""
    import django
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.utils import timezone

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0)
    from measures.models import (
        Assessment,
        ConsultationRound,
        Feedback,
        FeedbackObstacle,
        Measure,
        Ministry,
        ObstacleCategory,
        Roadmap,
    )
    from measures.services import measure_set_ministries
    from networks.models import Membership, Network, Territory, User

    rng = random.Random(seed)
    roadmap = Roadmap.objects.get()
    programmes = list(roadmap.programmes.all())
    for number in range(roadmap.measures.count() + 1, 61):
        measure = Measure.objects.create(
            roadmap=roadmap,
            programme=rng.choice(programmes),
            number=number,
            title=f"Mesure de charge {number}",
        )
        name = rng.choice(["Travail", "Ville", "Éducation nationale", "Intérieur"])
        measure_set_ministries(measure=measure, ministries=[Ministry.objects.get_or_create(name=name)[0]])
    measures = list(Measure.objects.all())
    networks = list(Network.objects.all())
    departements = list(Territory.objects.filter(level="departement").select_related("parent"))
    authors = list(User.objects.filter(memberships__role="representative").distinct())
    round_ = ConsultationRound.objects.first()
    now = timezone.now()
    weights = [4, 4, 2, 1]
    batch, made = [], 0
    while made < feedback_count:
        departement = rng.choice(departements)
        batch.append(
            Feedback(
                measure=rng.choice(measures),
                network=rng.choice(networks),
                author=rng.choice(authors),
                round=round_ if rng.random() < 0.3 else None,
                territory=departement,
                departement=departement,
                region=departement.parent,
                assessment=rng.choices(Assessment.values, weights=weights)[0],
                what_works="Les partenaires se sont saisis du dispositif.",
                obstacles="Les crédits arrivent tard.",
                suggestions="Simplifier le dossier.",
                status=Feedback.Status.SUBMITTED,
                submitted_at=now - timedelta(minutes=rng.randint(0, 500_000)),
            )
        )
        made += 1
        if len(batch) == 5000 or made == feedback_count:
            created = Feedback.objects.bulk_create(batch)
            FeedbackObstacle.objects.bulk_create(
                [
                    FeedbackObstacle(feedback=f, category=rng.choice(ObstacleCategory.values))
                    for f in created
                    if rng.random() < 0.6
                ]
            )
            batch = []
    representative = User.objects.get(email="representant@irdsu.example")
    assert Membership.objects.filter(user=representative).exists()
    session = SessionStore()
    session[SESSION_KEY] = str(representative.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = representative.get_session_auth_hash()
    session.create()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "session": session.session_key,
        "measure": measures[len(measures) // 2].pk,
        "feedback": Feedback.objects.count(),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "concertation.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/one-select")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def drive(port: int, path: str, session: str, seconds: float, concurrency: int) -> dict:
    """Bounded load: `concurrency` keep-alive clients for `seconds`, one request at a time each."""
    latencies, errors, lock = [], [0], threading.Lock()
    stop_at = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
            response = conn.getresponse()
            response.read()
            local.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": len(ordered) / elapsed,
        "p50": 1000 * statistics.median(ordered),
        "p95": 1000 * ordered[max(0, int(len(ordered) * 0.95) - 1)],
        "errors": errors[0],
    }


def cold(port: int, path: str, session: str, times: int = 5) -> float:
    """Median time of a request right after a write moved the cache version on."""
    from measures.cache import bump_data_version

    durations = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(times):
        bump_data_version()
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": f"sessionid={session}"})
        conn.getresponse().read()
        durations.append(time.perf_counter() - started)
    conn.close()
    return 1000 * statistics.median(durations)


def bench_environment() -> tuple[str, dict]:
    """The benchmark's database and settings, set for this process too; ``env`` is for the servers it starts."""
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/concertation_bench")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "600",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        # Redis as in production: shared cache (sessions, page fragments); tasks stay in-process.
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    os.environ.update(
        {k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG", "ALLOWED_HOSTS", "REDIS_URL")}
    )
    return database_url, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feedback", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    database_url, env = bench_environment()
    print(f"Préparation : base {urlparse(database_url).path.lstrip('/')}, {args.feedback} retours…", flush=True)
    prepare_database(database_url)
    started = time.monotonic()
    data = generate(args.feedback)
    print(f"  {data['feedback']} retours et 60 mesures générés en {time.monotonic() - started:.1f} s", flush=True)

    port = free_port()
    server = start_gunicorn(port, env)
    pages = [
        ("one-select (référence)", "/bench/one-select", None),
        ("liste des mesures", "/mesures/", "default"),
        ("page d'une mesure", f"/mesures/{data['measure']}/", "default"),
        ("synthèse (matrice)", "/synthese/", "synthesis"),
        ("retours filtrés", "/retours/?family=professionals&assessment=does_not_work", "default"),
    ]
    try:
        for _label, path, _target in pages:  # warm-up: connections, caches, compiled templates
            drive(port, path, data["session"], 1, 2)
        results = [
            (label, target, drive(port, path, data["session"], args.seconds, args.concurrency))
            for label, path, target in pages
        ]
        cold_ms = {label: cold(port, path, data["session"]) for label, path, _target in pages}
    finally:
        server.terminate()
        server.wait(timeout=20)

    baseline = results[0][2]["rps"]
    print(
        f"\ngunicorn 2 workers, {args.concurrency} clients, {args.seconds:.0f} s par page, {data['feedback']} retours\n"
    )
    print(f"{'page':<26}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'× réf.':>9}{'froid ms':>10}  objectif")
    missed = 0
    for label, target, result in results:
        fraction = result["rps"] / baseline
        verdict = ""
        if target:
            limit = TARGETS_MS[target]
            ok = result["p95"] < limit and fraction >= MIN_FRACTION and not result["errors"]
            missed += not ok
            verdict = f"p95 < {limit} ms et ≥ {MIN_FRACTION:.0%} : {'atteint' if ok else 'MANQUÉ'}"
            if result["errors"]:
                verdict += f" ({result['errors']} erreurs)"
        print(
            f"{label:<26}{result['rps']:>9.1f}{result['p50']:>9.1f}{result['p95']:>9.1f}{fraction:>9.2f}"
            f"{cold_ms[label]:>10.1f}  {verdict}"
        )
    print(
        "\n« froid » : médiane d'une requête juste après une écriture (cache invalidé), "
        "quand la page recalcule ses agrégats en SQL."
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
