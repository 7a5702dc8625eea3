"""Extraction scored against hand-labelled articles.

`tests/data/articles/` holds the articles (.txt in the seed layout or plain text, a few .html) and
`gold.jsonl`, one object per article: {"file", "quotes": [{"quote", "speaker", "role",
"fragment"}]}. A predicted quote matches a gold one when the quotes agree after whitespace
normalisation and stripping of edge punctuation and quotation marks; a (quote, speaker) pair
matches when the speakers also agree after alias canonicalisation, case-insensitively. Each gold
quote is matched at most once.

Scored: precision and recall of (quote, speaker) pairs (the contract's measure), and the two
figures of the held-out check: quote detection F1, and the share of detected quotes with a
named gold speaker that get that speaker.

The tests never skip: a missing or empty gold set fails, so that a broken checkout is noticed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stance.quotes import SpeakerAliases, extract_quotes, read_article

ARTICLES = Path(__file__).resolve().parent / "data" / "articles"
GOLD = ARTICLES / "gold.jsonl"
THRESHOLD = 0.95
_EDGE = " \t\n,.;:!?\"'“”‘’«»„"


def _norm_quote(text: str) -> str:
    return " ".join(text.split()).strip(_EDGE)


def _norm_speaker(name: str | None, aliases: SpeakerAliases) -> str:
    return aliases.canonical(name).casefold() if name else ""


@dataclass
class Score:
    gold: int = 0  # gold quotes
    predicted: int = 0  # extracted quotes
    pairs: int = 0  # (quote, speaker) pairs matched
    quotes: int = 0  # quotes matched, speakers aside
    named: int = 0  # matched quotes whose gold speaker is named
    named_right: int = 0  # ... and whose extracted speaker is that person
    report: list[str] = field(default_factory=list)

    @staticmethod
    def ratio(part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    @property
    def precision(self) -> float:
        return self.ratio(self.pairs, self.predicted)

    @property
    def recall(self) -> float:
        return self.ratio(self.pairs, self.gold)

    @property
    def detection_f1(self) -> float:
        p, r = self.ratio(self.quotes, self.predicted), self.ratio(self.quotes, self.gold)
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def speaker_accuracy(self) -> float:
        return self.ratio(self.named_right, self.named)


@pytest.fixture(scope="module")
def score() -> Score:
    """Every gold article extracted once and scored."""
    assert GOLD.is_file(), f"{GOLD} is missing: the gold set must be checked in"
    lines = GOLD.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    assert records, f"{GOLD} is empty"
    aliases = SpeakerAliases.default()
    total = Score()
    for record in records:
        name = record["file"]
        article = read_article(ARTICLES / name)
        found = [
            (_norm_quote(q.quote), _norm_speaker(q.speaker, aliases))
            for q in extract_quotes(article.text, aliases=aliases)
        ]
        gold = [
            (_norm_quote(q["quote"]), _norm_speaker(q.get("speaker"), aliases))
            for q in record["quotes"]
        ]
        total.gold += len(gold)
        total.predicted += len(found)
        # Pairs: each gold pair matched at most once.
        unmatched = Counter(gold)
        for pair in found:
            if unmatched[pair] > 0:
                unmatched[pair] -= 1
                total.pairs += 1
            else:
                total.report.append(f"{name}: extra   {pair[1] or '-'}: {pair[0][:90]!r}")
        for pair, count in unmatched.items():
            total.report += [f"{name}: missed  {pair[1] or '-'}: {pair[0][:90]!r}"] * count
        # Quotes alone, and the speaker of each detected quote whose gold speaker is named.
        extracted = Counter(quote for quote, _ in found)
        speakers: dict[str, list[str]] = {}
        for quote, speaker in found:
            speakers.setdefault(quote, []).append(speaker)
        for quote, speaker in gold:
            if extracted[quote] <= 0:
                continue
            extracted[quote] -= 1
            total.quotes += 1
            if speaker:
                total.named += 1
                total.named_right += speaker in speakers[quote]
    return total


def test_gold_files_are_all_there() -> None:
    lines = GOLD.read_text(encoding="utf-8").splitlines()
    names = [json.loads(line)["file"] for line in lines if line.strip()]
    missing = [name for name in names if not (ARTICLES / name).is_file()]
    assert names and not missing, f"gold.jsonl names files that are not in {ARTICLES}: {missing}"
    assert any(name.endswith((".html", ".htm")) for name in names)


def test_precision_and_recall_of_quote_speaker_pairs(score: Score) -> None:
    print(
        f"\n(quote, speaker) pairs: precision {score.precision:.3f} "
        f"({score.pairs}/{score.predicted}), recall {score.recall:.3f} ({score.pairs}/{score.gold})"
    )
    print("\n".join(score.report))
    assert score.gold > 0, "the gold set has no quotes"
    assert score.precision >= THRESHOLD and score.recall >= THRESHOLD, "\n".join(score.report)


def test_detection_f1_and_named_speaker_accuracy(score: Score) -> None:
    print(
        f"\nquote detection F1 {score.detection_f1:.3f}; right speaker for "
        f"{score.speaker_accuracy:.3f} ({score.named_right}/{score.named}) of the detected quotes "
        "whose speaker is named"
    )
    assert score.detection_f1 >= THRESHOLD
    assert score.speaker_accuracy >= THRESHOLD
    # Pairs can only match where quotes do: a scorer that loses matches would show here.
    assert score.quotes >= score.pairs
