"""Reading the CSV files staff upload: encoding, separator, header, line numbers.

Every import is all or nothing: it validates every line first and raises
ImportRejected with each bad line's number and reason, writing nothing.
``read_table`` is the one reader of every import: besides the header, it
refuses what would otherwise be misread or fail at the database (NUL bytes,
a quote left open that swallows the following lines, an oversized cell,
a line with more cells than the header) and reads any line ending (Windows,
Unix, or old Mac CR-only).
"""

import csv
import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_IMPORT_LINES = 2000
# Past this many errors of one kind (a whole file in UTF-16 has a NUL on every line), the rest are counted.
MAX_LISTED_ERRORS = 20


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


def read_table(
    text: str,
    *,
    columns: dict[str, set[str]],
    required: dict[str, str],
    multiline: frozenset[str] | set[str] = frozenset(),
    max_lines: int = MAX_IMPORT_LINES,
) -> list[CsvLine]:
    """The non-empty lines of a CSV table whose header names ``columns`` (key: accepted titles).

    Separator ``;`` or ``,`` (or Excel's first line ``sep=;``). Raises
    ImportRejected, with line numbers, for an empty file, a missing required
    column (named by its title in ``required``), more than ``max_lines``
    lines, and a file that cannot be read safely: NUL bytes, a quote opened
    and never closed (or closed lines later, outside the ``multiline``
    columns, whose cells may span lines), text after a closing quote, a cell
    over the csv module's field limit, a line with more cells than the header.
    """
    # Windows (CRLF), Unix (LF) and old Mac (CR alone) line endings all end a line.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    _refuse(_nul_errors(text))
    first_line = text.split("\n", 1)[0]
    if first_line.lower().startswith("sep=") and len(first_line.strip()) > 4:
        delimiter = first_line.strip()[4]
    else:
        delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    cells = list(_quoted_cells(text, delimiter))
    _refuse(_misquoted_errors(cells))
    records = _records(text, delimiter)
    if records and records[0][1] and records[0][1][0].lower().startswith("sep="):
        records = records[1:]
    while records and not any(value.strip() for value in records[0][1]):
        records = records[1:]
    if not records:
        raise ImportRejected([RowError(1, _("le fichier est vide."))])
    header_line, header = records[0]
    positions = {
        key: index
        for index, title in enumerate(header)
        for key, aliases in columns.items()
        if title.strip().lower() in aliases
    }
    missing = [title for key, title in required.items() if key not in positions]
    if missing:
        message = _("colonnes obligatoires absentes : %(columns)s.") % {"columns": ", ".join(missing)}
        raise ImportRejected([RowError(header_line, message)])
    _refuse(_spanning_errors(cells, text.split("\n"), header_line, header, positions, multiline, delimiter))
    lines, errors = [], []
    for number, values in records[1:]:
        if not any(value.strip() for value in values):
            continue
        if len(lines) >= max_lines:
            message = _("trop de lignes (%(max)s au plus par fichier).") % {"max": max_lines}
            raise ImportRejected([RowError(number, message)])
        width = len(values)
        while width > len(header) and not values[width - 1].strip():
            width -= 1  # stray separators at the end of a line
        if width > len(header):
            errors.append(
                RowError(
                    number,
                    _(
                        "%(count)s colonnes au lieu de %(expected)s "
                        "(une cellule contenant « %(separator)s » doit être entre guillemets)."
                    )
                    % {"count": width, "expected": len(header), "separator": delimiter},
                )
            )
        lines.append(CsvLine(number, values, positions))
    _refuse(errors)
    return lines


def _refuse(errors: list[RowError]) -> None:
    if not errors:
        return
    if len(errors) > MAX_LISTED_ERRORS:
        rest = len(errors) - MAX_LISTED_ERRORS
        errors = [
            *errors[:MAX_LISTED_ERRORS],
            RowError(
                errors[MAX_LISTED_ERRORS].line,
                _("et %(count)s autre(s) ligne(s) avec le même problème.") % {"count": rest},
            ),
        ]
    raise ImportRejected(errors)


def _nul_errors(text: str) -> list[RowError]:
    """PostgreSQL refuses NUL in text; a file full of them is usually UTF-16."""
    if "\x00" not in text:
        return []
    message = _(
        "caractère nul (octet 0) : le fichier n'est pas un texte CSV, ou il est enregistré en UTF-16 ; "
        "enregistrez-le au format « CSV UTF-8 »."
    )
    return [RowError(number, message) for number, line in enumerate(text.split("\n"), 1) if "\x00" in line]


@dataclass(frozen=True)
class _QuotedCell:
    """A cell that opens with a quote: where it opens and closes, in which column."""

    opened: int
    closed: int | None  # None: still open at the end of the file
    column: int
    clean_end: bool  # the closing quote is followed by a separator or the end of the line


def _quoted_cells(text: str, delimiter: str):
    """Every quoted cell of ``text``, following the csv module's reading of quotes
    (``""`` inside quotes is one quote; a quote inside an unquoted cell is plain text)."""
    special = re.compile("[" + re.escape(delimiter) + '"\n]')
    line, column, position, at_cell_start = 1, 0, 0, True
    while True:
        match = special.search(text, position)
        if match is None:
            return
        if match.start() > position:
            at_cell_start = False
        char, position = match.group(), match.end()
        if char == delimiter:
            column, at_cell_start = column + 1, True
        elif char == "\n":
            line, column, at_cell_start = line + 1, 0, True
        elif at_cell_start:
            opened = line
            while True:
                end = text.find('"', position)
                if end < 0:
                    yield _QuotedCell(opened, None, column, clean_end=False)
                    return
                line += text.count("\n", position, end)
                position = end + 1
                if text.startswith('"', position):
                    position += 1  # "" stands for one quote
                    continue
                break
            clean_end = position == len(text) or text[position] in (delimiter, "\n")
            yield _QuotedCell(opened, line, column, clean_end)
            at_cell_start = False


def _misquoted_errors(cells: list[_QuotedCell]) -> list[RowError]:
    errors = []
    for cell in cells:
        if cell.closed is None:
            message = _(
                "un guillemet ouvert sur cette ligne n'est jamais refermé : tout le reste du fichier serait lu "
                'comme une seule cellule. Refermez-le, ou doublez-le (« "" ») s\'il fait partie du texte.'
            )
        elif not cell.clean_end and cell.closed > cell.opened:
            message = _swallowed_message(cell)
        elif not cell.clean_end:
            message = _(
                "texte après le guillemet qui ferme une cellule : une cellule entre guillemets s'arrête à ce "
                'guillemet. Doublez-le (« "" ») s\'il fait partie du texte.'
            )
        else:
            continue
        errors.append(RowError(cell.opened, message))
    return errors


def _swallowed_message(cell: _QuotedCell) -> str:
    return _(
        "un guillemet ouvert sur cette ligne n'est refermé qu'à la ligne %(closed)s : les lignes entre les deux "
        'seraient lues comme une seule cellule. Refermez-le sur la même ligne, ou doublez-le (« "" ») s\'il fait '
        "partie du texte."
    ) % {"closed": cell.closed}


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Each record of the file with the number of the line where it starts."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, start = [], 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return records
        except csv.Error as error:
            # The quotes were checked first: what remains is a cell over the field limit.
            message = _("une cellule dépasse %(max)s caractères : ce n'est pas le fichier attendu.") % {
                "max": f"{csv.field_size_limit():,}".replace(",", "\u202f")
            }
            raise ImportRejected([RowError(start, message)]) from error
        records.append((start, values))
        start = reader.line_num + 1


def _spanning_errors(cells, lines, header_line, header, positions, multiline, delimiter) -> list[RowError]:
    """Cells spanning several lines: allowed only in ``multiline`` columns, and
    even there not when a line inside looks like a whole line of the table
    (a quote left open that swallowed the lines after it)."""
    keys = {index: key for key, index in positions.items()}
    row_separators = max(len(header) - 1, 2)
    errors = []
    for cell in cells:
        if cell.closed is None or cell.closed == cell.opened:
            continue
        inside = lines[cell.opened : cell.closed - 1]  # the lines strictly between the quotes
        if (
            cell.opened > header_line
            and keys.get(cell.column) in multiline
            and not any(line.count(delimiter) >= row_separators for line in inside)
        ):
            continue
        errors.append(RowError(cell.opened, _swallowed_message(cell)))
    return errors
