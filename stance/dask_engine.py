"""The dask engine of `stance score`: the same chunks and ``score_chunk`` on a Dask cluster.

The cluster is the one at ``--scheduler`` (its workers must see the inputs and the output folder
at the same paths, as with any dask file I/O), or a ``distributed.LocalCluster`` of two
single-threaded worker processes started for the run and closed after it.

The scorer (model, aliases, spec) is scattered to every worker once (``broadcast=True``); each
task gets its future, so the model is not shipped with every task. A task reads its own slice of
an input where it runs (a byte range of a CSV/JSONL file, a Parquet row group, zip members),
scores it and writes it as ``part.NNNNNN.KKK.parquet`` into ``OUTPUT.partial/``; the parent
gathers only counts and error records, and notes each finished task in ``done.NNNNNN.json`` there,
so that a run that stopped goes on with ``--resume`` as the local engine's does. When the parts'
columns differ (inputs with other columns, JSON rows with other keys) they are rewritten to one
schema, the notes are removed, and the folder is renamed to OUTPUT.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from stance import tables
from stance.batch import (
    MANIFEST_NAME,
    ProgressBar,
    RunPlan,
    Scorer,
    Summary,
    partial_path,
    prepare_partial,
    publish,
    score_chunk,
)
from stance.errors import StanceError

__all__ = ["CONNECT_TIMEOUT", "run_dask", "score_part"]

CONNECT_TIMEOUT = "10s"  # how long to try reaching a --scheduler before giving up


def score_part(index: int, job: tables.Job, scorer: Scorer, folder: str) -> dict[str, Any]:
    """A dask task: read one job where it runs, score it, write its Parquet part(s); return the
    counts, the error records and the parts' schemas."""
    counts: dict[str, Any] = {
        "rows_read": 0,
        "rows_scored": 0,
        "quotes": 0,
        "errors": [],
        "parts": [],
    }
    for k, chunk in enumerate(tables.read_job(job)):
        scored = score_chunk(chunk, scorer)
        path = Path(folder) / f"part.{index:06d}.{k:03d}.parquet"
        pq.write_table(scored.table, path)
        counts["rows_read"] += scored.rows_read
        counts["rows_scored"] += scored.rows_scored
        counts["quotes"] += scored.quotes
        counts["errors"].extend(scored.errors)
        counts["parts"].append((str(path), scored.table.schema))
    return counts


def _conform_part(path: str, schema: pa.Schema) -> str:
    table = tables.conform(pq.read_table(path), schema)
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return path


def _done_path(partial: Path, index: int) -> Path:
    return partial / f"done.{index:06d}.json"


def _finished_tasks(partial: Path) -> set[int]:
    """The tasks an earlier run finished: those with a done note (written after their parts)."""
    return {
        int(p.name.split(".")[1])
        for p in partial.glob("done.*.json")
        if p.name.split(".")[1].isdigit()
    }


def _read_done(partial: Path, index: int) -> dict[str, Any]:
    """A finished task's counts, errors and parts, as the task returned them."""
    done = json.loads(_done_path(partial, index).read_text(encoding="utf-8"))
    done["parts"] = [(path, pq.read_schema(path)) for path in done["parts"]]
    return done


def _note_done(partial: Path, index: int, result: dict[str, Any]) -> None:
    note = {**result, "parts": [path for path, _ in result["parts"]]}
    tables.write_json(note, _done_path(partial, index))


def run_dask(
    plan: RunPlan,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = False,
    start: float | None = None,
) -> Summary:
    """Score ``plan`` on a Dask cluster into a Parquet dataset folder at ``plan.output``, going
    on from an earlier run's finished tasks with ``resume``. ``start``: the run's start time
    (time.perf_counter), if earlier than this call."""
    from distributed import Client, LocalCluster, as_completed

    start = time.perf_counter() if start is None else start
    partial = partial_path(plan.output)
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as err:
                raise StanceError(
                    f"cannot reach the dask scheduler at {scheduler} ({err})"
                ) from err
        else:
            cluster = LocalCluster(
                n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
        with client:
            done = prepare_partial(
                partial, plan.manifest(), resume=resume, finished=_finished_tasks
            )
            results = {index: _read_done(partial, index) for index in sorted(done)}
            scorer = client.scatter(plan.scorer(), broadcast=True)
            limit = 2 * max(len(client.scheduler_info().get("workers", {})), 1)
            unit = "articles" if plan.spec.articles else "rows"
            with ProgressBar(plan.total_bytes(), enabled=progress, unit=unit) as bar:
                jobs = (
                    (index, job)
                    for index, job in enumerate(plan.jobs(where="worker"))
                    if index not in done
                )
                running = as_completed()
                sizes: dict[Any, tuple[int, int]] = {}

                def submit() -> None:
                    index, job = next(jobs, (None, None))
                    if job is not None:
                        future = client.submit(
                            score_part, index, job, scorer, str(partial), pure=False
                        )
                        sizes[future.key] = (index, job.progress)
                        running.add(future)

                # At most two tasks a worker in flight: the parent's memory stays flat too.
                for _ in range(limit):
                    submit()
                for future in running:
                    index, nbytes = sizes.pop(future.key)
                    results[index] = future.result()
                    _note_done(partial, index, results[index])
                    bar.advance(nbytes, results[index]["rows_read"])
                    submit()
            parts = [part for i in sorted(results) for part in results[i]["parts"]]
            base = plan.scorer().added_schema()
            if not parts:  # nothing to read (an empty folder): still a readable dataset
                pq.write_table(base.empty_table(), partial / "part.000000.000.parquet")
            schema = tables.unified_schema((s for _, s in parts), base)
            odd = [path for path, s in parts if not s.equals(schema)]
            if odd:
                client.gather(client.map(_conform_part, odd, schema=schema, pure=False))
        # The notes are the run's, not the dataset's: only Parquet parts go to OUTPUT.
        (partial / MANIFEST_NAME).unlink()
        for index in results:
            _done_path(partial, index).unlink(missing_ok=True)
        errors_found = publish(partial, plan.output, _errors(results), plan.errors_path)
    finally:
        # A run that stopped keeps OUTPUT.partial/ for --resume, as the local engine does.
        if cluster is not None:
            cluster.close()
    return Summary(
        output=plan.output,
        errors_file=plan.errors_path if errors_found else None,
        articles=plan.spec.articles,
        rows_read=sum(r["rows_read"] for r in results.values()),
        rows_scored=sum(r["rows_scored"] for r in results.values()),
        errors=sum(len(r["errors"]) for r in results.values()),
        quotes=sum(r["quotes"] for r in results.values()),
        elapsed=time.perf_counter() - start,
        chunks=len(results),
        resumed_chunks=len(done),
    )


def _errors(results: dict[int, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for index in sorted(results):
        yield from results[index]["errors"]
