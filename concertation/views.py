import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from concertation.celery import app as celery_app
from concertation.lib.dashboard import panels_for

logger = logging.getLogger(__name__)


def home(request):
    return render(request, "pages/home.html")


@login_required
def dashboard(request):
    return render(request, "pages/dashboard.html", {"panels": panels_for(request)})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    client.ping()
    return "ok"


def _check_celery() -> str:
    if celery_app.conf.task_always_eager:
        return "in-process"
    replies = celery_app.control.ping(timeout=1.5)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return f"ok ({len(replies)} worker(s))"


HEALTH_CHECKS = {"database": _check_database, "redis": _check_redis, "celery": _check_celery}


@never_cache
@require_GET
def healthz(request):
    """Report the state of the database, Redis and the Celery workers.

    ``?checks=database,redis`` limits the report, so that a web container's
    health does not depend on the workers being up.
    """
    wanted = [name for name in request.GET.get("checks", "").split(",") if name in HEALTH_CHECKS]
    report, healthy = {}, True
    for name in wanted or HEALTH_CHECKS:
        try:
            report[name] = HEALTH_CHECKS[name]()
        except Exception as exc:  # noqa: BLE001 - any failure is the answer here
            logger.warning("health check %s failed: %s", name, exc)
            report[name] = f"error: {exc.__class__.__name__}"
            healthy = False
    return JsonResponse({"status": "ok" if healthy else "error", "checks": report}, status=200 if healthy else 503)
