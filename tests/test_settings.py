"""The production profile: refuses weak secrets, passes `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    clean_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "CONCERTATION_ENV", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "CONCERTATION_ENV": "production",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "ALLOWED_HOSTS": "concertation.example",
    "HOSTING_PROVIDER": "Hébergeur public, 1 rue de l'Exemple, 75000 Paris",
}


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", **PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = run_manage("check", SECRET_KEY="court", **PRODUCTION)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(50), **PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_database_url():
    env = {k: v for k, v in PRODUCTION.items() if k != "DATABASE_URL"}
    result = run_manage("check", SECRET_KEY=secrets.token_urlsafe(50), DATABASE_URL="", **env)
    assert result.returncode != 0
    assert "DATABASE_URL must be set in production" in result.stderr


def test_the_deployment_checklist_asks_for_the_host_of_the_legal_notice():
    env = {**PRODUCTION, "HOSTING_PROVIDER": ""}
    result = run_manage("check", "--deploy", SECRET_KEY=secrets.token_urlsafe(50), **env)
    assert "concertation.W001" in result.stdout + result.stderr


def test_production_keeps_database_connections_open():
    code = "from django.conf import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])"
    result = run_manage("shell", "-c", code, SECRET_KEY=secrets.token_urlsafe(50), **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) > 0


def test_no_migration_is_pending(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
