"""Real components for the end-to-end tests: an SMTP server on loopback and
a Celery worker process consuming from Redis and writing to the test database."""

import asyncio
import email
import email.policy
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from email.message import EmailMessage as Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


class MailCatcher:
    """aiosmtpd handler keeping every delivered message. It can refuse
    addresses for good (550) and take its time over each message."""

    def __init__(self):
        self.messages: list[Message] = []
        self.refused: set[str] = set()
        self.delay_seconds = 0.0
        self._lock = threading.Lock()

    def reset(self):
        with self._lock:
            self.messages.clear()
        self.refused.clear()
        self.delay_seconds = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def delivered_to(self, recipient: str) -> list[Message]:
        with self._lock:
            return [message for message in self.messages if recipient in message.get("To", "")]

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def wait_for(self, recipient: str, timeout: float = 30) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := self.delivered_to(recipient):
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"no e-mail delivered to {recipient} within {timeout} s")

    def wait_for_count(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= count:
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.count()} e-mails delivered within {timeout} s, {count} expected")


class SmtpServer:
    """An SMTP server on a fixed loopback port that can go down and come back."""

    def __init__(self):
        self.handler = MailCatcher()
        self.hostname, self.port = "127.0.0.1", _free_port()
        self._controller = None

    def start(self):
        self._controller = Controller(self.handler, hostname=self.hostname, port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def start_worker(smtp_server, **extra_env) -> subprocess.Popen:
    """A `celery worker` process on the test database, Redis and the SMTP
    server, answering a ping before this returns."""
    if not settings.REDIS_URL:
        pytest.fail("REDIS_URL must point at a running Redis server for the worker tests (see README).")
    from concertation.celery import app

    database = connection.settings_dict
    node = f"test-{uuid.uuid4().hex[:8]}@%h"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "concertation.settings",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp_server.hostname,
        "EMAIL_PORT": str(smtp_server.port),
        "PORTAL_BASE_URL": "http://testserver",
        **extra_env,
    }
    if database["ENGINE"].endswith("postgresql"):
        host, port = database["HOST"] or "127.0.0.1", database["PORT"] or 5432
        env["DATABASE_URL"] = f"postgres://{database['USER']}@{host}:{port}/{database['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{database['NAME']}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.worker_app",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "-n",
            node,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )
    hostname = node.replace("%h", socket.gethostname())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited with code {process.returncode}")
        if app.control.ping(destination=[hostname], timeout=1):
            return process
    process.kill()
    pytest.fail("the Celery worker did not answer within 60 s")


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, smtp_server):
    process = start_worker(smtp_server)
    yield process
    stop_worker(process)


@pytest.fixture
def real_worker(celery_worker_process, smtp_server, transactional_db):
    """Tasks go to Redis and the worker process; mail goes to the SMTP server."""
    from concertation.celery import app

    smtp_server.handler.reset()
    app.conf.task_always_eager = False
    yield smtp_server.handler
    app.conf.task_always_eager = True
