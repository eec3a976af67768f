"""Numbers read from addresses: ids within the database's range, or nothing.

An id past PostgreSQL's ``bigint`` range must never reach a query: an
address answers 404, a filter ignores the value, instead of a database error.
"""

from django.urls import register_converter

# Primary keys are BigAutoField: PostgreSQL's bigint.
ID_MAX = 2**63 - 1


def parse_id(value) -> int | None:
    """``value`` as a database id (ASCII digits, from 1 to ID_MAX), or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= ID_MAX else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    # isdecimal() accepts other scripts' digits: only 0-9, at most 19 of them.
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(ID_MAX))):
        return None
    number = int(value)
    return number if 0 < number <= ID_MAX else None


class IdConverter:
    """``<id:pk>`` in URL patterns: an id within the database's range, else no match (404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(int(value))


# Importing this module makes ``<id:...>`` available to every URL pattern.
register_converter(IdConverter, "id")
