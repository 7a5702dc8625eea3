"""Reading and validating labelled CSVs of quotes (the SPEC's "Training data" section).

Every problem is reported with its file and line; nothing is dropped silently: invalid rows are
either an error or, with ``skip_invalid=True``, counted and listed in the result.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stance.errors import DataError

__all__ = [
    "LABELS",
    "LABEL_ALIASES",
    "InvalidRow",
    "LabelledData",
    "describe_skipped",
    "normalize_label",
    "read_labelled_csv",
]

LABELS: tuple[str, ...] = ("anti", "neutral", "pro")

# Spellings users put in their CSVs, folded to the three canonical labels.
LABEL_ALIASES: dict[str, str] = {
    "pro": "pro",
    "favor": "pro",
    "favour": "pro",
    "support": "pro",
    "supports": "pro",
    "pro-negotiation": "pro",
    "pro_negotiation": "pro",
    "anti": "anti",
    "against": "anti",
    "oppose": "anti",
    "opposes": "anti",
    "anti-negotiation": "anti",
    "anti_negotiation": "anti",
    "neutral": "neutral",
    "none": "neutral",
    "neither": "neutral",
    "off-topic": "neutral",
    "off_topic": "neutral",
    "offtopic": "neutral",
}

OPTIONAL_COLUMNS = ("speaker", "date", "source", "id")
MAX_LISTED_LINES = 20


def normalize_label(value: str) -> str | None:
    """The canonical label for ``value`` (case-insensitive, aliases folded), or None if unknown."""
    return LABEL_ALIASES.get(value.strip().lower())


@dataclass(frozen=True, slots=True)
class InvalidRow:
    """A row that could not be used, with where it is and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(slots=True)
class LabelledData:
    """Validated rows from one or more CSVs, column by column, in file order."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    speakers: list[str | None] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    dates: list[str | None] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)  # "path:line" of each row
    skipped: list[InvalidRow] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    sha256: str = ""  # over the bytes of all files, in the order read

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def label_set(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.labels)))

    def groups(self) -> list[str]:
        """A group key per row for grouped cross-validation: speaker, else source, else the row."""
        return [
            (speaker or source or origin).strip().lower()
            for speaker, source, origin in zip(
                self.speakers, self.sources, self.origins, strict=True
            )
        ]


def read_labelled_csv(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    text_column: str = "text",
    label_column: str = "label",
    encoding: str | None = None,
    skip_invalid: bool = False,
) -> LabelledData:
    """Read and validate labelled CSVs into one :class:`LabelledData`.

    ``encoding=None`` reads UTF-8 (a BOM is tolerated) and turns any other encoding into a
    :class:`DataError` naming the first undecodable line. Invalid rows (empty text, unknown label,
    a malformed date, a ragged row) raise a :class:`DataError` listing the first 20 offending lines
    and their count, unless ``skip_invalid`` is set, in which case they are recorded in
    ``result.skipped``.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if not paths:
        raise DataError("no CSV files given")
    data = LabelledData()
    digest = hashlib.sha256()
    invalid: list[InvalidRow] = []
    for path in paths:
        raw = _read_bytes(Path(path))
        digest.update(raw)
        data.files.append(str(path))
        text = _decode(raw, str(path), encoding)
        invalid.extend(_read_rows(text, str(path), text_column, label_column, data))
    data.sha256 = digest.hexdigest()
    if invalid and not skip_invalid:
        raise DataError(_describe_invalid(invalid))
    data.skipped = invalid
    if not data.texts:
        raise DataError(f"no usable rows in {', '.join(data.files)}")
    return data


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as err:
        raise DataError(f"{path}: no such file") from err
    except IsADirectoryError as err:
        raise DataError(f"{path}: is a directory, expected a CSV file") from err
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from err


def _decode(raw: bytes, path: str, encoding: str | None) -> str:
    if encoding is not None:
        try:
            return raw.decode(encoding)
        except LookupError as err:
            raise DataError(f"unknown encoding {encoding!r}") from err
        except UnicodeDecodeError as err:
            line = raw.count(b"\n", 0, err.start) + 1
            raise DataError(f"{path}:{line}: not valid {encoding}: {err.reason}") from err
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise DataError(
            f"{path}:{line}: not UTF-8 (byte 0x{raw[err.start]:02x}); "
            "give the file's encoding with --encoding (for example --encoding cp1252)"
        ) from err


def _read_rows(
    text: str, path: str, text_column: str, label_column: str, data: LabelledData
) -> list[InvalidRow]:
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise DataError(f"{path}:{line}: contains a NUL byte; is this really a CSV file?")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(
            f"{path}: empty file, expected a header row with {text_column!r} and {label_column!r}"
        ) from None
    except csv.Error as err:
        raise DataError(f"{path}:1: unreadable header ({err})") from err
    columns = [name.strip() for name in header]
    index = _column_index(columns, path, text_column, label_column)
    invalid: list[InvalidRow] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            invalid.append(InvalidRow(path, line, f"unreadable row ({err})"))
            continue
        if not row or all(not cell.strip() for cell in row):
            continue  # blank lines separate nothing in a CSV; they are not rows
        problem = _check_row(row, columns, index, text_column, label_column)
        if problem:
            invalid.append(InvalidRow(path, line, problem))
            continue
        data.texts.append(row[index[text_column]].strip())
        data.labels.append(normalize_label(row[index[label_column]]))  # type: ignore[arg-type]
        for name, store in (
            ("speaker", data.speakers),
            ("source", data.sources),
            ("date", data.dates),
            ("id", data.ids),
        ):
            value = row[index[name]].strip() if name in index else ""
            store.append(value or None)
        data.origins.append(f"{path}:{line}")
    return invalid


def _column_index(
    columns: list[str], path: str, text_column: str, label_column: str
) -> dict[str, int]:
    missing = [name for name in (text_column, label_column) if name not in columns]
    if missing:
        raise DataError(
            f"{path}:1: missing column {', '.join(repr(m) for m in missing)}; "
            f"the header has {', '.join(repr(c) for c in columns) or 'no columns'} "
            "(use --text-column/--label-column to name others)"
        )
    index = {text_column: columns.index(text_column), label_column: columns.index(label_column)}
    for name in OPTIONAL_COLUMNS:
        if name in columns and name not in index:
            index[name] = columns.index(name)
    return index


def _check_row(
    row: list[str], columns: list[str], index: dict[str, int], text_column: str, label_column: str
) -> str | None:
    if len(row) != len(columns):
        return f"expected {len(columns)} fields as in the header, found {len(row)}"
    if not row[index[text_column]].strip():
        return f"empty {text_column!r}"
    label = row[index[label_column]]
    if normalize_label(label) is None:
        return (
            f"unknown {label_column!r} {label.strip()!r} "
            "(expected pro, anti or neutral, or an alias)"
        )
    if "date" in index and row[index["date"]].strip() and not _is_iso_date(row[index["date"]]):
        return f"'date' {row[index['date']].strip()!r} is not an ISO 8601 date (YYYY-MM-DD)"
    return None


def _is_iso_date(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def describe_skipped(skipped: Sequence[InvalidRow]) -> list[str]:
    """Lines naming the rows --skip-invalid left out (the first MAX_LISTED_LINES, then a count),
    so that none is dropped without a record; no lines when none was."""
    if not skipped:
        return []
    lines = [f"skipped {len(skipped)} invalid rows:"]
    lines += [f"  {row}" for row in skipped[:MAX_LISTED_LINES]]
    if len(skipped) > MAX_LISTED_LINES:
        lines.append(f"  ... and {len(skipped) - MAX_LISTED_LINES} more")
    return lines


def _describe_invalid(invalid: Iterable[InvalidRow]) -> str:
    rows = list(invalid)
    shown = "; ".join(str(row) for row in rows[:MAX_LISTED_LINES])
    more = f" (and {len(rows) - MAX_LISTED_LINES} more)" if len(rows) > MAX_LISTED_LINES else ""
    return (
        f"{len(rows)} invalid row{'s' if len(rows) != 1 else ''}: {shown}{more}; "
        "fix them or pass --skip-invalid to leave them out"
    )
