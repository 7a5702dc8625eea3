"""The stance model: the pipeline, its artifact on disk (save, check, load), prediction and
explanation.

The artifact is a joblib file holding a stock scikit-learn ``Pipeline([("tfidf", TfidfVectorizer),
("clf", LogisticRegression)])`` next to a JSON card (``stance.json``) that records how it was made
and the artifact's own sha256. joblib files are pickles and can run code when loaded, so the hash is
checked *before* unpickling and a mismatch is refused.

This module knows nothing of HTTP, tables or quotes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import math
import os
import platform
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.feature_extraction.text import (
    TfidfVectorizer,
    strip_accents_ascii,
    strip_accents_unicode,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from stance.errors import ModelLoadError

try:  # the single-quote scorer in C, built at install when a compiler is there
    from stance import _fastpath
except ImportError:  # pragma: no cover - the pure-Python path answers instead
    _fastpath = None

__all__ = [
    "DEFAULT_MODEL_PATH",
    "FORMAT_VERSION",
    "ModelVersionWarning",
    "Prediction",
    "StanceModel",
    "build_pipeline",
    "card_path_for",
    "file_sha256",
    "load_model",
    "save_model",
]

FORMAT_VERSION = 1
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "stance.joblib"
# Words with an inner apostrophe stay whole ("don't", "won't", "Ukraine's"): negation matters here.
TOKEN_PATTERN = r"(?u)\b\w+(?:['’]\w+)?\b"


class ModelVersionWarning(UserWarning):
    """The artifact was made with another scikit-learn version than the one loading it."""


@dataclass(frozen=True, slots=True)
class Prediction:
    """One text's stance: the label, its probability, and every label's probability."""

    label: str
    confidence: float
    probabilities: dict[str, float]


def build_pipeline(
    *,
    ngram_range: tuple[int, int] = (1, 2),
    min_df: int = 1,
    sublinear_tf: bool = True,
    C: float = 10.0,
    class_weight: str | None = "balanced",
    random_state: int = 0,
) -> Pipeline:
    """The untrained TF-IDF + logistic-regression pipeline with the given hyperparameters."""
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    lowercase=True,
                    strip_accents="unicode",
                    token_pattern=TOKEN_PATTERN,
                    ngram_range=tuple(ngram_range),
                    min_df=min_df,
                    sublinear_tf=sublinear_tf,
                    dtype=np.float64,
                ),
            ),
            (
                "clf",
                LogisticRegression(
                    C=C, class_weight=class_weight, max_iter=5000, random_state=random_state
                ),
            ),
        ]
    )


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def card_path_for(path: str | os.PathLike[str]) -> Path:
    """The card that goes with an artifact: ``stance.joblib`` -> ``stance.json``."""
    return Path(path).with_suffix(".json")


def save_model(
    pipeline: Pipeline, path: str | os.PathLike[str], card: dict[str, Any]
) -> dict[str, Any]:
    """Write ``pipeline`` to ``path`` and its card beside it; return the full card.

    ``card`` holds what the trainer knows (data hash, row count, hyperparameters, metrics); this
    adds the format version, creation time, labels, library versions and the artifact's sha256.
    Both files are written to a temporary name and renamed, so a crash leaves the old pair intact.
    """
    _check_pipeline(pipeline, where=str(path))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    joblib.dump(pipeline, tmp, compress=3)
    sha = file_sha256(tmp)
    full = {
        "format_version": FORMAT_VERSION,
        "model_version": f"stance-{sha[:12]}",
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "labels": [str(label) for label in pipeline.named_steps["clf"].classes_],
        **card,
        "library_versions": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "joblib": joblib.__version__,
            "numpy": np.__version__,
        },
        "artifact": path.name,
        "artifact_sha256": sha,
    }
    card_path = card_path_for(path)
    card_tmp = card_path.with_name(card_path.name + ".tmp")
    card_tmp.write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    os.replace(card_tmp, card_path)
    return full


def load_model(path: str | os.PathLike[str] | None = None) -> StanceModel:
    """Load an artifact after checking it against its card.

    Refuses (``ModelLoadError``) a missing artifact or card, a card of another format, and an
    artifact whose sha256 differs from the card's; warns (``ModelVersionWarning``) when the
    scikit-learn version differs from the one that trained it.
    """
    path = Path(path) if path is not None else DEFAULT_MODEL_PATH
    card_path = card_path_for(path)
    if not path.is_file():
        raise ModelLoadError(
            f"{path}: no model artifact there; train one with 'stance train' or point --model "
            "(or STANCE_MODEL_PATH) at an existing stance.joblib"
        )
    card = _read_card(card_path)
    expected = card.get("artifact_sha256")
    actual = file_sha256(path)
    if actual != expected:
        raise ModelLoadError(
            f"{path}: sha256 {actual[:16]}... does not match its card {card_path.name} "
            f"({str(expected)[:16]}...); the artifact was changed after training and is refused "
            "unloaded (joblib files can run code); retrain with 'stance train'"
        )
    trained_with = card.get("library_versions", {}).get("scikit-learn")
    if trained_with and trained_with != sklearn.__version__:
        warnings.warn(
            f"{path} was trained with scikit-learn {trained_with}, this is {sklearn.__version__}; "
            "predictions may differ: retrain with 'stance train' to be sure",
            ModelVersionWarning,
            stacklevel=2,
        )
    try:
        with warnings.catch_warnings():
            # We have just said the same thing once, in our words, above.
            warnings.filterwarnings(
                "ignore", category=sklearn.exceptions.InconsistentVersionWarning
            )
            pipeline = joblib.load(path)
    except Exception as err:  # a corrupt file whose hash still matches its card
        raise ModelLoadError(f"{path}: cannot be unpickled ({type(err).__name__}: {err})") from err
    _check_pipeline(pipeline, where=str(path))
    return StanceModel(pipeline, card)


def _read_card(card_path: Path) -> dict[str, Any]:
    if not card_path.is_file():
        raise ModelLoadError(
            f"{card_path}: the model card is missing, so the artifact's hash cannot be checked; "
            "refusing to load it (retrain with 'stance train')"
        )
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelLoadError(f"{card_path}: unreadable model card ({err})") from err
    if not isinstance(card, dict):
        raise ModelLoadError(f"{card_path}: the model card is not a JSON object")
    if card.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(
            f"{card_path}: format version {card.get('format_version')!r}, this stance reads "
            f"{FORMAT_VERSION}; retrain with 'stance train'"
        )
    return card


def _check_pipeline(pipeline: object, *, where: str) -> None:
    steps = getattr(pipeline, "named_steps", {})
    if not (
        isinstance(pipeline, Pipeline)
        and isinstance(steps.get("tfidf"), TfidfVectorizer)
        and isinstance(steps.get("clf"), LogisticRegression)
        and hasattr(steps["clf"], "coef_")
    ):
        raise ModelLoadError(
            f"{where}: not a fitted stance pipeline (expected steps 'tfidf': TfidfVectorizer and "
            "'clf': LogisticRegression)"
        )


class StanceModel:
    """A fitted pipeline and its card, with a vectorised and a single-text prediction path."""

    def __init__(self, pipeline: Pipeline, card: dict[str, Any] | None = None) -> None:
        _check_pipeline(pipeline, where="pipeline")
        self.pipeline = pipeline
        self.card: dict[str, Any] = dict(card or {})
        self.vectorizer: TfidfVectorizer = pipeline.named_steps["tfidf"]
        self.classifier: LogisticRegression = pipeline.named_steps["clf"]
        self.labels: tuple[str, ...] = tuple(str(c) for c in self.classifier.classes_)
        self.version: str = str(self.card.get("model_version", "unversioned"))
        self._build_fast_path()

    # -- vectorised path -------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, one row per text, columns in the order of ``labels``."""
        return self.pipeline.predict_proba(list(texts))

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Predictions for many texts at once (one matrix product)."""
        if len(texts) == 0:
            return []
        return [self._prediction(row) for row in self.predict_proba(texts).tolist()]

    # -- fast single-text path -------------------------------------------------------------
    def predict_one(self, text: str) -> Prediction:
        """The same prediction as ``predict([text])[0]``, without the per-call overhead of
        scipy.sparse and the pipeline: a lookup per n-gram and a few float operations, in C when
        the extension is built (``compiled``), else in Python.
        """
        probabilities = self._scorer.proba(text) if self._scorer is not None else None
        if probabilities is None:  # no C scorer, or text it cannot take (an unpaired surrogate)
            probabilities = self._fast_proba(text)
        return self._prediction(probabilities)

    @property
    def compiled(self) -> bool:
        """Whether ``predict_one`` runs in C (stance._fastpath) rather than in Python."""
        return self._scorer is not None

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (for dask workers) as what it is made from: the C scorer cannot be pickled, and
        # the lookup tables are rebuilt faster than they would travel.
        return (type(self), (self.pipeline, self.card))

    def _build_fast_path(self) -> None:
        vec = self.vectorizer
        word_analyzer = _word_analyzer(vec)
        self._analyze = word_analyzer or vec.build_analyzer()
        idf = vec.idf_ if vec.use_idf else np.ones(len(vec.vocabulary_))
        coef = self.classifier.coef_  # (n_classes, n_features), or (1, n_features) when binary
        # Per feature index: its idf, then idf * coef for each class row of coef.
        self._weights = np.column_stack([idf, (coef * idf).T])
        self._intercept = [float(b) for b in self.classifier.intercept_]
        self._n_rows = coef.shape[0]
        self._norm = vec.norm
        if vec.binary:
            tf_of = lambda count: 1.0  # noqa: E731
        elif vec.sublinear_tf:
            tf_of = lambda count: 1.0 + math.log(count)  # noqa: E731
        else:
            tf_of = float
        self._tf_of = tf_of
        # Counts of one n-gram in one quote are small: look their tf up instead of computing it.
        self._tf_table = [0.0] + [tf_of(count) for count in range(1, 64)]
        self._scorer = (
            _compiled_scorer(vec, self._weights, self._intercept, self._n_rows)
            if word_analyzer is not None
            else None
        )

    @functools.cached_property
    def _table(self) -> dict[str, tuple[float, ...]]:
        """The Python path's lookup table: per term, its row of ``_weights`` (one tuple, one
        lookup). Made on first use: with the C scorer only text it cannot take needs it."""
        columns = self._weights.tolist()
        return {term: tuple(columns[index]) for term, index in self.vectorizer.vocabulary_.items()}

    def _fast_proba(self, text: str) -> list[float]:
        table = self._table
        tf_table = self._tf_table
        norm2 = norm1 = 0.0
        # Counter counts in C; n-grams outside the vocabulary are skipped as scikit-learn does.
        counts = Counter(self._analyze(text))
        if self._n_rows == 3:  # the usual pro/anti/neutral model, unrolled
            s0 = s1 = s2 = 0.0
            for term, count in counts.items():
                row = table.get(term)
                if row is None:
                    continue
                idf, w0, w1, w2 = row
                tf = tf_table[count] if count < 64 else self._tf_of(count)
                value = tf * idf
                norm2 += value * value
                norm1 += value
                s0 += tf * w0
                s1 += tf * w1
                s2 += tf * w2
            sums = [s0, s1, s2]
        else:
            sums = [0.0] * self._n_rows
            for term, count in counts.items():
                row = table.get(term)
                if row is None:
                    continue
                tf = tf_table[count] if count < 64 else self._tf_of(count)
                value = tf * row[0]
                norm2 += value * value
                norm1 += value
                for k in range(self._n_rows):
                    sums[k] += tf * row[k + 1]
        if self._norm == "l2":
            scale = 1.0 / math.sqrt(norm2) if norm2 > 0.0 else 0.0
        elif self._norm == "l1":  # tf and idf are never negative, so the sum is the l1 norm
            scale = 1.0 / norm1 if norm1 > 0.0 else 0.0
        else:
            scale = 1.0
        logits = [s * scale + b for s, b in zip(sums, self._intercept, strict=True)]
        if self._n_rows == 1:  # binary: a sigmoid of one logit, as scikit-learn does
            z = logits[0]
            p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
            return [1.0 - p, p]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def _prediction(self, probabilities: list[float]) -> Prediction:
        best = probabilities.index(max(probabilities))  # the first of equals, as argmax
        return Prediction(
            label=self.labels[best],
            confidence=probabilities[best],
            probabilities=dict(zip(self.labels, probabilities, strict=True)),
        )

    # -- explanation -----------------------------------------------------------------------
    def explain(
        self, text: str, *, label: str | None = None, top: int | None = 10
    ) -> list[tuple[str, float]]:
        """The n-grams of ``text`` that pushed it towards ``label`` (default: the predicted one).

        Each weight is the n-gram's tf-idf value times its coefficient for that label, so the
        weights of all n-grams plus the label's intercept add up to the label's logit (for a binary
        model, to +/- the one logit). Sorted by absolute weight, largest first; ``top=None`` for
        all.
        """
        if label is None:
            label = self.predict_one(text).label
        if label not in self.labels:
            raise ValueError(f"unknown label {label!r}; the model knows {', '.join(self.labels)}")
        row = self.vectorizer.transform([text])
        if self._n_rows == 1:
            sign = 1.0 if label == self.labels[1] else -1.0
            coef = sign * self.classifier.coef_[0]
        else:
            coef = self.classifier.coef_[self.labels.index(label)]
        names = self._feature_names()
        weights = [
            (str(names[j]), float(value * coef[j]))
            for j, value in zip(row.indices, row.data, strict=True)
        ]
        weights.sort(key=lambda item: (-abs(item[1]), item[0]))
        return weights if top is None else weights[:top]

    def intercept_for(self, label: str) -> float:
        """The intercept that, with ``explain(..., top=None)``'s weights, makes up ``label``'s
        logit."""
        if self._n_rows == 1:
            sign = 1.0 if label == self.labels[1] else -1.0
            return sign * self._intercept[0]
        return self._intercept[self.labels.index(label)]

    def _feature_names(self) -> np.ndarray:
        if not hasattr(self, "_names"):
            self._names = self.vectorizer.get_feature_names_out()
        return self._names


# The token patterns the C scorer reproduces, by its mode number.
_C_TOKEN_MODES = {r"(?u)\b\w\w+\b": 0, TOKEN_PATTERN: 1}
_C_STRIP_MODES = {None: 0, "unicode": 1, "ascii": 2}


@functools.cache
def _combining_bitmap() -> bytes:
    """Bit c set when unicodedata.combining(chr(c)): what strip_accents="unicode" drops after
    NFKD, for the C scorer (0.1 s, once a process)."""
    bits = bytearray(0x110000 // 8)
    for code in range(0x110000):
        if unicodedata.combining(chr(code)):
            bits[code >> 3] |= 1 << (code & 7)
    return bytes(bits)


def _compiled_scorer(
    vec: TfidfVectorizer, weights: np.ndarray, intercept: list[float], n_rows: int
) -> Any:
    """The C scorer for this word-analysing vectorizer and ``weights`` (per feature index: idf,
    then idf times each row of coef), or None when the extension is not built,
    ``STANCE_PURE_PYTHON`` is set, or the vectorizer is configured in a way it does not
    reproduce."""
    if (
        _fastpath is None
        or os.environ.get("STANCE_PURE_PYTHON")
        or vec.token_pattern not in _C_TOKEN_MODES
        or not (vec.strip_accents is None or vec.strip_accents in _C_STRIP_MODES)
        or n_rows > 64
    ):
        return None
    return _fastpath.Scorer(
        terms=vec.get_feature_names_out().tolist(),
        weights=np.ascontiguousarray(weights, dtype=np.float64).tobytes(),
        n_rows=n_rows,
        intercepts=list(intercept),
        high=vec.ngram_range[1],
        lowercase=bool(vec.lowercase),
        strip_mode=_C_STRIP_MODES[vec.strip_accents],
        combining=_combining_bitmap() if vec.strip_accents == "unicode" else b"",
        normalize=unicodedata.normalize,
        token_mode=_C_TOKEN_MODES[vec.token_pattern],
        tf_mode=2 if vec.binary else 1 if vec.sublinear_tf else 0,
        norm_mode={None: 0, "l1": 1, "l2": 2}[vec.norm],
    )


def _word_analyzer(vec: TfidfVectorizer) -> Callable[[str], list[str]] | None:
    """The vectorizer's own word analysis, minus the per-call generality: the same lower-casing,
    accent stripping, token pattern and n-grams (1 to 3), for the fast single-text path. None when
    the vectorizer is configured in a way this does not reproduce; ``build_analyzer`` is used then.
    """
    pattern = re.compile(vec.token_pattern) if vec.token_pattern else None
    low, high = vec.ngram_range
    if (
        vec.analyzer != "word"
        or vec.input != "content"
        or vec.preprocessor is not None
        or vec.tokenizer is not None
        or vec.stop_words is not None
        or pattern is None
        or pattern.groups > 1
        or low != 1
        or high > 3
    ):
        return None
    strip = {None: None, "unicode": strip_accents_unicode, "ascii": strip_accents_ascii}.get(
        vec.strip_accents, vec.strip_accents if callable(vec.strip_accents) else None
    )
    lowercase = vec.lowercase
    findall = pattern.findall

    def analyze(doc: str) -> list[str]:
        if lowercase:
            doc = doc.lower()
        if strip is not None:
            doc = strip(doc)
        tokens = findall(doc)
        if high == 1:
            return tokens
        grams = tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
        if high == 3:
            grams += [
                f"{a} {b} {c}" for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False)
            ]
        return grams

    return analyze
