"""A lead's minutes: the draft (with its conflict page), the preview, the publication.

Drafts are for the group's leads and staff only (``workgroups.edit_minutes``);
every write goes through ``workgroups.minutes_services``. Nothing typed is
lost: a save refused (conflict, text too long, a service's refusal) shows the
page again with what the person sent."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from concertation.lib.markdown import render_markdown
from measures.models import Measure
from workgroups import minutes_services
from workgroups.access import _get_session_for_user, groups_required
from workgroups.minutes_forms import (
    MEASURES_DATALIST,
    ActionItemFormSet,
    MinutesForm,
    MinutesPublishForm,
    item_initial,
    owner_choices,
)
from workgroups.models import Minutes, Session, SessionInvitation
from workgroups.notifications import minutes_recipients

EDIT_MINUTES = "workgroups.edit_minutes"
ITEMS_PREFIX = "items"


def _get_session_for_minutes(request, pk) -> Session:
    """The session, for its group's leads and staff; 403 for everyone else (members included)."""
    session = _get_session_for_user(request, pk, manage=False)
    if not request.user.has_perm(EDIT_MINUTES, session):
        raise PermissionDenied
    return session


def _refuse_unless_writable(request, session):
    """Minutes are written once the session has started, never for a cancelled one."""
    if session.status == Session.Status.CANCELLED:
        messages.error(request, _("Cette séance a été annulée : elle n'a pas de compte rendu."))
        return redirect(session)
    if not session.has_started:
        messages.error(request, _("Le compte rendu s'écrit une fois la séance commencée."))
        return redirect(session)
    return None


class _Editor:
    """The draft's form and its formset of decisions and action items, built
    with the page's lists (measures, people, networks) once for all rows."""

    def __init__(self, session: Session, minutes: Minutes, data=None):
        self.session, self.minutes = session, minutes
        self.measures = list(Measure.objects.select_related("roadmap").order_by("roadmap__pk", "number"))
        people, networks = owner_choices(session.group, minutes)
        form_kwargs = {"measures": self.measures, "people": people, "networks": networks}
        if data is None:
            items = minutes_services.draft_items(minutes)
            self.form = MinutesForm(initial={"body": minutes.body, "revision": minutes.revision})
            self.formset = ActionItemFormSet(
                initial=[item_initial(item) for item in items], form_kwargs=form_kwargs, prefix=ITEMS_PREFIX
            )
        else:
            # No initial when bound: the draft may have changed since the page was opened, and rows must
            # be compared with nothing but their fields' defaults (an extra row left empty stays empty).
            self.form = MinutesForm(data)
            self.formset = ActionItemFormSet(data, form_kwargs=form_kwargs, prefix=ITEMS_PREFIX)

    def is_valid(self) -> bool:
        form_valid = self.form.is_valid()
        return self.formset.is_valid() and form_valid

    def add_service_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.form.add_error(field if field in self.form.fields else None, errors)
        else:
            self.form.add_error(None, error)

    def error_count(self) -> int:
        if not self.form.is_bound:
            return 0
        return len(self.form.errors) + self.formset.total_error_count()

    def context(self) -> dict:
        return {
            "session": self.session,
            "group": self.session.group,
            "minutes": self.minutes,
            "latest": self.minutes.latest_version() if self.minutes.pk else None,
            "form": self.form,
            "formset": self.formset,
            "measures": self.measures,
            "measures_datalist": MEASURES_DATALIST,
            "error_count": self.error_count(),
        }


# --- The draft ------------------------------------------------------------------------


@groups_required
@require_http_methods(["GET", "POST"])
def minutes_edit(request, pk):
    session = _get_session_for_minutes(request, pk)
    if refused := _refuse_unless_writable(request, session):
        return refused
    minutes = minutes_services.minutes_for(session)
    if request.method == "GET":
        return render(request, "workgroups/minutes_edit.html", _Editor(session, minutes).context())
    editor = _Editor(session, minutes, data=request.POST)
    # "Continuer la rédaction" from the preview: the page again with what was typed, nothing saved.
    if request.POST.get("back") or not editor.is_valid():
        return render(request, "workgroups/minutes_edit.html", editor.context())
    move = request.POST.get("move", "")
    items = editor.formset.items_in_order(move)
    try:
        minutes = minutes_services.minutes_save(
            minutes=minutes,
            by=request.user,
            body=editor.form.cleaned_data["body"],
            items=items,
            revision=editor.form.cleaned_data["revision"],
        )
    except minutes_services.MinutesConflict as conflict:
        return _conflict(request, session, conflict.minutes)
    except ValidationError as error:
        editor.add_service_errors(error)
        return render(request, "workgroups/minutes_edit.html", editor.context())
    url = reverse("workgroups:minutes_edit", args=[session.pk])
    if move:
        return redirect(f"{url}#item-{editor.formset.moved_index(items, move)}")
    if request.POST.get("then") == "publish":
        return redirect("workgroups:minutes_publish", pk=session.pk)
    messages.success(
        request,
        _("Brouillon enregistré. Il n'est visible que de l'animation du groupe et des agents, jusqu'à sa publication."),
    )
    return redirect(url)


def _conflict(request, session, current: Minutes):
    """Someone saved the draft since this person opened it: both versions side by
    side, theirs still editable and now based on the current revision, so that
    saving again (after merging) goes through."""
    data = request.POST.copy()
    data["revision"] = str(current.revision)
    data.pop("move", None)
    editor = _Editor(session, current, data=data)
    editor.is_valid()
    context = editor.context()
    context.update(
        {
            "saved": current,
            "saved_items": minutes_services.draft_items(current),
        }
    )
    return render(request, "workgroups/minutes_conflict.html", context, status=409)


# --- The preview ------------------------------------------------------------------------


def _carried(data) -> list[tuple[str, str]]:
    """What the edit form sent, to send it back from the preview (hidden fields)."""
    return [
        (name, value)
        for name in data
        if name not in ("csrfmiddlewaretoken", "move", "then", "back")
        for value in data.getlist(name)
    ]


@groups_required
@require_http_methods(["GET", "POST"])
def minutes_preview(request, pk):
    """The page as it will be published, from what was typed (POST from the
    edit form) or from the saved draft (GET). Saves nothing."""
    session = _get_session_for_minutes(request, pk)
    if refused := _refuse_unless_writable(request, session):
        return refused
    minutes = minutes_services.minutes_for(session)
    # The title block, the attendees by network and the agenda, as a version freezes them.
    data = minutes_services.minutes_snapshot(minutes)
    carried = None
    if request.method == "POST":
        editor = _Editor(session, minutes, data=request.POST)
        if not editor.is_valid():
            return render(request, "workgroups/minutes_edit.html", editor.context())
        body = editor.form.cleaned_data["body"]
        data["items"] = editor.formset.preview_items()
        carried = _carried(request.POST)
    else:
        body = minutes.body
    latest = minutes.latest_version()
    context = {
        "session": session,
        "group": session.group,
        "minutes": minutes,
        "data": data,
        "body_html": render_markdown(body, shift_headings=minutes_services.MINUTES_HEADING_SHIFT),
        "is_empty": not body.strip() and not data["items"],
        "number": (latest.number + 1) if latest else 1,
        "latest": latest,
        "carried": carried,
    }
    return render(request, "workgroups/minutes_preview.html", context)


# --- Publication ------------------------------------------------------------------------


def _recipients(session: Session) -> dict:
    """Who the publication e-mail reaches, counted as ``notifications.minutes_recipients`` picks them."""
    recipients = minutes_recipients(session)
    return {
        "total": recipients.values("user").distinct().count(),
        "invitees": recipients.filter(pk__in=SessionInvitation.objects.standing().filter(session=session))
        .values("user")
        .distinct()
        .count(),
        "attendees": recipients.filter(attended=True).values("user").distinct().count(),
    }


@groups_required
@require_http_methods(["GET", "POST"])
def minutes_publish(request, pk):
    session = _get_session_for_minutes(request, pk)
    if request.method == "GET" and (refused := _refuse_unless_writable(request, session)):
        return refused
    minutes = minutes_services.minutes_for(session)
    latest = minutes.latest_version()
    form = MinutesPublishForm(
        request.POST or None, correction=latest is not None, initial={"revision": minutes.revision}
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["revision"] != minutes.revision:
            # Saved by someone since this page was opened: what would leave is not what was read.
            data = request.POST.copy()
            data["revision"] = str(minutes.revision)
            form = MinutesPublishForm(data, correction=latest is not None)
            form.is_valid()
            form.add_error(
                None,
                _(
                    "Le brouillon a été modifié depuis que vous avez ouvert cette page : relisez l'aperçu, "
                    "puis confirmez de nouveau."
                ),
            )
        else:
            try:
                version = minutes_services.minutes_publish(
                    minutes=minutes,
                    by=request.user,
                    reason=form.cleaned_data.get("reason", ""),
                    revision=form.cleaned_data["revision"],
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.error_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _(
                        "Version %(number)s publiée. Son PDF est en cours de fabrication : il sera envoyé par "
                        "courriel aux participants dès qu'il sera prêt. En attendant, la version se lit ici."
                    )
                    % {"number": version.number},
                )
                return redirect("workgroups:minutes_version", pk=session.pk, number=version.number)
    context = {
        "session": session,
        "group": session.group,
        "minutes": minutes,
        "latest": latest,
        "number": (latest.number + 1) if latest else 1,
        "form": form,
        "recipients": _recipients(session),
        "item_count": len(minutes_services.draft_items(minutes)),
        "is_empty": not minutes.body.strip() and not minutes_services.draft_items(minutes),
    }
    return render(request, "workgroups/minutes_publish.html", context)
