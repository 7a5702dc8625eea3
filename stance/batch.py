"""Batch scoring: inputs -> chunks -> scored chunks -> one output file, on local worker processes.

    plan_run(...)        check inputs, columns, output and model: one-line errors before any work
      -> RunPlan.jobs()  stance.tables cuts each input into chunk jobs (no parsing in the parent)
      -> score_job       in a worker: read_job -> score_chunk -> OUTPUT.partial/NNNNNN.arrow
      -> _finish         parts -> OUTPUT.tmp -> renamed to OUTPUT; errors -> OUTPUT.errors.jsonl

``score_chunk`` is the one function that turns rows into scored rows; the dask engine
(stance.dask_engine) calls it too. Quote rows get ``speaker``, ``label``, ``confidence``,
``p_<label>`` and ``model_version``; article rows become one row per quote (an article without
quotes keeps one row, with ``quote_index`` null) with the quote columns added.

Finished chunks stay in ``OUTPUT.partial/`` beside a manifest of the inputs and options, so that a
run that was killed continues with --resume from where it stopped, and OUTPUT only ever appears
whole.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import shutil
import signal
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from stance import tables
from stance.errors import InputError, StanceError
from stance.model import ModelVersionWarning, StanceModel, load_model
from stance.quotes import SpeakerAliases, article_from_html, extract_quotes, find_attribution
from stance.score import quote_records
from stance.tables import Chunk, Source, error_record

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_ARTICLE_CHUNK",
    "DEFAULT_QUOTE_CHUNK",
    "QUOTE_COLUMNS",
    "ProgressBar",
    "RunPlan",
    "ScoreSpec",
    "ScoredChunk",
    "Scorer",
    "Summary",
    "partial_path",
    "plan_run",
    "run_local",
    "score_chunk",
    "score_inputs",
]

DEFAULT_QUOTE_CHUNK = 10_000
DEFAULT_ARTICLE_CHUNK = 100
QUOTE_COLUMNS = (
    "quote",
    "context",
    "speaker",
    "speaker_role",
    "is_fragment",
    "start",
    "end",
    "quote_index",
)
MANIFEST_FORMAT = 1
MANIFEST_NAME = "manifest.json"  # in OUTPUT.partial/: what the run was made with


# -- what is scored, and how -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScoreSpec:
    """How the rows of a run are read: quotes or articles, and which columns hold what."""

    articles: bool = False
    text_column: str = "text"
    html_column: str | None = None
    speaker_column: str | None = "speaker"


class Scorer:
    """What scores chunks: the model, the speaker aliases and the spec. Loaded once per worker
    process (local engine) or broadcast once to every worker (dask engine)."""

    def __init__(
        self, model: StanceModel, spec: ScoreSpec, aliases: SpeakerAliases | None = None
    ) -> None:
        self.model = model
        self.spec = spec
        self.aliases = aliases or SpeakerAliases.default()

    @classmethod
    def load(
        cls,
        model_path: str | os.PathLike[str] | None,
        spec: ScoreSpec,
        aliases_path: str | None = None,
    ) -> Scorer:
        aliases = (
            SpeakerAliases.from_file(aliases_path) if aliases_path else SpeakerAliases.default()
        )
        return cls(load_model(model_path), spec, aliases)

    @property
    def added_columns(self) -> tuple[str, ...]:
        """The columns scoring adds to a row, in output order."""
        predictions = (
            "label",
            "confidence",
            *(f"p_{label}" for label in self.model.labels),
            "model_version",
        )
        if self.spec.articles:
            return (*QUOTE_COLUMNS, *predictions)
        return ("speaker", *predictions)

    def added_schema(self) -> pa.Schema:
        """The added columns with their types: the schema of no rows scored."""
        return score_chunk(Chunk("", pa.table({})), self).table.schema


@dataclass(slots=True)
class ScoredChunk:
    """A chunk's scored rows, its error records (reading and scoring) and its counts."""

    table: pa.Table
    errors: list[dict[str, Any]]
    rows_read: int
    rows_scored: int
    quotes: int


def score_chunk(chunk: Chunk | pa.Table | pd.DataFrame, scorer: Scorer) -> ScoredChunk:
    """Score a chunk of rows (quotes, or articles with --articles) into output rows.

    The input columns are kept (an input column whose name scoring adds is kept as
    ``<name>_input``), the added columns follow. A row without text, or whose article cannot be
    read, becomes an error record with its row number instead of an output row.
    """
    if not isinstance(chunk, Chunk):
        if not isinstance(chunk, pa.Table):  # pyarrow imports pandas only when given a DataFrame
            chunk = pa.Table.from_pandas(chunk, preserve_index=False)
        chunk = Chunk("", chunk)
    if scorer.spec.articles:
        return _score_articles(chunk, scorer)
    return _score_quotes(chunk, scorer)


def _text_problem(value: object, column: str) -> str | None:
    if value is None:
        return f"no text in column '{column}'"
    if not isinstance(value, str):
        return f"column '{column}' holds a {type(value).__name__}, not text"
    if not value.strip():
        return f"empty text in column '{column}'"
    return None


def _reason(err: Exception) -> str:
    return str(err) if isinstance(err, StanceError) else f"{type(err).__name__}: {err}"


def _score_quotes(chunk: Chunk, scorer: Scorer) -> ScoredChunk:
    """Quote rows: one matrix product for the chunk (model.predict_proba), speakers from the
    speaker column or, where it is empty, from the text, as stance.score.prediction_records does."""
    table, spec = chunk.table, scorer.spec
    column = chunk.text_column or spec.text_column
    texts = (
        table.column(column).to_pylist()
        if column in table.column_names
        else [None] * table.num_rows
    )
    speaker_column = spec.speaker_column if spec.speaker_column in table.column_names else None
    given = table.column(speaker_column).to_pylist() if speaker_column else [None] * table.num_rows
    errors = list(chunk.errors)
    keep: list[int] = []
    kept_texts: list[str] = []
    speakers: list[str | None] = []
    for i, (text, speaker) in enumerate(zip(texts, given, strict=True)):
        reason = _text_problem(text, column)
        if reason is None:
            if speaker is not None and not isinstance(speaker, str):
                speaker = str(speaker)
            try:
                speaker = speaker or find_attribution(text, aliases=scorer.aliases)
            except Exception as err:  # one odd text must not stop a run of millions
                reason = f"speaker attribution failed ({_reason(err)})"
        if reason is not None:
            errors.append(error_record(chunk.input, chunk.row(i), chunk.member(i), reason))
            continue
        keep.append(i)
        kept_texts.append(text)
        speakers.append(speaker or None)
    if len(keep) < table.num_rows:
        table = table.take(pa.array(keep, pa.int64()))
    # The speaker column's values live on in `speaker` (filled where empty): no need to keep both.
    carried = _carry(
        table, drop={"speaker"} if speaker_column == "speaker" else set(), scorer=scorer
    )
    probabilities = (
        scorer.model.predict_proba(kept_texts)
        if kept_texts
        else np.zeros((0, len(scorer.model.labels)))
    )
    added = {
        "speaker": pa.array(speakers, pa.string()),
        **_prediction_columns(probabilities, scorer),
    }
    return ScoredChunk(
        _with_columns(carried, added),
        _in_row_order(errors),
        rows_read=chunk.table.num_rows + chunk.unreadable,
        rows_scored=len(keep),
        quotes=len(keep),
    )


def _prediction_columns(probabilities: np.ndarray, scorer: Scorer) -> dict[str, pa.Array]:
    labels = scorer.model.labels
    best = probabilities.argmax(axis=1)  # the first of equal maxima, as StanceModel.predict takes
    rows = len(best)
    columns: dict[str, pa.Array] = {
        "label": pa.array(labels, pa.string()).take(pa.array(best, pa.int64())),
        "confidence": pa.array(probabilities[np.arange(rows), best], pa.float64()),
    }
    for k, label in enumerate(labels):
        columns[f"p_{label}"] = pa.array(np.ascontiguousarray(probabilities[:, k]), pa.float64())
    columns["model_version"] = pa.array([scorer.model.version] * rows, pa.string())
    return columns


def _score_articles(chunk: Chunk, scorer: Scorer) -> ScoredChunk:
    """Article rows: each article's quotes extracted, all the chunk's quotes classified at once
    through stance.score.quote_records; one output row per quote, or one empty row for an article
    without quotes, carrying the article's other columns."""
    table, spec = chunk.table, scorer.spec
    html = chunk.text_column is None and spec.html_column is not None
    column = chunk.text_column or (spec.html_column if html else spec.text_column)
    values = (
        table.column(column).to_pylist()
        if column in table.column_names
        else [None] * table.num_rows
    )
    errors = list(chunk.errors)
    found: list[tuple[int, list[Any]]] = []
    for i, value in enumerate(values):
        reason = _text_problem(value, column)
        if reason is None:
            try:
                text = article_from_html(value).text if html else value
                if text.strip():
                    found.append((i, extract_quotes(text, aliases=scorer.aliases)))
                    continue
                reason = f"no article text found in the HTML of column '{column}'"
            except Exception as err:  # one odd article must not stop the archive
                reason = f"quote extraction failed ({_reason(err)})"
        errors.append(error_record(chunk.input, chunk.row(i), chunk.member(i), reason))
    records = iter(quote_records(scorer.model, [q for _, quotes in found for q in quotes]))
    take: list[int] = []
    rows: list[dict[str, Any] | None] = []
    index: list[int | None] = []
    for i, quotes in found:
        if quotes:
            take.extend([i] * len(quotes))
            rows.extend(next(records) for _ in quotes)
            index.extend(range(len(quotes)))
        else:  # kept as one row, so that every article is in the output or in the errors
            take.append(i)
            rows.append(None)
            index.append(None)
    carried = _carry(table.take(pa.array(take, pa.int64())), drop={column}, scorer=scorer)

    def col(key: str, kind: pa.DataType) -> pa.Array:
        return pa.array([r[key] if r else None for r in rows], kind)

    added: dict[str, pa.Array] = {
        "quote": col("quote", pa.string()),
        "context": col("context", pa.string()),
        "speaker": col("speaker", pa.string()),
        "speaker_role": col("speaker_role", pa.string()),
        "is_fragment": col("is_fragment", pa.bool_()),
        "start": col("start", pa.int64()),
        "end": col("end", pa.int64()),
        "quote_index": pa.array(index, pa.int64()),
        "label": col("label", pa.string()),
        "confidence": col("confidence", pa.float64()),
    }
    for label in scorer.model.labels:
        added[f"p_{label}"] = pa.array(
            [r["probabilities"][label] if r else None for r in rows], pa.float64()
        )
    added["model_version"] = pa.array([scorer.model.version] * len(rows), pa.string())
    return ScoredChunk(
        _with_columns(carried, added),
        _in_row_order(errors),
        rows_read=chunk.table.num_rows + chunk.unreadable,
        rows_scored=len(found),
        quotes=sum(len(quotes) for _, quotes in found),
    )


def _carry(table: pa.Table, *, drop: set[str], scorer: Scorer) -> pa.Table:
    """The input columns that go into the output: ``drop`` left out, and a column whose name
    scoring adds renamed ``<name>_input`` rather than overwritten."""
    added = set(scorer.added_columns)
    kept = [name for name in table.column_names if name not in drop]
    table = table.select(kept)
    return table.rename_columns([f"{n}_input" if n in added else n for n in kept])


def _with_columns(table: pa.Table, added: dict[str, pa.Array]) -> pa.Table:
    for name, values in added.items():
        table = table.append_column(name, values)
    return table


def _in_row_order(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(errors, key=lambda e: (e["row"] is None, e["row"] or 0))


# -- the plan of a run -----------------------------------------------------------------------
@dataclass(slots=True)
class RunPlan:
    """A checked run: its inputs, output, spec, chunk size and model."""

    sources: list[Source]
    output: Path
    fmt: str
    spec: ScoreSpec
    chunk_size: int
    model: StanceModel
    model_path: str | None
    aliases_path: str | None
    aliases: SpeakerAliases

    def jobs(self, *, where: str = "parent") -> Iterator[tables.Job]:
        for source in self.sources:
            yield from tables.chunk_jobs(source, self.chunk_size, where=where)  # type: ignore[arg-type]

    def scorer(self) -> Scorer:
        return Scorer(self.model, self.spec, self.aliases)

    @property
    def errors_path(self) -> Path:
        return self.output.with_name(self.output.name + ".errors.jsonl")

    def total_bytes(self) -> int:
        return sum(tables.source_size(s) for s in self.sources)

    def manifest(self) -> dict[str, Any]:
        """What must not change between a run and its --resume."""
        aliases = tables.file_fingerprint(Path(self.aliases_path)) if self.aliases_path else None
        manifest = {
            "format": MANIFEST_FORMAT,
            "inputs": [tables.fingerprint(s) for s in self.sources],
            "chunk_size": self.chunk_size,
            "model_version": self.model.version,
            "options": {
                "articles": self.spec.articles,
                "text_column": self.spec.text_column,
                "html_column": self.spec.html_column,
                "speaker_column": self.spec.speaker_column,
                "aliases": aliases,
            },
        }
        return json.loads(json.dumps(manifest))  # the form it has once read back from disk


def plan_run(
    inputs: Sequence[str],
    output: str | os.PathLike[str],
    *,
    articles: bool = False,
    text_column: str | None = None,
    html_column: str | None = None,
    speaker_column: str | None = None,
    chunk_size: int | None = None,
    model_path: str | os.PathLike[str] | None = None,
    aliases_path: str | os.PathLike[str] | None = None,
    engine: str = "local",
) -> RunPlan:
    """Check everything a user can get wrong, before any work: StanceError/InputError otherwise."""
    output = Path(output)
    if engine == "dask":
        if output.suffix and output.suffix.lower() != ".parquet" and not output.is_dir():
            raise StanceError(
                f"{output}: --engine dask writes a Parquet dataset (a folder): name the output "
                "*.parquet or a folder"
            )
        fmt = "dataset"
    elif engine == "local":
        fmt = tables.output_format(output)
    else:
        raise StanceError(f"unknown engine {engine!r}: use local or dask")
    if html_column and text_column:
        raise StanceError("give --text-column or --html-column, not both")
    if chunk_size is not None and chunk_size < 1:
        raise StanceError("--chunk-size must be at least 1")
    sources = tables.expand_inputs(inputs)
    for source in sources:
        if source.path.resolve() == output.resolve():
            raise StanceError(f"{output}: the output is also an input; choose another output name")
    collections = [s for s in sources if not s.is_table]
    if collections and not articles:
        if len(collections) < len(sources):
            raise StanceError(
                f"{collections[0].path} holds articles but the tables are scored as quote rows; "
                "add --articles if the tables' rows are articles, or score them separately"
            )
        articles = True  # files of articles can only be articles
    if articles and speaker_column:
        raise StanceError(
            "--speaker-column is for quote rows; article quotes get their speaker from the text"
        )
    if html_column and not articles:
        raise StanceError("--html-column is for article rows: add --articles")
    spec = ScoreSpec(
        articles=articles,
        text_column=text_column or "text",
        html_column=html_column,
        speaker_column=None if articles else (speaker_column or "speaker"),
    )
    for source in sources:
        _check_columns(source, spec, speaker_column_given=bool(speaker_column))
    aliases = SpeakerAliases.from_file(aliases_path) if aliases_path else SpeakerAliases.default()
    model = load_model(model_path)
    return RunPlan(
        sources=sources,
        output=output,
        fmt=fmt,
        spec=spec,
        chunk_size=chunk_size or (DEFAULT_ARTICLE_CHUNK if articles else DEFAULT_QUOTE_CHUNK),
        model=model,
        model_path=str(Path(model_path).resolve()) if model_path else None,
        aliases_path=str(Path(aliases_path).resolve()) if aliases_path else None,
        aliases=aliases,
    )


def _check_columns(source: Source, spec: ScoreSpec, *, speaker_column_given: bool) -> None:
    if not source.is_table:
        return
    columns = tables.peek_columns(source)
    if columns is None:  # unreadable: the run reports it as an error record
        return
    wanted = spec.html_column or spec.text_column
    option = "--html-column" if spec.html_column else "--text-column"
    where = "its first record has" if source.kind == "jsonl" else "it has"
    if wanted not in columns:
        raise InputError(
            f"{source.path}: no column '{wanted}' ({where} {', '.join(columns) or 'none'}); "
            f"choose the {'HTML' if spec.html_column else 'text'} column with {option}"
        )
    if speaker_column_given and spec.speaker_column not in columns and source.kind != "jsonl":
        raise InputError(
            f"{source.path}: no column '{spec.speaker_column}' for --speaker-column "
            f"({where} {', '.join(columns)})"
        )
    kind = tables.column_type(source, wanted)
    if kind is not None and not (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or (pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type))
        or pa.types.is_null(kind)
    ):
        raise InputError(f"{source.path}: column '{wanted}' holds {kind}, not text")


# -- the summary and the progress bar --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Summary:
    """What a run did, for its closing line."""

    output: Path
    errors_file: Path | None
    articles: bool
    rows_read: int
    rows_scored: int
    errors: int
    quotes: int
    elapsed: float
    chunks: int
    resumed_chunks: int = 0

    def line(self) -> str:
        unit = "articles" if self.articles else "rows"
        rate = self.rows_read / self.elapsed if self.elapsed > 0 else 0.0
        errors = f"{self.errors:,} errors" + (
            f" (in {self.errors_file})" if self.errors_file else ""
        )
        resumed = (
            f"; resumed after {self.resumed_chunks} of {self.chunks} chunks"
            if self.resumed_chunks
            else ""
        )
        return (
            f"{self.output}: {self.rows_read:,} {unit} read, {self.rows_scored:,} scored, "
            f"{errors}, {self.quotes:,} quotes found, {self.elapsed:.1f} s "
            f"({rate:,.0f} {unit}/s){resumed}"
        )


class ProgressBar:
    """Bytes done, rows done, rate and ETA on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total_bytes: int, *, enabled: bool, unit: str = "rows") -> None:
        self.enabled = enabled
        self.unit = unit
        self.rows = 0
        self._start = time.perf_counter()
        self._progress: Any = None
        self._total = max(total_bytes, 1)

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("scoring"),
                BarColumn(bar_width=20),  # the counts and the ETA fit in 80 columns
                TextColumn("{task.percentage:>3.0f}%"),
                DownloadColumn(),
                TextColumn("{task.fields[rows]:,} " + self.unit),
                TextColumn("{task.fields[rate]:,.0f}/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("scoring", total=self._total, rows=0, rate=0.0)
        return self

    def advance(self, nbytes: int, rows: int) -> None:
        self.rows += rows
        if self._progress is not None:
            rate = self.rows / max(time.perf_counter() - self._start, 1e-9)
            self._progress.update(self._task, advance=nbytes, rows=self.rows, rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)


# -- the local engine ------------------------------------------------------------------------
def partial_path(output: Path) -> Path:
    """Where a run keeps its finished chunks: OUTPUT.partial/."""
    return output.with_name(output.name + ".partial")


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def score_inputs(
    inputs: Sequence[str],
    output: str | os.PathLike[str],
    *,
    articles: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    progress: bool = False,
    text_column: str | None = None,
    html_column: str | None = None,
    speaker_column: str | None = None,
    model_path: str | os.PathLike[str] | None = None,
    aliases_path: str | os.PathLike[str] | None = None,
) -> Summary:
    """Score tables of quotes or articles, or collections of article files, into ``output``.

    The summary's elapsed time counts from here: checks, model loading and start-up included."""
    start = time.perf_counter()
    if workers is not None and workers < 1:
        raise StanceError("--workers must be at least 1")
    if scheduler and engine != "dask":
        raise StanceError("--scheduler is for --engine dask")
    if engine == "local" and (workers or available_cpus()) > 1:
        _mp_context(start=True)  # its imports overlap with the checks and the model's loading
    plan = plan_run(
        inputs,
        output,
        articles=articles,
        text_column=text_column,
        html_column=html_column,
        speaker_column=speaker_column,
        chunk_size=chunk_size,
        model_path=model_path,
        aliases_path=aliases_path,
        engine=engine,
    )
    if engine == "dask":
        from stance.dask_engine import run_dask

        return run_dask(
            plan,
            scheduler=scheduler,
            workers=workers,
            resume=resume,
            progress=progress,
            start=start,
        )
    return run_local(plan, workers=workers, resume=resume, progress=progress, start=start)


_WORKER_SCORER: Scorer | None = None


def _init_worker(model_path: str | None, spec: ScoreSpec, aliases_path: str | None) -> None:
    """A pool worker's start: load the model once. Ctrl-C is the parent's to handle (it stops the
    pool); the model-version warning has been given once by the parent already."""
    global _WORKER_SCORER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore", ModelVersionWarning)
    _WORKER_SCORER = Scorer.load(model_path, spec, aliases_path)


def _part(partial: Path, index: int, suffix: str) -> Path:
    return partial / f"{index:06d}{suffix}"


def score_job(
    index: int, job: tables.Job, partial: str, scorer: Scorer | None = None
) -> dict[str, Any]:
    """Read, score and keep one chunk: its rows in NNNNNN.arrow, then its counts and errors in
    NNNNNN.json, whose presence marks the chunk finished. Returns the counts."""
    scorer = scorer or _WORKER_SCORER
    assert scorer is not None, "score_job runs in a worker started by _init_worker"
    (chunk,) = tables.read_job(job)  # the local engine's jobs are one chunk each
    scored = score_chunk(chunk, scorer)
    folder = Path(partial)
    tables.write_part(scored.table, _part(folder, index, ".arrow"))
    counts = {
        "rows_read": scored.rows_read,
        "rows_scored": scored.rows_scored,
        "quotes": scored.quotes,
    }
    tables.write_json({**counts, "errors": scored.errors}, _part(folder, index, ".json"))
    return {**counts, "errors": len(scored.errors)}


def run_local(
    plan: RunPlan,
    *,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = False,
    start: float | None = None,
) -> Summary:
    """Score a plan with a pool of ``workers`` processes (in this process when 1), keeping the
    finished chunks in OUTPUT.partial/, then assemble OUTPUT. ``start``: the run's start time
    (time.perf_counter), if earlier than this call."""
    start = time.perf_counter() if start is None else start
    partial = partial_path(plan.output)
    done = prepare_partial(partial, plan.manifest(), resume=resume, finished=_finished_chunks)
    workers = workers or available_cpus()
    unit = "articles" if plan.spec.articles else "rows"
    with ProgressBar(plan.total_bytes(), enabled=progress, unit=unit) as bar:
        chunks = _score_chunks(plan, partial, done, workers, bar)
    return _finish(plan, partial, chunks, resumed=len(done), start=start)


def prepare_partial(
    partial: Path,
    manifest: dict[str, Any],
    *,
    resume: bool,
    finished: Callable[[Path], set[int]],
) -> set[int]:
    """The indices of the chunks an earlier run finished (--resume; ``finished`` lists them from
    the partial folder), else an empty set after making a fresh partial folder. A folder made
    with other inputs or settings is refused, not mixed in."""
    manifest_path = partial / MANIFEST_NAME
    if resume and manifest_path.is_file():
        try:
            previous = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if previous != manifest:
            changed = [
                k
                for k in manifest
                if not isinstance(previous, dict) or previous.get(k) != manifest[k]
            ]
            raise StanceError(
                f"{partial}: made by a run with other {', '.join(changed) or 'settings'} than this "
                "one, so it cannot be resumed; rerun without --resume to start over"
            )
        return finished(partial)
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    tables.write_json(manifest, manifest_path)
    return set()


def _finished_chunks(partial: Path) -> set[int]:
    """The local engine's finished chunks: NNNNNN.json, written after its NNNNNN.arrow."""
    return {
        int(p.stem)
        for p in partial.glob("[0-9]*.json")
        if p.stem.isdigit() and p.with_suffix(".arrow").is_file()
    }


def _score_chunks(
    plan: RunPlan, partial: Path, done: set[int], workers: int, bar: ProgressBar
) -> int:
    """Run every chunk not done yet; returns the number of chunks of the run."""
    count = 0
    jobs = enumerate(plan.jobs())
    first = list(itertools.islice(jobs, 2))
    jobs = itertools.chain(first, jobs)
    if workers == 1 or len(first) < 2:  # for a single chunk a pool would only add its start-up
        scorer = plan.scorer()
        for index, job in jobs:
            count = index + 1
            counts = (
                _done_counts(partial, index)
                if index in done
                else score_job(index, job, str(partial), scorer)
            )
            bar.advance(job.progress, counts["rows_read"])
        return count
    pool = ProcessPoolExecutor(
        workers,
        mp_context=_mp_context(),
        initializer=_init_worker,
        initargs=(plan.model_path, plan.spec, plan.aliases_path),
    )
    # Chunks go out in order and at most two per worker are in flight, so memory stays flat
    # however long the input is; results are taken in the same order.
    pending: deque[tuple[int, Future[dict[str, Any]]]] = deque()
    try:
        for index, job in jobs:
            count = index + 1
            if index in done:
                bar.advance(job.progress, _done_counts(partial, index)["rows_read"])
                continue
            pending.append((job.progress, pool.submit(score_job, index, job, str(partial))))
            while len(pending) >= 2 * workers:
                _collect(pending.popleft(), bar)
        while pending:
            _collect(pending.popleft(), bar)
    except BaseException:
        # Ctrl-C or a failure: drop the queued chunks, let the running ones finish (they are kept
        # for --resume), and leave no worker behind.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return count


def _collect(item: tuple[int, Future[dict[str, Any]]], bar: ProgressBar) -> None:
    progress, future = item
    bar.advance(progress, future.result()["rows_read"])


def _done_counts(partial: Path, index: int) -> dict[str, Any]:
    return json.loads(_part(partial, index, ".json").read_text(encoding="utf-8"))


def _mp_context(*, start: bool = False) -> multiprocessing.context.BaseContext:
    """The pool's start method; ``start=True`` starts the fork server now, in the background.

    Not fork: by then the parent runs threads (numpy's and scipy's BLAS and OpenMP pools, the
    progress bar's, a test runner's), and a fork taken while another thread holds a lock can
    deadlock the child (Python 3.12 warns of it). The fork server imports this module once, so
    each worker starts with numpy, pyarrow and scikit-learn already loaded.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["stance.batch"])
    if start:
        from multiprocessing import forkserver

        forkserver.ensure_running()
    return context


def publish(
    output_tmp: Path, output: Path, errors: Iterator[dict[str, Any]], errors_path: Path
) -> bool:
    """Write the error records, then rename the finished output and errors file into place (an
    errors file only when there are errors; a stale one is removed). True if there were errors.
    Whatever happens, no temporary file is left behind."""
    errors_tmp = errors_path.with_name(errors_path.name + ".tmp")
    try:
        wrote = tables.write_errors(errors, errors_path) is not None
        if output.is_dir() or (output.exists() and output_tmp.is_dir()):
            # A folder (a dask dataset) is not replaced by a rename: move it aside first.
            old = output.with_name(output.name + ".old")
            _remove(old)
            os.replace(output, old)
            os.replace(output_tmp, output)
            _remove(old)
        else:
            os.replace(output_tmp, output)
        if wrote:
            os.replace(errors_tmp, errors_path)
        else:
            errors_path.unlink(missing_ok=True)
        return wrote
    finally:
        _remove(output_tmp)
        errors_tmp.unlink(missing_ok=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _finish(plan: RunPlan, partial: Path, chunks: int, *, resumed: int, start: float) -> Summary:
    """Assemble the parts into OUTPUT.tmp and the errors into OUTPUT.errors.jsonl.tmp, rename
    both into place, and remove the partial folder."""
    missing = [i for i in range(chunks) if not _part(partial, i, ".json").is_file()]
    if missing:  # pragma: no cover - every chunk was scored above
        raise StanceError(f"{partial}: chunks {missing[:5]} are missing; rerun with --resume")
    totals = {"rows_read": 0, "rows_scored": 0, "quotes": 0, "errors": 0}

    def errors() -> Iterator[dict[str, Any]]:
        for index in range(chunks):
            counts = _done_counts(partial, index)
            for key in ("rows_read", "rows_scored", "quotes"):
                totals[key] += counts[key]
            totals["errors"] += len(counts["errors"])
            yield from counts["errors"]

    parts = [_part(partial, i, ".arrow") for i in range(chunks)]
    output_tmp = tables.assemble(parts, plan.output, plan.fmt, plan.scorer().added_schema())
    errors_tmp = publish(output_tmp, plan.output, errors(), plan.errors_path)
    shutil.rmtree(partial, ignore_errors=True)
    return Summary(
        output=plan.output,
        errors_file=plan.errors_path if errors_tmp else None,
        articles=plan.spec.articles,
        elapsed=time.perf_counter() - start,
        chunks=chunks,
        resumed_chunks=resumed,
        **totals,
    )
