"""The audit trail's reading side: the history rows of every tracked model, merged newest first.

Knows no app: the tracked models come from ``concertation.lib.audit``. Each history table is
filtered (person, object type and id, dates), reduced to (date, id, table) and the tables are
merged by one ``UNION ALL`` ordered by date, which the paginator counts and slices in SQL. The
rows of a page are then read table by table, each with the id of the object's previous visible
row (a subquery), and their differences computed here, field by field (``ModelChange`` of
simple-history's ``diff_against`` runs queries for each row's many-to-many fields; this runs a
fixed number per page whatever its size): previous rows, many-to-many rows, the objects that
foreign keys and many-to-many fields name (one query per related model), and whether each
object still exists (for the link to its admin page). The CSV export reads the whole trail
this way, a thousand rows at a step: what is the same for every row (a table's history model and
fields, the labels of fields, choices and days, the authors) is read once, not per row.

History rows that a model declares ``hidden`` (feedback drafts, their author's only) are never
read, and never serve as the previous state of another row.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache, partial

from django import forms
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from concertation.lib import audit
from concertation.lib.converters import parse_id
from concertation.lib.dates import PARIS, date_format

KINDS = {"+": gettext_lazy("Création"), "~": gettext_lazy("Modification"), "-": gettext_lazy("Suppression")}
# A « ~ » row in which no tracked field changed but that gives a reason was written by
# ``audit.record()`` (data exported, a personal-data download): an event, not a change.
# No column of its own says so: saves that change nothing write no row (``PortalHistoricalRecords``).
EVENT = gettext_lazy("Événement")
# Characters of a value shown in the journal's list; the record's page shows it whole.
SHORT_VALUE = 160
PAGE_SIZE = 50


@cache
def history_model(model):
    """The history table's model of ``model``. Kept once read: simple-history's descriptor builds
    a new manager class at each access (about half a millisecond), which per row made the CSV
    export of the whole trail last minutes."""
    return getattr(model, model._meta.simple_history_manager_attribute).model


def source_key(model) -> str:
    """A tracked model's name in addresses and filters: ``measures.feedback``."""
    return f"{model._meta.app_label}.{model._meta.model_name}"


def readable_models(user) -> list:
    """The tracked models whose history ``user`` may read (the view permission of the history table)."""
    readable = []
    for model in audit.tracked_models():
        opts = history_model(model)._meta
        if user.has_perm(f"{opts.app_label}.{get_permission_codename('view', opts)}"):
            readable.append(model)
    return readable


def model_label(model) -> str:
    return capfirst(str(model._meta.verbose_name))


# --- The filters ---------------------------------------------------------------------------

DATE_INVALID = gettext_lazy("Date invalide : écrivez-la sous la forme JJ/MM/AAAA, par exemple 31/01/2026.")
# Years a date filter may name: the trail holds none outside, and a day added to 31/12/9999 overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class JournalFilterForm(forms.Form):
    """The journal's filters, as GET parameters: ``personne``, ``type``, ``objet``, ``du``, ``au``."""

    personne = forms.CharField(
        label=gettext_lazy("Modifié par"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "Le courriel, le nom (ou une partie) ou le numéro de compte de la personne qui a fait la modification."
        ),
    )
    type = forms.ChoiceField(label=gettext_lazy("Type d'objet"), required=False)
    objet = forms.CharField(
        label=gettext_lazy("Numéro de l'objet"),
        required=False,
        max_length=20,
        help_text=gettext_lazy(
            "Le numéro qui figure dans l'adresse de sa page d'administration, avec un type d'objet ; "
            "sinon le numéro de tout type."
        ),
    )
    du = forms.DateField(
        label=gettext_lazy("Du"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": DATE_INVALID},
    )
    au = forms.DateField(
        label=gettext_lazy("Au (inclus)"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": DATE_INVALID},
    )

    def __init__(self, *args, models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.models = {source_key(model): model for model in models}
        choices = sorted(((key, model_label(model)) for key, model in self.models.items()), key=lambda c: c[1])
        self.fields["type"].choices = [("", _("Tous les types")), *choices]
        self.fields["type"].error_messages["invalid_choice"] = _("Type d'objet inconnu : choisissez-en un de la liste.")

    def clean_objet(self):
        value = self.cleaned_data["objet"].strip()
        if not value:
            return None
        number = parse_id(value)
        if number is None:
            raise forms.ValidationError(_("Le numéro d'un objet est un nombre entier positif, par exemple 42."))
        return number

    def _clean_year(self, name):
        day = self.cleaned_data[name]
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("Date hors du journal : choisissez une année entre %(first)s et %(last)s.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        return day

    def clean_du(self):
        return self._clean_year("du")

    def clean_au(self):
        return self._clean_year("au")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and end < start:
            self.add_error("au", _("La date de fin précède la date de début : inversez-les."))
        return cleaned

    def in_words(self) -> str:
        """The valid filters that are set, in words, in the active language: « Modifié par :
        compte n° 12 ; Type : Mesure ; du 23/11/2026 au 29/11/2026 » (an export's detail in the
        trail: the person as the accounts the text matched, never an address or a name as
        typed); "" without any."""
        if not self.is_bound or not self.is_valid():
            return ""
        data = self.cleaned_data
        parts = []
        if person := (data.get("personne") or "").strip():
            accounts = _accounts_in_words(person)
            parts.append(_("%(label)s : %(value)s") % {"label": self.fields["personne"].label, "value": accounts})
        if data.get("type"):
            parts.append(_("Type : %(type)s") % {"type": model_label(self.models[data["type"]])})
        if data.get("objet"):
            parts.append(_("Numéro : %(number)s") % {"number": data["objet"]})
        start, end = data.get("du"), data.get("au")
        days = {"start": start and start.strftime("%d/%m/%Y"), "end": end and end.strftime("%d/%m/%Y")}
        if start and end:
            parts.append(_("du %(start)s au %(end)s") % days)
        elif start:
            parts.append(_("à partir du %(start)s") % days)
        elif end:
            parts.append(_("jusqu'au %(end)s") % days)
        return " ; ".join(parts)


def _person_ids(text: str):
    User = get_user_model()
    number = parse_id(text)
    if number is not None:
        return User.objects.filter(pk=number).values("pk")
    return User.objects.filter(Q(email__icontains=text) | Q(full_name__icontains=text)).values("pk")


# Accounts an export's person filter is written as, at most: the trail keeps 200 characters of filters.
ACCOUNTS_IN_WORDS = 50


def _accounts_in_words(text: str) -> str:
    """« compte n° 12 », « comptes n° 12, 15 » or « aucun compte »: what a person filter matched."""
    ids = list(_person_ids(text).order_by("pk").values_list("pk", flat=True)[: ACCOUNTS_IN_WORDS + 1])
    if not ids:
        return _("aucun compte")
    numbers = ", ".join(str(pk) for pk in ids[:ACCOUNTS_IN_WORDS]) + (", …" if len(ids) > ACCOUNTS_IN_WORDS else "")
    return ngettext("compte n° %(numbers)s", "comptes n° %(numbers)s", len(ids)) % {"numbers": numbers}


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def rows_query(models, filters: dict | None = None):
    """The merged keys ``{"history_date", "history_id", "audit_table"}`` of the tables of ``models``,
    filtered and newest first, as one ordered query (None when no table is left)."""
    filters = filters or {}
    person = (filters.get("personne") or "").strip()
    people = _person_ids(person) if person else None
    wanted = filters.get("type") or ""
    parts = []
    for model in models:
        key = source_key(model)
        if wanted and wanted != key:
            continue
        rows = history_model(model).objects.all()
        hidden = audit.hidden_rows(model)
        if hidden is not None:
            rows = rows.exclude(hidden)
        if people is not None:
            rows = rows.filter(history_user_id__in=people)
        if filters.get("objet"):
            rows = rows.filter(**{model._meta.pk.attname: filters["objet"]})
        if filters.get("du"):
            rows = rows.filter(history_date__gte=_paris_midnight(filters["du"]))
        if filters.get("au"):
            rows = rows.filter(history_date__lt=_paris_midnight(filters["au"] + timedelta(days=1)))
        parts.append(
            rows.order_by().values("history_date", "history_id", audit_table=Value(key, output_field=CharField()))
        )
    if not parts:
        return None
    first, *rest = parts
    merged = first.union(*rest, all=True) if rest else first
    return merged.order_by("-history_date", "-history_id", "audit_table")


# --- Rows as people read them --------------------------------------------------------------


@dataclass
class Change:
    field: str
    old: str
    new: str

    @property
    def old_short(self) -> str:
        return _shorten(self.old)

    @property
    def new_short(self) -> str:
        return _shorten(self.new)

    @property
    def shortened(self) -> bool:
        return len(self.old) > SHORT_VALUE or len(self.new) > SHORT_VALUE


@dataclass
class Entry:
    model: type
    record: object
    date: datetime
    kind: str
    user: object | None
    object_id: int
    object_label: str
    object_url: str
    reason: str
    changes: list[Change] = field(default_factory=list)
    values: list[tuple[str, str]] = field(default_factory=list)

    @property
    def source(self) -> str:
        return source_key(self.model)

    @property
    def history_id(self) -> int:
        return self.record.history_id

    @property
    def is_event(self) -> bool:
        """Written by ``audit.record()``: no tracked field changed, and a reason says what happened."""
        return self.kind == "~" and not self.changes and bool(self.reason)

    @property
    def kind_label(self) -> str:
        return str(EVENT if self.is_event else KINDS.get(self.kind, self.kind))

    @property
    def model_label(self) -> str:
        return model_label(self.model)

    @property
    def user_label(self) -> str:
        return _person_label(self.user)

    @property
    def shortened(self) -> bool:
        """Whether the list shows a value cut short (the record's page shows it whole)."""
        return any(change.shortened for change in self.changes)

    @property
    def paris_date(self) -> datetime:
        return timezone.localtime(self.date, PARIS)


def _shorten(text: str) -> str:
    return text if len(text) <= SHORT_VALUE else text[: SHORT_VALUE - 1].rstrip() + "…"


def _person_label(user) -> str:
    if user is None:
        return str(_("Le portail (tâche ou commande)"))
    # An erased account (its address anonymised, efface-<id>@compte.invalid) reads as what it is.
    if getattr(user, "erased_at", None):
        return _("Compte effacé n° %(id)s") % {"id": user.pk}
    return user.full_name or user.email


def _label(obj) -> str:
    try:
        return str(obj)
    except (ObjectDoesNotExist, AttributeError, TypeError, ValueError):
        return _("%(type)s n° %(id)s") % {"type": model_label(type(obj)), "id": obj.pk}


# What a history table is made of, read once per process (the descriptors build objects at each access).


@cache
def _foreign_keys(history) -> tuple:
    return tuple(f for f in history.tracked_fields if f.many_to_one or f.one_to_one)


@cache
def _choices_fields(history) -> tuple:
    return tuple(f for f in history.tracked_fields if f.choices)


@cache
def _m2m_of(history) -> tuple:
    """(original field, many-to-many history model, name of the related object's column)."""
    found = []
    for m2m in history._history_m2m_fields:
        rows_model = getattr(history, m2m.name).model
        reverse_name = m2m.m2m_reverse_field_name()
        found.append((m2m, rows_model, rows_model._meta.get_field(reverse_name).attname))
    return tuple(found)


def annotate_previous(model, rows):
    """``rows`` (history rows of ``model``) with ``previous_id``: the object's visible row before."""
    history = history_model(model)
    pk = model._meta.pk.attname
    before = history.objects.filter(**{pk: OuterRef(pk)}, history_id__lt=OuterRef("history_id"))
    hidden = audit.hidden_rows(model)
    if hidden is not None:
        before = before.exclude(hidden)
    return rows.annotate(previous_id=Subquery(before.order_by("-history_id").values("history_id")[:1]))


def load_rows(keys) -> list[tuple[type, object]]:
    """The history rows named by ``keys`` (``{"audit_table", "history_id"}``), in their order, each
    with ``previous_id``: one query per table present."""
    models = {source_key(model): model for model in audit.tracked_models()}
    wanted = defaultdict(list)
    for key in keys:
        wanted[key["audit_table"]].append(key["history_id"])
    found = {}
    for source, ids in wanted.items():
        model = models[source]
        for row in annotate_previous(model, history_model(model).objects.filter(history_id__in=ids)):
            found[(source, row.history_id)] = (model, row)
    pairs = [(key["audit_table"], key["history_id"]) for key in keys]
    return [found[pair] for pair in pairs if pair in found]


class _Display:
    """Values as people read them, with the objects foreign keys name fetched in bulk; the
    fields' names and choices' labels translated once (in the active language) for all rows."""

    def __init__(self):
        self.related = {}
        self.object_labels = {}
        self._labels = {}
        self._days = {}
        self._moment = None
        self._choices = {}

    def moment(self, value: datetime) -> str:
        """``dates.paris_moment(value)`` (« 1er décembre 2026 à 9 h 05 »), each day written out once."""
        moment = timezone.localtime(value, PARIS)
        if self._moment is None:
            # Translators: the time of day, as a Django date format (« 9 h 05 » in French).
            self._moment = (_("%(date)s à %(time)s"), _(r"G \h i"))
        sentence, time_format = self._moment
        day = moment.date()
        if day not in self._days:
            self._days[day] = date_format(day, "j F Y")
        return sentence % {"date": self._days[day], "time": dateformat.time_format(moment, time_format)}

    def label(self, model_field) -> str:
        if model_field not in self._labels:
            self._labels[model_field] = capfirst(str(model_field.verbose_name))
        return self._labels[model_field]

    def choice(self, model_field, value) -> str:
        if model_field not in self._choices:
            self._choices[model_field] = {key: str(label) for key, label in model_field.flatchoices}
        return self._choices[model_field].get(value, str(value))

    def fetch(self, wanted: dict[type, set]) -> None:
        for related_model, ids in wanted.items():
            ids = {pk for pk in ids if pk is not None}
            if ids:
                # select_related(): what their names read (a session's group) comes with them.
                self.related[related_model] = related_model._base_manager.select_related().order_by().in_bulk(ids)

    def obj(self, related_model, pk):
        return self.related.get(related_model, {}).get(pk)

    def related_label(self, related_model, pk) -> str:
        obj = self.obj(related_model, pk)
        if obj is None:
            return _("%(type)s n° %(id)s (supprimé)") % {"type": model_label(related_model), "id": pk}
        if related_model is get_user_model():
            return _person_label(obj)
        return _label(obj)

    def value(self, model_field, value) -> str:
        if value is None or value == "":
            return ""
        if model_field.many_to_one or model_field.one_to_one:
            return self.related_label(model_field.related_model, value)
        if model_field.choices:
            return self.choice(model_field, value)
        if isinstance(value, bool):
            return _("oui") if value else _("non")
        if isinstance(value, datetime):
            return self.moment(value) if timezone.is_aware(value) else date_format(value, "j F Y H:i")
        if isinstance(value, date):
            return date_format(value, "j F Y")
        if isinstance(value, list | tuple):
            # A list of numbers or words (a session's reminders, in minutes): « 10080, 1440 ».
            return ", ".join(_plain(item) for item in value)
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    def many(self, related_model, ids) -> str:
        return ", ".join(sorted(self.related_label(related_model, pk) for pk in ids))


def _plain(item) -> str:
    return json.dumps(item, ensure_ascii=False) if isinstance(item, dict | list) else str(item)


def build_entries(request, pairs, *, with_values: bool = False, with_links: bool = True) -> list[Entry]:
    """Entries for ``pairs`` of (model, history row with ``previous_id``), in their order: a
    fixed number of queries whatever their number (per table and per related model). Without
    ``with_links`` (the CSV), no object's admin address: neither the query that tells which
    objects still exist nor the addresses."""
    by_model = defaultdict(list)
    for model, row in pairs:
        by_model[model].append(row)
    previous, m2m_ids, links = {}, {}, {}
    wanted = defaultdict(set)
    for model, rows in by_model.items():
        history = history_model(model)
        # A previous row among these rows (an object changed several times in a row) is not read again.
        here = {row.history_id: row for row in rows}
        previous[model] = {row.previous_id: here[row.previous_id] for row in rows if row.previous_id in here}
        previous[model] |= history.objects.in_bulk(
            {row.previous_id for row in rows if row.previous_id and row.previous_id not in here}
        )
        every = [*rows, *(row for pk, row in previous[model].items() if pk not in here)]
        for fk in _foreign_keys(history):
            wanted[fk.related_model] |= {getattr(row, fk.attname) for row in every}
        ids = [row.history_id for row in every]
        for m2m, rows_model, column in _m2m_of(history):
            sets = defaultdict(set)
            for history_id, related_id in rows_model.objects.filter(history_id__in=ids).values_list(
                "history_id", column
            ):
                sets[history_id].add(related_id)
            m2m_ids[(model, m2m.name)] = sets
            for related_ids in sets.values():
                wanted[m2m.related_model] |= related_ids
        pk = model._meta.pk.attname
        # Who made each change: the accounts read once for all the rows.
        wanted[get_user_model()] |= {row.history_user_id for row in rows}
        if model is get_user_model():
            # The accounts as they are now: an erased one reads as such in its earlier rows too.
            wanted[model] |= {getattr(row, pk) for row in rows}
        if with_links:
            links[model] = _admin_links(request, model, {getattr(row, pk) for row in rows})
    display = _Display()
    display.fetch(wanted)
    entries = []
    for model, row in pairs:
        history = history_model(model)
        before = previous[model].get(row.previous_id)
        object_id = getattr(row, model._meta.pk.attname)
        entry = Entry(
            model=model,
            record=row,
            date=row.history_date,
            kind=row.history_type,
            user=display.obj(get_user_model(), row.history_user_id),
            object_id=object_id,
            object_label=_object_label(model, history, row, display),
            object_url=links[model](object_id) if with_links else "",
            reason=row.history_change_reason or "",
        )
        if row.history_type != "-":
            entry.changes = _changes(model, history, row, before, display, m2m_ids)
        if with_values:
            entry.values = _values(model, history, row, display, m2m_ids)
        entries.append(entry)
    return entries


def _object_label(model, history, row, display) -> str:
    """The object as it was at that row (its ``__str__``), its relations taken from what was
    fetched; read once for the rows that hold the same values (an object's events)."""
    try:
        key = (model, *(getattr(row, f.attname) for f in history.tracked_fields))
        return display.object_labels[key]
    except TypeError:  # a list or a dict among the values (a session's reminders): not a key
        return _object_label_of(model, history, row, display)
    except KeyError:
        label = display.object_labels[key] = _object_label_of(model, history, row, display)
        return label


def _object_label_of(model, history, row, display) -> str:
    instance = model(**{f.attname: getattr(row, f.attname) for f in history.tracked_fields})
    for choices_field in _choices_fields(history):
        # Django's get_FOO_display() builds the choices' dict at each call, its lazy labels hashed
        # (a tenth of an export's time in a feedback's label): the labels translated once serve.
        value = getattr(row, choices_field.attname)
        instance.__dict__[f"get_{choices_field.name}_display"] = partial(display.choice, choices_field, value)
    for fk in _foreign_keys(history):
        related_id = getattr(row, fk.attname)
        if related_id is not None:
            instance._state.fields_cache[fk.name] = display.obj(fk.related_model, related_id)
    if model is get_user_model():
        now = display.obj(model, instance.pk)
        return _person_label(now if getattr(now, "erased_at", None) else instance)
    return _label(instance)


def _admin_links(request, model, pks):
    """A function giving the admin address of an object of ``model`` among ``pks`` ("" for
    one deleted since, or when the person may not open its page): one query, the permission
    asked once."""
    from django.contrib import admin

    model_admin = admin.site._registry.get(model)
    if request is None or model_admin is None or not model_admin.has_view_or_change_permission(request):
        return lambda pk: ""
    existing = set(model._base_manager.filter(pk__in=pks).order_by().values_list("pk", flat=True))
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_change"

    def link(pk) -> str:
        if pk not in existing:
            return ""
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            return ""

    return link


@cache
def _shown_fields(model, history) -> tuple:
    return tuple(f for f in history.tracked_fields if not f.primary_key)


def _changes(model, history, row, before, display, m2m_ids) -> list[Change]:
    """Fields whose value differs from the previous row (every filled one for a first row)."""
    changes = []
    for model_field in _shown_fields(model, history):
        new = getattr(row, model_field.attname)
        old = getattr(before, model_field.attname) if before is not None else None
        if before is not None and old == new:
            continue
        if before is None and new in (None, "", [], {}):
            continue
        changes.append(
            Change(
                display.label(model_field),
                display.value(model_field, old),
                display.value(model_field, new),
            )
        )
    for m2m, _rows_model, _column in _m2m_of(history):
        sets = m2m_ids[(model, m2m.name)]
        new = sets.get(row.history_id, set())
        old = sets.get(before.history_id, set()) if before is not None else set()
        if new == old:
            continue
        label = display.label(m2m)
        if before is None:
            changes.append(Change(label, "", display.many(m2m.related_model, new)))
            continue
        removed, added = old - new, new - old
        changes.append(
            Change(
                label,
                _("retrait : %(names)s") % {"names": display.many(m2m.related_model, removed)} if removed else "",
                _("ajout : %(names)s") % {"names": display.many(m2m.related_model, added)} if added else "",
            )
        )
    return changes


def _values(model, history, row, display, m2m_ids) -> list[tuple[str, str]]:
    """Every tracked field of the row, as it stood (the record's page)."""
    values = [(display.label(f), display.value(f, getattr(row, f.attname))) for f in _shown_fields(model, history)]
    for m2m, _rows_model, _column in _m2m_of(history):
        ids = m2m_ids[(model, m2m.name)].get(row.history_id, set())
        values.append((display.label(m2m), display.many(m2m.related_model, ids)))
    return values


def entry_lines(entry: Entry) -> str:
    """Its changes on one cell (CSV): « Champ : ancien → nouveau », one per line, whole."""
    return "\n".join(f"{change.field} : {change.old or '—'} → {change.new or '—'}" for change in entry.changes)
