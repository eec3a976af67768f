"""A person's name as the portal keeps it: one line of text.

Names are written into e-mails (invitations, notices), calendar files and PDFs:
a line break typed into a name would add lines of the sender's choosing to
them. ``single_line_name`` is the one rule, used by every form where a name is
typed (invitation, acceptance, the admin's person and invitation forms, an
agenda item's presenter) and by the services that store one (``invitation_send``,
``invitation_accept``, the CSV import).
"""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NAME_NOT_SINGLE_LINE = _("Le nom tient sur une ligne, sans caractère de contrôle.")

# Line and paragraph separators, and the bidirectional embeddings, overrides and
# isolates that reorder what a reader sees.
_REFUSED = {"\u2028", "\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds a control character (C0, DEL, C1), a line or
    paragraph separator, or a bidirectional control."""
    return any(unicodedata.category(char) == "Cc" or char in _REFUSED for char in text)


def single_line_name(value: str | None) -> str:
    """``value`` with its spaces collapsed and trimmed (« Nina  Nouvelle » →
    « Nina Nouvelle »); ValidationError when it holds a line break or another
    control character."""
    text = value or ""
    if has_control_characters(text):
        raise ValidationError(NAME_NOT_SINGLE_LINE, code="name_not_single_line")
    return " ".join(text.split())


def name_on_one_line(value: str | None) -> str:
    """A name stored before the rule (``single_line_name``), made to keep it: its
    control characters turned into spaces, its spaces collapsed. For names read
    back from the database, never for what people type."""
    text = "".join(" " if unicodedata.category(char) == "Cc" or char in _REFUSED else char for char in value or "")
    return " ".join(text.split())


class PersonNameField(forms.CharField):
    """A text field for a person's name: one line (``single_line_name``)."""

    def to_python(self, value):
        return single_line_name(super().to_python(value))


def clean_person_name(form, field: str = "full_name") -> str:
    """For a ModelForm's ``clean_<field>``: the typed name on one line."""
    return single_line_name(form.cleaned_data.get(field))
