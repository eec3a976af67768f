"""Inviting a session of 1,000 people, against Django's bare send of as many.

In one run, on the same loopback SMTP server (aiosmtpd in a process of its
own, counting what it accepts and discarding it):

1. the lead's click: ``workgroups.services.session_invite_group`` called as
   the view calls it, for a session whose group gathers 1,000 active members
   of five networks; timed until it returns (target: under 1 s), then until
   the SMTP server has accepted the 1,000th invitation, delivered by a real
   Celery worker on Redis (prefork, one process more than cores, as in
   docker/entrypoint.sh): the fan-out
   task (invitation rows, e-mails rendered, calendar files, outbox rows) and
   the outbox batches;
2. baseline: the same 1,000 e-mails (subject, text, HTML and calendar file
   of the outbox rows of step 1, built into ``EmailMultiAlternatives`` as the
   outbox does) sent from this process over one connection.
   ``send_mass_mail`` carries neither HTML nor attachments, so this is
   ``connection.send_messages``, which is what ``send_mass_mail`` does
   underneath.

Before timing, a 120-person session is invited the same way, so that the
worker's processes have loaded their templates and code, as they have in
service. Prints the times, the ratio of 1 to 2 (target: at most 1.5) and the
lead's request time.

    .venv/bin/python bench/session_invitations.py [--people 1000] [--concurrency cores+1]

Needs PostgreSQL (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/concertation_bench, dropped and created
again) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/8, flushed).
"""

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.outbox_fanout import TARGET_RATIO, free_port, prepare_database, wait_for_port  # noqa: E402

TARGET_REQUEST_SECONDS = 1.0
NETWORKS = 5
WARM_UP_PEOPLE = 120


class CountingSink:
    """aiosmtpd handler: accepts and discards, counting messages and bytes."""

    def __init__(self, count, size):
        self.count, self.size = count, size

    async def handle_DATA(self, server, session, envelope):
        with self.count.get_lock():
            self.count.value += 1
            self.size.value += len(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def serve_smtp(port, count, size) -> None:
    """The SMTP server's process."""
    from aiosmtpd.controller import Controller

    controller = Controller(CountingSink(count, size), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1000)
    # As docker/entrypoint.sh runs it: one process more than cores.
    parser.add_argument("--concurrency", type=int, default=(os.cpu_count() or 2) + 1)
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/concertation_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    smtp_port = free_port()
    queue = f"bench-sessions-{os.getpid()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "concertation.settings",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "PORTAL_BASE_URL": "https://concertation.example",
    }
    os.environ.update(env)
    prepare_database(database_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()

    # The SMTP server's process starts before Django: nothing of it is inherited.
    spawn = multiprocessing.get_context("spawn")
    accepted, accepted_bytes = spawn.Value("l", 0), spawn.Value("q", 0)
    smtp = spawn.Process(target=serve_smtp, args=(smtp_port, accepted, accepted_bytes), daemon=True)
    smtp.start()

    import django

    django.setup()
    from django.core.mail import get_connection
    from django.core.management import call_command

    from outbox.delivery import as_email_message
    from outbox.models import OutboxMessage
    from workgroups import services

    call_command("migrate", verbosity=0)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "concertation",
            "worker",
            "--pool=prefork",
            f"--concurrency={args.concurrency}",
            "--loglevel=WARNING",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )

    def reset_counter() -> None:
        with accepted.get_lock():
            accepted.value, accepted_bytes.value = 0, 0

    def wait_accepted(count: int, started: float) -> float:
        """Seconds from ``started`` to the SMTP server's ``count``-th acceptance."""
        while accepted.value < count:
            if time.perf_counter() - started > 600:
                raise SystemExit(f"{accepted.value} of {count} e-mails accepted within 600 s")
            time.sleep(0.01)
        return time.perf_counter() - started

    def invite(session, lead, people: int) -> tuple[float, float]:
        """The lead's click: (request seconds, seconds to the last e-mail accepted)."""
        reset_counter()
        started = time.perf_counter()
        services.session_invite_group(session=session, by=lead)
        request = time.perf_counter() - started
        return request, wait_accepted(people, started)

    try:
        wait_for_port(smtp_port)
        from concertation.celery import app

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1):
            if time.monotonic() > deadline:
                raise SystemExit("the Celery worker did not answer")

        lead, warm_up, session = _sessions(args.people)

        warm_request, warm_total = invite(warm_up, lead, WARM_UP_PEOPLE)

        # 1. The lead's click, to the last invitation accepted by the SMTP server.
        request, portal = invite(session, lead, args.people)
        portal_bytes = accepted_bytes.value
        _wait_all_marked_sent(args.people)

        # 2. The bare send of the same e-mails, from this process, over one connection.
        rows = list(
            OutboxMessage.objects.filter(kind="session_invitation", to_email__startswith="personne").order_by("pk")
        )
        assert len(rows) == args.people
        reset_counter()
        started = time.perf_counter()
        connection = get_connection()
        # The outbox's own MIME building (text, HTML, calendar part): the same bytes on the wire.
        assert connection.send_messages([as_email_message(row, connection) for row in rows]) == args.people
        bare = wait_accepted(args.people, started)
        bare_bytes = accepted_bytes.value
    finally:
        worker.terminate()
        smtp.terminate()
        worker.wait(timeout=30)
        smtp.join(timeout=10)

    ratio = portal / bare
    ics = len(rows[0].attachments[0]["content"]) * 3 // 4
    print(
        f"{args.people} people in {NETWORKS} networks, SMTP on loopback (aiosmtpd), "
        f"Celery worker prefork x{args.concurrency}, on {os.cpu_count()} cores"
    )
    print(f"  e-mail: text {len(rows[0].body_text):,} + HTML {len(rows[0].body_html):,} characters, ICS {ics:,} bytes")
    print(f"  warm-up: {WARM_UP_PEOPLE} people invited in {warm_total:.2f} s (request {warm_request * 1000:.0f} ms)")
    print(
        f"  lead's click to last invitation accepted:      {portal:6.2f} s  ({args.people / portal:,.0f}/s, "
        f"{portal_bytes / args.people / 1024:.1f} KiB each)"
    )
    print(
        f"  bare send, EmailMultiAlternatives + send_messages (send_mass_mail cannot carry HTML or attachments), "
        f"one connection: {bare:6.2f} s  ({args.people / bare:,.0f}/s, {bare_bytes / args.people / 1024:.1f} KiB each)"
    )
    print(f"  ratio invitation / bare: {ratio:.2f} (target at most {TARGET_RATIO})")
    print(
        f"  lead's request (session_invite_group): {request * 1000:.0f} ms "
        f"(target under {TARGET_REQUEST_SECONDS:.0f} s)"
    )
    sys.exit(0 if ratio <= TARGET_RATIO and request < TARGET_REQUEST_SECONDS else 1)


def _sessions(people: int):
    """A lead; a warm-up session of a small group; a session of a group of
    ``people`` active members spread over five networks. Returns (lead, warm-up, session)."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from networks.models import Membership, Network, User
    from workgroups import services
    from workgroups.models import WorkingGroup

    password = make_password(None)
    lead = User.objects.create(email="animation@anct.example", full_name="Léa Animation", password=password)

    def group_of(title: str, prefix: str, count: int, networks: int) -> WorkingGroup:
        created = Network.objects.bulk_create(
            Network(
                name=f"{title} — réseau {n + 1}",
                acronym=f"{prefix.upper()}{n + 1}",
                slug=f"{prefix}-{n + 1}",
                family=Network.Family.values[0],
            )
            for n in range(networks)
        )
        users = User.objects.bulk_create(
            User(email=f"{prefix}{n}@ville.example", full_name=f"Personne {prefix} {n}", password=password)
            for n in range(count)
        )
        Membership.objects.bulk_create(
            Membership(user=user, network=created[n % networks], role=Membership.Role.REPRESENTATIVE)
            for n, user in enumerate(users)
        )
        group = WorkingGroup.objects.create(title=title, theme="Emploi")
        group.networks.set(created)
        group.leads.add(lead)
        return group

    def session_of(group: WorkingGroup, days: int):
        starts = (timezone.now() + timedelta(days=days)).replace(hour=9, minute=30, second=0, microsecond=0)
        return services.session_create(
            group=group,
            by=lead,
            title="Séance plénière : bilan de la feuille de route",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            format="hybrid",
            place="ANCT, 20 avenue de Ségur, 75007 Paris",
            online_url="https://visio.example/pleniere-2026",
            agenda=(
                {"title": "Ouverture et tour de table", "duration_minutes": 20, "presenter": "Léa Animation"},
                {"title": "Bilan des emplois francs", "duration_minutes": 60},
                {"title": "Quartiers d'été : retours des réseaux", "duration_minutes": 60},
                {"title": "Suites et prochaine séance", "duration_minutes": 20},
            ),
        )

    warm_up = session_of(group_of("Groupe d'échauffement", "echauffement", WARM_UP_PEOPLE, 2), days=20)
    session = session_of(group_of("Plénière des réseaux", "personne", people, NETWORKS), days=30)
    return lead, warm_up, session


def _wait_all_marked_sent(people: int) -> None:
    """Accepted is not yet recorded: wait for the rows, so the baseline runs on a quiet machine."""
    from outbox.models import OutboxMessage

    deadline = time.monotonic() + 60
    sent = OutboxMessage.objects.filter(kind="session_invitation", status=OutboxMessage.Status.SENT)
    while sent.filter(to_email__startswith="personne").count() < people:
        if time.monotonic() > deadline:
            raise SystemExit("the outbox rows were not all marked sent within 60 s")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
