"""The container stack as written in docker-compose.yml (no engine runs here)."""

from pathlib import Path

import yaml
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_stack_has_every_service():
    assert set(SERVICES) == {"db", "redis", "web", "worker", "beat", "mailpit"}


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
