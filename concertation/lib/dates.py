"""Dates written out as French writes them: « 1er décembre 2026 », never « 1 décembre ».

One rule for the whole portal: the ``date`` template filter (overridden for every
template by ``concertation.templatetags.dates``, a builtin library) and the dates
Python writes into e-mails, PDFs and printed pages (``date_format``, a drop-in for
``django.utils.formats.date_format``) both go through ``first_of_month_format``."""

import re
from zoneinfo import ZoneInfo

from django.utils import dateformat, formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

PARIS = ZoneInfo("Europe/Paris")

# A day of the month ("j", not escaped by a backslash) followed, after spaces, by a
# month written as a word: F (décembre), N (déc.), M (déc), E (alternative form).
_DAY_BEFORE_MONTH_NAME = re.compile(r"(?<!\\)j(?=[\s\u00a0\u202f]*[FNME])")


def _french() -> bool:
    return (get_language() or "fr").split("-")[0] == "fr"


def first_of_month_format(value, format_string: str | None) -> str | None:
    """``format_string`` (a format or the name of one, such as ``DATE_FORMAT``) with the
    day written « 1er » when ``value`` falls on the first of a month, the active
    language is French and the day is followed by the month's name. Other formats
    (« 01/12/2026 », times, English) are returned unchanged."""
    if getattr(value, "day", None) != 1 or not _french():
        return format_string
    resolved = str(formats.get_format(format_string or "DATE_FORMAT"))
    changed = _DAY_BEFORE_MONTH_NAME.sub(r"1\\e\\r", resolved)
    return changed if changed != resolved else format_string


def date_format(value, format=None, use_l10n=None) -> str:
    """``django.utils.formats.date_format`` writing the first of the month « 1er »."""
    return formats.date_format(value, first_of_month_format(value, format), use_l10n=use_l10n)


def paris_moment(moment) -> str:
    """« 1er décembre 2026 à 9 h 05 »: a moment in Paris time, for printed pages and PDFs."""
    moment = timezone.localtime(moment, PARIS)
    return _("%(date)s à %(time)s") % {
        "date": date_format(moment, "j F Y"),
        # Translators: the time of day, as a Django date format (« 9 h 05 » in French).
        "time": dateformat.format(moment, _(r"G \h i")),
    }
