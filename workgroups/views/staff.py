"""Staff overviews of the working groups: which networks come to the sessions, and which never do."""

from dataclasses import dataclass, field
from datetime import datetime, time

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concertation.lib.dates import date_format
from measures.filters import BoundedModelChoiceField
from networks.models import Network
from workgroups.models import Session, SessionInvitation, WorkingGroup

# Past this many held sessions, columns are months rather than sessions.
MAX_SESSION_COLUMNS = 12


class AttendanceFilterForm(forms.Form):
    group = BoundedModelChoiceField(
        label=_("Groupe de travail"), queryset=WorkingGroup.objects.all(), required=False, empty_label=_("Tous")
    )
    since = forms.DateField(
        label=_("Depuis le"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label=_("Jusqu'au"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    columns = forms.ChoiceField(
        label=_("Colonnes"),
        required=False,
        choices=[("", _("Automatique")), ("sessions", _("Une par séance")), ("months", _("Une par mois"))],
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("La fin de la période doit venir après son début."))
        return cleaned


@dataclass
class Column:
    key: object
    label: str
    title: str = ""
    url: str = ""


@dataclass
class NetworkRow:
    network: Network
    invited: int = 0
    attended: int = 0
    last_attended_at: datetime | None = None
    cells: dict = field(default_factory=dict)  # column key -> (attended, invited)

    @property
    def rate(self) -> int | None:
        return round(100 * self.attended / self.invited) if self.invited else None

    def cell_list(self, columns):
        return [self.cells.get(column.key, (0, 0)) for column in columns]


def _local_bound(day, end=False):
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


@login_required
def attendance_by_network(request):
    """Held sessions × networks: how often each network was invited, how often it came."""
    if not request.user.has_perm("workgroups.read_attendance_by_network"):
        raise PermissionDenied
    form = AttendanceFilterForm(request.GET or None)
    sessions = Session.objects.filter(status=Session.Status.HELD).select_related("group").order_by("starts_at")
    by_months = False
    if form.is_bound and form.is_valid():
        values = form.cleaned_data
        if values["group"]:
            sessions = sessions.filter(group=values["group"])
        if values["since"]:
            sessions = sessions.filter(starts_at__gte=_local_bound(values["since"]))
        if values["until"]:
            sessions = sessions.filter(starts_at__lte=_local_bound(values["until"], end=True))
        by_months = values["columns"] == "months"
        explicit = values["columns"]
    else:
        explicit = ""
    sessions = list(sessions)
    if not explicit and len(sessions) > MAX_SESSION_COLUMNS:
        by_months = True

    # One row per (network, session): was it invited, did someone come for it.
    current = Q(withdrawn_at__isnull=True, source__in=SessionInvitation.INVITED_SOURCES)
    pairs = (
        SessionInvitation.objects.filter(session__in=[s.pk for s in sessions], network__isnull=False)
        .values("network_id", "session_id")
        .annotate(invited=Count("pk", filter=current), present=Count("pk", filter=Q(attended=True)))
        .order_by()
    )
    by_pk = {session.pk: session for session in sessions}
    columns = _columns(sessions, by_months)
    rows: dict[int, NetworkRow] = {}
    pairs = list(pairs)
    seen_networks = {pair["network_id"] for pair in pairs}
    networks = Network.objects.filter(Q(is_active=True) | Q(pk__in=seen_networks)).order_by("name")
    for network in networks:
        rows[network.pk] = NetworkRow(network=network)
    for pair in pairs:
        row = rows[pair["network_id"]]
        session = by_pk[pair["session_id"]]
        # A network that came without an invitation counts as invited to that session.
        invited = bool(pair["invited"] or pair["present"])
        present = bool(pair["present"])
        row.invited += invited
        row.attended += present
        if present and (row.last_attended_at is None or session.starts_at > row.last_attended_at):
            row.last_attended_at = session.starts_at
        key = _column_key(session, by_months)
        came, asked = row.cells.get(key, (0, 0))
        row.cells[key] = (came + present, asked + invited)
    table = [{"row": row, "cells": row.cell_list(columns)} for row in rows.values()]
    never = [row for row in rows.values() if row.network.is_active and not row.attended]
    return render(
        request,
        "workgroups/attendance_by_network.html",
        {
            "form": form,
            "sessions": sessions,
            "columns": columns,
            "by_months": by_months,
            "table": table,
            "never_came": never,
            # Two different problems: networks nobody invited, and networks invited that never came.
            "never_invited": [row for row in never if not row.invited],
            "invited_never_came": [row for row in never if row.invited],
        },
    )


def _column_key(session, by_months):
    if by_months:
        local = timezone.localtime(session.starts_at)
        return (local.year, local.month)
    return session.pk


def _columns(sessions, by_months) -> list[Column]:
    columns: dict[object, Column] = {}
    for session in sessions:
        key = _column_key(session, by_months)
        if key in columns:
            continue
        local = timezone.localtime(session.starts_at)
        if by_months:
            columns[key] = Column(key=key, label=date_format(local, "F Y"))
        else:
            columns[key] = Column(
                key=key,
                label=date_format(local, "j N Y"),
                title=f"{session.group.title} — {session.title}",
                url=session.get_absolute_url(),
            )
    return list(columns.values())
