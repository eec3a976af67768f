"""Writes with side effects on minutes: drafting, publication, the PDF, the
loop back to the measures, action items.

Same rules as ``workgroups.services``: one function per use case, inside a
transaction; e-mails through the outbox; the PDF rendered by a Celery task
queued on commit (``workgroups.tasks.render_minutes_pdf``).
"""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from concertation.lib import audit
from concertation.lib.dates import date_format
from concertation.lib.markdown import render_markdown
from concertation.lib.pdf import html_to_pdf
from measures.models import Measure, MeasureUpdate
from measures.services import timeline_entries_remove, timeline_entry_record
from networks.models import Network, User
from workgroups import notifications
from workgroups.models import MINUTES_MAX_LENGTH, ActionItem, Minutes, MinutesVersion, Session, SessionInvitation

logger = logging.getLogger(__name__)

# Why the audit trail's rows were written (concertation.lib.audit).
MINUTES_PUBLISHED = gettext_lazy("Compte rendu publié")
ACTION_STATUS_CHANGED = gettext_lazy("État de l'action changé")

# A "#" in the minutes is a section under the page's "Compte rendu" heading (h2): it becomes an h3.
MINUTES_HEADING_SHIFT = 2
# Rendering attempts before a version's PDF is marked failed (staff may run it again).
PDF_MAX_ATTEMPTS = 3


def _require(user, perm, obj=None):
    if not user.has_perm(perm, obj):
        raise PermissionDenied


class MinutesConflict(Exception):
    """The draft was saved by someone else since the editor opened it. Holds
    the draft as it is now, so the page can show both versions."""

    def __init__(self, minutes: Minutes):
        super().__init__("minutes changed meanwhile")
        self.minutes = minutes


def minutes_for(session: Session) -> Minutes:
    minutes, _created = Minutes.objects.get_or_create(session=session)
    return minutes


def _check_writable(session: Session) -> None:
    if session.status == Session.Status.CANCELLED:
        raise ValidationError(_("Cette séance a été annulée : elle n'a pas de compte rendu."))
    if not session.has_started:
        raise ValidationError(_("Le compte rendu s'écrit une fois la séance commencée."))


@dataclass
class DraftItem:
    """A decision or action of the draft, shaped like an ``ActionItem`` for the
    forms. ``key`` is the published item's when it revises one; ``base_status``
    is that item's status when the draft took it up: publication applies the
    draft's status only if the lead changed it, so an owner's "done" meanwhile
    is kept."""

    key: str
    kind: str
    text: str
    owner_user: User | None = None
    owner_network: Network | None = None
    due_on: date | None = None
    status: str = ActionItem.Status.OPEN
    base_status: str = ""
    measure: Measure | None = None

    @property
    def pk(self):
        return self.key

    @property
    def owner_user_id(self):
        return self.owner_user.pk if self.owner_user else None

    @property
    def owner_network_id(self):
        return self.owner_network.pk if self.owner_network else None

    def get_kind_display(self):
        return ActionItem.Kind(self.kind).label

    def get_status_display(self):
        return ActionItem.Status(self.status).label

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "kind": self.kind,
            "text": self.text,
            "owner_user": self.owner_user_id,
            "owner_network": self.owner_network_id,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "status": self.status,
            "base_status": self.base_status,
            "measure": self.measure.pk if self.measure else None,
        }


def draft_items(minutes: Minutes) -> list[DraftItem]:
    """The draft's decisions and actions, in order: its own list, or the
    published items while the draft has none of its own (three queries)."""
    if minutes.pk is None:
        return []
    if minutes.draft_items is None:
        return [
            DraftItem(
                key=str(item.key),
                kind=item.kind,
                text=item.text,
                owner_user=item.owner_user,
                owner_network=item.owner_network,
                due_on=item.due_on,
                status=item.status,
                base_status=item.status,
                measure=item.measure,
            )
            for item in minutes.items.select_related("owner_user", "owner_network", "measure")
        ]
    rows = minutes.draft_items
    users = User.objects.in_bulk([row["owner_user"] for row in rows if row.get("owner_user")])
    networks = Network.objects.in_bulk([row["owner_network"] for row in rows if row.get("owner_network")])
    measures = Measure.objects.in_bulk([row["measure"] for row in rows if row.get("measure")])
    return [
        DraftItem(
            key=row["key"],
            kind=row["kind"],
            text=row["text"],
            owner_user=users.get(row.get("owner_user")),
            owner_network=networks.get(row.get("owner_network")),
            due_on=date.fromisoformat(row["due_on"]) if row.get("due_on") else None,
            status=row.get("status") or ActionItem.Status.OPEN,
            base_status=row.get("base_status", ""),
            measure=measures.get(row.get("measure")),
        )
        for row in rows
    ]


@transaction.atomic
def minutes_save(*, minutes: Minutes, by: User, body: str, items: list[dict], revision: int) -> Minutes:
    """Save the draft: its text and its decisions and action items (dicts with
    ``pk``, the key of an item already in the draft, then the ``ITEM_FIELDS``),
    in their order. Nothing reaches the published items before publication.

    ``revision`` is the one the editor started from: if the draft moved on
    since, nothing is written and ``MinutesConflict`` is raised."""
    minutes = Minutes.objects.select_for_update().select_related("session__group").get(pk=minutes.pk)
    _require(by, "workgroups.edit_minutes", minutes.session)
    _check_writable(minutes.session)
    if revision != minutes.revision:
        raise MinutesConflict(minutes)
    if len(body) > MINUTES_MAX_LENGTH:
        raise ValidationError(
            {
                "body": _("Le texte dépasse %(max)s caractères : découpez-le ou allégez-le.")
                % {"max": MINUTES_MAX_LENGTH}
            }
        )
    session_day = timezone.localdate(minutes.session.starts_at)
    for values in items:
        if values.get("due_on") and values["due_on"] < session_day:
            raise ValidationError(
                _("Une échéance ne peut précéder la séance (%(day)s).") % {"day": date_format(session_day, "j F Y")}
            )
    known = {item.key: item for item in draft_items(minutes)}
    draft = []
    for values in items:
        before = known.get(str(values.get("pk") or ""))
        item = DraftItem(
            key=before.key if before else str(uuid.uuid4()),
            kind=values.get("kind", ActionItem.Kind.DECISION),
            text=values.get("text", ""),
            base_status=before.base_status if before else "",
        )
        for field in ("owner_user", "owner_network", "due_on", "status", "measure"):
            if field in values:
                setattr(item, field, values[field])
        draft.append(item.as_json())
    minutes.draft_items = draft
    minutes.body = body
    minutes.revision += 1
    minutes.updated_by = by
    minutes.save()
    return minutes


def _publish_items(minutes: Minutes) -> None:
    """The draft's items become the published ones, matched by key: new ones
    created, changed ones updated, missing ones removed. An item's status is
    the draft's only if the lead changed it; otherwise the owner's stands."""
    if minutes.draft_items is None:
        return
    live = {str(item.key): item for item in minutes.items.all()}
    kept = []
    for position, draft in enumerate(draft_items(minutes), start=1):
        item = live.get(draft.key) or ActionItem(minutes=minutes, key=uuid.UUID(draft.key))
        for field in ("kind", "text", "owner_user", "owner_network", "due_on", "measure"):
            setattr(item, field, getattr(draft, field))
        if item.pk is None or draft.status != draft.base_status:
            if draft.status != item.status:
                item.done_at = timezone.now() if draft.status == ActionItem.Status.DONE else None
            item.status = draft.status
        item.position = position
        item.save()
        kept.append(item.pk)
    minutes.items.exclude(pk__in=kept).delete()
    minutes.draft_items = None
    minutes.save(update_fields=["draft_items"])


def _attendees_by_network(session: Session) -> list[dict]:
    rows = (
        SessionInvitation.objects.filter(session=session, attended=True)
        .select_related("user", "network")
        .order_by("network__name", "user__full_name", "user__email")
    )
    groups: dict[str, list[str]] = {}
    for invitation in rows:
        name = invitation.network.name if invitation.network else _("Administration et autres participants")
        groups.setdefault(name, []).append(invitation.user.public_name)
    return [{"network": network, "people": people} for network, people in groups.items()]


def minutes_snapshot(minutes: Minutes) -> dict:
    """What a version shows besides its text, as it stood when published."""
    session = minutes.session
    with translation.override(settings.LANGUAGE_CODE):
        items = [
            {
                "key": str(item.key),
                "kind": item.kind,
                "kind_label": str(item.get_kind_display()),
                "text": item.text,
                "owner": item.owner_user.public_name if item.owner_user else "",
                "owner_network": item.owner_network.name if item.owner_network else "",
                "due_on": item.due_on.isoformat() if item.due_on else "",
                "status": item.status,
                "status_label": str(item.get_status_display()),
                "measure": {"pk": item.measure.pk, "number": item.measure.number, "title": item.measure.title}
                if item.measure
                else None,
            }
            for item in minutes.items.select_related("owner_user", "owner_network", "measure")
        ]
        return {
            "group": session.group.title,
            "session": session.title,
            "starts_at": session.starts_at.isoformat(),
            "ends_at": session.ends_at.isoformat(),
            "format": str(session.get_format_display()),
            "place": session.place,
            "attendees": _attendees_by_network(session),
            "agenda": [
                {
                    "title": item.title,
                    "presenter": item.presenter,
                    "measure": {"pk": item.measure.pk, "number": item.measure.number, "title": item.measure.title}
                    if item.measure
                    else None,
                }
                for item in session.agenda_items.select_related("measure")
            ],
            "items": items,
        }


@transaction.atomic
def minutes_publish(*, minutes: Minutes, by: User, reason: str = "", revision: int | None = None) -> MinutesVersion:
    """Freeze the draft as the next version; its PDF is rendered by a task on
    commit, which then sends it to the participants. Each decision or action
    linked to a measure keeps one entry on that measure's timeline; a
    correction updates it, or takes it off when the link is gone."""
    minutes = Minutes.objects.select_for_update().select_related("session__group").get(pk=minutes.pk)
    session = minutes.session
    _require(by, "workgroups.edit_minutes", session)
    _check_writable(session)
    if revision is not None and revision != minutes.revision:
        # Saved (or published) by someone else since the lead read it: they confirm again.
        raise ValidationError(
            _("Le brouillon a été modifié depuis que vous l'avez relu : relisez l'aperçu, puis confirmez de nouveau.")
        )
    if not minutes.body.strip() and not draft_items(minutes):
        raise ValidationError(_("Le compte rendu est vide : écrivez-le avant de le publier."))
    previous = minutes.latest_version()
    reason = reason.strip()
    if previous is not None and not reason:
        raise ValidationError({"reason": _("Dites en quelques mots ce que corrige cette nouvelle version.")})
    with audit.change(MINUTES_PUBLISHED, by=by):
        _publish_items(minutes)
        minutes.revision += 1
        minutes.save(update_fields=["revision"])
        version = MinutesVersion.objects.create(
            minutes=minutes,
            number=(previous.number + 1) if previous else 1,
            published_by=by,
            reason=reason[:300],
            body=minutes.body,
            body_html=render_markdown(minutes.body, shift_headings=MINUTES_HEADING_SHIFT),
            snapshot=minutes_snapshot(minutes),
        )
        _timeline_follow(version, previous)
    transaction.on_commit(lambda: _publish_render(version.pk))
    return version


def _timeline_follow(version: MinutesVersion, previous: MinutesVersion | None) -> None:
    session = version.minutes.session
    # A path inside the portal: it works whatever address the portal is reached at.
    url = reverse("workgroups:minutes_version", args=[session.pk, version.number])
    with translation.override(settings.LANGUAGE_CODE):
        source = _("Séance « %(session)s » du %(day)s (%(group)s), compte rendu, version %(number)s") % {
            "session": session.title,
            "day": date_format(timezone.localtime(session.starts_at), "j F Y"),
            "group": session.group.title,
            "number": version.number,
        }
    linked = set()
    for item in version.minutes.items.select_related("measure").filter(measure__isnull=False):
        key = f"minutes-item:{item.key}"
        linked.add(key)
        timeline_entry_record(
            measure=item.measure,
            source_key=key,
            text=item.text,
            source=source,
            source_url=url,
            kind="decision" if item.kind == ActionItem.Kind.DECISION else "note",
            happened_on=timezone.localdate(session.starts_at),
            visibility=(
                MeasureUpdate.Visibility.PUBLIC if session.group.minutes_public else MeasureUpdate.Visibility.MEMBERS
            ),
        )
    if previous is not None:
        before = {f"minutes-item:{item['key']}" for item in previous.snapshot.get("items", []) if item["measure"]}
        timeline_entries_remove(source_keys=before - linked)


def _publish_render(version_id: int) -> None:
    from workgroups.tasks import render_minutes_pdf

    try:
        render_minutes_pdf.delay(version_id)
    except Exception as exc:  # noqa: BLE001 - broker down: the version waits, staff or beat run it again
        logger.warning("minutes: PDF of version %s left pending: %s", version_id, exc)


@dataclass(frozen=True)
class RenderOutcome:
    status: str
    error: str = ""


def minutes_pdf_html(version: MinutesVersion) -> str:
    """The HTML the PDF is made of (also what the benchmark renders)."""
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("workgroups/minutes_pdf.html", {"version": version, "data": version.snapshot})


def _locked_version(version_id: int) -> MinutesVersion | None:
    return (
        MinutesVersion.objects.select_for_update(of=("self",))
        .select_related("minutes__session__group")
        .filter(pk=version_id)
        .first()
    )


def minutes_pdf_render(*, version_id: int, distribute: bool = True) -> RenderOutcome:
    """The task's work: render the version's PDF once, store it with its
    SHA-256, then send it to the participants. Safe to run twice: only a
    pending version is rendered. The attempt is counted (and committed) before
    the work, which runs with no lock held: a worker killed or stopped by the
    time limit still used it up, and after ``PDF_MAX_ATTEMPTS`` the version is
    marked failed instead of being tried for ever."""
    with transaction.atomic():
        version = _locked_version(version_id)
        if version is None:
            return RenderOutcome(status="ready")
        if version.pdf_status != MinutesVersion.PdfStatus.PENDING:
            # Ready, or failed for good: only a rerun (which sets it pending again) renders it.
            return RenderOutcome(status=version.pdf_status)
        if version.pdf_attempts >= PDF_MAX_ATTEMPTS:
            version.pdf_status = MinutesVersion.PdfStatus.FAILED
            version.pdf_error = version.pdf_error or _("Le rendu a été interrompu à chaque essai (durée ou mémoire).")
            version.save(update_fields=["pdf_status", "pdf_error"])
            return RenderOutcome(status=version.pdf_status, error=version.pdf_error)
        version.pdf_attempts += 1
        version.save(update_fields=["pdf_attempts"])
    try:
        pdf = html_to_pdf(minutes_pdf_html(version))
    except Exception as exc:  # noqa: BLE001 - the reason is kept for the lead and staff (time limit included)
        with transaction.atomic():
            version = _locked_version(version_id)
            version.pdf_error = f"{type(exc).__name__}: {exc}"[:2000]
            if version.pdf_attempts >= PDF_MAX_ATTEMPTS:
                version.pdf_status = MinutesVersion.PdfStatus.FAILED
            version.save(update_fields=["pdf_error", "pdf_status"])
        logger.warning("minutes: PDF of version %s failed (attempt %s): %s", version_id, version.pdf_attempts, exc)
        return RenderOutcome(status=version.pdf_status, error=version.pdf_error)
    with transaction.atomic():
        version = _locked_version(version_id)
        if version.pdf_status != MinutesVersion.PdfStatus.PENDING:
            return RenderOutcome(status=version.pdf_status)  # another run finished it meanwhile
        # Sent once, for the version in force: a rerun, or a late render of a version since corrected, sends nothing.
        first_render = not version.pdf_sha256
        is_current = not version.minutes.versions.filter(number__gt=version.number).exists()
        session = version.minutes.session
        name = f"session-{session.pk}-v{version.number}-{uuid.uuid4().hex[:8]}.pdf"
        version.pdf.save(name, ContentFile(pdf), save=False)
        try:
            version.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
            version.pdf_status = MinutesVersion.PdfStatus.READY
            version.pdf_error = ""
            version.save(update_fields=["pdf", "pdf_sha256", "pdf_status", "pdf_error"])
            if distribute and first_render and is_current:
                notifications.minutes_published_emails_queue(version=version, pdf=pdf)
        except Exception:
            version.pdf.storage.delete(version.pdf.name)  # the row rolls back: leave no file behind
            raise
    return RenderOutcome(status="ready")


def _pdf_given_up_after() -> timedelta:
    """How long after publication a PDF whose every attempt is used up may still be
    rendering: each attempt's hard time limit, the pauses between them, and a margin for
    the queue."""
    from workgroups.tasks import PDF_RETRY_SECONDS, PDF_TIME_LIMIT

    pauses = sum(PDF_RETRY_SECONDS * retry for retry in range(1, PDF_MAX_ATTEMPTS))
    return timedelta(seconds=PDF_MAX_ATTEMPTS * PDF_TIME_LIMIT + pauses, minutes=5)


def minutes_pdf_resume(*, grace_minutes: int = 10) -> int:
    """Periodic: queue again the PDFs still pending well after publication
    (their task was lost with the broker, or a worker died while rendering)."""
    now = timezone.now()
    late = now - timedelta(minutes=grace_minutes)
    # Every attempt used up by runs that never came back (the last can no longer be
    # running): failed, for staff to run again.
    MinutesVersion.objects.filter(
        pdf_status=MinutesVersion.PdfStatus.PENDING,
        published_at__lte=now - _pdf_given_up_after(),
        pdf_attempts__gte=PDF_MAX_ATTEMPTS,
    ).update(pdf_status=MinutesVersion.PdfStatus.FAILED, pdf_error=_("Le rendu a été interrompu à chaque essai."))
    pending = list(
        MinutesVersion.objects.filter(
            pdf_status=MinutesVersion.PdfStatus.PENDING, published_at__lte=late, pdf_attempts__lt=PDF_MAX_ATTEMPTS
        ).values_list("pk", flat=True)
    )
    for version_id in pending:
        _publish_render(version_id)
    return len(pending)


@transaction.atomic
def minutes_pdf_rerun(*, version: MinutesVersion, by: User) -> MinutesVersion:
    """Staff: render a version's PDF again (after a failure, or to replace it)."""
    _require(by, "workgroups.rerun_minutes_pdf")
    version = MinutesVersion.objects.select_for_update().get(pk=version.pk)
    version.pdf_status, version.pdf_attempts, version.pdf_error = MinutesVersion.PdfStatus.PENDING, 0, ""
    version.save(update_fields=["pdf_status", "pdf_attempts", "pdf_error"])
    transaction.on_commit(lambda: _publish_render(version.pk))
    return version


@transaction.atomic
def action_item_set_status(*, item: ActionItem, by: User, status: str) -> ActionItem:
    """The owner (or their network's coordinator, the group's leads, staff)
    marks an action done, or dropped, or open again."""
    item = ActionItem.objects.select_for_update().select_related("minutes__session__group").get(pk=item.pk)
    _require(by, "workgroups.update_action_item", item)
    if status not in ActionItem.Status.values:
        raise ValidationError(_("État inconnu."))
    item.status = status
    item.done_at = timezone.now() if status == ActionItem.Status.DONE else None
    with audit.change(ACTION_STATUS_CHANGED, by=by):
        item.save(update_fields=["status", "done_at"])
    return item
