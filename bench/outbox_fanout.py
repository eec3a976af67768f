"""Fan-out of 1,000 e-mails through the outbox, against Django's bare send.

In one run, on the same loopback SMTP server (aiosmtpd in a process of its
own, discarding what it receives):

1. baseline: ``django.core.mail.send_mass_mail`` of 1,000 messages (subject
   and text already written), over one connection, from this process;
2. the same 1,000 messages written to the outbox in one transaction, then
   delivered by a real Celery worker on Redis (prefork, as many processes as
   cores); timed until every row is marked sent;
3. for information, 1,000 e-mails of the portal's own template (text and
   HTML rendered per person by ``emails_queue``), the same way.

Prints the times and the ratio of 2 to 1. Target: at most 1.5.

    .venv/bin/python bench/outbox_fanout.py [--messages 1000] [--concurrency 2]

Needs PostgreSQL (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/concertation_bench, dropped and created
again) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/8, flushed).
"""

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_RATIO = 1.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


def prepare_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/concertation_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    smtp_port = free_port()
    queue = f"bench-outbox-{os.getpid()}"
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
    }
    os.environ.update(env)
    prepare_database(database_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()

    import django

    django.setup()
    from django.core.mail import send_mass_mail
    from django.core.management import call_command
    from django.db import transaction

    from concertation.lib.emails import render_templated_email
    from outbox.models import OutboxMessage
    from outbox.services import Email, dispatch, emails_queue

    def time_delivery(queue_them, count: int) -> float:
        """Seconds from the first row written to the last one marked sent."""
        OutboxMessage.objects.all().delete()
        started = time.perf_counter()
        queue_them()
        while OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).count() < count:
            if time.perf_counter() - started > 300:
                raise SystemExit("the outbox did not deliver within 300 s")
            time.sleep(0.05)
        return time.perf_counter() - started

    call_command("migrate", verbosity=0)
    smtp = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}", "-c", "aiosmtpd.handlers.Sink"],
        cwd=ROOT,
    )
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
    try:
        wait_for_port(smtp_port)
        from concertation.celery import app

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1):
            if time.monotonic() > deadline:
                raise SystemExit("the Celery worker did not answer")

        addresses = [f"personne{n}@ville.example" for n in range(args.messages)]
        context = {"network": {"name": "Réseau Alpha"}, "link": "https://concertation.example/tableau-de-bord/"}
        rendered = render_templated_email("membership_added", context)

        # 1. The bare send: the text already written, one connection, this process.
        datatuple = [(rendered.subject, rendered.text, None, [address]) for address in addresses]
        started = time.perf_counter()
        assert send_mass_mail(datatuple) == args.messages
        bare = time.perf_counter() - started

        # 2. The same messages through the outbox: rows, Celery, claims, SMTP, statuses.
        def same_messages():
            with transaction.atomic():
                rows = OutboxMessage.objects.bulk_create(
                    OutboxMessage(kind="bench", to_email=address, subject=rendered.subject, body_text=rendered.text)
                    for address in addresses
                )
                transaction.on_commit(lambda: dispatch([row.pk for row in rows]))

        same = time_delivery(same_messages, args.messages)

        # 3. The portal's own e-mail: template rendered (text and HTML) for each person.
        def portal_messages():
            with transaction.atomic():
                emails_queue(Email(to=address, template="membership_added", context=context) for address in addresses)

        portal = time_delivery(portal_messages, args.messages)
    finally:
        worker.terminate()
        smtp.terminate()
        worker.wait(timeout=30)
        smtp.wait(timeout=10)

    ratio = same / bare
    print(f"{args.messages} e-mails, SMTP on loopback (aiosmtpd), Celery worker prefork x{args.concurrency}")
    print(f"  bare send_mass_mail, one connection:         {bare:6.2f} s  ({args.messages / bare:,.0f}/s)")
    print(f"  same messages through the outbox:            {same:6.2f} s  ({args.messages / same:,.0f}/s)")
    print(f"  portal template (text + HTML) via outbox:    {portal:6.2f} s  ({args.messages / portal:,.0f}/s)")
    print(f"  ratio outbox / bare: {ratio:.2f} (target at most {TARGET_RATIO})")
    sys.exit(0 if ratio <= TARGET_RATIO else 1)


if __name__ == "__main__":
    main()
