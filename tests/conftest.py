"""Shared fixtures: a tiny labelled corpus written inline, and a model fitted on it once."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from stance.model import StanceModel, load_model
from training.train import train

# Short statements in three voices per label; the speakers are invented so that grouped
# cross-validation has groups to split on.
TINY_CORPUS: list[tuple[str, str, str]] = [
    (
        "We are ready to sit down at the table tomorrow if the other side is serious.",
        "pro",
        "Ana Lind",
    ),
    ("Only dialogue can end this war; our delegation is prepared to travel.", "pro", "Ana Lind"),
    ("We have never refused talks and we never will.", "pro", "Ben Okafor"),
    ("A negotiated ceasefire is the only realistic way to stop the killing.", "pro", "Ben Okafor"),
    ("Both sides should return to negotiations without delay.", "pro", "Chen Wei"),
    ("Diplomacy must be given a chance; we support direct talks.", "pro", "Chen Wei"),
    (
        "The minister stressed that a peaceful settlement through dialogue remains the goal.",
        "pro",
        "Dora Maas",
    ),
    ("We welcome any mediation that brings the parties to the table.", "pro", "Dora Maas"),
    ("Talks now would only reward the aggressor and let him regroup.", "anti", "Egon Varga"),
    ("There is nothing to negotiate until every soldier leaves our land.", "anti", "Egon Varga"),
    ("A freeze of the front line would be a trap, not peace.", "anti", "Fay Moreau"),
    ("We will not sit down with a regime that bombs our cities.", "anti", "Fay Moreau"),
    (
        "Negotiations are pointless while they keep attacking; victory comes first.",
        "anti",
        "Gus Peron",
    ),
    ("Any ceasefire now is capitulation dressed up as diplomacy.", "anti", "Gus Peron"),
    ("The so-called peace plan is a ruse to buy time for rearming.", "anti", "Hana Sato"),
    ("It is premature to talk about talks; the battlefield will decide.", "anti", "Hana Sato"),
    (
        "Three drones were shot down over the region overnight, officials said.",
        "neutral",
        "Ivo Kral",
    ),
    ("The aid package includes artillery shells and winter equipment.", "neutral", "Ivo Kral"),
    ("Trade talks between the two blocs resumed in Geneva on Monday.", "neutral", "Jo Ruiz"),
    ("Grain exports through the Black Sea rose by a fifth in March.", "neutral", "Jo Ruiz"),
    ("New sanctions target banks and shipping companies.", "neutral", "Kai Berg"),
    ("The city council negotiated a new contract with bus drivers.", "neutral", "Kai Berg"),
    (
        "Polls open at eight in the morning and close at nine in the evening.",
        "neutral",
        "Lu Mendes",
    ),
    ("The energy minister said gas storage is ninety percent full.", "neutral", "Lu Mendes"),
]


def write_csv(
    path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("text", "label", "speaker")
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def tiny_corpus() -> list[tuple[str, str, str]]:
    return list(TINY_CORPUS)


@pytest.fixture(scope="session")
def tiny_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("corpus") / "tiny.csv", TINY_CORPUS)


@pytest.fixture(scope="session")
def tiny_model_path(tiny_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "stance.joblib"
    train([tiny_csv], out=out, search=False)
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path: Path) -> StanceModel:
    return load_model(tiny_model_path)
