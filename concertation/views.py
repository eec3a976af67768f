from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from concertation.lib.dashboard import panels_for
from concertation.lib.health import run_checks


def home(request):
    return render(request, "pages/home.html")


def admin_login(request):
    """The admin signs in through the portal's page; someone already signed in
    who is not an agent is told so (the admin would send them back in a loop)."""
    if request.user.is_authenticated and not request.user.is_staff:
        return render(request, "pages/admin_forbidden.html", status=403)
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("account_login") + (f"?{query}" if query else ""))


@login_required
def dashboard(request):
    return render(request, "pages/dashboard.html", {"panels": panels_for(request)})


@never_cache
@require_GET
def healthz(request):
    """Report the state of the database, Redis, the cache, the Celery workers
    and what the apps register (the outbox's backlog, beat's last run).

    Answers in milliseconds: the workers are asked at most every
    HEALTHZ_WORKER_CHECK_SECONDS per process. ``?checks=database,redis``
    limits the report, so that a web container's health does not depend on
    the workers being up.
    """
    wanted = [name for name in request.GET.get("checks", "").split(",") if name]
    healthy, report = run_checks(wanted)
    return JsonResponse({"status": "ok" if healthy else "error", "checks": report}, status=200 if healthy else 503)
