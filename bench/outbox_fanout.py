"""Fan-out of 1,000 e-mails through the outbox, against Django's bare send.

In one run, on the same loopback SMTP server (aiosmtpd in a process of its
own, counting what it accepts and discarding it; see ``bench/harness.py``):

1. baseline: ``django.core.mail.send_mass_mail`` of 1,000 messages (subject
   and text already written), over one connection, from this process;
2. the same 1,000 messages written to the outbox in one transaction, then
   delivered by a real Celery worker on Redis (prefork, as many processes as
   cores); timed until every row is marked sent;
3. for information, 1,000 e-mails of the portal's own template (text and
   HTML rendered per person by ``emails_queue``), the same way.

Prints the times and the ratio of 2 to 1. Target: at most 1.5.

    .venv/bin/python bench/outbox_fanout.py [--messages 1000] [--concurrency 2]

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL: see
``bench/harness.py``); both are emptied first.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    smtp_port = harness.free_port()
    queue = f"bench-outbox-{os.getpid()}"
    env = harness.build_env(queue=queue, smtp_port=smtp_port)
    harness.use_env(env)
    smtp, _accepted = harness.start_smtp(smtp_port)

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
        sent = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT)
        harness.wait_until(lambda: sent.count() >= count, timeout=300, what="the outbox delivering every message")
        return time.perf_counter() - started

    call_command("migrate", verbosity=0)
    worker = harness.start_worker(env, queue=queue, concurrency=args.concurrency)
    try:
        harness.wait_ready(smtp_port)

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
        harness.stop(worker, smtp)

    ratio = same / bare
    print(f"{args.messages} e-mails, SMTP on loopback (aiosmtpd), Celery worker prefork x{args.concurrency}")
    print(f"  bare send_mass_mail, one connection:         {bare:6.2f} s  ({args.messages / bare:,.0f}/s)")
    print(f"  same messages through the outbox:            {same:6.2f} s  ({args.messages / same:,.0f}/s)")
    print(f"  portal template (text + HTML) via outbox:    {portal:6.2f} s  ({args.messages / portal:,.0f}/s)")
    print(f"  ratio outbox / bare: {ratio:.2f} (target at most {harness.TARGET_RATIO})")
    sys.exit(0 if ratio <= harness.TARGET_RATIO else 1)


if __name__ == "__main__":
    main()
