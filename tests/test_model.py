from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from stance.errors import ModelLoadError
from stance.model import (
    ModelVersionWarning,
    StanceModel,
    build_pipeline,
    card_path_for,
    file_sha256,
    load_model,
    save_model,
)

PROBES = [
    "We are ready to talk, but only if they are serious.",
    "No negotiations until the last soldier leaves.",
    "Three drones were shot down overnight.",
    "",
    "zzz qqq unseen words only",
    "talks talks talks talks ceasefire ceasefire",
    "Ukraine's   DON'T   won’t Ça va? «Переговоры» 😀",
    "A" * 5000,
]


@pytest.fixture
def copied_model(tiny_model_path: Path, tmp_path: Path) -> Path:
    target = tmp_path / "stance.joblib"
    shutil.copy(tiny_model_path, target)
    shutil.copy(card_path_for(tiny_model_path), card_path_for(target))
    return target


def test_card_records_what_the_spec_asks(
    tiny_model: StanceModel, tiny_model_path: Path, tiny_corpus: list[tuple[str, str, str]]
) -> None:
    card = tiny_model.card
    for key in (
        "format_version",
        "created",
        "labels",
        "training_data",
        "hyperparameters",
        "cross_validation",
        "library_versions",
        "artifact_sha256",
        "model_version",
    ):
        assert key in card, key
    assert card["labels"] == ["anti", "neutral", "pro"]
    assert card["training_data"]["rows"] == len(tiny_corpus)
    assert len(card["training_data"]["sha256"]) == 64
    assert card["artifact_sha256"] == file_sha256(tiny_model_path)
    assert "scikit-learn" in card["library_versions"]
    assert card["cross_validation"]["group_by"] == "speaker"
    assert set(card["cross_validation"]) >= {"accuracy", "macro_f1", "per_class", "confusion"}


@pytest.mark.parametrize("text", PROBES)
def test_fast_path_equals_pipeline(tiny_model: StanceModel, text: str) -> None:
    fast = tiny_model.predict_one(text)
    slow = tiny_model.pipeline.predict_proba([text])[0]
    assert np.allclose(
        [fast.probabilities[label] for label in tiny_model.labels], slow, rtol=0, atol=1e-9
    )
    assert fast.label == tiny_model.labels[int(np.argmax(slow))]
    assert math.isclose(fast.confidence, tiny_model.predict([text])[0].confidence, abs_tol=1e-9)


def test_fast_path_equals_pipeline_for_a_binary_model(
    tiny_corpus: list[tuple[str, str, str]],
) -> None:
    rows = [(t, label) for t, label, _ in tiny_corpus if label != "neutral"]
    pipeline = build_pipeline(C=3.0).fit([t for t, _ in rows], [label for _, label in rows])
    model = StanceModel(pipeline)
    assert model.labels == ("anti", "pro")
    for text in PROBES:
        fast = [model.predict_one(text).probabilities[label] for label in model.labels]
        assert np.allclose(fast, pipeline.predict_proba([text])[0], rtol=0, atol=1e-9)


def test_predict_many_matches_predict_one(tiny_model: StanceModel) -> None:
    batch = tiny_model.predict(PROBES)
    assert [p.label for p in batch] == [tiny_model.predict_one(t).label for t in PROBES]
    assert tiny_model.predict([]) == []


def test_prediction_shape(tiny_model: StanceModel) -> None:
    prediction = tiny_model.predict_one(PROBES[0])
    assert set(prediction.probabilities) == {"anti", "neutral", "pro"}
    assert math.isclose(sum(prediction.probabilities.values()), 1.0)
    assert prediction.confidence == max(prediction.probabilities.values())


@pytest.mark.parametrize("text", PROBES[:3])
@pytest.mark.parametrize("label", ["anti", "neutral", "pro"])
def test_explanation_weights_add_up_to_the_logit(
    tiny_model: StanceModel, text: str, label: str
) -> None:
    weights = tiny_model.explain(text, label=label, top=None)
    logits = tiny_model.pipeline.decision_function([text])[0]
    total = sum(w for _, w in weights) + tiny_model.intercept_for(label)
    assert math.isclose(total, logits[tiny_model.labels.index(label)], abs_tol=1e-9)


def test_explanation_is_sorted_names_the_text_and_defaults_to_prediction(
    tiny_model: StanceModel,
) -> None:
    text = "No negotiations until the last soldier leaves."
    weights = tiny_model.explain(text, top=3)
    assert len(weights) == 3
    assert [abs(w) for _, w in weights] == sorted((abs(w) for _, w in weights), reverse=True)
    assert all(
        set(feature.split()) <= set(text.lower().rstrip(".").split()) for feature, _ in weights
    )
    assert weights == tiny_model.explain(text, label=tiny_model.predict_one(text).label, top=3)
    with pytest.raises(ValueError, match="unknown label"):
        tiny_model.explain(text, label="maybe")


def test_speaker_is_not_a_feature(tiny_model: StanceModel) -> None:
    assert tiny_model.pipeline.named_steps["tfidf"].vocabulary_.get("ana") is None


def test_round_trip_gives_identical_predictions(tiny_model: StanceModel, tmp_path: Path) -> None:
    out = tmp_path / "again.joblib"
    save_model(tiny_model.pipeline, out, {"note": "copy"})
    again = load_model(out)
    assert again.card["note"] == "copy"
    assert again.version.startswith("stance-")
    np.testing.assert_array_equal(again.predict_proba(PROBES), tiny_model.predict_proba(PROBES))


def test_tampered_artifact_is_refused(copied_model: Path) -> None:
    with copied_model.open("ab") as handle:
        handle.write(b"\x00evil")
    with pytest.raises(ModelLoadError, match=r"does not match its card .*refused"):
        load_model(copied_model)


def test_tampered_card_hash_is_refused(copied_model: Path) -> None:
    card_path = card_path_for(copied_model)
    card = json.loads(card_path.read_text())
    card["artifact_sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="does not match its card"):
        load_model(copied_model)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: card_path_for(p).unlink(), "model card is missing"),
        (lambda p: card_path_for(p).write_text("{not json"), "unreadable model card"),
        (lambda p: card_path_for(p).write_text("[1, 2]"), "not a JSON object"),
        (lambda p: p.unlink(), "no model artifact there"),
    ],
)
def test_broken_pairs_are_refused(copied_model: Path, damage, message: str) -> None:
    damage(copied_model)
    with pytest.raises(ModelLoadError, match=message):
        load_model(copied_model)


def test_unknown_format_version_is_refused(copied_model: Path) -> None:
    card_path = card_path_for(copied_model)
    card = json.loads(card_path.read_text())
    card["format_version"] = 99
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="format version 99"):
        load_model(copied_model)


def test_a_hash_matching_non_pipeline_is_refused(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "odd.joblib"
    joblib.dump({"not": "a pipeline"}, path)
    card_path_for(path).write_text(
        json.dumps({"format_version": 1, "artifact_sha256": file_sha256(path)})
    )
    with pytest.raises(ModelLoadError, match="not a fitted stance pipeline"):
        load_model(path)


def test_version_mismatch_warns(copied_model: Path) -> None:
    card_path = card_path_for(copied_model)
    card = json.loads(card_path.read_text())
    card["library_versions"]["scikit-learn"] = "0.0.1"
    card_path.write_text(json.dumps(card))
    with pytest.warns(ModelVersionWarning, match="trained with scikit-learn 0.0.1"):
        load_model(copied_model)


@pytest.mark.parametrize(
    "params",
    [
        {"sublinear_tf": False, "class_weight": "balanced", "C": 30.0},
        {"ngram_range": (1, 3), "sublinear_tf": True},
        {"ngram_range": (1, 1), "min_df": 2, "class_weight": None},
    ],
)
def test_fast_path_equals_pipeline_for_every_searched_setting(
    tiny_corpus: list[tuple[str, str, str]], params: dict
) -> None:
    pipeline = build_pipeline(**params).fit(
        [t for t, _, _ in tiny_corpus], [label for _, label, _ in tiny_corpus]
    )
    model = StanceModel(pipeline)
    reference = pipeline.named_steps["tfidf"].build_analyzer()
    for text in PROBES:
        assert Counter(model._analyze(text)) == Counter(reference(text))
        fast = [model.predict_one(text).probabilities[label] for label in model.labels]
        assert np.allclose(fast, pipeline.predict_proba([text])[0], rtol=0, atol=1e-9)
