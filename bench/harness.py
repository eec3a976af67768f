"""What the e-mail benchmarks share: a fresh database and Redis, an SMTP
server on loopback in a process of its own that counts what it accepts and
discards it, and a real Celery worker (prefork) on Redis.

PostgreSQL: BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/concertation_bench (dropped and created
again). Redis: BENCH_REDIS_URL, default redis://127.0.0.1:6379/8 (flushed).
"""

import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
# The e-mails through the portal may take at most this many times Django's bare send.
TARGET_RATIO = 1.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.05) -> None:
    """Polls ``condition`` until true; exits, saying ``what`` was awaited, after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def wait_for_port(port: int, timeout: float = 20) -> None:
    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, timeout=timeout, what=f"something listening on port {port}", interval=0.1)


def prepare_database(url: str) -> None:
    """Drops the database of ``url`` and creates it again, empty."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def build_env(*, queue: str, smtp_port: int, **extra: str) -> dict[str, str]:
    """This process's environment with the benchmark's settings: the database and Redis of
    BENCH_DATABASE_URL and BENCH_REDIS_URL, tasks on ``queue``, e-mail by SMTP to ``smtp_port``
    on loopback; ``extra`` variables last."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "concertation.settings",
        "DEBUG": "false",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/concertation_bench"),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        **extra,
    }


def use_env(env: dict[str, str]) -> None:
    """Sets ``env`` in this process, before Django starts; empties its database (dropped and created
    again) and its Redis database (flushed)."""
    import redis

    os.environ.update(env)
    prepare_database(env["DATABASE_URL"])
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()


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


class Accepted:
    """What the SMTP server has accepted so far, as its process counts it: messages and bytes."""

    def __init__(self, context):
        self.count, self.size = context.Value("l", 0), context.Value("q", 0)

    @property
    def messages(self) -> int:
        return self.count.value

    @property
    def bytes(self) -> int:
        return self.size.value

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value, self.size.value = 0, 0

    def seconds_to(self, count: int, started: float, timeout: float = 600) -> float:
        """Seconds from ``started`` (``time.perf_counter``) to the ``count``-th message accepted."""
        while self.count.value < count:
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"{self.count.value} of {count} e-mails accepted within {timeout:.0f} s")
            time.sleep(0.01)
        return time.perf_counter() - started


def start_smtp(port: int) -> tuple[multiprocessing.Process, Accepted]:
    """Starts the SMTP server on ``port`` in a process of its own (spawned: it inherits nothing of
    this one); returns the process and its counters. ``wait_ready`` waits for it to listen."""
    spawn = multiprocessing.get_context("spawn")
    accepted = Accepted(spawn)
    smtp = spawn.Process(target=serve_smtp, args=(port, accepted.count, accepted.size), daemon=True)
    smtp.start()
    return smtp, accepted


def start_worker(env: dict[str, str], *, queue: str, concurrency: int) -> subprocess.Popen:
    """Starts a Celery worker process (prefork, ``concurrency`` processes) that takes the tasks of ``queue``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "concertation",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )


def wait_ready(smtp_port: int) -> None:
    """Waits for the SMTP server to listen and for the worker to answer (Django set up)."""
    from concertation.celery import app

    wait_for_port(smtp_port)
    wait_until(lambda: app.control.ping(timeout=1), timeout=60, what="an answer from the Celery worker", interval=0)


def stop(worker: subprocess.Popen, smtp: multiprocessing.Process) -> None:
    worker.terminate()
    smtp.terminate()
    worker.wait(timeout=30)
    smtp.join(timeout=10)
