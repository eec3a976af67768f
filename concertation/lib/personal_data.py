"""The registry of what the portal keeps about a person, for the download of
their own data (RGPD, right of access).

``networks.personal_data.personal_data_for(user)`` gathers every section; the
sections live with the data they read. ``networks`` is the lowest app and may
not import ``measures`` or ``workgroups``: each app registers its sections from
its ``AppConfig.ready`` (as it does for dashboard panels and search kinds).

A section is a function ``collect(user) -> list[dict]``: one dict per thing
kept (a membership, a feedback, an answer...), its values plain (text, numbers,
booleans, ``None``, dates and datetimes), never a secret (keys, tokens,
password). ``fields`` names each key in French for the readable page, in the
order it shows them. A section runs a fixed number of queries, whatever the
number of rows.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PersonalDataSection:
    key: str
    label: str
    order: int
    fields: tuple[tuple[str, str], ...]
    collect: Callable[[object], list[dict]]


_sections: dict[str, PersonalDataSection] = {}


def register_section(
    key: str,
    label: str,
    collect: Callable[[object], list[dict]],
    *,
    fields: list[tuple[str, str]] | tuple[tuple[str, str], ...],
    order: int = 50,
) -> None:
    """Add (or replace) the section ``key``: ``collect(user)`` returns its rows,
    ``fields`` the (key, French label) pairs the readable page shows."""
    _sections[key] = PersonalDataSection(key=key, label=label, order=order, fields=tuple(fields), collect=collect)


def sections() -> list[PersonalDataSection]:
    """Every registered section, in order (then by key, for a stable file)."""
    return sorted(_sections.values(), key=lambda section: (section.order, section.key))


# Erasure (RGPD, right to erasure): ``networks.services.user_erase`` anonymises the account,
# then calls every eraser registered here, in its transaction, for what the other apps keep
# about the person (a session answer's free comment, for one). An eraser takes the user and
# returns nothing; it must be safe to run twice.
_erasers: dict[str, Callable[[object], None]] = {}


def register_eraser(key: str, erase: Callable[[object], None]) -> None:
    _erasers[key] = erase


def erasers() -> list[Callable[[object], None]]:
    return [_erasers[key] for key in sorted(_erasers)]
