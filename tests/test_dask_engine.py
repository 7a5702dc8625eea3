"""`stance score --engine dask`: the same rows and errors as the local engine, on a LocalCluster."""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stance.batch import Scorer, score_inputs
from stance.cli import main
from stance.errors import StanceError

distributed = pytest.importorskip("distributed")

QUOTES = [
    ("We are ready to sit down at the table tomorrow if the other side is serious.", "Ana Lind"),
    ('"Talks now would only reward the aggressor," Egon Varga said.', ""),
    ("The aid package includes artillery shells and winter equipment.", "Ivo Kral"),
]
ARTICLE_A = (
    'Talks resumed on Monday. "We are ready to sit down at the table tomorrow," Foreign Minister '
    'Ana Lind said. "Talks now would only reward the aggressor," said Egon Varga.'
)
ARTICLE_B = (
    "Grain exports through the Black Sea rose by a fifth in March, the port authority reported."
)
ARTICLE_C = '"Both sides should return to negotiations without delay," Chen Wei told reporters.'


def quote_rows(n: int) -> list[dict[str, Any]]:
    return [{"id": i + 1, "text": QUOTES[i % 3][0], "speaker": QUOTES[i % 3][1]} for i in range(n)]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A small in-process cluster: two single-threaded workers, no dashboard."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def read_dataset(folder: Path) -> pa.Table:
    parts = sorted(folder.glob("part.*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts])


def errors_of(output: Path) -> list[dict[str, Any]]:
    path = output.with_name(output.name + ".errors.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def quote_inputs(tmp_path: Path) -> list[str]:
    """Three formats, other columns in each, a Parquet file of several row groups, bad rows."""
    csv_path = write_rows(tmp_path / "a.csv", quote_rows(23))
    with csv_path.open("a", encoding="utf-8") as handle:
        handle.write('"a ragged row",x,y,z\n')
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps({"text": r["text"], "page": i}) for i, r in enumerate(quote_rows(9)))
        + "\nnot json\n",
        encoding="utf-8",
    )
    parquet = tmp_path / "c.parquet"
    rows = [{**r, "score": float(i)} for i, r in enumerate(quote_rows(17))]
    pq.write_table(pa.Table.from_pylist(rows), parquet, row_group_size=6)
    return [str(csv_path), str(jsonl), str(parquet)]


def test_dask_and_local_give_the_same_rows_and_errors(
    tmp_path: Path, tiny_model_path: Path, scheduler: str
) -> None:
    inputs = quote_inputs(tmp_path)
    local = tmp_path / "local.parquet"
    dask_out = tmp_path / "dask.parquet"
    expected = score_inputs(inputs, local, model_path=tiny_model_path, chunk_size=5, workers=1)
    summary = score_inputs(
        inputs,
        dask_out,
        model_path=tiny_model_path,
        chunk_size=5,
        engine="dask",
        scheduler=scheduler,
    )
    assert dask_out.is_dir() and not dask_out.with_name("dask.parquet.partial").exists()
    assert sorted(p.suffix for p in dask_out.iterdir()) == [".parquet"] * len(
        list(dask_out.iterdir())
    )
    got = read_dataset(dask_out)
    assert got.equals(pq.read_table(local))
    # Every part has the one schema, so that any Parquet reader takes the folder as one dataset.
    assert pq.read_table(dask_out).num_rows == got.num_rows == 49
    assert errors_of(dask_out) == errors_of(local) and len(errors_of(local)) == 2
    assert (summary.rows_read, summary.rows_scored, summary.errors) == (
        expected.rows_read,
        expected.rows_scored,
        expected.errors,
    )


def test_a_stopped_dask_run_goes_on_with_resume(
    tmp_path: Path, tiny_model_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stance import dask_engine

    inputs = quote_inputs(tmp_path)
    local, dask_out = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    score_inputs(inputs, local, model_path=tiny_model_path, chunk_size=5, workers=1)
    options = dict(model_path=tiny_model_path, chunk_size=5, engine="dask", scheduler=scheduler)
    real_score_part = dask_engine.score_part

    def lost_on_task_3(index: int, *args: Any) -> dict[str, Any]:  # shipped by value to workers
        if index == 3:
            raise RuntimeError("worker lost")
        return real_score_part(index, *args)

    monkeypatch.setattr(dask_engine, "score_part", lost_on_task_3)
    with pytest.raises(RuntimeError, match="worker lost"):
        score_inputs(inputs, dask_out, **options)
    partial = dask_out.with_name("dask.parquet.partial")
    assert not dask_out.exists() and (partial / "manifest.json").is_file()
    finished = sorted(partial.glob("done.*.json"))
    assert finished and "done.000003.json" not in [p.name for p in finished]

    monkeypatch.setattr(dask_engine, "score_part", real_score_part)
    summary = score_inputs(inputs, dask_out, resume=True, **options)
    assert summary.resumed_chunks == len(finished) and not partial.exists()
    assert read_dataset(dask_out).equals(pq.read_table(local))
    assert errors_of(dask_out) == errors_of(local)
    assert not list(dask_out.glob("*.json"))


def test_resume_refuses_a_dask_run_of_other_settings(
    tmp_path: Path, tiny_model_path: Path, scheduler: str
) -> None:
    inputs = quote_inputs(tmp_path)
    out = tmp_path / "dask.parquet"
    partial = out.with_name("dask.parquet.partial")
    partial.mkdir()
    (partial / "manifest.json").write_text('{"chunk_size": 99}', encoding="utf-8")
    with pytest.raises(StanceError, match="cannot be resumed"):
        score_inputs(
            inputs,
            out,
            model_path=tiny_model_path,
            chunk_size=5,
            engine="dask",
            scheduler=scheduler,
            resume=True,
        )


def test_dask_scores_article_archives_like_local(
    tmp_path: Path, tiny_model_path: Path, scheduler: str
) -> None:
    archive = tmp_path / "articles.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for i, text in enumerate([ARTICLE_A, ARTICLE_B, ARTICLE_C] * 2):
            handle.writestr(f"{i:02d}.txt", text)
        handle.writestr("bad.txt", b"\xff\xfe")
    local, dask_out = tmp_path / "local.parquet", tmp_path / "dask"
    score_inputs([str(archive)], local, model_path=tiny_model_path, chunk_size=4, workers=1)
    summary = score_inputs(
        [str(archive)],
        dask_out,
        model_path=tiny_model_path,
        chunk_size=4,
        engine="dask",
        scheduler=scheduler,
    )
    assert read_dataset(dask_out).equals(pq.read_table(local))
    assert summary.rows_read == 7 and summary.quotes == 6 and summary.errors == 1
    assert errors_of(dask_out)[0]["member"] == "bad.txt"


def test_the_scorer_is_broadcast_once_and_tasks_get_its_future(
    tmp_path: Path, tiny_model_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scattered: list[tuple[Any, dict[str, Any]]] = []
    submitted: list[tuple[Any, ...]] = []
    real_scatter, real_submit = distributed.Client.scatter, distributed.Client.submit

    def scatter(self, data, **kwargs):
        scattered.append((data, kwargs))
        return real_scatter(self, data, **kwargs)

    def submit(self, func, *args, **kwargs):
        submitted.append(args)
        return real_submit(self, func, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "scatter", scatter)
    monkeypatch.setattr(distributed.Client, "submit", submit)
    source = write_rows(tmp_path / "q.csv", quote_rows(30))
    score_inputs(
        [str(source)],
        tmp_path / "out.parquet",
        model_path=tiny_model_path,
        chunk_size=5,
        engine="dask",
        scheduler=scheduler,
    )
    assert len(scattered) == 1 and isinstance(scattered[0][0], Scorer)
    assert scattered[0][1].get("broadcast") is True
    assert len(submitted) == 6
    assert all(isinstance(args[2], distributed.Future) for args in submitted)


def test_cli_dask_engine_starts_and_closes_its_own_local_cluster(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_rows(tmp_path / "q.csv", quote_rows(20))
    output = tmp_path / "out.parquet"
    output.write_bytes(b"a file from an earlier local run: replaced by the dataset folder")
    code = main(
        [
            "score",
            str(source),
            "-o",
            str(output),
            "--engine",
            "dask",
            "--workers",
            "1",
            "--model",
            str(tiny_model_path),
            "--chunk-size",
            "8",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith(f"{output}: 20 rows read, 20 scored")
    assert read_dataset(output).num_rows == 20


def test_unreachable_scheduler_is_a_one_line_error(
    tmp_path: Path,
    tiny_model_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("stance.dask_engine.CONNECT_TIMEOUT", "1s")
    source = write_rows(tmp_path / "q.csv", quote_rows(2))
    code = main(
        [
            "score",
            str(source),
            "-o",
            str(tmp_path / "out.parquet"),
            "--engine",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--model",
            str(tiny_model_path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("stance: error: cannot reach the dask scheduler"), err
    assert len(err.strip().splitlines()) == 1
