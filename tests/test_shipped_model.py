"""The shipped artifact: it matches its card, was trained on the embedded data, and works."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from stance.data import read_labelled_csv
from stance.model import DEFAULT_MODEL_PATH, card_path_for, file_sha256, load_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped():
    return load_model(DEFAULT_MODEL_PATH)


def test_card_hash_matches_artifact() -> None:
    import json

    card = json.loads(card_path_for(DEFAULT_MODEL_PATH).read_text(encoding="utf-8"))
    assert card["artifact_sha256"] == file_sha256(DEFAULT_MODEL_PATH)


def test_trained_on_the_embedded_data(shipped) -> None:
    data = read_labelled_csv(sorted(glob.glob(str(ROOT / "training" / "data" / "*.csv"))))
    assert shipped.card["training_data"]["sha256"] == data.sha256, "retrain: stance train"
    assert shipped.card["training_data"]["rows"] == len(data)


def test_card_reports_grouped_cross_validation(shipped) -> None:
    cv = shipped.card["cross_validation"]
    assert cv["group_by"] == "speaker" and cv["n_splits"] == 5
    assert cv["macro_f1"] >= 0.75


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("We have always said we are open to negotiations, and that has not changed.", "pro"),
        ("Any talks now would simply give the aggressor time to regroup and rearm.", "anti"),
        (
            "Air defence units shot down eleven drones over the southern regions overnight.",
            "neutral",
        ),
    ],
)
def test_obvious_cases(shipped, text: str, label: str) -> None:
    assert shipped.predict_one(text).label == label
