"""Fit the stance model on labelled CSVs and write the artifact and its card through stance.model.

Hyperparameters are chosen by a grid search whose folds are grouped by speaker (or source), so
that no voice is in both the training and the test part of a fold. The card's metrics come from a
nested cross-validation: each outer fold runs its own grouped search on the other folds and is then
scored once, so the figures are not flattered by the choice they measure.
"""

from __future__ import annotations

import glob
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold

from stance.data import LabelledData, describe_skipped, read_labelled_csv
from stance.errors import DataError
from stance.metrics import classification_metrics
from stance.model import DEFAULT_MODEL_PATH, build_pipeline, save_model

__all__ = ["DEFAULT_DATA_GLOB", "DEFAULT_PARAMS", "PARAM_GRID", "default_data_files", "train"]

DEFAULT_DATA_GLOB = str(Path(__file__).resolve().parent / "data" / "*.csv")
DEFAULT_PARAMS: dict[str, Any] = {
    "ngram_range": (1, 2),
    "min_df": 1,
    "sublinear_tf": True,
    "C": 10.0,
    "class_weight": "balanced",
}
# Word n-grams only: they explain themselves ("no talks", "ready to") and keep the single-quote
# fast path to a few dict lookups; character n-grams (char_wb 2-5, alone or with words) cost 10x
# more per quote and scored lower on real text. C = 3 lost to 10 and 30 in every earlier search.
PARAM_GRID: dict[str, list[Any]] = {
    "tfidf__ngram_range": [(1, 2), (1, 3)],
    "tfidf__sublinear_tf": [True, False],
    "clf__C": [10.0, 30.0],
    "clf__class_weight": [None, "balanced"],
}
MAX_SPLITS = 5


def default_data_files() -> list[str]:
    """The embedded training CSVs, ``training/data/*.csv``, sorted."""
    return sorted(glob.glob(DEFAULT_DATA_GLOB))


def train(
    paths: Sequence[str | os.PathLike[str]] | None = None,
    *,
    out: str | os.PathLike[str] = DEFAULT_MODEL_PATH,
    seed: int = 0,
    search: bool = True,
    n_jobs: int | None = -1,
    text_column: str = "text",
    label_column: str = "label",
    encoding: str | None = None,
    skip_invalid: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Train on ``paths`` (default: the embedded data), write the artifact to ``out``, return its
    card."""
    paths = list(paths) if paths else default_data_files()
    if not paths:
        raise DataError(f"no training data: nothing matches {DEFAULT_DATA_GLOB}")
    started = time.perf_counter()
    data = read_labelled_csv(
        paths,
        text_column=text_column,
        label_column=label_column,
        encoding=encoding,
        skip_invalid=skip_invalid,
    )
    for line in describe_skipped(data.skipped):
        log(line)
    if len(data.label_set) < 2:
        raise DataError(
            f"training needs at least two labels, the data has only {', '.join(data.label_set)}"
        )
    log(f"read {len(data)} rows from {len(data.files)} files: {_counts(data.labels)}")

    groups = data.groups()
    n_splits = _n_splits(data.labels, groups)
    params = dict(DEFAULT_PARAMS)
    cv_metrics: dict[str, Any] | None = None
    search_result: dict[str, Any] | None = None
    with warnings.catch_warnings():
        # A fold where lbfgs stops at max_iter is still a valid (slightly worse) candidate.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if n_splits >= 2:
            if search:
                params, search_result = _grid_search(data, groups, n_splits, seed, n_jobs)
                log(
                    f"grid search chose {params} "
                    f"(grouped CV macro-F1 {search_result['best_macro_f1']})"
                )
            cv_metrics = _nested_cv(
                data, groups, n_splits, seed, n_jobs, search=search, params=params
            )
            log(
                f"cross-validated macro-F1 {cv_metrics['macro_f1']}, "
                f"accuracy {cv_metrics['accuracy']}"
            )
        else:
            log("too few speakers or rows per label for grouped cross-validation; no metrics")
        pipeline = build_pipeline(**params, random_state=seed)
        pipeline.fit(data.texts, data.labels)

    card = {
        "training_data": {
            "files": [_display_path(p) for p in data.files],
            "sha256": data.sha256,
            "rows": len(data),
            "rows_skipped": len(data.skipped),
            "label_counts": _counts(data.labels),
            "speakers": len({s for s in data.speakers if s}),
        },
        "hyperparameters": {**_jsonable(params), "seed": seed},
        "features": "word n-grams of the text only (the speaker is never a feature)",
        "vocabulary_size": len(pipeline.named_steps["tfidf"].vocabulary_),
        "cross_validation": None
        if cv_metrics is None
        else {
            "method": (
                f"nested: {n_splits} outer folds grouped by speaker (else source), each with "
                "its own grouped grid search on the remaining folds"
                if search
                else f"{n_splits} folds grouped by speaker (else source), fixed hyperparameters"
            ),
            "group_by": "speaker",
            "n_splits": n_splits,
            "seed": seed,
            **cv_metrics,
        },
        "search": search_result,
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    full = save_model(pipeline, out, card)
    log(f"wrote {out} ({full['model_version']}) and its card {Path(out).with_suffix('.json')}")
    return full


def _n_splits(labels: Sequence[str], groups: Sequence[str]) -> int:
    """As many grouped folds as the data allows, at most five: each label needs a member per
    fold."""
    smallest_label = min(np.unique(labels, return_counts=True)[1])
    return int(min(MAX_SPLITS, len(set(groups)), smallest_label))


def _folds(
    data: LabelledData, groups: Sequence[str], n_splits: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(data.texts, data.labels, groups))


def _grid_search(
    data: LabelledData, groups: Sequence[str], n_splits: int, seed: int, n_jobs: int | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    search = GridSearchCV(
        build_pipeline(**DEFAULT_PARAMS, random_state=seed),
        PARAM_GRID,
        scoring="f1_macro",
        cv=_folds(data, groups, n_splits, seed),
        n_jobs=n_jobs,
        refit=False,
    )
    search.fit(data.texts, data.labels)
    best = {key.split("__", 1)[1]: value for key, value in search.best_params_.items()}
    params = {**DEFAULT_PARAMS, **best}
    ranking = sorted(
        zip(search.cv_results_["mean_test_score"], search.cv_results_["params"], strict=True),
        key=lambda item: -item[0],
    )
    summary = {
        "grid": _jsonable(PARAM_GRID),
        "scoring": "macro-F1",
        "best_macro_f1": round(float(search.best_score_), 4),
        "top": [{"macro_f1": round(float(score), 4), **_jsonable(p)} for score, p in ranking[:5]],
    }
    return params, summary


def _nested_cv(
    data: LabelledData,
    groups: Sequence[str],
    n_splits: int,
    seed: int,
    n_jobs: int | None,
    *,
    search: bool,
    params: dict[str, Any],
) -> dict[str, Any]:
    texts = np.asarray(data.texts, dtype=object)
    labels = np.asarray(data.labels, dtype=object)
    group_array = np.asarray(groups, dtype=object)
    predicted = np.empty(len(labels), dtype=object)
    for train_idx, test_idx in _folds(data, groups, n_splits, seed + 1):
        fold_params = params
        if search:
            inner = LabelledData(texts=list(texts[train_idx]), labels=list(labels[train_idx]))
            inner_groups = list(group_array[train_idx])
            inner_splits = _n_splits(inner.labels, inner_groups)
            if inner_splits >= 2:
                fold_params, _ = _grid_search(
                    inner, inner_groups, min(3, inner_splits), seed, n_jobs
                )
        model = build_pipeline(**fold_params, random_state=seed)
        model.fit(list(texts[train_idx]), list(labels[train_idx]))
        predicted[test_idx] = model.predict(list(texts[test_idx]))
    return classification_metrics(list(labels), list(predicted))


def _counts(labels: Sequence[str]) -> dict[str, int]:
    values, counts = np.unique(labels, return_counts=True)
    return {str(v): int(c) for v, c in zip(values, counts, strict=True)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _display_path(path: str) -> str:
    """Paths in the card relative to the repository when they are inside it (cards are shipped)."""
    root = Path(__file__).resolve().parent.parent
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)
