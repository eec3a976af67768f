"""Template filters of the working groups' pages and e-mails."""

from django import template

from concertation.templatetags.dates import date as french_date_filter

register = template.Library()

# Every template's ``date`` writes « 1er » (concertation.templatetags.dates, a builtin):
# ``full_date`` stays as its alias for the templates that load this library.
register.filter("full_date", french_date_filter, expects_localtime=True, is_safe=False)


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
