"""Evaluation figures in the shape the SPEC gives `stance evaluate --json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

__all__ = ["classification_metrics", "format_metrics"]


def classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """accuracy, macro-F1, n, per-class P/R/F1/support and the confusion matrix (rows true)."""
    labels = sorted(set(labels or ()) | set(y_true) | set(y_pred))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    present = [label for label in labels if label in set(y_true)]
    return {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        # Macro-F1 over the labels that occur in the truth: a label the model predicts but the set
        # never holds is an error, counted in precision, not a class of its own.
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)), 4
        ),
        "per_class": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusion": {
            "labels": list(labels),
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
    }


def format_metrics(metrics: dict[str, Any]) -> str:
    """A plain-text table of :func:`classification_metrics` for a terminal."""
    labels = metrics["confusion"]["labels"]
    lines = [
        f"n = {metrics['n']}   accuracy = {metrics['accuracy']:.3f}   "
        f"macro-F1 = {metrics['macro_f1']:.3f}",
        "",
        f"{'label':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
    ]
    for label in labels:
        row = metrics["per_class"][label]
        lines.append(
            f"{label:<10}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>10}"
        )
    width = max(8, *(len(label) for label in labels)) + 2
    lines += [
        "",
        "confusion (rows true, columns predicted)",
        " " * width + "".join(f"{lab:>{width}}" for lab in labels),
    ]
    for label, row in zip(labels, metrics["confusion"]["matrix"], strict=True):
        lines.append(f"{label:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)
