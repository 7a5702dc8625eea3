"""Where quotes and the model meet: one text, many texts, one article -> prediction records.

Every front end (CLI, API, batch scorer) builds its records here, so a quote gets the same label,
speaker and shape wherever it is scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stance.model import Prediction, StanceModel
from stance.quotes import Article, Quote, SpeakerAliases, extract_quotes, find_attribution

__all__ = ["prediction_record", "prediction_records", "quote_records", "score_article"]


def prediction_record(
    model: StanceModel,
    text: str,
    *,
    speaker: str | None = None,
    explain: bool = False,
    aliases: SpeakerAliases | None = None,
) -> dict[str, Any]:
    """One text's prediction in the SPEC's shape, on the model's fast single-text path.

    ``speaker`` is the caller's; when it is empty, the attribution found in the text is used
    ('"...," Peskov said' -> "Dmitry Peskov"), else None.
    """
    found = speaker or find_attribution(text, aliases=aliases)
    return _record(model, text, found, model.predict_one(text), explain=explain)


def prediction_records(
    model: StanceModel,
    texts: Sequence[str],
    *,
    speakers: Sequence[str | None] | None = None,
    explain: bool = False,
    aliases: SpeakerAliases | None = None,
) -> list[dict[str, Any]]:
    """Many texts' predictions through the vectorised path (one matrix product)."""
    if speakers is not None and len(speakers) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(speakers)} speakers")
    given = speakers if speakers is not None else [None] * len(texts)
    return [
        _record(model, text, speaker or find_attribution(text, aliases=aliases), p, explain=explain)
        for text, speaker, p in zip(texts, given, model.predict(texts), strict=True)
    ]


def quote_records(
    model: StanceModel,
    quotes: Sequence[Quote],
    *,
    article: Article | None = None,
    explain: bool = False,
) -> list[dict[str, Any]]:
    """Records for quotes already extracted: each quote (or, for a fragment, its sentence) is
    classified, and the quote's speaker, role, offsets and article metadata are attached."""
    texts = [quote.text_for_model for quote in quotes]
    records = []
    for quote, text, p in zip(quotes, texts, model.predict(texts), strict=True):
        record = _record(model, text, quote.speaker, p, explain=explain)
        record.update(
            quote=quote.quote,
            context=quote.context,
            speaker_role=quote.speaker_role,
            is_fragment=quote.is_fragment,
            start=quote.start,
            end=quote.end,
            source=(article.source or article.url) if article else None,
            title=article.title if article else None,
            date=article.date if article else None,
            url=article.url if article else None,
        )
        records.append(record)
    return records


def score_article(
    model: StanceModel,
    article: Article,
    *,
    aliases: SpeakerAliases | None = None,
    explain: bool = False,
) -> list[dict[str, Any]]:
    """Every direct quote of ``article`` with its speaker and stance, in document order."""
    quotes = extract_quotes(article.text, aliases=aliases)
    return quote_records(model, quotes, article=article, explain=explain)


def _record(
    model: StanceModel, text: str, speaker: str | None, prediction: Prediction, *, explain: bool
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "text": text,
        "speaker": speaker or None,
        "label": prediction.label,
        "confidence": prediction.confidence,
        "probabilities": prediction.probabilities,
        "model_version": model.version,
    }
    if explain:
        record["explanation"] = [
            {"feature": feature, "weight": weight}
            for feature, weight in model.explain(text, label=prediction.label)
        ]
    return record
