"""Evaluate the stance model on real presidential press releases it never trained on.

    python bench/evaluate_real.py [ARCHIVE] [--model PATH] [--show-errors] [--json]
    python bench/evaluate_real.py [ARCHIVE] --as-csv /tmp/real.csv
    stance evaluate /tmp/real.csv

ARCHIVE is the folder holding ``putin.csv`` and ``zelenskyy.csv`` (en.kremlin.ru and
president.gov.ua, Oct 2021 - Jun 2022, CC BY 4.0); default ``../shared/data/press-releases``
relative to the repository root. When it is not there the script says so and exits 0: the archive
is not part of the repository and never becomes training data.

The gold set, ``bench/data/press_release_labels.csv``, holds pointers only, never archive text:
``file, link`` name the row, ``start, end`` are character offsets into its ``body``, ``sha1`` is the
SHA-1 of the passage (UTF-8) so that a changed archive is detected, and ``label``/``note`` are ours.
Passages whose row is missing, whose offsets fall outside the body, or whose hash differs are
reported and left out of the figures.

``--show-errors`` prints the misclassified passages to the terminal only. ``--as-csv OUT`` writes
the resolved passages with their gold labels (columns text, label, date, source, id) to OUT, which
must lie outside the repository, for ``stance evaluate OUT``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_ARCHIVE = ROOT.parent / "shared" / "data" / "press-releases"
DEFAULT_LABELS = ROOT / "bench" / "data" / "press_release_labels.csv"
ARCHIVE_FILES = ("putin.csv", "zelenskyy.csv")
LABEL_COLUMNS = ("file", "link", "start", "end", "sha1", "label", "note")


@dataclass(frozen=True, slots=True)
class Passage:
    file: str
    link: str
    date: str
    start: int
    end: int
    label: str
    note: str
    text: str

    @property
    def source(self) -> str:
        return f"{self.file} {self.link} [{self.start}:{self.end}]"


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def read_archive(folder: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """``{file: {link: (date, body)}}`` for the archive files present in ``folder``."""
    csv.field_size_limit(sys.maxsize)  # some bodies are longer than csv's default 128 kB field
    archive: dict[str, dict[str, tuple[str, str]]] = {}
    for name in ARCHIVE_FILES:
        path = folder / name
        if not path.is_file():
            continue
        rows: dict[str, tuple[str, str]] = {}
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                rows[row["link"]] = (row.get("date") or "", row.get("body") or "")
        archive[name] = rows
    return archive


def read_pointers(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def resolve(
    pointers: list[dict[str, str]], archive: dict[str, dict[str, tuple[str, str]]]
) -> tuple[list[Passage], list[str]]:
    """The passages the pointers name, and one line per pointer that could not be resolved."""
    passages: list[Passage] = []
    problems: list[str] = []
    absent = Counter(row["file"] for row in pointers if row["file"] not in archive)
    for name, count in sorted(absent.items()):
        problems.append(f"{count} pointer(s) into {name}: that file is not in the archive folder")
    for line, row in enumerate(pointers, start=2):
        where = f"line {line} ({row['file']} {row['link']} [{row['start']}:{row['end']}])"
        rows = archive.get(row["file"])
        if rows is None:
            continue
        if row["link"] not in rows:
            problems.append(f"{where}: no row with this link in the archive")
            continue
        date, body = rows[row["link"]]
        try:
            start, end = int(row["start"]), int(row["end"])
        except ValueError:
            problems.append(f"{where}: offsets are not integers")
            continue
        if not 0 <= start < end <= len(body):
            problems.append(f"{where}: offsets outside the body ({len(body)} characters)")
            continue
        text = body[start:end]
        if sha1(text) != row["sha1"].strip().lower():
            problems.append(f"{where}: sha1 mismatch, the archive text has changed")
            continue
        passages.append(
            Passage(
                row["file"],
                row["link"],
                date[:10],
                start,
                end,
                row["label"].strip().lower(),
                row["note"],
                text,
            )
        )
    return passages, problems


def inside_repository(path: Path) -> bool:
    try:
        path.resolve().relative_to(ROOT)
    except ValueError:
        return False
    return True


def write_csv(passages: list[Passage], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "date", "source", "id"])
        for number, p in enumerate(passages, start=1):
            writer.writerow([p.text, p.label, p.date, p.source, f"real-{number:04d}"])
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "archive",
        nargs="?",
        default=str(DEFAULT_ARCHIVE),
        help="folder with putin.csv and zelenskyy.csv (default: %(default)s)",
    )
    parser.add_argument("--labels", default=str(DEFAULT_LABELS), help="the pointer CSV")
    parser.add_argument(
        "--model", default=None, help="model artifact (default: models/stance.joblib)"
    )
    parser.add_argument(
        "--show-errors",
        action="store_true",
        help="print the misclassified passages (terminal only)",
    )
    parser.add_argument(
        "--as-csv",
        metavar="OUT",
        help="write the resolved passages as a labelled CSV (outside the repository)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)

    folder = Path(args.archive)
    if not folder.is_dir() or not any((folder / name).is_file() for name in ARCHIVE_FILES):
        print(
            f"press-release archive not found at {folder} "
            f"(expected {' and '.join(ARCHIVE_FILES)}); nothing to evaluate. "
            "Pass its folder as the first argument."
        )
        return 0

    pointers = read_pointers(Path(args.labels))
    passages, problems = resolve(pointers, read_archive(folder))
    for problem in problems:
        print(f"unresolved: {problem}", file=sys.stderr)
    counts = Counter((p.file, p.label) for p in passages)
    summary = ", ".join(f"{f} {lab} {n}" for (f, lab), n in sorted(counts.items()))
    print(f"{len(passages)} of {len(pointers)} passages resolved ({summary})", file=sys.stderr)
    if not passages:
        print("no passage could be resolved; nothing to evaluate", file=sys.stderr)
        return 1

    if args.as_csv:
        out = Path(args.as_csv)
        if inside_repository(out):
            print(
                f"{out}: refusing to write archive text inside the repository; choose a path "
                "outside it (e.g. /tmp/press_release_eval.csv)",
                file=sys.stderr,
            )
            return 2
        write_csv(passages, out)
        print(f"wrote {len(passages)} passages to {out}", file=sys.stderr)

    from stance.errors import StanceError
    from stance.metrics import classification_metrics, format_metrics
    from stance.model import load_model

    try:
        model = load_model(args.model)
    except StanceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    predictions = model.predict([p.text for p in passages])
    gold = [p.label for p in passages]
    predicted = [pred.label for pred in predictions]
    metrics = classification_metrics(gold, predicted, model.labels)
    metrics["model_version"] = model.version
    metrics["unresolved"] = len(problems)
    by_file = {}
    for name in sorted({p.file for p in passages}):
        pairs = [
            (g, q) for p, g, q in zip(passages, gold, predicted, strict=True) if p.file == name
        ]
        by_file[name] = {
            "n": len(pairs),
            "accuracy": round(sum(g == q for g, q in pairs) / len(pairs), 4),
        }
    metrics["by_file"] = by_file

    if args.json:
        print(json.dumps(metrics, ensure_ascii=False, indent=2))
    else:
        print(f"model {model.version} on {len(passages)} real press-release passages")
        print(format_metrics(metrics))
        print()
        for name, row in by_file.items():
            print(f"{name:<16} n = {row['n']:<4} accuracy = {row['accuracy']:.3f}")

    if args.show_errors:
        errors = [
            (p, pred)
            for p, pred in zip(passages, predictions, strict=True)
            if pred.label != p.label
        ]
        print(f"\n{len(errors)} misclassified passages (gold -> predicted, confidence):")
        for p, pred in errors:
            print(
                f"\n[{p.label} -> {pred.label} {pred.confidence:.2f}] {p.file} {p.date} "
                f"{p.link} [{p.start}:{p.end}]  ({p.note})\n  {p.text}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
