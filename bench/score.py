"""Batch scoring speed and memory: `stance score` CSV -> Parquet against the in-memory model.

    python bench/score.py [--model PATH] [--rows 1000000] [--small-rows 100000] [--repeat 1]

What it measures, in one run (so the ratios hold on a noisy machine):
1. the in-memory rate of ``model.predict`` (and of ``model.predict_proba``) on one core, chunks of
   10,000 quotes: the ceiling that scoring from files is compared with;
2. ``stance score`` on a generated CSV of ``--rows`` quotes (the embedded training statements with
   their speaker, date, source and country, sampled with a fixed seed) into Parquet, with 1 worker
   and with 2: quotes per second, and the ratios (1 worker / predict, 2 workers / 1 worker);
3. the peak memory of a scoring run (2 workers) at ``--small-rows`` and at ``--rows``: the whole
   process tree's RSS and the largest single process's RSS, sampled every 20 ms;
4. articles per second on the press-release archive in ../shared/data/press-releases/ (scored with
   --articles --text-column body), and whether every document is in the output or the errors
   file; skipped, saying so, when the archive is absent.

Each run is `python -m stance.cli score ...` in a subprocess; its rate is taken from the run's own
summary line (the command's work: checks, model loading, the pool's start-up, reading, scoring,
writing; not the interpreter's start and imports), the wall time of the subprocess beside it.
Without --model, the shipped model is used, or one is trained (--no-search) into the temporary
folder when there is none.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil  # installed with distributed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stance.data import read_labelled_csv  # noqa: E402
from stance.model import DEFAULT_MODEL_PATH, load_model  # noqa: E402

PRESS = ROOT.parent / "shared" / "data" / "press-releases"
SUMMARY = re.compile(
    r"([\d,]+) (?:rows|articles) read, ([\d,]+) scored, ([\d,]+) errors.*?([\d,]+) quotes found, "
    r"([\d.]+) s"
)


def generate_csv(path: Path, rows: int, *, speaker: bool = True) -> None:
    """``rows`` quotes drawn (seeded) from the training CSVs, with their other columns (and their
    speaker unless ``speaker=False``)."""
    import random

    source: list[dict[str, str]] = []
    for name in sorted(glob.glob(str(ROOT / "training" / "data" / "*.csv"))):
        with open(name, encoding="utf-8-sig", newline="") as handle:
            source.extend(csv.DictReader(handle))
    columns = ["id", "text", *(["speaker"] if speaker else []), "date", "source", "country"]
    pick = random.Random(0).choices
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for start in range(0, rows, 100_000):
            batch = pick(source, k=min(100_000, rows - start))
            writer.writerows(
                [start + i + 1, *(r.get(c, "") for c in columns[1:])] for i, r in enumerate(batch)
            )


def predict_rates(model_path: Path, rows: int) -> tuple[float, float]:
    model = load_model(model_path)
    texts = read_labelled_csv(sorted(glob.glob(str(ROOT / "training" / "data" / "*.csv")))).texts
    batch = (texts * (rows // len(texts) + 1))[:rows]
    rates = []
    for fn in (model.predict, model.predict_proba):
        fn(batch[:1000])  # warm up
        start = time.perf_counter()
        for i in range(0, len(batch), 10_000):
            fn(batch[i : i + 10_000])
        rates.append(len(batch) / (time.perf_counter() - start))
    return rates[0], rates[1]


def run_score(args: list[str]) -> dict[str, float]:
    """One `stance score` run: its summary figures, wall time, CPU time and memory.

    The process tree (the command, the fork server, the pool's workers) is sampled every 20 ms:
    the peak of the sum of its RSS, the largest RSS of any one process, and each process's last
    seen CPU time (the workers are the fork server's children, so the kernel's rusage of the
    command would not count them).
    """
    command = [sys.executable, "-m", "stance.cli", "score", *args]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    parent = psutil.Process(process.pid)
    tree_peak = one_peak = 0
    cpu: dict[int, float] = {}
    while process.poll() is None:
        total = 0
        try:
            members = [parent, *parent.children(recursive=True)]
        except psutil.Error:
            members = []
        for member in members:
            try:
                rss = member.memory_info().rss
                times = member.cpu_times()
            except psutil.Error:
                continue
            total += rss
            one_peak = max(one_peak, rss)
            cpu[member.pid] = times.user + times.system
        tree_peak = max(tree_peak, total)
        time.sleep(0.02)
    wall = time.perf_counter() - start
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err.decode()}")
    match = SUMMARY.search(out.decode())
    if not match:
        raise SystemExit(f"no summary line in: {out.decode()!r}")
    read, scored, errors, quotes = (int(g.replace(",", "")) for g in match.groups()[:4])
    return {
        "read": read,
        "scored": scored,
        "errors": errors,
        "quotes": quotes,
        "elapsed": float(match.group(5)),
        "wall": wall,
        "cpu": sum(cpu.values()),
        "tree_peak_mb": tree_peak / 1e6,
        "one_peak_mb": one_peak / 1e6,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=100_000)
    parser.add_argument("--predict-rows", type=int, default=200_000)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep its files")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each worker count (best)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        model_path = find_model(args.model, work)
        model = load_model(model_path)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"model {model.version} ({', '.join(model.labels)}); {os.cpu_count()} CPUs; load {load}"
        )
        big = work / f"quotes-{args.rows}.csv"
        small = work / f"quotes-{args.small_rows}.csv"
        for path, rows in ((big, args.rows), (small, args.small_rows)):
            if not path.exists():
                generate_csv(path, rows)
        print(
            f"input: {args.rows:,} quotes, {big.stat().st_size / 1e6:.0f} MB of CSV (training "
            "statements with their speaker, date, source, country)"
        )
        common = ["--model", str(model_path), "--chunk-size", "10000"]
        two = bench_rates(model_path, big, work, common, args.predict_rows, args.repeat)
        bench_memory(big, small, work, common, two, args.rows, args.small_rows)
        bench_no_speaker(work, common, args.small_rows)
        bench_press(model_path, work)


def bench_no_speaker(work: Path, common: list[str], rows: int) -> None:
    """Quote rows without a speaker column: the attribution is searched in every text."""
    path = work / f"quotes-{rows}-no-speaker.csv"
    if not path.exists():
        generate_csv(path, rows, speaker=False)
    run = run_score([str(path), "-o", str(work / "no-speaker.parquet"), *common])
    print(
        f"the same without a speaker column ({rows:,} rows, 2 workers; the speaker is looked for "
        f"in each text by stance.quotes.find_attribution): {run['scored'] / run['elapsed']:,.0f} "
        "quotes/s"
    )


def find_model(given: str | None, work: Path) -> Path:
    """--model, else the shipped model, else one trained now into ``work``."""
    path = Path(given) if given else DEFAULT_MODEL_PATH
    if path.is_file():
        return path
    path = work / "model" / "stance.joblib"
    print(f"no model at {DEFAULT_MODEL_PATH}: training one into {path} (--no-search)")
    train = ["train", "--out", str(path), "--no-search", "--quiet"]
    subprocess.run([sys.executable, "-m", "stance.cli", *train], check=True, cwd=ROOT)
    return path


def bench_rates(
    model_path: Path, big: Path, work: Path, common: list[str], predict_rows: int, repeat: int
) -> dict[str, float]:
    """The in-memory rates, then 1 and 2 workers in turn, ``repeat`` times: the best of each
    (on a shared machine, the run that other work disturbed least)."""
    predict, proba = predict_rates(model_path, predict_rows)
    print(f"in-memory model.predict:       {predict:10,.0f} quotes/s (one core)")
    print(f"in-memory model.predict_proba: {proba:10,.0f} quotes/s (one core)")
    runs: dict[int, dict[str, float]] = {}
    for _ in range(repeat):
        for workers in (1, 2):
            output = work / f"workers-{workers}.parquet"
            run = run_score([str(big), "-o", str(output), "--workers", str(workers), *common])
            if workers not in runs or run["elapsed"] < runs[workers]["elapsed"]:
                runs[workers] = run
    for workers, run in runs.items():
        rate = run["scored"] / run["elapsed"]
        print(
            f"stance score CSV -> Parquet, {workers} worker{'s' if workers > 1 else ' '}: "
            f"{rate:10,.0f} quotes/s ({run['elapsed']:.1f} s in the run, {run['wall']:.1f} s "
            f"wall with start-up; {run['cpu']:.1f} CPU-s; load average {run['load']:.1f})"
        )
    rate1 = runs[1]["scored"] / runs[1]["elapsed"]
    rate2 = runs[2]["scored"] / runs[2]["elapsed"]
    print(f"  1 worker / in-memory model.predict:       {rate1 / predict:5.2f}x (target >= 0.80)")
    print(f"  1 worker / in-memory model.predict_proba: {rate1 / proba:5.2f}x")
    print(f"  2 workers / 1 worker:                     {rate2 / rate1:5.2f}x (target >= 1.60)")
    return runs[2]


def bench_memory(
    big: Path,
    small: Path,
    work: Path,
    common: list[str],
    big_run: dict[str, float],
    rows: int,
    small_rows: int,
) -> None:
    """Peak memory of a 2-worker run at both sizes: the process tree, and its largest process."""
    small_run = run_score([str(small), "-o", str(work / "small.parquet"), *common])
    tree_small, tree_big = small_run["tree_peak_mb"], big_run["tree_peak_mb"]
    print(
        f"peak memory, 2 workers, whole process tree: {small_rows:,} rows {tree_small:,.0f} MB; "
        f"{rows:,} rows {tree_big:,.0f} MB; ratio {tree_big / tree_small:.2f}x (target <= 1.20)"
    )
    one_small, one_big = small_run["one_peak_mb"], big_run["one_peak_mb"]
    print(
        f"peak memory, largest single process: {small_rows:,} rows {one_small:,.0f} MB; "
        f"{rows:,} rows {one_big:,.0f} MB; ratio {one_big / one_small:.2f}x"
    )


def bench_press(model_path: Path, work: Path) -> None:
    press = sorted(PRESS.glob("*.csv")) if PRESS.is_dir() else []
    if not press:
        print(f"press-release archive: {PRESS} is absent; skipped")
        return
    output = work / "press.parquet"
    options = ["--articles", "--text-column", "body", "--model", str(model_path)]
    run = run_score([*(str(p) for p in press), "-o", str(output), *options])
    documents = sum(_count_rows(p) for p in press)
    accounted = _documents_in(output) + _documents_in_errors(output)
    whole = "yes" if accounted == documents else f"NO ({accounted} of {documents})"
    print(
        f"press-release archive ({', '.join(p.name for p in press)}), 2 workers: "
        f"{run['read']:,} articles, {run['quotes']:,} quotes, {run['errors']} errors in "
        f"{run['elapsed']:.1f} s = {run['read'] / run['elapsed']:,.0f} articles/s; "
        f"every document in the output or the errors file: {whole}"
    )


def _count_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        csv.field_size_limit(2**31 - 1)
        return sum(1 for _ in csv.DictReader(handle))


def _documents_in(output: Path) -> int:
    import pyarrow.parquet as pq

    table = pq.read_table(output, columns=["link"])
    return len(set(table.column("link").to_pylist()))


def _documents_in_errors(output: Path) -> int:
    errors = output.with_name(output.name + ".errors.jsonl")
    if not errors.exists():
        return 0
    return len({(e["input"], e["row"]) for e in map(json.loads, errors.read_text().splitlines())})


if __name__ == "__main__":
    main()
