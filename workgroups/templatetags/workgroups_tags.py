"""Template filters of the working groups' pages and e-mails."""

import re

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.translation import get_language

register = template.Library()

# A "j" (day of the month) not escaped by a backslash.
_DAY = re.compile(r"(?<!\\)j")


@register.filter(expects_localtime=True, is_safe=False)
def full_date(value, arg=None):
    """``date``, writing the first of the month as French does: « 1er décembre ».

    ``{{ session.starts_at|full_date:"l j F Y" }}`` → « lundi 1er décembre 2025 »
    (only in French, and only when the format writes the day as a number)."""
    if value in (None, ""):
        return ""
    arg = str(arg) if arg is not None else None
    if arg and getattr(value, "day", None) == 1 and (get_language() or "fr").startswith("fr"):
        arg = _DAY.sub(r"1\\e\\r", arg)
    return date_filter(value, arg)


@register.filter
def parse_iso(value):
    """A date or time stored as ISO text (a frozen snapshot) back into a value
    the date filters take, in Paris time."""
    from datetime import date, datetime

    from django.utils import timezone

    if not value:
        return ""
    if "T" in value:
        return timezone.localtime(datetime.fromisoformat(value))
    return date.fromisoformat(value)
