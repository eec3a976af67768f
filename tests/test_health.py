import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_reports_the_database_and_redis(client, settings):
    response = client.get(reverse("healthz") + "?checks=database,redis")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["redis"] == ("ok" if settings.REDIS_URL else "not configured")


def test_it_answers_503_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz") + "?checks=redis")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "checks": {"redis": "error: ConnectionError"}}


def test_celery_is_reported_in_process_when_tasks_run_eagerly(client):
    assert client.get(reverse("healthz") + "?checks=celery").json()["checks"]["celery"] == "in-process"


@pytest.mark.worker
def test_it_sees_a_running_worker(client, real_worker):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["celery"].startswith("ok (")
