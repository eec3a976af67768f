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
        if k not in {"SECRET_KEY", "DEBUG", "CONCERTATION_ENV", "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_URL", "LOCAL_TRIAL"}
        and not k.startswith("EMAIL_")
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
    "PORTAL_BASE_URL": "https://concertation.agence-cohesion-territoires.gouv.fr",
    "DEFAULT_FROM_EMAIL": "Concertation <ne-pas-repondre@agence-cohesion-territoires.gouv.fr>",
    "CONTACT_EMAIL": "concertation@agence-cohesion-territoires.gouv.fr",
    "DPO_EMAIL": "dpd@agence-cohesion-territoires.gouv.fr",
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


def production(**changes):
    return {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50), **changes}


def setting(name: str, **env) -> str:
    result = run_manage("shell", "-c", f"from django.conf import settings; print(settings.{name})", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_refuses_an_http_base_url():
    result = run_manage(
        "check", **production(PORTAL_BASE_URL="http://concertation.agence-cohesion-territoires.gouv.fr")
    )
    assert result.returncode != 0
    assert "PORTAL_BASE_URL='http://concertation.agence-cohesion-territoires.gouv.fr' must start with https://" in (
        result.stderr
    )


def test_production_refuses_a_base_url_on_this_machine():
    for url in ("https://localhost:8000", "https://127.0.0.1", "https://[::1]:8443", "https://portail.localhost"):
        result = run_manage("check", **production(PORTAL_BASE_URL=url))
        assert result.returncode != 0, url
        assert "must be the portal's public address, not this machine's" in result.stderr, url


def test_production_refuses_placeholder_addresses():
    result = run_manage(
        "check",
        **production(
            DEFAULT_FROM_EMAIL="Concertation <ne-pas-repondre@concertation.example>",
            CONTACT_EMAIL="contact@example.org",
            DPO_EMAIL="dpo@services.example.com",
        ),
    )
    assert result.returncode != 0
    for name in ("DEFAULT_FROM_EMAIL", "CONTACT_EMAIL", "DPO_EMAIL"):
        assert f"{name}=" in result.stderr
    assert "must be a real address, not a placeholder" in result.stderr
    assert "LOCAL_TRIAL=true" in result.stderr


def test_production_refuses_the_default_addresses_when_none_is_given():
    env = {k: v for k, v in production().items() if k not in {"DEFAULT_FROM_EMAIL", "CONTACT_EMAIL", "DPO_EMAIL"}}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "DEFAULT_FROM_EMAIL='Concertation <ne-pas-repondre@concertation.example>'" in result.stderr


def test_production_refuses_to_send_its_mail_into_the_trial_catcher():
    result = run_manage("check", **production(EMAIL_HOST="mailpit"))
    assert result.returncode != 0
    assert "EMAIL_HOST='mailpit' is a trial mail catcher, not a relay" in result.stderr


def test_a_local_trial_starts_with_placeholders_but_fails_the_deployment_checklist():
    trial = production(
        LOCAL_TRIAL="true", PORTAL_BASE_URL="http://localhost:8000", DEFAULT_FROM_EMAIL="", CONTACT_EMAIL=""
    )
    assert run_manage("check", **trial).returncode == 0
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **trial)
    assert result.returncode != 0
    assert "concertation.W002" in result.stdout + result.stderr


def test_the_cache_has_a_redis_database_of_its_own():
    assert setting("CACHES['default']['LOCATION']", **production(REDIS_URL="redis://broker:6379/3")) == (
        "redis://broker:6379/4"
    )
    assert setting("CACHES['default']['BACKEND']", **production()) == "concertation.lib.cache.FailOpenRedisCache"
    assert setting("CACHES['default']['LOCATION']", **production(CACHE_URL="redis://cache:6379/0")) == (
        "redis://cache:6379/0"
    )


def test_the_cache_may_not_share_the_brokers_database():
    result = run_manage("check", **production(REDIS_URL="redis://redis:6379/0", CACHE_URL="redis://REDIS:6379"))
    assert result.returncode != 0
    assert "CACHE_URL must not name the Celery broker's Redis database" in result.stderr


def test_email_tls_and_ssl_are_exclusive():
    result = run_manage("check", **production(EMAIL_USE_TLS="true", EMAIL_USE_SSL="true"))
    assert result.returncode != 0
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive" in result.stderr
    assert setting("EMAIL_USE_SSL", **production(EMAIL_USE_SSL="true", EMAIL_PORT="465")) == "True"


def test_the_brokers_visibility_timeout_outlasts_the_longest_task(settings):
    # The longest task: an outbox batch, each message (and the connection) allowed EMAIL_TIMEOUT.
    longest = (settings.OUTBOX_BATCH_SIZE + 1) * settings.EMAIL_TIMEOUT
    assert longest < settings.CELERY_TASK_TIME_LIMIT < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] < 3600  # Kombu's default hour
    env = production(EMAIL_TIMEOUT="60", OUTBOX_BATCH_SIZE="100")
    limit = int(setting("CELERY_TASK_TIME_LIMIT", **env))
    assert limit > 101 * 60
    assert int(setting("CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']", **env)) > limit
