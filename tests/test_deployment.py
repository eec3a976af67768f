"""The container stack as written in docker-compose.yml (no engine runs here)."""

import re
from pathlib import Path

import pytest
import yaml
from django.urls import resolve

from tests.test_settings import production, run_manage

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_ENV = SERVICES["web"]["environment"]


def interpolated(value: str, env: dict[str, str]) -> str:
    """docker-compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, for the values used here."""

    def replace(match):
        name, operator, default = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        assert operator != ":?", f"{name} is required"
        return default

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", replace, str(value))


def test_the_stack_has_every_service():
    assert set(SERVICES) == {"db", "redis", "cache", "web", "worker", "beat", "mailpit"}


def test_web_and_worker_report_their_health():
    web_check = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "/healthz?checks=database,redis" in web_check
    assert resolve("/healthz").url_name == "healthz"
    assert "inspect ping" in " ".join(SERVICES["worker"]["healthcheck"]["test"])


def test_the_apps_wait_for_healthy_database_and_redis():
    for name in ("web", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_web_and_workers_share_the_media_volume_and_can_scale():
    for name in ("web", "worker", "beat"):
        assert "media:/data/media" in SERVICES[name]["volumes"]
        assert "container_name" not in SERVICES[name]
    assert "media" in COMPOSE["volumes"]


def test_the_apps_run_the_production_profile():
    environment = SERVICES["web"]["environment"]
    assert environment["CONCERTATION_ENV"] == "production"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert environment["REDIS_URL"].startswith("redis://redis:")
    assert environment["DATABASE_URL"].startswith("postgres://")


def test_the_page_cache_is_a_bounded_redis_apart_from_the_broker():
    cache = " ".join(SERVICES["cache"]["command"])
    assert "--maxmemory ${CACHE_MAXMEMORY:-256mb}" in cache
    assert "--maxmemory-policy allkeys-lru" in cache
    assert "--appendonly no" in cache
    assert "volumes" not in SERVICES["cache"]
    broker = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in broker
    assert "--maxmemory-policy noeviction" in broker
    assert APP_ENV["CACHE_URL"] == "redis://cache:6379/0"
    assert APP_ENV["REDIS_URL"] == "redis://redis:6379/0"


def test_every_email_setting_comes_from_the_environment_with_mailpit_by_default():
    for name in (
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "EMAIL_USE_SSL",
        "EMAIL_TIMEOUT",
        "DEFAULT_FROM_EMAIL",
        "CONTACT_EMAIL",
        "DPO_EMAIL",
    ):
        assert str(APP_ENV[name]).startswith("${" + name + ":-"), name
    assert interpolated(APP_ENV["EMAIL_HOST"], {}) == "mailpit"
    assert interpolated(APP_ENV["EMAIL_PORT"], {}) == "1025"
    assert interpolated(APP_ENV["EMAIL_HOST"], {"EMAIL_HOST": "smtp.agence.gouv.fr"}) == "smtp.agence.gouv.fr"


def test_beat_keeps_its_schedule_on_a_volume():
    assert "beat-data:/data/beat" in SERVICES["beat"]["volumes"]
    assert "beat-data" in COMPOSE["volumes"]
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert "/data/beat/celerybeat-schedule" in entrypoint
    assert "/tmp/" not in entrypoint
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "mkdir -p /data/media /data/beat" in dockerfile
    assert "chown app:app /data/media /data/beat" in dockerfile


def compose_environment(**user_env) -> dict[str, str]:
    return {name: interpolated(value, user_env) for name, value in APP_ENV.items()}


def test_the_stack_starts_as_a_local_trial_only_when_asked():
    secret = production()["SECRET_KEY"]
    stack = compose_environment(SECRET_KEY=secret)
    refused = run_manage("check", **stack)
    assert refused.returncode != 0
    assert "PORTAL_BASE_URL='http://localhost:8000' must start with https://" in refused.stderr
    assert run_manage("check", **compose_environment(SECRET_KEY=secret, LOCAL_TRIAL="true")).returncode == 0


def test_the_stack_passes_the_deployment_checklist_with_a_real_environment():
    env = production()
    stack = compose_environment(
        **{name: env[name] for name in ("SECRET_KEY", "PORTAL_BASE_URL", "DEFAULT_FROM_EMAIL", "CONTACT_EMAIL")},
        DPO_EMAIL=env["DPO_EMAIL"],
        HOSTING_PROVIDER=env["HOSTING_PROVIDER"],
        PORTAL_HOST="concertation.agence-cohesion-territoires.gouv.fr",
        SECURE_SSL_REDIRECT="true",
        EMAIL_HOST="smtp.agence-cohesion-territoires.gouv.fr",
        EMAIL_PORT="587",
        EMAIL_USE_TLS="true",
    )
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **stack)
    assert result.returncode == 0, result.stdout + result.stderr


class _NoDuplicateKeysLoader(yaml.SafeLoader):
    """Compose v2 refuses a mapping that names a key twice; PyYAML (and compose v1) keep the last one silently."""

    def construct_mapping(self, node, deep=False):
        # Merge keys (<<: *anchor) may be overridden on purpose: only the keys written here count.
        keys = [key.value for key, _value in node.value if key.tag != "tag:yaml.org,2002:merge"]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        assert not duplicates, f"line {node.start_mark.line + 1}: keys named twice: {duplicates}"
        return super().construct_mapping(node, deep=deep)


def test_the_compose_file_names_each_key_once():
    yaml.load((ROOT / "docker-compose.yml").read_text(), Loader=_NoDuplicateKeysLoader)  # noqa: S506 - a SafeLoader subclass
    twice = "ACCESSIBILITY_STATUS: x\nACCESSIBILITY_STATUS: y\n"
    with pytest.raises(AssertionError, match="ACCESSIBILITY_STATUS"):
        yaml.load(twice, Loader=_NoDuplicateKeysLoader)  # noqa: S506
