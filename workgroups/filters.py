"""Filters of the working groups' lists."""

from datetime import datetime

import django_filters
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from measures.filters import ALL, BoundedModelChoiceFilter
from workgroups.models import WorkingGroup

UPCOMING = "a-venir"
PAST = "passees"


def month_bounds(value: str) -> tuple[datetime, datetime] | None:
    """The first instant of the month ``YYYY-MM`` (Paris time) and of the next one; None if it is no month."""
    year, _sep, month = (value or "").partition("-")
    if not (len(year) == 4 and len(month) == 2 and (year + month).isascii() and (year + month).isdigit()):
        return None
    year, month = int(year), int(month)
    if not (1 <= month <= 12 and 1900 < year < 9999):
        return None
    tz = timezone.get_default_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


class SessionFilter(django_filters.FilterSet):
    """The session list's filters: a group among the person's, a month, upcoming or past.

    ``groups`` are the groups the person may pick (those of the sessions they
    see); ``months`` the months (first day, Paris time) those sessions fall in."""

    group = BoundedModelChoiceFilter(
        empty_label=ALL, label=_("Groupe de travail"), queryset=WorkingGroup.objects.none()
    )
    month = django_filters.ChoiceFilter(label=_("Mois"), choices=[], empty_label=_("Tous"), method="in_month")
    period = django_filters.ChoiceFilter(
        label=_("Période"),
        choices=[(UPCOMING, _("À venir")), (PAST, _("Passées"))],
        empty_label=_("Toutes"),
        method="in_period",
    )

    def __init__(self, data=None, queryset=None, *, groups, months, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        self.filters["group"].queryset = groups
        self.filters["month"].extra["choices"] = [
            (f"{month:%Y-%m}", date_format(month, "F Y").capitalize()) for month in months
        ]

    def in_month(self, queryset, name, value):
        bounds = month_bounds(value)
        if bounds is None:
            return queryset
        return queryset.filter(starts_at__gte=bounds[0], starts_at__lt=bounds[1])

    def in_period(self, queryset, name, value):
        if value == UPCOMING:
            return queryset.upcoming()
        if value == PAST:
            return queryset.past()
        return queryset
