"""Published minutes for their readers: a version's page, its PDF, the list of minutes; action items.

Who reads a version: ``workgroups.read_minutes_version`` (everyone when the
group publishes its minutes, else people who read the groups). Anonymous
visitors are sent to sign in when the minutes are for members only; people
signed in without access get the explanatory 403. Drafts have no address here.
"""

import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from measures.models import Measure
from networks.access import members_only_response
from workgroups import minutes_services
from workgroups.minutes_filters import MinutesFilter
from workgroups.models import ActionItem, MinutesVersion, Session, WorkingGroup

logger = logging.getLogger(__name__)

READ_VERSION = "workgroups.read_minutes_version"
MINUTES_PER_PAGE = 20
LIST_FIELDS = (
    "number",
    "published_at",
    "reason",
    "pdf",
    "pdf_status",
    "minutes__session__title",
    "minutes__session__starts_at",
    "minutes__session__group__title",
    "minutes__session__group__minutes_public",
)
# PostgreSQL's integer: a larger version number is no version, and costs no query.
VERSION_NUMBER_MAX = 2**31 - 1
# A public version's PDF never changes but when staff render it again: shared caches keep it briefly.
PUBLIC_PDF_MAX_AGE = 300
STATUS_MESSAGES = {
    ActionItem.Status.DONE: _("L'action « %(text)s » est marquée comme faite."),
    ActionItem.Status.OPEN: _("L'action « %(text)s » est de nouveau en cours."),
    ActionItem.Status.DROPPED: _("L'action « %(text)s » est marquée comme abandonnée."),
}


def _readers_only(view):
    """A refusal sends anonymous visitors to the sign-in page (members-only
    minutes) and answers others with the page that explains who may read."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            return members_only_response(request)

    return wrapped


def _get_version_for_user(request, pk, number) -> MinutesVersion:
    """A published version of a session's minutes, or 404 (a draft, an unknown
    number, an inactive group for others than staff), or ``PermissionDenied``."""
    if not 0 < number <= VERSION_NUMBER_MAX:
        raise Http404
    version = get_object_or_404(
        MinutesVersion.objects.select_related("minutes__session__group", "published_by"),
        minutes__session_id=pk,
        number=number,
    )
    if not version.minutes.session.group.is_active and not request.user.is_staff:
        raise Http404
    if not request.user.has_perm(READ_VERSION, version):
        raise PermissionDenied
    return version


def _pdf_size(version: MinutesVersion) -> int | None:
    """The stored PDF's size in bytes, or None when the file is missing from the storage."""
    try:
        return version.pdf.size
    except (OSError, ValueError):
        logger.warning("minutes: PDF of version %s is marked ready but missing from the storage", version.pk)
        return None


def _snapshot_rows(version: MinutesVersion, *, live: bool) -> tuple[list[dict], list[dict], list[dict]]:
    """The version's decisions, actions and agenda as frozen, with for members
    each item's status as it stands now (its row, found by ``key``), and for
    every linked measure whether it still exists (a link only then)."""
    frozen = version.snapshot.get("items", [])
    current = {}
    if live and frozen:
        rows = ActionItem.objects.filter(key__in=[item["key"] for item in frozen]).only("key", "status")
        current = {str(row.key): (row.status, row.get_status_display()) for row in rows}
    measure_ids = {item["measure"]["pk"] for item in frozen if item.get("measure")}
    measure_ids |= {item["measure"]["pk"] for item in version.snapshot.get("agenda", []) if item.get("measure")}
    existing = set(Measure.objects.filter(pk__in=measure_ids).values_list("pk", flat=True)) if measure_ids else set()
    decisions, actions = [], []
    for item in frozen:
        row = dict(item)
        row["status"], row["status_label"] = current.get(item["key"], (item["status"], item["status_label"]))
        row["measure_exists"] = bool(item.get("measure")) and item["measure"]["pk"] in existing
        (decisions if item["kind"] == ActionItem.Kind.DECISION else actions).append(row)
    agenda = [
        {**entry, "measure_exists": bool(entry.get("measure")) and entry["measure"]["pk"] in existing}
        for entry in version.snapshot.get("agenda", [])
    ]
    return decisions, actions, agenda


@require_safe
@_readers_only
def minutes_version(request, pk, number):
    version = _get_version_for_user(request, pk, number)
    user = request.user
    session = version.minutes.session
    versions = list(
        version.minutes.versions.order_by("-number").only("pk", "minutes_id", "number", "published_at", "reason")
    )
    latest = versions[0]
    for other in versions:
        other.superseded_by = other.number + 1 if other.number < latest.number else None
    members = user.is_authenticated and user.has_perm("workgroups.read_groups")
    decisions, actions, agenda = _snapshot_rows(version, live=members)
    manages = user.is_authenticated and user.has_perm("workgroups.manage_session", session)
    pdf_size = _pdf_size(version) if version.pdf_status == MinutesVersion.PdfStatus.READY and version.pdf else None
    return render(
        request,
        "workgroups/minutes_version.html",
        {
            "version": version,
            "data": version.snapshot,
            "session": session,
            "group": session.group,
            "versions": versions,
            "latest": latest,
            "superseded_by": version.number + 1 if version.number < latest.number else None,
            "decisions": decisions,
            "actions": actions,
            "agenda": agenda,
            "live_status": members,
            "pdf_size": pdf_size,
            "pdf_ready": pdf_size is not None,
            "show_pdf_error": manages,
            "can_edit": user.is_authenticated and user.has_perm("workgroups.edit_minutes", session),
            "members_only": not session.group.minutes_public,
        },
    )


@require_safe
@_readers_only
def minutes_pdf(request, pk, number):
    """The version's PDF, to those who may read the version; 404 until it is rendered."""
    version = _get_version_for_user(request, pk, number)
    if version.pdf_status != MinutesVersion.PdfStatus.READY or not version.pdf:
        raise Http404
    try:
        file = version.pdf.open("rb")
    except OSError:
        logger.warning("minutes: PDF of version %s is marked ready but missing from the storage", version.pk)
        raise Http404 from None
    day = timezone.localdate(version.minutes.session.starts_at).isoformat()
    response = FileResponse(
        file,
        as_attachment=True,
        filename=f"compte-rendu-{day}-v{version.number}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    if version.minutes.session.group.minutes_public:
        patch_cache_control(response, public=True, max_age=PUBLIC_PDF_MAX_AGE)
    else:
        # For members only: never kept by a shared cache, never indexed.
        patch_cache_control(response, private=True)
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _listed_versions(user, *, reads_groups: bool):
    """The latest version of each published minutes the person may find in the
    list: the public ones (active groups), and for people who read the groups
    those of the sessions they see (every one for staff)."""
    newer = MinutesVersion.objects.filter(minutes=OuterRef("minutes"), number__gt=OuterRef("number"))
    latest = MinutesVersion.objects.filter(~Exists(newer))
    if reads_groups and user.is_staff:
        return latest
    public = Q(minutes__session__group__minutes_public=True, minutes__session__group__is_active=True)
    if reads_groups:
        return latest.filter(public | Q(minutes__session__in=Session.objects.visible_to(user).values("pk")))
    return latest.filter(public)


@require_safe
def minutes_list(request):
    user = request.user
    reads_groups = user.is_authenticated and user.has_perm("workgroups.read_groups")
    listed = _listed_versions(user, reads_groups=reads_groups)
    groups = WorkingGroup.objects.filter(pk__in=listed.values("minutes__session__group")).order_by(
        "-is_plenary", "title"
    )
    versions = (
        listed.select_related("minutes__session__group")
        # The texts (up to 200,000 characters each, twice) stay in the database.
        .only(*LIST_FIELDS)
        .order_by("-published_at", "-pk")
    )
    minutes_filter = MinutesFilter(request.GET or None, queryset=versions, groups=groups)
    # A search that cannot be read (too long, a NUL) finds nothing, rather than everything.
    searched_badly = minutes_filter.is_bound and "q" in minutes_filter.form.errors
    results = versions.none() if searched_badly else minutes_filter.qs
    page = Paginator(results, MINUTES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    filtered = bool(request.GET and any(request.GET.get(name, "").strip() for name in MinutesFilter.base_filters))
    return render(
        request,
        "workgroups/minutes_list.html",
        {
            "filter": minutes_filter,
            "page_obj": page,
            "filtered": filtered,
            "members": reads_groups,
        },
    )


def _back(request) -> str:
    """Where to go after a change: ``next`` when it is an address of this site, else the dashboard."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("dashboard")


@login_required
@require_POST
def action_item_status(request, pk):
    """The owner (their network's coordinator, the group's leads, staff) marks an action done, dropped or open."""
    item = get_object_or_404(ActionItem.objects.published().select_related("minutes__session__group"), pk=pk)
    if not request.user.has_perm("workgroups.update_action_item", item):
        raise PermissionDenied
    status = request.POST.get("status", ActionItem.Status.DONE)
    try:
        item = minutes_services.action_item_set_status(item=item, by=request.user, status=status)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        text = item.text if len(item.text) <= 80 else item.text[:79] + "…"
        messages.success(request, STATUS_MESSAGES[item.status] % {"text": text})
    return redirect(_back(request))
