"""Counts of the embedded training data, as Markdown tables for training/data/README.md.

python -m training.stats > /tmp/counts.md
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from training.train import default_data_files

LABELS = ("pro", "anti", "neutral")
# The register is the first part of `source` ("press conference, Kyiv" -> "press conference"),
# folded into a few families so that the table reads.
REGISTERS = [
    (
        "speech or address",
        r"speech|address|remarks|statement to|lecture|sermon|rally|parliament|bundestag|debate",
    ),
    ("press conference or briefing", r"press|briefing|conference|doorstep|presser"),
    (
        "official readout or statement",
        r"readout|statement|communiqu|declaration|ministry|release|decree",
    ),
    ("interview", r"interview|podcast|talk show|tv|radio"),
    ("post", r"post|telegram|tweet|x\b|twitter|facebook|instagram|substack|video message"),
    ("news report", r"news|report|agency|wire|dispatch|article"),
    ("op-ed or editorial", r"op-ed|editorial|column|leader|commentary|essay|analysis|blog"),
    ("UN or multilateral", r"\bun\b|security council|general assembly|osce|summit"),
]


def rows() -> list[dict[str, str]]:
    """Every row of the embedded CSVs, each with the name of its file under ``"_file"``."""
    out: list[dict[str, str]] = []
    for path in default_data_files():
        with open(path, encoding="utf-8", newline="") as handle:
            out.extend({**row, "_file": path.rsplit("/", 1)[-1]} for row in csv.DictReader(handle))
    return out


def register(source: str) -> str:
    lowered = source.lower()
    for name, pattern in REGISTERS:
        if re.search(pattern, lowered):
            return name
    return "other"


def table(title: str, keyed: Iterable[tuple[str, str]], *, limit: int | None = None) -> str:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for key, label in keyed:
        counts[key][label] += 1
    ordered = sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    shown = ordered[:limit] if limit else ordered
    lines = [f"| {title} | rows | pro | anti | neutral |", "|---|---:|---:|---:|---:|"]
    for key, counter in shown:
        lines.append(
            f"| {key} | {sum(counter.values())} | "
            + " | ".join(str(counter[label]) for label in LABELS)
            + " |"
        )
    if limit and len(ordered) > limit:
        rest = Counter()
        for _, counter in ordered[limit:]:
            rest.update(counter)
        lines.append(
            f"| {len(ordered) - limit} others | {sum(rest.values())} | "
            + " | ".join(str(rest[label]) for label in LABELS)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    data = rows()
    words = sorted(len(r["text"].split()) for r in data)
    labels = Counter(r["label"] for r in data)
    print(
        f"{len(data)} statements ({', '.join(f'{labels[label]} {label}' for label in LABELS)}), "
        f"{len({r['speaker'] for r in data})} speakers, "
        f"{len({r['country'] for r in data})} countries and institutions, "
        f"{words[0]}-{words[-1]} words (median {words[len(words) // 2]}).\n"
    )
    print(table("year", sorted((r["date"][:4], r["label"]) for r in data)) + "\n")
    print(table("register", ((register(r["source"]), r["label"]) for r in data)) + "\n")
    print(
        table("country or institution", ((r["country"], r["label"]) for r in data), limit=30) + "\n"
    )
    print(table("file", ((r["_file"], r["label"]) for r in data)) + "\n")


if __name__ == "__main__":
    main()
