"""The embedded training data: its shape, its variety, and no duplicates (the data is the model)."""

from __future__ import annotations

import csv
import glob
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from stance.data import read_labelled_csv

DATA_DIR = Path(__file__).resolve().parent.parent / "training" / "data"
FILES = sorted(glob.glob(str(DATA_DIR / "*.csv")))


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    out = []
    for path in FILES:
        with open(path, encoding="utf-8", newline="") as handle:
            out.extend(csv.DictReader(handle))
    return out


def test_every_file_validates() -> None:
    assert FILES, f"no CSV in {DATA_DIR}"
    data = read_labelled_csv(FILES)
    assert not data.skipped


def test_size_and_balance(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 3000
    shares = {label: n / len(rows) for label, n in Counter(r["label"] for r in rows).items()}
    assert set(shares) == {"pro", "anti", "neutral"}
    for label, share in shares.items():
        assert 0.25 <= share <= 0.42, (label, share)


def test_variety_of_voices_places_years_and_registers(rows: list[dict[str, str]]) -> None:
    speakers = Counter(r["speaker"] for r in rows)
    assert len(speakers) >= 150
    assert len({r["country"] for r in rows}) >= 25
    assert speakers.most_common(1)[0][1] / len(rows) < 0.05
    years = Counter(r["date"][:4] for r in rows)
    assert set(map(str, range(2014, 2026))) <= set(years)
    assert len({r["source"].split(",")[0].strip().lower() for r in rows}) >= 15


def test_every_row_is_complete_and_of_a_sensible_length(rows: list[dict[str, str]]) -> None:
    for row in rows:
        assert row["speaker"].strip() and row["source"].strip() and row["country"].strip(), row
        assert re.fullmatch(r"20(1[4-9]|2[0-5])-\d\d-\d\d", row["date"]), row
        assert 5 <= len(row["text"].split()) <= 80, row["text"]


def test_no_exact_duplicates(rows: list[dict[str, str]]) -> None:
    normal = Counter(re.sub(r"\W+", " ", r["text"].lower()).strip() for r in rows)
    repeated = [text for text, n in normal.items() if n > 1]
    assert not repeated, repeated[:5]


def test_no_near_duplicates(rows: list[dict[str, str]]) -> None:
    # Word 1-3-gram tf-idf cosine: a sentence with a name or a number swapped scores above 0.8.
    texts = [r["text"] for r in rows]
    matrix = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True).fit_transform(texts)
    similarity = (matrix @ matrix.T).toarray()
    np.fill_diagonal(similarity, 0.0)
    i, j = np.nonzero(np.triu(similarity > 0.8))
    pairs = [(texts[a], texts[b]) for a, b in zip(i, j, strict=True)]
    assert not pairs, pairs[:5]


def test_no_label_giveaway_words(rows: list[dict[str, str]]) -> None:
    # A word that appears in nearly every row of one label would let the model learn the tic.
    by_label: dict[str, Counter[str]] = {}
    for row in rows:
        by_label.setdefault(row["label"], Counter()).update(
            set(re.findall(r"[a-z']+", row["text"].lower()))
        )
    sizes = Counter(r["label"] for r in rows)
    stop = {
        "the",
        "to",
        "a",
        "of",
        "and",
        "in",
        "is",
        "that",
        "on",
        "for",
        "we",
        "with",
        "it",
        "be",
        "said",
        "not",
        "this",
    }
    for label, counts in by_label.items():
        for word, n in counts.most_common(30):
            if word not in stop:
                assert n / sizes[label] < 0.5, (label, word, n / sizes[label])
