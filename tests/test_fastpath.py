"""stance/_fastpath.c, the single-quote scorer in C: the same probabilities as the Python path and
the pipeline, for every vectorizer setting it takes, and a quiet hand-over where it cannot."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from stance.model import TOKEN_PATTERN, StanceModel

fastpath = pytest.importorskip("stance._fastpath", reason="the C extension is not built here")

# Texts that stress the tokenizer: apostrophes inside and around words, accents (composed and
# combining), letters whose lower case is longer, digits of other scripts, underscores, emoji,
# one-letter words, and a text of nothing but separators.
TEXTS = [
    "We are ready to talk, but only if they are serious.",
    "No negotiations until the last soldier leaves. No talks, no ceasefire, no deal.",
    "Ukraine's   DON'T   won’t rock'n'roll 'tis o' x' ’ ''a'' a''b",
    "Ça va? Café naïve ÉCOLE «Переговоры» İstanbul Straße ﬁnance \u0301e",
    "a b c d e f I x y z _ __ a_b _talks_ 1 22 ٣٣ Ⅻ ½ 𝟘𝟙",
    "talks talks talks talks ceasefire ceasefire talks",
    "😀talks😀 😀 peace-talks peace—talks",
    "",
    " \t\n.,;!?",
    "word " * 700,
]
CORPUS = [
    ("we are ready to talk and we want peace talks now", "pro"),
    ("ready for dialogue, we don't refuse negotiations", "pro"),
    ("the ceasefire and talks are welcome, Ukraine’s delegation is ready", "pro"),
    ("no talks, we won't negotiate with them, it's a trap", "anti"),
    ("negotiations are pointless, victory first, ça suffit", "anti"),
    ("a ceasefire would reward the aggressor; we don't want it", "anti"),
    ("drones were shot down overnight near the café", "neutral"),
    ("grain exports rose, trade talks on beef resumed", "neutral"),
    ("the council met on Monday; Straße closed for repairs", "neutral"),
]

VECTORIZERS = {
    "shipped settings": dict(token_pattern=TOKEN_PATTERN, strip_accents="unicode"),
    "scikit-learn defaults": dict(),
    "trigrams, sublinear": dict(token_pattern=TOKEN_PATTERN, ngram_range=(1, 3), sublinear_tf=True),
    "unigrams, binary, l1": dict(ngram_range=(1, 1), binary=True, norm="l1"),
    "no norm, no idf, ascii accents": dict(
        token_pattern=TOKEN_PATTERN, norm=None, use_idf=False, strip_accents="ascii"
    ),
    "case kept": dict(lowercase=False, ngram_range=(1, 2)),
}


def _model(params: dict, *, labels: tuple[str, ...] = ("anti", "neutral", "pro")) -> StanceModel:
    rows = [(text, label) for text, label in CORPUS if label in labels]
    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(**{"ngram_range": (1, 2), **params})),
            ("clf", LogisticRegression(C=10.0, max_iter=1000)),
        ]
    ).fit([t for t, _ in rows], [label for _, label in rows])
    return StanceModel(pipeline)


_SHIPPED_LIKE = _model(VECTORIZERS["shipped settings"])


@pytest.fixture(scope="module", params=list(VECTORIZERS), ids=list(VECTORIZERS))
def model(request: pytest.FixtureRequest) -> StanceModel:
    built = _model(VECTORIZERS[request.param])
    assert built.compiled, "the C scorer should take this setting"
    return built


def _assert_same(model: StanceModel, text: str) -> None:
    compiled = model._scorer.proba(text)
    python = model._fast_proba(text)
    pipeline = model.pipeline.predict_proba([text])[0]
    assert np.allclose(compiled, python, rtol=0, atol=1e-12), text
    assert np.allclose(compiled, pipeline, rtol=0, atol=1e-9), text


@pytest.mark.parametrize("text", TEXTS)
def test_compiled_equals_python_and_pipeline(model: StanceModel, text: str) -> None:
    _assert_same(model, text)


_alphabet = st.sampled_from([*"ab zt'’_-.,İéÉßﬁ1٣\u0301😀\t\nÇçЖж", "talks", "don't", " ready "])


@settings(max_examples=300, deadline=None)
@given(st.lists(_alphabet, max_size=40).map("".join))
def test_compiled_equals_python_on_any_text(text: str) -> None:
    _assert_same(_SHIPPED_LIKE, text)


def test_a_binary_model_gets_the_sigmoid() -> None:
    binary = _model(VECTORIZERS["shipped settings"], labels=("anti", "pro"))
    assert binary.compiled and binary.labels == ("anti", "pro")
    for text in TEXTS:
        _assert_same(binary, text)


def test_text_that_is_not_valid_unicode_goes_to_the_python_path() -> None:
    text = "ready for talks \ud800"
    assert _SHIPPED_LIKE._scorer.proba(text) is None
    prediction = _SHIPPED_LIKE.predict_one(text)
    assert np.isclose(sum(prediction.probabilities.values()), 1.0)


def test_settings_it_does_not_reproduce_stay_in_python() -> None:
    assert not _model({"token_pattern": r"(?u)\b\w+\b"}).compiled
    assert not _model({"strip_accents": lambda s: s.upper()}).compiled
    assert not _model({"analyzer": "char_wb", "ngram_range": (2, 3)}).compiled


def test_pure_python_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCE_PURE_PYTHON", "1")
    model = StanceModel(_SHIPPED_LIKE.pipeline)
    assert not model.compiled
    for text in TEXTS:
        assert np.allclose(
            list(model.predict_one(text).probabilities.values()),
            list(_SHIPPED_LIKE.predict_one(text).probabilities.values()),
            rtol=0,
            atol=1e-12,
        )


def test_a_model_pickles_without_its_scorer_and_rebuilds_it() -> None:
    copy = pickle.loads(pickle.dumps(_SHIPPED_LIKE))
    assert copy.compiled
    assert copy.predict_one(TEXTS[1]) == _SHIPPED_LIKE.predict_one(TEXTS[1])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"weights": b"\0" * 8}, "weights must be"),
        ({"terms": ["a", "a"], "weights": b"\0" * 8 * 8}, "holds a term twice"),
        ({"n_rows": 0}, "unsupported model settings"),
        ({"token_mode": 7}, "unsupported model settings"),
        ({"intercepts": [0.0]}, "intercepts must hold"),
        ({"strip_mode": 1}, "unsupported model settings"),  # no bitmap of combining marks
        ({"normalize": 5}, "unsupported model settings"),
    ],
)
def test_the_scorer_refuses_inconsistent_tables(kwargs: dict, error: str) -> None:
    good = dict(
        terms=["a", "b"],
        weights=b"\0" * 8 * 2 * 4,
        n_rows=3,
        intercepts=[0.0, 0.0, 0.0],
        high=2,
        lowercase=True,
        strip_mode=0,
        combining=b"",
        normalize=str,
        token_mode=1,
        tf_mode=0,
        norm_mode=2,
    )
    with pytest.raises(ValueError, match=error):
        fastpath.Scorer(**{**good, **kwargs})
