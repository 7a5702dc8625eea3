"""The files of batch scoring: the inputs `stance score` reads, cut into chunks, and what it writes.

Inputs are tables (.csv, .jsonl/.ndjson, .parquet) and article collections (a folder, a .zip, a
.tar.gz, or single .txt/.md/.html files). The work is split in two so that the process that
reads is not the one that parses:
- parent side: ``expand_inputs`` turns paths and globs into Sources; ``chunk_jobs`` walks a
  Source and yields small picklable jobs (a byte range of a CSV/JSONL file, a batch of Parquet
  rows, a list of article files) without parsing a row;
- worker side: ``read_job`` turns a job into Chunks: a pyarrow Table of the rows that could be read,
  their row numbers, and an error record for each row that could not.
Then the output side: finished chunks are kept as Arrow IPC parts, and ``assemble`` writes them,
conformed to one schema, into the final .parquet/.csv/.jsonl file.

Row numbers in error records are 1-based: the line number for CSV and JSONL (the header is line 1),
the data row for Parquet, and None for article files (the member names them).
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from stance.errors import InputError

__all__ = [
    "ARTICLE_SUFFIXES",
    "OUTPUT_FORMATS",
    "Chunk",
    "Source",
    "assemble",
    "chunk_jobs",
    "conform",
    "error_record",
    "expand_inputs",
    "fingerprint",
    "output_format",
    "peek_columns",
    "read_job",
    "read_part",
    "unified_schema",
    "write_part",
]

Kind = Literal["csv", "jsonl", "parquet", "folder", "zip", "tar", "article"]
TABLE_SUFFIXES: dict[str, Kind] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
ARTICLE_SUFFIXES = (".txt", ".md", ".html", ".htm")
OUTPUT_FORMATS = (".parquet", ".csv", ".jsonl")
_BOM = b"\xef\xbb\xbf"
# The lines that are no row at all: pyarrow's ignore_empty_lines and Python's csv agree on these.
_EMPTY_LINES = frozenset((b"\n", b"\r\n", b"\r", b""))


# -- sources ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Source:
    """One input after glob expansion: its path and what kind of file or folder it is."""

    path: Path
    kind: Kind

    @property
    def is_table(self) -> bool:
        return self.kind in ("csv", "jsonl", "parquet")


def expand_inputs(patterns: Sequence[str]) -> list[Source]:
    """The inputs named on the command line, globs expanded (sorted), duplicates dropped.

    Raises InputError for a path that does not exist, a glob that matches nothing, and a file whose
    extension is neither a table's nor an article collection's.
    """
    sources: list[Source] = []
    seen: set[Path] = set()
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise InputError(f"{pattern}: no file matches this pattern")
        else:
            matches = [pattern]
        for match in matches:
            path = Path(match)
            if not path.exists():
                raise InputError(f"{path}: no such file or folder")
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            sources.append(Source(path, _kind_of(path)))
    if not sources:
        raise InputError("no input given")
    return sources


def _kind_of(path: Path) -> Kind:
    if path.is_dir():
        return "folder"
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return "tar"
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return TABLE_SUFFIXES[suffix]
    if suffix == ".zip":
        return "zip"
    if suffix in ARTICLE_SUFFIXES:
        return "article"
    raise InputError(
        f"{path}: cannot score a '{suffix or path.name}' file; give tables (.csv, .jsonl, "
        ".ndjson, .parquet) or articles (a folder, .zip, .tar.gz, .txt, .md, .html)"
    )


def output_format(path: Path) -> str:
    """'parquet', 'csv' or 'jsonl' from the output's extension; InputError for any other."""
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise InputError(
            f"{path}: the output's extension says its format: use .parquet, .csv or .jsonl"
        )
    return suffix[1:]


def fingerprint(source: Source) -> dict[str, Any]:
    """What identifies an input's content for --resume: its path, size and modification time
    (for a folder: its files' count, total size and latest mtime)."""
    path = source.path
    if source.kind != "folder":
        return file_fingerprint(path)
    files = list(_folder_files(path))
    stats = [(path / rel).stat() for rel in files]
    return {
        "path": str(path.resolve()),
        "files": len(files),
        "size": sum(s.st_size for s in stats),
        "mtime_ns": max((s.st_mtime_ns for s in stats), default=0),
    }


def file_fingerprint(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def source_size(source: Source) -> int:
    """Bytes of an input, the unit of the progress bar."""
    if source.kind == "folder":
        return sum((source.path / rel).stat().st_size for rel in _folder_files(source.path))
    return source.path.stat().st_size


def peek_columns(source: Source) -> list[str] | None:
    """A table's column names, read from its head (a CSV header, a Parquet schema, the first JSON
    object), to check the options before scoring. None when they cannot be read: the unreadable
    file is then reported as an error record by the run itself."""
    try:
        if source.kind == "csv":
            header = _csv_header(source.path)
            return list(header[0]) if header else None
        if source.kind == "parquet":
            return list(pq.ParquetFile(source.path).schema_arrow.names)
        if source.kind == "jsonl":
            with open(source.path, "rb") as handle:
                for n, line in enumerate(handle):
                    if n > 1000:
                        break
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(obj, dict):
                        return list(obj)
    except (OSError, pa.ArrowException, InputError):
        return None
    return None


def column_type(source: Source, name: str) -> pa.DataType | None:
    """The type of a Parquet column (None for other kinds or an unreadable file)."""
    if source.kind != "parquet":
        return None
    try:
        return pq.ParquetFile(source.path).schema_arrow.field(name).type
    except (OSError, pa.ArrowException, KeyError):
        return None


# -- jobs: what the parent sends to a worker -------------------------------------------------
@dataclass(frozen=True, slots=True)
class TextSlice:
    """A byte range of a CSV or JSONL file that holds whole rows, and the line it starts on."""

    input: str
    kind: Kind
    offset: int
    length: int
    first_line: int
    header: tuple[str, ...] | None = None

    @property
    def progress(self) -> int:
        return self.length


@dataclass(frozen=True, slots=True)
class BatchSlice:
    """Parquet rows read by the parent (local engine), with the 1-based number of the first."""

    input: str
    batch: pa.RecordBatch
    first_row: int
    progress: int


@dataclass(frozen=True, slots=True)
class RowGroupSlice:
    """One row group of a Parquet file, read where it is scored (dask engine)."""

    input: str
    row_group: int
    first_row: int
    chunk_size: int
    progress: int


@dataclass(frozen=True, slots=True)
class FileItem:
    """An article file: a path to read, or an archive member's bytes, or why it is unreadable."""

    member: str | None
    source: str
    path: str | None = None
    data: bytes | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FileBatch:
    input: str
    items: tuple[FileItem, ...]
    progress: int


@dataclass(frozen=True, slots=True)
class ZipBatch:
    """Members of a zip archive, read (and decompressed) by the worker."""

    input: str
    members: tuple[str, ...]
    progress: int


@dataclass(frozen=True, slots=True)
class BrokenInput:
    """An input (or its remainder) that cannot be read at all: one error record."""

    input: str
    reason: str
    row: int | None = None
    member: str | None = None
    progress: int = 0


Job = TextSlice | BatchSlice | RowGroupSlice | FileBatch | ZipBatch | BrokenInput


def chunk_jobs(
    source: Source, chunk_size: int, *, where: Literal["parent", "worker"] = "parent"
) -> Iterator[Job]:
    """The jobs of one input, in input order, each of at most ``chunk_size`` rows or files.

    The cut is deterministic (the same file and chunk size give the same jobs), which --resume
    relies on. ``where="worker"`` makes Parquet jobs row groups that the worker reads itself
    (the dask engine) instead of batches the parent has read (the local engine).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    path = str(source.path)
    if source.kind == "csv":
        yield from _csv_jobs(source.path, chunk_size)
    elif source.kind == "jsonl":
        start = 3 if _starts_with_bom(source.path) else 0
        if source.path.stat().st_size <= start:
            yield BrokenInput(path, "empty file (no rows)")
            return
        yield from _line_slices(source.path, "jsonl", start, 1, chunk_size, header=None)
    elif source.kind == "parquet":
        yield from _parquet_jobs(source.path, chunk_size, where=where)
    elif source.kind == "folder":
        items = [
            FileItem(member=rel, source=str(source.path / rel), path=str(source.path / rel))
            for rel in _folder_files(source.path)
        ]
        for batch in _batched(items, chunk_size):
            size = sum(os.path.getsize(item.path) for item in batch if item.path)
            yield FileBatch(path, tuple(batch), size)
    elif source.kind == "article":
        item = FileItem(member=None, source=path, path=path)
        yield FileBatch(path, (item,), source.path.stat().st_size)
    elif source.kind == "zip":
        yield from _zip_jobs(source.path, chunk_size)
    elif source.kind == "tar":
        yield from _tar_jobs(source.path, chunk_size)


def _batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _starts_with_bom(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(3) == _BOM


def _csv_header(path: Path) -> tuple[tuple[str, ...], int, int] | None:
    """(column names, byte offset after the header, number of its last line), None when the file
    holds no header. A BOM is skipped; blank lines before the header are skipped."""
    with open(path, "rb") as handle:
        offset = 3 if handle.read(3) == _BOM else 0
        handle.seek(offset)
        lines: list[bytes] = []
        open_quote = False
        line_no = 0
        for line in handle:
            line_no += 1
            offset += len(line)
            if not lines and line in _EMPTY_LINES:
                continue
            lines.append(line)
            if line.count(b'"') & 1:
                open_quote = not open_quote
            if not open_quote:
                break
    if not lines:
        return None
    try:
        text = b"".join(lines).decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: the header row is not UTF-8 text ({err.reason})") from err
    names = next(csv.reader(io.StringIO(text, newline="")), [])
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"{path}: the header repeats the column name(s) {', '.join(dupes)}")
    return tuple(names), offset, line_no


def _csv_jobs(path: Path, chunk_size: int) -> Iterator[Job]:
    try:
        header = _csv_header(path)
    except InputError as err:
        yield BrokenInput(str(path), str(err), row=1, progress=path.stat().st_size)
        return
    if header is None:
        yield BrokenInput(str(path), "empty file (no header row)", progress=path.stat().st_size)
        return
    names, offset, line_no = header
    yield from _line_slices(path, "csv", offset, line_no + 1, chunk_size, header=names)


def record_starts(lines: Iterable[bytes], *, kind: Kind) -> Iterator[tuple[int, int]]:
    """(index of the line, byte offset) where each row begins, counting from the first line given.

    JSONL: every non-blank line is a row. CSV: a row ends at a line end outside quotation marks;
    a quoted field may hold line breaks. A double quote inside a quoted field is written twice
    (RFC 4180), so the parity of the count of '"' tells whether a line end is inside quotes.
    """
    offset = 0
    open_quote = False
    for index, line in enumerate(lines):
        if kind == "csv":
            if not open_quote and line not in _EMPTY_LINES:
                yield index, offset
            if line.count(b'"') & 1:
                open_quote = not open_quote
        elif line.strip():
            yield index, offset
        offset += len(line)


def _line_slices(
    path: Path,
    kind: Kind,
    start: int,
    first_line: int,
    chunk_size: int,
    *,
    header: tuple[str, ...] | None,
) -> Iterator[TextSlice]:
    """Cut a CSV/JSONL file from byte ``start`` into slices of ``chunk_size`` rows; no parsing,
    one pass over the lines (a count of '"' per CSV line is all the work)."""
    size = path.stat().st_size
    slice_start = start
    slice_line = first_line
    rows = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        for index, offset in record_starts(handle, kind=kind):
            if rows == chunk_size:
                yield TextSlice(
                    str(path), kind, slice_start, start + offset - slice_start, slice_line, header
                )
                slice_start = start + offset
                slice_line = first_line + index
                rows = 0
            rows += 1
    if rows:
        yield TextSlice(str(path), kind, slice_start, size - slice_start, slice_line, header)


def _parquet_jobs(path: Path, chunk_size: int, *, where: str) -> Iterator[Job]:
    size = path.stat().st_size
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as err:
        yield BrokenInput(str(path), f"not a readable Parquet file ({err})", progress=size)
        return
    total = max(parquet.metadata.num_rows, 1)
    first = 1
    if where == "worker":
        for group in range(parquet.metadata.num_row_groups):
            rows = parquet.metadata.row_group(group).num_rows
            yield RowGroupSlice(str(path), group, first, chunk_size, size * rows // total)
            first += rows
        return
    done = 0
    try:
        for batch in parquet.iter_batches(batch_size=chunk_size):
            progress = size * (first - 1 + batch.num_rows) // total - done
            done += progress
            yield BatchSlice(str(path), batch, first, progress)
            first += batch.num_rows
    except (OSError, pa.ArrowException) as err:
        yield BrokenInput(
            str(path), f"unreadable from row {first} on ({err})", row=first, progress=size - done
        )


def _is_hidden(rel: str) -> bool:
    # Dot files, and the resource forks macOS puts into zips.
    return any(part.startswith(".") or part == "__MACOSX" for part in rel.split("/"))


def _folder_files(folder: Path) -> Iterator[str]:
    """The files of a folder, recursively, as sorted relative paths; hidden ones left out."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
            if not _is_hidden(rel):
                found.append(rel)
    yield from sorted(found)


def _zip_jobs(path: Path, chunk_size: int) -> Iterator[Job]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir() and not _is_hidden(i.filename)]
    except (OSError, zipfile.BadZipFile, ValueError) as err:
        yield BrokenInput(
            str(path), f"not a readable zip archive ({err})", progress=path.stat().st_size
        )
        return
    for batch in _batched(infos, chunk_size):
        yield ZipBatch(
            str(path), tuple(i.filename for i in batch), sum(i.compress_size for i in batch)
        )


def _tar_jobs(path: Path, chunk_size: int) -> Iterator[Job]:
    """Members of a (compressed) tar, read here: a tar stream has no index to seek in."""
    items: list[FileItem] = []
    done = 0
    with open(path, "rb") as raw:
        try:
            with tarfile.open(fileobj=raw, mode="r:*") as archive:
                for info in archive:
                    if not info.isfile() or _is_hidden(info.name):
                        continue
                    source = f"{path}/{info.name}"
                    try:
                        handle = archive.extractfile(info)
                        data = handle.read() if handle else b""
                        items.append(FileItem(info.name, source, data=data))
                    except (OSError, tarfile.TarError, EOFError, zlib.error) as err:
                        items.append(
                            FileItem(info.name, source, error=f"unreadable member ({err})")
                        )
                    if len(items) == chunk_size:
                        yield FileBatch(str(path), tuple(items), raw.tell() - done)
                        done = raw.tell()
                        items = []
        except (OSError, tarfile.TarError, EOFError, zlib.error) as err:
            if items:
                yield FileBatch(str(path), tuple(items), 0)
                items = []
            yield BrokenInput(
                str(path),
                f"not a readable tar archive past this point ({err})",
                progress=path.stat().st_size - done,
            )
            return
    if items:
        yield FileBatch(str(path), tuple(items), path.stat().st_size - done)
    elif done == 0 and path.stat().st_size == 0:
        yield BrokenInput(str(path), "empty file (no members)")


# -- worker side: a job -> Chunks -----------------------------------------------------------
@dataclass(slots=True)
class Chunk:
    """Rows read from one input: those that parsed, in a Table, and an error for each that did not.

    ``rows``/``members`` give each table row's row number and archive member (None where it has
    none). ``text_column`` overrides the run's text column: article files come as a table of
    ``source, title, date, url, text`` whatever the tables of the run are called.
    """

    input: str
    table: pa.Table
    rows: Sequence[int | None] | None = None
    members: Sequence[str | None] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    text_column: str | None = None
    unreadable: int = 0  # rows or files read but not parsed: each has its error record

    def row(self, index: int) -> int | None:
        return self.rows[index] if self.rows is not None else None

    def member(self, index: int) -> str | None:
        return self.members[index] if self.members is not None else None


def error_record(input: str, row: int | None, member: str | None, reason: str) -> dict[str, Any]:
    """One line of OUTPUT.errors.jsonl."""
    return {"input": input, "row": row, "member": member, "reason": reason}


def read_job(job: Job) -> Iterator[Chunk]:
    """Parse a job into Chunks (one, except for a Parquet row group larger than the chunk size)."""
    if isinstance(job, TextSlice):
        with open(job.input, "rb") as handle:
            handle.seek(job.offset)
            data = handle.read(job.length)
        yield _read_csv(job, data) if job.kind == "csv" else _read_jsonl(job, data)
    elif isinstance(job, BatchSlice):
        table = pa.Table.from_batches([job.batch])
        yield Chunk(job.input, table, range(job.first_row, job.first_row + table.num_rows))
    elif isinstance(job, RowGroupSlice):
        first = job.first_row
        try:
            parquet = pq.ParquetFile(job.input)
            for batch in parquet.iter_batches(
                batch_size=job.chunk_size, row_groups=[job.row_group]
            ):
                table = pa.Table.from_batches([batch])
                yield Chunk(job.input, table, range(first, first + table.num_rows))
                first += table.num_rows
        except (OSError, pa.ArrowException) as err:
            reason = f"unreadable from row {first} on ({err})"
            yield Chunk(
                job.input, pa.table({}), errors=[error_record(job.input, first, None, reason)]
            )
    elif isinstance(job, FileBatch | ZipBatch):
        yield _read_articles(job)
    elif isinstance(job, BrokenInput):
        record = error_record(job.input, job.row, job.member, job.reason)
        yield Chunk(job.input, pa.table({}), errors=[record])
    else:  # pragma: no cover
        raise TypeError(f"unknown job {type(job).__name__}")


def _read_csv(job: TextSlice, data: bytes) -> Chunk:
    """CSV rows through pyarrow's parser; the slice is re-read with Python's csv (slower, but
    row by row) only when pyarrow refuses it: a ragged row, bytes that are not UTF-8."""
    header = job.header or ()
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(
                column_names=list(header), use_threads=False, block_size=max(len(data) + 1, 1 << 20)
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        return _read_csv_rows(job, data)
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    starts: Sequence[int]
    if lines == table.num_rows:  # the usual case, one line a row: the row numbers are a range
        starts = range(job.first_line, job.first_line + lines)
    else:  # quoted line breaks or blank lines: find where each row starts
        starts = [job.first_line + i for i, _ in record_starts(io.BytesIO(data), kind="csv")]
    if table.num_rows != len(starts):  # pyarrow and our row count disagree: trust the slow path
        return _read_csv_rows(job, data)
    return Chunk(job.input, table, starts)


def _read_csv_rows(job: TextSlice, data: bytes) -> Chunk:
    header = job.header or ()
    # csv's default limit (128 KiB a field) is below the longest article bodies seen in archives.
    csv.field_size_limit(2**31 - 1)
    # Undecodable bytes become lone surrogates, so that the bad row, not the slice, is refused.
    reader = csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape"), newline=""))
    columns: list[list[str]] = [[] for _ in header]
    rows: list[int] = []
    errors: list[dict[str, Any]] = []
    while True:
        line = job.first_line + reader.line_num
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            errors.append(error_record(job.input, line, None, f"unreadable CSV row ({err})"))
            continue
        if not values:
            continue
        if len(values) != len(header):
            reason = f"{len(values)} fields where the header has {len(header)}"
            errors.append(error_record(job.input, line, None, reason))
            continue
        try:
            for value in values:
                value.encode("utf-8")
        except UnicodeEncodeError as err:
            byte = ord(err.object[err.start]) - 0xDC00
            reason = f"not UTF-8 text (byte 0x{byte:02x}); re-save the file as UTF-8"
            errors.append(error_record(job.input, line, None, reason))
            continue
        rows.append(line)
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    table = pa.table(
        {name: pa.array(col, pa.string()) for name, col in zip(header, columns, strict=True)}
    )
    return Chunk(job.input, table, rows, errors=errors, unreadable=len(errors))


def _read_jsonl(job: TextSlice, data: bytes) -> Chunk:
    objects: list[dict[str, Any]] = []
    rows: list[int] = []
    errors: list[dict[str, Any]] = []
    for index, line in enumerate(io.BytesIO(data)):
        if not line.strip():
            continue
        number = job.first_line + index
        try:
            obj = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as err:
            reason = f"not UTF-8 text (byte 0x{line[err.start]:02x}); re-save the file as UTF-8"
            errors.append(error_record(job.input, number, None, reason))
            continue
        except json.JSONDecodeError as err:
            errors.append(
                error_record(
                    job.input, number, None, f"invalid JSON ({err.msg}, column {err.colno})"
                )
            )
            continue
        if not isinstance(obj, dict):
            errors.append(
                error_record(job.input, number, None, f"a JSON {type(obj).__name__}, not an object")
            )
            continue
        objects.append(obj)
        rows.append(number)
    names = list(dict.fromkeys(key for obj in objects for key in obj))
    table = pa.table({name: _json_column([obj.get(name) for obj in objects]) for name in names})
    return Chunk(job.input, table, rows, errors=errors, unreadable=len(errors))


def _json_column(values: list[Any]) -> pa.Array:
    """A column of JSON values: nested values as JSON text, mixed scalars as text."""
    values = [
        json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for v in values
    ]
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array(
            [v if v is None or isinstance(v, str) else json.dumps(v) for v in values], pa.string()
        )


def _read_articles(job: FileBatch | ZipBatch) -> Chunk:
    from stance.quotes import article_from_html, parse_article, read_article

    columns: dict[str, list[str | None]] = {
        k: [] for k in ("source", "title", "date", "url", "text")
    }
    members: list[str | None] = []
    errors: list[dict[str, Any]] = []
    for item in _file_items(job):
        try:
            if item.error:
                raise InputError(item.error)
            if item.path is not None:
                article = read_article(item.path)
            else:
                text = _decode_member(item.data or b"")
                is_html = (item.member or "").lower().endswith((".html", ".htm"))
                article = (
                    article_from_html(text, source=item.source)
                    if is_html
                    else parse_article(text, source=item.source)
                )
        except Exception as err:
            reason = str(err) if isinstance(err, InputError) else f"{type(err).__name__}: {err}"
            errors.append(error_record(job.input, None, item.member, reason))
            continue
        columns["source"].append(item.source)
        columns["title"].append(article.title)
        columns["date"].append(article.date)
        columns["url"].append(article.url)
        columns["text"].append(article.text)
        members.append(item.member)
    table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    return Chunk(
        job.input,
        table,
        [None] * table.num_rows,
        members,
        errors,
        text_column="text",
        unreadable=len(errors),
    )


def _file_items(job: FileBatch | ZipBatch) -> Iterator[FileItem]:
    for item in job.items if isinstance(job, FileBatch) else ():
        if item.path is not None and not item.path.lower().endswith(ARTICLE_SUFFIXES):
            yield FileItem(
                item.member, item.source, error=_not_an_article(item.member or item.path)
            )
        elif item.data is not None and not (item.member or "").lower().endswith(ARTICLE_SUFFIXES):
            yield FileItem(item.member, item.source, error=_not_an_article(item.member or ""))
        else:
            yield item
    if isinstance(job, ZipBatch):
        with zipfile.ZipFile(job.input) as archive:
            for name in job.members:
                source = f"{job.input}/{name}"
                if not name.lower().endswith(ARTICLE_SUFFIXES):
                    yield FileItem(name, source, error=_not_an_article(name))
                    continue
                try:
                    yield FileItem(name, source, data=archive.read(name))
                except (OSError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as err:
                    # A CRC mismatch, a truncated or encrypted member.
                    yield FileItem(name, source, error=f"unreadable member ({err})")


def _not_an_article(name: str) -> str:
    return f"{name}: not an article file ({', '.join(ARTICLE_SUFFIXES)})"


def _decode_member(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "re-save the article as UTF-8"
        ) from err


# -- parts and the final output --------------------------------------------------------------
def _temporary(path: Path) -> Path:
    # The pid keeps two writers of the same part (a resumed run, a worker orphaned by a kill)
    # from writing into one temporary file; the rename makes the part appear whole or not at all.
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_part(table: pa.Table, path: Path) -> None:
    """A finished chunk as an Arrow IPC file, written to a temporary name and renamed."""
    tmp = _temporary(path)
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


def write_json(obj: Any, path: Path) -> None:
    tmp = _temporary(path)
    tmp.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_part(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def part_schema(path: Path) -> pa.Schema:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).schema


def unified_schema(schemas: Iterable[pa.Schema], base: pa.Schema) -> pa.Schema:
    """One schema for parts whose columns differ (inputs with other columns, JSON rows with other
    keys): the input columns in order of first appearance, then the columns scoring adds (those of
    ``base``, present even when there are no parts); a column's type is the parts' common type,
    widened where possible (int + float -> float), else text."""
    added = base.names
    types: dict[str, list[pa.DataType]] = {}
    for schema in (*schemas, base):
        for item in schema:
            types.setdefault(item.name, []).append(item.type)
    names = [n for n in types if n not in added] + [n for n in added if n in types]
    fields = []
    for name in names:
        kinds = [t for t in dict.fromkeys(types[name]) if not pa.types.is_null(t)]
        if not kinds:
            fields.append(pa.field(name, pa.null()))
            continue
        try:
            merged = pa.unify_schemas(
                [pa.schema([pa.field(name, t)]) for t in kinds], promote_options="permissive"
            )
            fields.append(merged.field(name))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            fields.append(pa.field(name, pa.string()))
    return pa.schema(fields)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns in its order: missing ones null, others cast."""
    columns = []
    for item in schema:
        if item.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, item.type))
            continue
        column = table.column(item.name)
        if column.type != item.type:
            try:
                column = column.cast(item.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                values = column.to_pylist()
                column = pa.array(
                    [
                        None
                        if v is None
                        else v
                        if isinstance(v, str)
                        else json.dumps(v, default=str)
                        for v in values
                    ],
                    pa.string(),
                )
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _csv_safe(schema: pa.Schema) -> pa.Schema:
    """The CSV writer takes only flat values: nested and binary columns are written as text."""
    flat = [
        pa.field(f.name, pa.string())
        if pa.types.is_nested(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_binary(f.type)
        else f
        for f in schema
    ]
    return pa.schema(flat)


def assemble(parts: Sequence[Path], output: Path, fmt: str, base: pa.Schema) -> Path:
    """Write the parts, in order and conformed to one schema (see ``unified_schema``), into
    ``output``'s temporary file (``OUTPUT.tmp``) and return it; the caller renames it into place."""
    schema = unified_schema((part_schema(p) for p in parts), base)
    tmp = output.with_name(output.name + ".tmp")
    try:
        _write_output(parts, tmp, fmt, schema)
    except BaseException:  # Ctrl-C or a full disk: no half file is left to look whole
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _write_output(parts: Sequence[Path], tmp: Path, fmt: str, schema: pa.Schema) -> None:
    if fmt == "parquet":
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:
                table = read_part(part)
                if table.num_rows:
                    writer.write_table(conform(table, schema))
    elif fmt == "csv":
        schema = _csv_safe(schema)
        with pacsv.CSVWriter(str(tmp), schema) as writer:
            for part in parts:
                table = read_part(part)
                if table.num_rows:
                    writer.write_table(conform(table, schema))
    elif fmt == "jsonl":
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            for part in parts:
                for row in conform(read_part(part), schema).to_pylist():
                    handle.write(json.dumps(row, ensure_ascii=False, default=str))
                    handle.write("\n")
    else:  # pragma: no cover
        raise ValueError(f"unknown output format {fmt!r}")


def write_errors(errors: Iterable[dict[str, Any]], path: Path) -> Path | None:
    """Write the error records to ``path``'s temporary file and return it, or None if there are
    none (the caller then removes a stale errors file of an earlier run)."""
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        for record in errors:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    if count:
        return tmp
    tmp.unlink()
    return None
