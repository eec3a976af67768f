"""The audit trail's writing side: django-simple-history rows, with who made a change and why.

Knows no app. A model that matters declares ``history = PortalHistoricalRecords(...)``
(allauth's ``EmailAddress`` is registered with ``simple_history.register``); every
``save()`` and ``delete()`` of it then writes a history row in the same transaction,
whatever the database. Services say why, around their writes::

    with audit.change(REASON, by=actor):
        feedback.save()

Each row written inside takes that reason (``history_change_reason``, stored in
French) and that author; without ``by``, the author is the one an admin form set
(``_history_user``) or the signed-in person of the request
(``simple_history.middleware.HistoryRequestMiddleware``), else nobody (a task).

``QuerySet.update()`` and ``bulk_create()`` write no history row: services that
change tracked columns that way use ``simple_history.utils.bulk_*_with_history``
or save row by row. A save that changes no tracked column writes no row (an admin
form saved as it was, or saved before a service makes the real change). Events that
change no column (data exported, a personal-data download) are rows all the same:
``record(instance, reason, by=...)`` writes the object's state as it stands, with its
reason; the journal reads such a row (« ~ », no field changed, a reason) as an
« Événement ».
"""

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from simple_history.models import HistoricalRecords


@dataclass(frozen=True)
class _Change:
    reason: str | None
    by: object | None


_current: contextvars.ContextVar[_Change | None] = contextvars.ContextVar("audit_change", default=None)
# Every tracked model and its records (declared on the model or registered).
_tracked: dict[type, "PortalHistoricalRecords"] = {}


def french(text) -> str:
    """A reason as stored: in the portal's language (French) whatever the request's."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


@contextmanager
def change(reason=None, *, by=None):
    """History rows written inside carry ``reason`` (a lazy French string) and, when
    given, ``by`` as their author. Nested blocks take over, then give back."""
    outer = _current.get()
    reason = french(reason) if reason is not None else (outer.reason if outer else None)
    by = by if by is not None else (outer.by if outer else None)
    token = _current.set(_Change(reason, by))
    try:
        yield
    finally:
        _current.reset(token)


def current_reason() -> str | None:
    """The reason of the enclosing ``change`` block (for ``bulk_*_with_history``)."""
    current = _current.get()
    return current.reason if current else None


def current_author():
    current = _current.get()
    return current.by if current else None


# Characters of the filters an event's detail names: the person chooses them (a query string).
FILTERS_MAX_LENGTH = 200


def record(instance, reason, *, by=None, detail="") -> None:
    """Write a history row of ``instance`` as it stands, for an event that changes none of
    its columns (data exported or downloaded): kind « ~ » with no field changed, which the
    journal reads as an « Événement »; ``detail`` (what was exported, with which filters)
    follows the reason. Written whatever the previous row: it is the event that counts."""
    text = french(reason) + (f" — {french(detail)}" if detail else "")
    with change(text, by=by):
        # instance._meta, not type(instance): request.user is a lazy object.
        _tracked[instance._meta.concrete_model].create_historical_record(instance, "~")


def with_filters(what, filters: str = "") -> str:
    """An export's detail: « what (filters) », the filters already in words and in French,
    cut to FILTERS_MAX_LENGTH characters; « what » alone without filters."""
    what = french(what)
    filters = (filters or "").strip()
    if not filters:
        return what
    if len(filters) > FILTERS_MAX_LENGTH:
        filters = filters[: FILTERS_MAX_LENGTH - 1].rstrip() + "…"
    return f"{what} ({filters})"


def tracked_models() -> list[type]:
    """The models whose changes the trail keeps, in a stable order (app, then name)."""
    return sorted(_tracked, key=lambda model: (model._meta.app_label, model._meta.model_name))


def purge_older_than(days: int, *, chunk: int = 5000) -> int:
    """Delete the trail's rows older than ``days`` days (the retention the personal data
    page states), every tracked model, a chunk at a time so that no long lock holds the
    tables. The latest row of an object that still exists stays, however old: it is what
    the next change is compared with. Safe to run twice. Returns how many rows went."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    for model in tracked_models():
        history = model.history.model
        newer = history.objects.filter(id=OuterRef("id"), history_id__gt=OuterRef("history_id"))
        exists = model._default_manager.filter(pk=OuterRef("id"))
        # Chosen once, before deleting: each chunk's deletions must not change what the next keeps.
        doomed = list(
            history.objects.filter(history_date__lt=cutoff)
            .filter(Exists(newer) | ~Exists(exists))
            .values_list("pk", flat=True)
        )
        for start in range(0, len(doomed), chunk):
            ids = doomed[start : start + chunk]
            # Many-to-many history rows (a round's networks, a group's people) follow their row.
            history.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
    return deleted


def hidden_rows(model) -> Q | None:
    """History rows of ``model`` that nobody but their author may read (feedback drafts)."""
    records = _tracked.get(model)
    return records.hidden if records else None


class PortalHistoricalRecords(HistoricalRecords):
    """simple-history's records with the portal's rules:

    - reason and author from the enclosing ``change`` block;
    - a save that names only untracked columns (``update_fields``, e.g. ``last_login``
      at each sign-in, a PDF's rendering state) writes no row, and neither does a save
      whose tracked columns all hold what the object's latest row holds (an admin form
      saved unchanged; the admin's save of a measure before the service changes its
      status). ``record()`` writes its rows directly, never through this check;
    - ``hidden``: a ``Q`` on the history rows that the journal never shows (drafts,
      which only their author reads).
    """

    def __init__(self, *args, hidden: Q | None = None, **kwargs):
        self.hidden = hidden
        super().__init__(*args, **kwargs)

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is self.cls and hasattr(sender._meta, "simple_history_manager_attribute"):
            _tracked[sender] = self

    def _untracked_names(self, model) -> set[str]:
        names = set()
        for name in self.excluded_fields:
            field = model._meta.get_field(name)
            names |= {field.name, getattr(field, "attname", field.name)}
        return names

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not created and update_fields is not None and set(update_fields) <= self._untracked_names(type(instance)):
            return
        if (
            not created
            and not kwargs.get("raw", False)
            and not hasattr(instance, "skip_history_when_saving")
            and self._unchanged(instance)
        ):
            return
        super().post_save(instance, created, using=using, **kwargs)

    def _unchanged(self, instance) -> bool:
        """Whether every tracked column of ``instance`` holds what its latest history row holds
        (many-to-many changes write their own rows, through ``m2m_changed``)."""
        latest = getattr(instance, self.manager_name).order_by("-history_id").first()
        if latest is None or latest.history_type == "-":
            return False
        return all(
            _same(field, getattr(instance, field.attname), getattr(latest, field.attname))
            for field in self.fields_included(instance)
        )

    def get_change_reason_for_object(self, instance, history_type, using):
        own = super().get_change_reason_for_object(instance, history_type, using)
        return own or current_reason()

    def get_history_user(self, instance):
        if hasattr(instance, "_history_user"):
            return instance._history_user
        author = current_author()
        if author is not None:
            return author
        return super().get_history_user(instance)


def _same(field, value, stored) -> bool:
    """A column's value against the one its history row holds, read as the field reads
    values (a date given as text, a number as a string): a doubt counts as a change."""
    if value == stored:
        return True
    try:
        return field.to_python(value) == field.to_python(stored)
    except (ValidationError, TypeError, ValueError):
        return False
