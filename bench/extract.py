"""Quote extraction speed (and, when a model is available, extraction + scoring) on a real archive.

    python bench/extract.py [ARCHIVE_DIR] [--runs 3] [--samples 10] [--model PATH]

ARCHIVE_DIR defaults to ../shared/data/press-releases next to the repository: the Kremlin and
Ukrainian presidential press releases (putin.csv: link,headline,date,location,summary,body;
zelenskyy.csv: link,headline,date,body). When it is absent the benchmark says so and exits 0.

The process is pinned to one core; each measurement is the best of --runs runs over the whole
archive (the best run is the one least disturbed by the rest of the machine). The target is at
least 2 MB of article text per second for extraction alone. Counts and a few sample quotes with
their speakers are printed so that a reader can judge the output, not just its speed.
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stance.quotes import Article, Quote, SpeakerAliases, extract_quotes  # noqa: E402

DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "press-releases"
TARGET_MB_PER_S = 2.0


def read_archive(folder: Path) -> list[tuple[str, str]]:
    """(row id, body) for every row of every CSV in ``folder``, read with the stdlib csv module."""
    csv.field_size_limit(
        min(sys.maxsize, 2**31 - 1)
    )  # some bodies are far over the 128 KiB default
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for i, row in enumerate(csv.DictReader(handle), start=2):
                body = (row.get("body") or "").strip()
                if body:
                    rows.append((f"{path.name}:{i}", body))
    return rows


def best_of(runs: int, fn: Callable[[], object]) -> float:
    """The shortest wall time of ``runs`` calls of ``fn``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity on this platform)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("archive", nargs="?", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "stance.joblib")
    args = parser.parse_args(argv)

    if not args.archive.is_dir() or not any(args.archive.glob("*.csv")):
        print(f"archive not found: {args.archive} (no CSV files there); nothing to measure")
        return 0
    rows = read_archive(args.archive)
    texts = [body for _, body in rows]
    chars = sum(len(t) for t in texts)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(f"archive: {args.archive}")
    print(f"{len(rows)} articles, {chars:,} characters, {mb:.2f} MB UTF-8; {pin_to_one_core()}")

    aliases = SpeakerAliases.default()  # the alias table is read once, outside the timing
    extract_quotes(texts[0], aliases=aliases)
    results: list[list[Quote]] = []

    def extract_all() -> None:
        results[:] = [extract_quotes(t, aliases=aliases) for t in texts]

    seconds = best_of(args.runs, extract_all)
    verdict = (
        "ok" if mb / seconds >= TARGET_MB_PER_S else f"BELOW the {TARGET_MB_PER_S} MB/s target"
    )
    print(
        f"\nextraction alone (best of {args.runs}): {seconds:.2f} s, "
        f"{len(texts) / seconds:,.0f} articles/s, {mb / seconds:.2f} MB/s ({verdict})"
    )
    slowest = max(range(len(texts)), key=lambda i: len(texts[i]))
    one = best_of(args.runs, lambda: extract_quotes(texts[slowest], aliases=aliases))
    longest = texts[slowest]
    print(
        f"longest body ({len(longest):,} characters, {rows[slowest][0]}): "
        f"{one * 1000:.1f} ms, {len(longest.encode('utf-8')) / 1e6 / one:.2f} MB/s"
    )

    quotes = [(rows[i][0], q) for i, found in enumerate(results) for q in found]
    with_speaker = [item for item in quotes if item[1].speaker]
    fragments = sum(q.is_fragment for _, q in quotes)
    share = len(with_speaker) / len(quotes) if quotes else 0.0
    print(
        f"\n{len(quotes):,} quotes in {sum(bool(r) for r in results):,} articles; "
        f"{len(with_speaker):,} with a speaker ({share:.0%}); {fragments:,} fragments"
    )
    top = collections.Counter(q.speaker for _, q in with_speaker).most_common(12)
    print("most quoted: " + ", ".join(f"{name} ({n})" for name, n in top))
    rng = random.Random(0)
    print(f"\n{args.samples} sample quotes (fixed seed), to judge by eye:")
    for source, q in rng.sample(quotes, min(args.samples, len(quotes))):
        words = q.quote if len(q.quote) <= 110 else q.quote[:107] + "..."
        role = f" ({q.speaker_role})" if q.speaker_role else ""
        kind = " [fragment]" if q.is_fragment else ""
        print(f"  {source}: {q.speaker or '(no speaker)'}{role}{kind}: “{words}”")

    scoring(args, rows, mb)
    return 0


def scoring(args: argparse.Namespace, rows: list[tuple[str, str]], mb: float) -> None:
    """Extraction + scoring through stance.score.score_article, when a trained model exists."""
    print("\nextraction + scoring: ", end="")
    try:
        from stance.errors import StanceError
        from stance.model import load_model
        from stance.score import score_article
    except ImportError as err:
        print(f"model not available ({err})")
        return
    if not args.model.is_file():
        print(f"model not available (no {args.model}; train one with `stance train`)")
        return
    try:
        model = load_model(args.model)
    except StanceError as err:
        print(f"model not available ({err})")
        return
    articles = [Article(text=body, source=source) for source, body in rows]
    aliases = SpeakerAliases.default()
    score_article(model, articles[0], aliases=aliases)
    records: list[int] = []

    def score_all() -> None:
        records[:] = [len(score_article(model, a, aliases=aliases)) for a in articles]

    seconds = best_of(args.runs, score_all)
    print(
        f"best of {args.runs}: {seconds:.2f} s, {len(articles) / seconds:,.0f} articles/s, "
        f"{mb / seconds:.2f} MB/s, {sum(records):,} scored quotes"
    )


if __name__ == "__main__":
    raise SystemExit(main())
