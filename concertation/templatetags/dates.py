"""The ``date`` filter of every template (a builtin library, see ``TEMPLATES`` in the
settings): Django's, writing the first of the month « 1er » in French
(``{{ day|date:"j F Y" }}`` → « 1er décembre 2026 »). ``full_date`` is kept as its alias."""

from django import template
from django.template import defaultfilters

from concertation.lib.dates import first_of_month_format

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    if value in (None, ""):
        return ""
    return defaultfilters.date(value, first_of_month_format(value, str(arg) if arg is not None else None))


register.filter("full_date", date, expects_localtime=True, is_safe=False)
