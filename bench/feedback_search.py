"""Benchmark of the feedback search on PostgreSQL, with and without its GIN index.

Builds the data of ``bench/feedback_pages.py`` (60 measures, 50,000 feedback
on top of the demo's), gives the texts some variety (a few hundred phrases,
one rare word), then times, in the same run, with the index
``measures_feedback_text_fts`` and after dropping it:

- the list's two queries (count, first page ranked with its headlines) in process;
- the page ``/retours/?q=...`` under gunicorn, each request right after a write
  (the page's cache invalidated), as ``feedback_pages.cold`` does;

and prints each figure, the ratio, and the plan PostgreSQL chose.

    .venv/bin/python bench/feedback_search.py [--feedback 50000] [--runs 15]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/concertation_bench);
the database is dropped and created again.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.feedback_pages import bench_environment, cold, free_port, generate, start_gunicorn  # noqa: E402 - after the path is set
from bench.harness import prepare_database  # noqa: E402

INDEX = "measures_feedback_text_fts"
SEARCHES = {
    "mot rare": "crèches",  # about 1 % of the feedback
    "mot courant": "élus",  # about 1 in 8
    "deux mots": "transport scolaire",
}
TARGET_RATIO = 5  # the index must make the rare word's search at least this many times faster

VARIETY_SQL = """
UPDATE measures_feedback SET
  obstacles = (ARRAY[
    'Les élus locaux manquent d''information sur le calendrier.',
    'Le transport scolaire ne dessert pas le quartier le soir.',
    'Les crédits arrivent tard et les associations avancent les frais.',
    'Le dossier de demande est trop long pour les petites structures.',
    'Les bailleurs sociaux ne sont pas associés au comité de pilotage.',
    'Les horaires de la permanence ne conviennent pas aux familles.',
    'Le recrutement des médiateurs prend plusieurs mois.',
    'Les habitants ne connaissent pas le dispositif.'
  ])[1 + (id * 7) % 8] || ' Réf. ' || (id % 997)::text,
  suggestions = CASE WHEN id % 100 = 0
    THEN 'Ouvrir des places de crèches à horaires décalés.'
    ELSE (ARRAY[
      'Simplifier le dossier.',
      'Réunir les partenaires chaque trimestre.',
      'Publier un calendrier des versements.',
      'Former les agents d''accueil.',
      'Associer les conseils citoyens.'
    ])[1 + (id * 3) % 5] END,
  what_works = (ARRAY[
    'Les partenaires se sont saisis du dispositif.',
    'La coordination avec la préfecture fonctionne bien.',
    'Les jeunes du quartier se sont inscrits nombreux.',
    'Le délégué du préfet relaie les informations.'
  ])[1 + (id * 5) % 4]
"""


def median_ms(function, runs: int) -> float:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return 1000 * statistics.median(durations)


def list_queries(q: str):
    """What the feedback list runs for a search: the count, then the first page ranked, with headlines."""
    from django.core.paginator import Paginator

    from measures.models import Feedback
    from measures.search import attach_excerpts

    def run():
        found = Feedback.objects.submitted().select_related("measure", "network", "territory", "author", "round")
        page = Paginator(found.search(q).with_headline(q), 20).get_page(1)
        rows = list(page.object_list)
        attach_excerpts(rows, q)
        return page.paginator.count

    return run


def plan(q: str) -> str:
    from django.db import connection

    from measures.models import Feedback

    sql, params = Feedback.objects.submitted().search(q).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
        lines = [row[0] for row in cursor.fetchall()]
    return "\n".join(
        "    " + line[:110] for line in lines if "Scan" in line or "Execution" in line or "Rows Removed" in line
    )


def measure_all(port: int, session: str, runs: int) -> dict:
    from urllib.parse import quote

    figures = {}
    for label, q in SEARCHES.items():
        count = list_queries(q)()
        figures[label] = {
            "count": count,
            "sql": median_ms(list_queries(q), runs),
            "http": cold(port, f"/retours/?q={quote(q)}", session, times=runs),
            "plan": plan(q),
        }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feedback", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    database_url, env = bench_environment()
    print(f"Préparation : base {urlparse(database_url).path.lstrip('/')}, {args.feedback} retours…", flush=True)
    prepare_database(database_url)
    started = time.monotonic()
    data = generate(args.feedback)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(VARIETY_SQL)
        cursor.execute("VACUUM ANALYZE measures_feedback")
    print(f"  {data['feedback']} retours générés en {time.monotonic() - started:.1f} s", flush=True)

    port = free_port()
    server = start_gunicorn(port, env)
    try:
        # The same page without a search, for reference (its filters' choices, its template).
        reference = cold(port, "/retours/?family=professionals", data["session"], times=args.runs)
        with_index = measure_all(port, data["session"], args.runs)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {INDEX}")
            cursor.execute("ANALYZE measures_feedback")
        without_index = measure_all(port, data["session"], args.runs)
    finally:
        server.terminate()
        server.wait(timeout=20)

    print(f"\n{data['feedback']} retours ; médianes sur {args.runs} mesures ; page : juste après une écriture\n")
    print(
        f"{'recherche':<34}{'trouvés':>8}{'SQL index':>11}{'SQL sans':>10}{'ratio':>7}"
        f"{'page index':>12}{'page sans':>11}{'ratio':>7}"
    )
    for label, q in SEARCHES.items():
        a, b = with_index[label], without_index[label]
        name = f"{label} « {q} »"
        print(
            f"{name:<34}{a['count']:>8}{a['sql']:>9.1f}ms{b['sql']:>8.1f}ms{b['sql'] / a['sql']:>6.1f}×"
            f"{a['http']:>10.1f}ms{b['http']:>9.1f}ms{b['http'] / a['http']:>6.1f}×"
        )
    print(f"{'sans recherche (référence)':<34}{'':>8}{'':>11}{'':>10}{'':>7}{reference:>10.1f}ms")
    rare = next(iter(SEARCHES))
    ratio = without_index[rare]["sql"] / with_index[rare]["sql"]
    missed = ratio < TARGET_RATIO
    print(f"\nPlan avec l'index ({rare}) :\n{with_index[rare]['plan']}")
    print(f"Plan sans l'index ({rare}) :\n{without_index[rare]['plan']}")
    verdict = "MANQUÉ" if missed else "atteint"
    print(f"\nObjectif : l'index rend le mot rare ≥ {TARGET_RATIO}× plus rapide : {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
