"""`stance score`, local engine: every input and output format, broken inputs, the records' shape,
workers, the atomic output and --resume after a killed run."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stance import tables
from stance.batch import Scorer, ScoreSpec, partial_path, score_chunk, score_inputs
from stance.cli import main
from stance.model import StanceModel
from stance.quotes import Article, read_article
from stance.score import prediction_records, score_article

ROOT = Path(__file__).resolve().parent.parent

# Quote rows of the kind researchers bring: some with a speaker, some whose text names one,
# some with neither.
QUOTES: list[tuple[str, str]] = [
    ("We are ready to sit down at the table tomorrow if the other side is serious.", "Ana Lind"),
    ('"Talks now would only reward the aggressor," Egon Varga said.', ""),
    ("The aid package includes artillery shells and winter equipment.", "Ivo Kral"),
    ("Only dialogue can end this war; our delegation is prepared to travel.", ""),
    ('"We have never refused talks and we never will," said Ben Okafor.', ""),
    ("A freeze of the front line would be a trap, not peace.", "Fay Moreau"),
]

ARTICLE_A = (
    'Talks resumed in Geneva on Monday. "We are ready to sit down at the table tomorrow," '
    'Foreign Minister Ana Lind said. Her counterpart was less keen. "Talks now would only '
    'reward the aggressor," said Egon Varga, the defence minister.'
)
ARTICLE_B = (
    "Grain exports through the Black Sea rose by a fifth in March, the port authority reported."
)
ARTICLE_C = '"Both sides should return to negotiations without delay," Chen Wei told reporters.'


def quote_rows(n: int) -> list[dict[str, Any]]:
    return [
        {"id": i + 1, "text": QUOTES[i % len(QUOTES)][0], "speaker": QUOTES[i % len(QUOTES)][1]}
        for i in range(n)
    ]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as the table format of ``path``'s extension (values as text for CSV)."""
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix in (".jsonl", ".ndjson"):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def read_output(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_errors(output: Path) -> list[dict[str, Any]]:
    errors = output.with_name(output.name + ".errors.jsonl")
    if not errors.exists():
        return []
    return [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]


def run(*inputs: Path | str, output: Path, model: Path, **options: Any):  # -> Summary
    options.setdefault("workers", 1)
    return score_inputs([str(i) for i in inputs], output, model_path=model, **options)


def assert_clean(output: Path) -> None:
    """Nothing temporary left beside the output."""
    assert not output.with_name(output.name + ".tmp").exists()
    assert not partial_path(output).exists()
    assert not list(output.parent.glob("*.tmp"))


# -- the records -----------------------------------------------------------------------------
def test_quote_rows_equal_prediction_records(tiny_model: StanceModel) -> None:
    rows = quote_rows(12)
    scorer = Scorer(tiny_model, ScoreSpec())
    scored = score_chunk(pa.Table.from_pylist(rows), scorer).table.to_pylist()
    expected = prediction_records(
        tiny_model, [r["text"] for r in rows], speakers=[r["speaker"] for r in rows]
    )
    got = [
        {
            "text": row["text"],
            "speaker": row["speaker"],
            "label": row["label"],
            "confidence": row["confidence"],
            "probabilities": {label: row[f"p_{label}"] for label in tiny_model.labels},
            "model_version": row["model_version"],
        }
        for row in scored
    ]
    assert got == expected
    # The speaker column is kept where given and filled from the text where empty.
    assert [r["speaker"] for r in scored[:5]] == [
        "Ana Lind",
        "Egon Varga",
        "Ivo Kral",
        None,
        "Ben Okafor",
    ]
    assert list(scored[0]) == [
        "id",
        "text",
        "speaker",
        "label",
        "confidence",
        *(f"p_{label}" for label in tiny_model.labels),
        "model_version",
    ]


def test_pandas_chunk_scores_like_an_arrow_chunk(tiny_model: StanceModel) -> None:
    rows = quote_rows(6)
    scorer = Scorer(tiny_model, ScoreSpec())
    from_pandas = score_chunk(pa.Table.from_pylist(rows).to_pandas(), scorer).table.to_pylist()
    assert from_pandas == score_chunk(pa.Table.from_pylist(rows), scorer).table.to_pylist()


def test_input_column_named_like_an_added_one_is_kept(tiny_model: StanceModel) -> None:
    table = pa.table({"text": [QUOTES[0][0]], "label": ["pro"], "confidence": ["high"]})
    row = score_chunk(table, Scorer(tiny_model, ScoreSpec())).table.to_pylist()[0]
    assert row["label_input"] == "pro" and row["confidence_input"] == "high"
    assert row["label"] in tiny_model.labels and isinstance(row["confidence"], float)


def test_article_rows_equal_score_article(tiny_model: StanceModel) -> None:
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "date": ["2024-03-01", "2024-03-02", None],
            "body": [ARTICLE_A, ARTICLE_B, ARTICLE_C],
        }
    )
    scorer = Scorer(tiny_model, ScoreSpec(articles=True, text_column="body", speaker_column=None))
    rows = score_chunk(table, scorer).table.to_pylist()
    assert [r["id"] for r in rows] == ["a", "a", "b", "c"]
    assert [r["quote_index"] for r in rows] == [0, 1, None, 0]
    assert "body" not in rows[0]
    expected = [
        record
        for text in (ARTICLE_A, ARTICLE_C)
        for record in score_article(tiny_model, Article(text=text))
    ]
    with_quotes = [r for r in rows if r["quote_index"] is not None]
    for row, record in zip(with_quotes, expected, strict=True):
        for key in (
            "quote",
            "context",
            "speaker",
            "speaker_role",
            "is_fragment",
            "start",
            "end",
            "label",
            "confidence",
            "model_version",
        ):
            assert row[key] == record[key], key
        assert {k: row[f"p_{k}"] for k in tiny_model.labels} == record["probabilities"]
    # The article without a quote keeps one row: in the output, with empty quote columns.
    empty = rows[2]
    assert empty["quote"] is None and empty["label"] is None and empty["p_pro"] is None
    assert empty["model_version"] == tiny_model.version and empty["date"] == "2024-03-02"


# -- formats ---------------------------------------------------------------------------------
@pytest.mark.parametrize("out_suffix", [".parquet", ".csv", ".jsonl"])
@pytest.mark.parametrize("in_suffix", [".csv", ".jsonl", ".ndjson", ".parquet"])
def test_every_input_and_output_format(
    tmp_path: Path, tiny_model_path: Path, tiny_model: StanceModel, in_suffix: str, out_suffix: str
) -> None:
    rows = quote_rows(25)
    source = write_rows(tmp_path / f"quotes{in_suffix}", rows)
    output = tmp_path / f"scored{out_suffix}"
    summary = run(source, output=output, model=tiny_model_path, chunk_size=7)
    assert (summary.rows_read, summary.rows_scored, summary.errors) == (25, 25, 0)
    assert_clean(output)
    assert not read_errors(output)
    got = read_output(output)
    expected = prediction_records(
        tiny_model, [r["text"] for r in rows], speakers=[r["speaker"] for r in rows]
    )
    assert len(got) == 25
    for row, record, original in zip(got, expected, rows, strict=True):
        assert str(row["id"]) == str(original["id"]) and row["text"] == original["text"]
        assert (row["speaker"] or None) == record["speaker"]
        assert row["label"] == record["label"] and row["model_version"] == tiny_model.version
        for label in tiny_model.labels:  # text formats carry floats exactly too
            assert float(row[f"p_{label}"]) == record["probabilities"][label]


def test_several_inputs_globs_and_different_columns(tmp_path: Path, tiny_model_path: Path) -> None:
    write_rows(tmp_path / "a.csv", [{"text": QUOTES[0][0], "country": "X"}])
    write_rows(
        tmp_path / "b.csv", [{"text": QUOTES[2][0], "speaker": "Ivo Kral", "date": "2024-01-01"}]
    )
    write_rows(
        tmp_path / "c.jsonl",
        [{"text": QUOTES[3][0], "meta": {"page": 3}, "n": 1}, {"text": QUOTES[5][0], "n": 2.5}],
    )
    output = tmp_path / "out.parquet"
    summary = run(
        str(tmp_path / "*.csv"), tmp_path / "c.jsonl", output=output, model=tiny_model_path
    )
    assert summary.rows_scored == 4
    table = pq.read_table(output)
    assert table.column_names[:5] == ["text", "country", "date", "meta", "n"]
    assert table.column_names[5] == "speaker"
    rows = table.to_pylist()
    assert [r["country"] for r in rows] == ["X", None, None, None]
    assert json.loads(rows[2]["meta"]) == {"page": 3}
    assert [r["n"] for r in rows] == [None, None, 1.0, 2.5]


def test_article_table_with_a_chosen_text_column(tmp_path: Path, tiny_model_path: Path) -> None:
    # The shape of the press-release archive: link, headline, date, body.
    rows = [
        {
            "link": "https://example.org/1",
            "headline": "One",
            "date": "2022-03-01",
            "body": ARTICLE_A,
        },
        {
            "link": "https://example.org/2",
            "headline": "Two",
            "date": "2022-03-02",
            "body": ARTICLE_B,
        },
    ]
    source = write_rows(tmp_path / "press.csv", rows)
    output = tmp_path / "scored.csv"
    summary = run(source, output=output, model=tiny_model_path, articles=True, text_column="body")
    assert (summary.rows_read, summary.rows_scored, summary.quotes) == (2, 2, 2)
    got = read_output(output)
    assert list(got[0]) == [
        "link",
        "headline",
        "date",
        "quote",
        "context",
        "speaker",
        "speaker_role",
        "is_fragment",
        "start",
        "end",
        "quote_index",
        "label",
        "confidence",
        "p_anti",
        "p_neutral",
        "p_pro",
        "model_version",
    ]
    assert [(r["link"], r["speaker"], r["quote_index"]) for r in got] == [
        ("https://example.org/1", "Ana Lind", "0"),
        ("https://example.org/1", "Egon Varga", "1"),
        ("https://example.org/2", "", ""),
    ]


def test_article_table_with_an_html_column(tmp_path: Path, tiny_model_path: Path) -> None:
    html = f"<html><head><title>T</title></head><body><p>{ARTICLE_C}</p></body></html>"
    source = write_rows(tmp_path / "pages.jsonl", [{"url": "https://example.org/c", "html": html}])
    output = tmp_path / "scored.parquet"
    run(source, output=output, model=tiny_model_path, articles=True, html_column="html")
    (row,) = read_output(output)
    assert (
        row["url"] == "https://example.org/c" and row["speaker"] == "Chen Wei" and "html" not in row
    )


ARTICLE_FILES = {
    "2024/a.txt": (
        f"# Talks in Geneva\n\nBy A Reporter\n\n2024-03-01\n\n{ARTICLE_A}\n\n"
        "Original url: https://example.org/a\n"
    ),
    "2024/b.md": ARTICLE_B + "\n",
    "c.html": f"<html><head><title>Chen</title></head><body><p>{ARTICLE_C}</p></body></html>",
}


def make_collection(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / "articles"
    for name, text in ARTICLE_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    if kind == "folder":
        return folder
    if kind == "zip":
        path = tmp_path / "articles.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name in ARTICLE_FILES:
                archive.write(folder / name, name)
        return path
    path = tmp_path / "articles.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name in ARTICLE_FILES:
            archive.add(folder / name, name)
    return path


@pytest.mark.parametrize("kind", ["folder", "zip", "tar.gz"])
def test_article_collections(
    tmp_path: Path, tiny_model_path: Path, tiny_model: StanceModel, kind: str
) -> None:
    collection = make_collection(tmp_path, kind)
    output = tmp_path / "scored.jsonl"
    summary = run(collection, output=output, model=tiny_model_path, chunk_size=2)
    assert (summary.rows_read, summary.rows_scored, summary.errors, summary.quotes) == (3, 3, 0, 3)
    rows = read_output(output)
    assert list(rows[0])[:4] == ["source", "title", "date", "url"]
    assert [Path(r["source"]).name for r in rows] == ["a.txt", "a.txt", "b.md", "c.html"]
    assert rows[0]["title"] == "Talks in Geneva" and rows[0]["url"] == "https://example.org/a"
    assert rows[2]["quote_index"] is None and rows[2]["model_version"] == tiny_model.version
    # The same records as scoring each file on its own.
    folder = tmp_path / "articles"
    expected = [
        r for name in ARTICLE_FILES for r in score_article(tiny_model, read_article(folder / name))
    ]
    got = [r for r in rows if r["quote_index"] is not None]
    assert [(r["quote"], r["speaker"], r["label"], r["start"]) for r in got] == [
        (r["quote"], r["speaker"], r["label"], r["start"]) for r in expected
    ]


def test_single_article_files_and_a_glob(tmp_path: Path, tiny_model_path: Path) -> None:
    make_collection(tmp_path, "folder")
    output = tmp_path / "scored.parquet"
    summary = run(str(tmp_path / "articles" / "2024" / "*"), output=output, model=tiny_model_path)
    assert summary.rows_read == 2 and summary.quotes == 2


# -- broken inputs ---------------------------------------------------------------------------
GOOD = QUOTES[0][0]


def _bad_encoding(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        f"text,speaker\n{GOOD},A\nCaf\xe9 talks are off,B\n{GOOD},C\n".encode("latin-1")
    )
    return path


def _ragged(tmp_path: Path) -> Path:
    path = tmp_path / "ragged.csv"
    path.write_text(f'text,speaker\n"{GOOD}",A\n"{GOOD}",B,extra\n"{GOOD}",C\n', encoding="utf-8")
    return path


def _invalid_json(tmp_path: Path) -> Path:
    path = tmp_path / "broken.jsonl"
    good = json.dumps({"text": GOOD})
    path.write_text(f'{good}\n{{"text": "unfinished\n[1, 2]\n\n{good}\n', encoding="utf-8")
    return path


def _corrupt_parquet(tmp_path: Path) -> Path:
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    return path


def _bad_zip_member(tmp_path: Path) -> Path:
    path = tmp_path / "articles.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("good.txt", ARTICLE_A)
        archive.writestr("broken.txt", "x" * 200 + ARTICLE_C)
        archive.writestr("latin1.txt", "Caf\xe9".encode("latin-1"))
        archive.writestr("notes.pdf", b"%PDF-1.4")
    data = bytearray(path.read_bytes())
    at = data.find(b"x" * 200)
    data[at : at + 5] = b"yyyyy"  # the stored bytes no longer match the member's CRC
    path.write_bytes(bytes(data))
    return path


def _empty_csv(tmp_path: Path) -> Path:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    return path


def _empty_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    return path


def _empty_text(tmp_path: Path) -> Path:
    return write_rows(tmp_path / "blank.csv", [{"text": GOOD}, {"text": "   "}, {"text": GOOD}])


@pytest.mark.parametrize(
    ("make", "errors", "good_rows"),
    [
        (_bad_encoding, [(3, None, "not UTF-8")], 2),
        (_ragged, [(3, None, "3 fields where the header has 2")], 2),
        (_invalid_json, [(2, None, "invalid JSON"), (3, None, "not an object")], 2),
        (_corrupt_parquet, [(None, None, "not a readable Parquet file")], 0),
        (
            _bad_zip_member,
            [
                (None, "broken.txt", "unreadable member"),
                (None, "latin1.txt", "not UTF-8"),
                (None, "notes.pdf", "not an article file"),
            ],
            1,
        ),
        (_empty_csv, [(None, None, "empty file")], 0),
        (_empty_jsonl, [(None, None, "empty file")], 0),
        (_empty_text, [(3, None, "empty text in column 'text'")], 2),
    ],
    ids=[
        "bad-encoding",
        "ragged-csv-row",
        "invalid-json-line",
        "corrupt-parquet",
        "bad-zip-member",
        "empty-csv",
        "empty-jsonl",
        "empty-text",
    ],
)
def test_broken_inputs_give_error_records_and_lose_no_good_row(
    tmp_path: Path, tiny_model_path: Path, make, errors: list[tuple[Any, ...]], good_rows: int
) -> None:
    broken = make(tmp_path)
    # A good input next to the broken one: all of its rows are scored.
    if broken.suffix == ".zip":
        good = make_collection(tmp_path, "folder")
        good_count = len(ARTICLE_FILES)
    else:
        good = write_rows(tmp_path / "good.csv", quote_rows(3))
        good_count = 3
    output = tmp_path / "out.parquet"
    summary = run(broken, good, output=output, model=tiny_model_path, chunk_size=2)
    records = read_errors(output)
    assert [(r["row"], r["member"]) for r in records] == [
        (row, member) for row, member, _ in errors
    ]
    for record, (_, _, reason) in zip(records, errors, strict=True):
        assert record["input"] == str(broken) and reason in record["reason"]
    assert summary.errors == len(errors)
    assert summary.rows_scored == good_rows + good_count
    if broken.suffix != ".zip":  # one output row per good quote row
        assert pq.read_table(output).num_rows == good_rows + good_count
    assert_clean(output)


def test_fast_and_row_by_row_csv_readers_agree(tmp_path: Path) -> None:
    rows = [
        {"text": 'He said "yes",\nthen left.', "n": "1"},
        {"text": "", "n": "2"},
        {"text": "  spaced  ", "n": "3"},
        {"text": "comma, inside", "n": "4"},
        {"text": "crlf\r\ninside", "n": "5"},
    ]
    path = write_rows(tmp_path / "tricky.csv", rows)
    (source,) = tables.expand_inputs([str(path)])
    for size in (1, 2, 10):
        jobs = list(tables.chunk_jobs(source, size))
        fast = [tables._read_csv(job, _slice(job)) for job in jobs]
        slow = [tables._read_csv_rows(job, _slice(job)) for job in jobs]
        assert [c.table.to_pylist() for c in fast] == [c.table.to_pylist() for c in slow]
        assert [list(c.rows) for c in fast] == [list(c.rows) for c in slow]
        assert [r for c in fast for r in c.table.to_pylist()] == rows
    # Row numbers are line numbers: the first row's text spans lines 2 and 3.
    assert [r for c in fast for r in c.rows] == [2, 4, 5, 6, 7]


def _slice(job: tables.TextSlice) -> bytes:
    with open(job.input, "rb") as handle:
        handle.seek(job.offset)
        return handle.read(job.length)


def test_stale_errors_file_is_removed(tmp_path: Path, tiny_model_path: Path) -> None:
    output = tmp_path / "out.csv"
    run(_empty_text(tmp_path), output=output, model=tiny_model_path)
    assert len(read_errors(output)) == 1
    run(write_rows(tmp_path / "fine.csv", quote_rows(2)), output=output, model=tiny_model_path)
    assert read_errors(output) == []
    assert len(read_output(output)) == 2


# -- one-line errors -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "-o", "out.parquet"], "missing.csv: no such file or folder"),
        (["nothing-*.csv", "-o", "out.parquet"], "no file matches"),
        (["quotes.xlsx", "-o", "out.parquet"], "cannot score a '.xlsx' file"),
        (["quotes.csv", "-o", "out.xlsx"], "use .parquet, .csv or .jsonl"),
        (["quotes.csv", "-o", "out.csv", "--text-column", "body"], "no column 'body'"),
        (["quotes.csv", "-o", "out.csv", "--speaker-column", "who"], "no column 'who'"),
        (["quotes.csv", "-o", "out.csv", "--chunk-size", "0"], "--chunk-size must be at least 1"),
        (["quotes.csv", "-o", "out.csv", "--engine", "dask"], "writes a Parquet dataset"),
        (["quotes.csv", "articles", "-o", "out.csv"], "add --articles"),
        (["quotes.csv", "-o", "out.csv", "--model", "nowhere.joblib"], "no model artifact there"),
    ],
)
def test_user_mistakes_are_one_line_errors(
    tmp_path: Path,
    tiny_model_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    write_rows(tmp_path / "quotes.csv", quote_rows(2))
    (tmp_path / "quotes.xlsx").write_bytes(b"")
    make_collection(tmp_path, "folder")
    if "--model" not in args:
        args = [*args, "--model", str(tiny_model_path)]
    code = main(["score", *args])
    err = capsys.readouterr().err
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stance: error: ") and message in lines[0], err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.parquet").exists()


def test_cli_prints_a_summary_line_unless_quiet(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_rows(tmp_path / "q.csv", quote_rows(4))
    output = tmp_path / "out.parquet"
    base = [
        "score",
        str(source),
        "-o",
        str(output),
        "--model",
        str(tiny_model_path),
        "--workers",
        "1",
    ]
    assert main(base) == 0
    out, err = capsys.readouterr()
    assert (
        out.startswith(f"{output}: 4 rows read, 4 scored, 0 errors, 4 quotes found, ") and not err
    )
    assert main([*base, "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


# -- workers, kill, resume -------------------------------------------------------------------
def test_two_workers_give_the_same_output_as_one(tmp_path: Path, tiny_model_path: Path) -> None:
    source = write_rows(tmp_path / "q.jsonl", [*quote_rows(300), {"id": 301, "text": ""}])
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    run(source, output=one, model=tiny_model_path, chunk_size=40, workers=1)
    summary = run(source, output=two, model=tiny_model_path, chunk_size=40, workers=2)
    assert summary.chunks == 8 and summary.errors == 1
    assert pq.read_table(one).equals(pq.read_table(two))
    assert (
        read_errors(one)
        == read_errors(two)
        == [
            {
                "input": str(source),
                "row": 301,
                "member": None,
                "reason": "empty text in column 'text'",
            }
        ]
    )


def _start(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "stance.cli", "score", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group: the kill reaches its workers too
    )


def _wait_for_a_chunk(process: subprocess.Popen[bytes], partial: Path) -> None:
    deadline = time.monotonic() + 60
    while not list(partial.glob("[0-9]*.json")):
        assert process.poll() is None, process.communicate()[1].decode()
        assert time.monotonic() < deadline, "no chunk finished in 60 s"
        time.sleep(0.005)


@pytest.mark.slow
def test_a_killed_run_leaves_no_output_and_resume_completes_it(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    # Rows without a speaker: attribution makes each chunk take long enough to be caught mid-run.
    rows = [{"id": i, "text": QUOTES[i % len(QUOTES)][0]} for i in range(12_000)]
    source = write_rows(tmp_path / "q.csv", rows)
    output = tmp_path / "out.parquet"
    args = [
        str(source),
        "-o",
        str(output),
        "--model",
        str(tiny_model_path),
        "--chunk-size",
        "300",
        "--workers",
        "2",
    ]

    process = _start(args)
    _wait_for_a_chunk(process, partial_path(output))
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    assert not output.exists() and not output.with_name("out.parquet.tmp").exists()
    assert (partial_path(output) / "manifest.json").is_file()

    # Ctrl-C on the resumed run: the parent stops its pool and says how to go on.
    process = _start([*args, "--resume"])
    before = len(list(partial_path(output).glob("[0-9]*.json")))
    _wait_for_a_chunk_more(process, partial_path(output), before)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    assert "rerun with --resume" in err.decode() and "Traceback" not in err.decode()
    assert not output.exists()

    # The resumed run need not have the same number of workers.
    summary = run(
        source, output=output, model=tiny_model_path, chunk_size=300, workers=1, resume=True
    )
    assert 0 < summary.resumed_chunks < summary.chunks == 40 and summary.rows_read == 12_000
    clean = tmp_path / "clean.parquet"
    run(source, output=clean, model=tiny_model_path, chunk_size=300, workers=1)
    assert pq.read_table(output).equals(pq.read_table(clean))
    assert_clean(output)


def _wait_for_a_chunk_more(process: subprocess.Popen[bytes], partial: Path, before: int) -> None:
    deadline = time.monotonic() + 60
    while len(list(partial.glob("[0-9]*.json"))) <= before:
        assert process.poll() is None, process.communicate()[1].decode()
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_resume_refuses_a_partial_folder_of_other_settings(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    source = write_rows(tmp_path / "q.csv", quote_rows(10))
    output = tmp_path / "out.parquet"
    partial = partial_path(output)
    partial.mkdir()
    (partial / "manifest.json").write_text(json.dumps({"format": 1, "chunk_size": 3}))
    with pytest.raises(Exception, match="cannot be resumed; rerun without --resume"):
        run(source, output=output, model=tiny_model_path, chunk_size=5, resume=True)
    # Without --resume the old partial folder is replaced.
    assert run(source, output=output, model=tiny_model_path, chunk_size=5).rows_scored == 10


def test_resume_skips_finished_chunks(
    tmp_path: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stance.batch as batch

    source = write_rows(tmp_path / "q.csv", quote_rows(10))
    output = tmp_path / "out.parquet"
    real = batch.score_job
    calls: list[int] = []

    def failing(index: int, *args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(index)
        if index == 2 and calls == [0, 1, 2]:  # Ctrl-C during the first run's third chunk
            raise KeyboardInterrupt
        return real(index, *args, **kwargs)

    monkeypatch.setattr(batch, "score_job", failing)
    with pytest.raises(KeyboardInterrupt):
        run(source, output=output, model=tiny_model_path, chunk_size=3)
    assert not output.exists() and calls == [0, 1, 2]
    calls.clear()
    summary = run(source, output=output, model=tiny_model_path, chunk_size=3, resume=True)
    assert calls == [2, 3] and summary.resumed_chunks == 2 and summary.rows_read == 10
    assert [r["id"] for r in pq.read_table(output).to_pylist()] == [str(i) for i in range(1, 11)]


def test_a_csv_is_cut_into_byte_ranges_of_whole_rows(tmp_path: Path) -> None:
    """The parent only cuts the file (flat memory: a job is an offset and a length); the rows
    are parsed by the worker that scores them."""
    source = write_rows(tmp_path / "q.csv", quote_rows(50))
    (src,) = tables.expand_inputs([str(source)])
    jobs = list(tables.chunk_jobs(src, 10))
    assert len(jobs) == 5 and all(isinstance(j, tables.TextSlice) for j in jobs)
    assert sum(j.length for j in jobs) + len(b"id,text,speaker\r\n") == source.stat().st_size
    assert [j.first_line for j in jobs] == [2, 12, 22, 32, 42]


def test_read_job_of_a_parquet_row_group(tmp_path: Path) -> None:
    path = tmp_path / "q.parquet"
    pq.write_table(pa.Table.from_pylist(quote_rows(25)), path, row_group_size=10)
    (source,) = tables.expand_inputs([str(path)])
    jobs = list(tables.chunk_jobs(source, 4, where="worker"))
    assert [j.first_row for j in jobs] == [1, 11, 21]
    chunks = [c for j in jobs for c in tables.read_job(j)]
    assert [c.table.num_rows for c in chunks] == [4, 4, 2, 4, 4, 2, 4, 1]
    assert [r for c in chunks for r in c.rows] == list(range(1, 26))


def test_progress_bar_counts_rows(capsys: pytest.CaptureFixture[str]) -> None:
    from stance.batch import ProgressBar

    with ProgressBar(100, enabled=True) as bar:
        bar.advance(60, 6)
        bar.advance(40, 4)
    assert bar.rows == 10
    with ProgressBar(100, enabled=False) as bar:
        bar.advance(100, 3)
    assert capsys.readouterr().out == ""


def test_tables_reads_bytes_as_written(tmp_path: Path) -> None:
    """A BOM before the header is not part of the first column's name."""
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbftext,speaker\r\n" + f"{GOOD},A\r\n".encode())
    (source,) = tables.expand_inputs([str(path)])
    assert tables.peek_columns(source) == ["text", "speaker"]
    (chunk,) = [c for j in tables.chunk_jobs(source, 5) for c in tables.read_job(j)]
    assert chunk.table.to_pylist() == [{"text": GOOD, "speaker": "A"}] and list(chunk.rows) == [2]


def test_an_empty_folder_gives_an_empty_output_with_the_columns(
    tmp_path: Path, tiny_model_path: Path
) -> None:
    (tmp_path / "nothing").mkdir()
    output = tmp_path / "out.parquet"
    summary = run(tmp_path / "nothing", output=output, model=tiny_model_path)
    assert (summary.rows_read, summary.chunks) == (0, 0)
    table = pq.read_table(output)
    assert table.num_rows == 0 and table.column_names[:3] == ["quote", "context", "speaker"]


def test_an_interrupted_assembly_leaves_no_file_and_resume_finishes_it(
    tmp_path: Path, tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_rows(tmp_path / "q.csv", quote_rows(20))
    output = tmp_path / "out.csv"
    real = tables.conform
    seen: list[int] = []

    def interrupted(table: pa.Table, schema: pa.Schema) -> pa.Table:
        seen.append(1)
        if len(seen) == 2:  # Ctrl-C while the second chunk is written into OUTPUT.tmp
            raise KeyboardInterrupt
        return real(table, schema)

    monkeypatch.setattr(tables, "conform", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(source, output=output, model=tiny_model_path, chunk_size=5)
    assert not output.exists() and not output.with_name("out.csv.tmp").exists()
    summary = run(source, output=output, model=tiny_model_path, chunk_size=5, resume=True)
    assert summary.resumed_chunks == 4 and len(read_output(output)) == 20
    assert_clean(output)


def test_an_output_of_the_other_kind_is_replaced(tmp_path: Path, tiny_model_path: Path) -> None:
    """A file where a dask run left a dataset folder (and back)."""
    source = write_rows(tmp_path / "q.csv", quote_rows(3))
    output = tmp_path / "out.parquet"
    output.mkdir()
    (output / "part.000000.000.parquet").write_bytes(b"old")
    run(source, output=output, model=tiny_model_path)
    assert output.is_file() and pq.read_table(output).num_rows == 3
    assert not output.with_name("out.parquet.old").exists()
