"""Reading the CSV files staff upload: encoding, separator, header, line numbers.

Every import is all or nothing: it validates every line first and raises
ImportRejected with each bad line's number and reason, writing nothing.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_IMPORT_LINES = 2000


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self):
        return _("Ligne %(line)s : %(message)s") % {"line": self.line, "message": self.message}


class ImportRejected(Exception):
    """A file had bad lines: nothing was written. ``errors`` lists every one."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} line(s) rejected")
        self.errors = errors


def decode_upload(raw: bytes) -> str:
    """Text of an uploaded CSV file in UTF-8 (with or without BOM)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            [RowError(1, _("le fichier n'est pas encodé en UTF-8 ; enregistrez-le au format « CSV UTF-8 »."))]
        ) from exc


@dataclass(frozen=True)
class CsvLine:
    """One line of a table: its number in the file and its cells by column name."""

    number: int
    values: list[str]
    positions: dict[str, int]

    def __getitem__(self, name: str) -> str:
        index = self.positions.get(name)
        return self.values[index].strip() if index is not None and index < len(self.values) else ""

    def has(self, name: str) -> bool:
        return name in self.positions


def read_table(text: str, *, columns: dict[str, set[str]], required: dict[str, str]) -> Iterator[CsvLine]:
    """The non-empty lines of a CSV table whose header names ``columns`` (key: accepted titles).

    Separator ``;`` or ``,`` (or Excel's first line ``sep=;``). Raises
    ImportRejected for an empty file, a missing required column (named by its
    title in ``required``) or more than MAX_IMPORT_LINES lines.
    """
    first_line = text.split("\n", 1)[0]
    if first_line.lower().startswith("sep=") and len(first_line.strip()) > 4:
        delimiter = first_line.strip()[4]
    else:
        delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if header and header[0].lower().startswith("sep="):
        header = next(reader, None)
    if not header:
        raise ImportRejected([RowError(1, _("le fichier est vide."))])
    positions = {
        key: index
        for index, title in enumerate(header)
        for key, aliases in columns.items()
        if title.strip().lower() in aliases
    }
    missing = [title for key, title in required.items() if key not in positions]
    if missing:
        message = _("colonnes obligatoires absentes : %(columns)s.") % {"columns": ", ".join(missing)}
        raise ImportRejected([RowError(reader.line_num, message)])
    count = 0
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        count += 1
        if count > MAX_IMPORT_LINES:
            message = _("trop de lignes (%(max)s au plus par fichier).") % {"max": MAX_IMPORT_LINES}
            raise ImportRejected([RowError(reader.line_num, message)])
        yield CsvLine(reader.line_num, values, positions)
