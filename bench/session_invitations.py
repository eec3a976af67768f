"""Inviting a session of 1,000 people, against Django's bare send of as many.

In one run, on the same loopback SMTP server (aiosmtpd in a process of its
own, counting what it accepts and discarding it; see ``bench/harness.py``):

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

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL: see
``bench/harness.py``); both are emptied first.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

TARGET_REQUEST_SECONDS = 1.0
NETWORKS = 5
WARM_UP_PEOPLE = 120


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1000)
    # As docker/entrypoint.sh runs it: one process more than cores.
    parser.add_argument("--concurrency", type=int, default=(os.cpu_count() or 2) + 1)
    args = parser.parse_args()

    smtp_port = harness.free_port()
    queue = f"bench-sessions-{os.getpid()}"
    env = harness.build_env(queue=queue, smtp_port=smtp_port, PORTAL_BASE_URL="https://concertation.example")
    harness.use_env(env)
    # The SMTP server's process starts before Django: nothing of it is inherited.
    smtp, accepted = harness.start_smtp(smtp_port)

    import django

    django.setup()
    from django.core.mail import get_connection
    from django.core.management import call_command

    from outbox.delivery import as_email_message
    from outbox.models import OutboxMessage
    from workgroups import services

    call_command("migrate", verbosity=0)
    worker = harness.start_worker(env, queue=queue, concurrency=args.concurrency)

    def invite(session, lead, people: int) -> tuple[float, float]:
        """The lead's click: (request seconds, seconds to the last e-mail accepted)."""
        accepted.reset()
        started = time.perf_counter()
        services.session_invite_group(session=session, by=lead)
        request = time.perf_counter() - started
        return request, accepted.seconds_to(people, started)

    try:
        harness.wait_ready(smtp_port)

        lead, warm_up, session = _sessions(args.people)

        warm_request, warm_total = invite(warm_up, lead, WARM_UP_PEOPLE)

        # 1. The lead's click, to the last invitation accepted by the SMTP server.
        request, portal = invite(session, lead, args.people)
        portal_bytes = accepted.bytes
        _wait_all_marked_sent(args.people)

        # 2. The bare send of the same e-mails, from this process, over one connection.
        rows = list(
            OutboxMessage.objects.filter(kind="session_invitation", to_email__startswith="personne").order_by("pk")
        )
        assert len(rows) == args.people
        accepted.reset()
        started = time.perf_counter()
        connection = get_connection()
        # The outbox's own MIME building (text, HTML, calendar part): the same bytes on the wire.
        assert connection.send_messages([as_email_message(row, connection) for row in rows]) == args.people
        bare = accepted.seconds_to(args.people, started)
        bare_bytes = accepted.bytes
    finally:
        harness.stop(worker, smtp)

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
    print(f"  ratio invitation / bare: {ratio:.2f} (target at most {harness.TARGET_RATIO})")
    print(
        f"  lead's request (session_invite_group): {request * 1000:.0f} ms "
        f"(target under {TARGET_REQUEST_SECONDS:.0f} s)"
    )
    sys.exit(0 if ratio <= harness.TARGET_RATIO and request < TARGET_REQUEST_SECONDS else 1)


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

    sent = OutboxMessage.objects.filter(
        kind="session_invitation", status=OutboxMessage.Status.SENT, to_email__startswith="personne"
    )
    harness.wait_until(lambda: sent.count() >= people, timeout=60, what="the outbox rows all marked sent")


if __name__ == "__main__":
    main()
