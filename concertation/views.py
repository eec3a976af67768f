from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from concertation.lib.dashboard import panels_for
from concertation.lib.health import run_checks
from concertation.lib.search import SEARCH_MAX_LENGTH, clean_query, search_all


def home(request):
    return render(request, "pages/home.html")


def admin_login(request):
    """The admin signs in through the portal's page; someone already signed in
    who is not an agent is told so (the admin would send them back in a loop)."""
    if request.user.is_authenticated and not request.user.is_staff:
        return render(request, "pages/admin_forbidden.html", status=403)
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("account_login") + (f"?{query}" if query else ""))


def _sitemap_sections(user) -> list[dict]:
    """The portal's pages grouped like the main menu, each listed only for those
    who may open it (the same permissions as the views ask)."""
    signed_in = user.is_authenticated
    inside = signed_in and user.has_perm("networks.read_inside")
    groups = signed_in and user.has_perm("workgroups.read_groups")

    def page(label, name, condition=True, description=""):
        if not condition:
            return None
        try:
            return {"label": label, "url": reverse(name), "description": description}
        except NoReverseMatch:  # a page this deployment does not serve
            return None

    sections = [
        (
            _("Accueil et recherche"),
            [
                page(_("Accueil"), "home"),
                page(_("Rechercher"), "search", description=_("Rechercher dans les pages du portail.")),
            ],
        ),
        (
            _("La feuille de route"),
            [
                page(
                    _("Mesures"),
                    "measures:list",
                    settings.PUBLIC_ROADMAP or signed_in,
                    _("Les mesures de la feuille de route et leur état d'avancement."),
                ),
                page(_("Consultations"), "measures:round_list", inside, _("Les consultations des réseaux.")),
                page(
                    _("Retours de terrain"),
                    "measures:feedback_list",
                    inside,
                    _("Les retours transmis par les réseaux."),
                ),
                page(_("Synthèse"), "measures:synthesis", inside, _("La synthèse des retours, avec sa carte.")),
            ],
        ),
        (
            _("Groupes de travail"),
            [
                page(_("Groupes de travail"), "workgroups:group_list", groups),
                page(_("Séances"), "workgroups:session_list", groups),
                page(
                    _("Comptes rendus"),
                    "workgroups:minutes_list",
                    description=_("Les comptes rendus publiés des séances."),
                ),
                page(
                    _("Mon agenda"),
                    "workgroups:calendar_settings",
                    groups,
                    _("L'adresse de votre agenda personnel des séances."),
                ),
                page(
                    _("Présences par réseau"),
                    "workgroups:attendance_by_network",
                    signed_in and user.has_perm("workgroups.read_attendance_by_network"),
                ),
            ],
        ),
        (
            _("Réseaux"),
            [page(_("Les réseaux consultés"), "networks:list", description=_("L'annuaire des réseaux d'acteurs."))],
        ),
        (
            _("Mon espace") if signed_in else _("Connexion"),
            [
                page(_("Mon tableau de bord"), "dashboard", signed_in),
                page(_("Changer mon mot de passe"), "account_change_password", signed_in),
                page(_("Se connecter"), "account_login", not signed_in),
                page(_("Mot de passe oublié"), "account_reset_password", not signed_in),
            ],
        ),
        (
            _("Administration"),
            [page(_("Administration du portail"), "admin:index", signed_in and user.is_staff)],
        ),
        (
            _("Informations sur le site"),
            [
                page(_("Déclaration d’accessibilité"), "accessibility"),
                page(_("Mentions légales"), "legal_notice"),
                page(_("Données personnelles"), "personal_data"),
                page(_("Plan du site"), "sitemap"),
            ],
        ),
    ]
    return [
        {"title": title, "pages": [entry for entry in entries if entry]} for title, entries in sections if any(entries)
    ]


def sitemap(request):
    """Plan du site: every page a visitor may open, grouped like the menu."""
    return render(request, "pages/sitemap.html", {"sections": _sitemap_sections(request.user)})


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


@require_GET
def search(request):
    """The site search: each kind of content the person may see (measures,
    feedback, minutes: registered by the apps in ``concertation.lib.search``),
    with its count, its first results and a link to its own filtered list."""
    asked = " ".join(request.GET.get("q", "").split())
    q = clean_query(asked)
    groups = search_all(request, q) if q else []
    return render(
        request,
        "pages/search.html",
        {
            "q": q,
            "too_long": len(asked) > SEARCH_MAX_LENGTH,
            "groups": groups,
            "total": sum(group.results.count for group in groups),
            "max_length": SEARCH_MAX_LENGTH,
        },
    )


def personal_data(request):
    """The « données personnelles » page, with the durations the code applies (from settings)."""
    return render(
        request,
        "pages/personal_data.html",
        {
            "invitation_max_age_days": settings.INVITATION_MAX_AGE_DAYS,
            "inactive_account_days": settings.INACTIVE_ACCOUNT_DAYS,
            "session_answer_link_max_age_days": settings.SESSION_ANSWER_LINK_MAX_AGE_DAYS,
            "audit_retention_days": settings.AUDIT_RETENTION_DAYS,
        },
    )
