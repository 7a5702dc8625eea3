"""Speed of stance.quotes.find_attribution, the speaker lookup of every single-quote prediction.

    python bench/attribution.py [--runs 5]

Times find_attribution over the texts of training/data/*.csv (column ``text``: single quotes of
the kind the HTTP API receives) and over a few typical single quotes, one core, best of
--runs runs. Each run starts with empty caches, so no phrase is remembered from a run before.
Texts are also split by whether they hold anything an attribution needs (a quotation mark, a
colon, a dash, a speech verb, "according to"): find_attribution answers the others at once.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stance import speakers  # noqa: E402
from stance.quotes import SpeakerAliases, find_attribution  # noqa: E402

TYPICAL = [
    '"We are ready to talk, but only if the other side stops shelling our cities and accepts '
    'that the borders are not up for negotiation," Peskov said.',
    "Peskov said talks were possible in principle but that Moscow would not accept any "
    "conditions set by Kyiv or its Western backers this year.",
    "Talks are possible in principle, but Moscow will not accept any conditions set by Kyiv or "
    "its Western backers this year, Peskov said.",
    "Lavrov: we are open to a dialogue on security guarantees, but the West must first stop "
    "sending weapons to the Kyiv regime.",
    "“There is nothing to discuss while Russian troops remain on our land and keep shelling our "
    "cities every night,” said Zelenskiy.",
    "We are ready to talk, but only if the other side stops shelling our cities and accepts "
    "that the borders are not up for negotiation.",
]


# For the report only: what an attribution may need (a quotation mark, a colon, a dash, a speech
# verb, "according to" or "in his words").
_CUE_RE = re.compile(
    rf"[\"“”„«»:—–]|-\s|(?<![^\W_])['‘’]|['‘’](?![^\W_])|ccording|words|\b{speakers.SPEECH_VERB}"
)


def read_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "training" / "data").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            texts += [row["text"] for row in csv.DictReader(handle) if row.get("text")]
    return texts


def clear_caches() -> None:
    for name in ("_key", "split_role_name", "is_institution", "nations_in"):
        cached = getattr(speakers, name, None)
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()


def per_call(texts: list[str], aliases: SpeakerAliases, runs: int) -> list[float]:
    """Seconds per call for each text, the best of ``runs`` runs over all of them."""
    best = [float("inf")] * len(texts)
    for _ in range(runs):
        clear_caches()
        for i, text in enumerate(texts):
            start = time.perf_counter()
            find_attribution(text, aliases=aliases)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def describe(label: str, seconds: list[float]) -> str:
    us = sorted(s * 1e6 for s in seconds)
    pick = lambda q: us[min(len(us) - 1, int(len(us) * q))]  # noqa: E731
    return (
        f"{label}: {len(us):5d} texts, mean {statistics.mean(us):6.1f} us, median "
        f"{pick(0.5):6.1f} us, p90 {pick(0.9):6.1f} us, max {us[-1]:6.0f} us"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    aliases = SpeakerAliases.default()
    texts = read_texts()
    find_attribution(texts[0], aliases=aliases)  # the patterns are compiled on first use
    seconds = per_call(texts, aliases, args.runs)
    answers = [find_attribution(t, aliases=aliases) for t in texts]
    print(f"training texts: {sum(a is not None for a in answers)} of {len(texts)} attributed")
    print(describe("all          ", seconds))
    cue = [bool(_CUE_RE.search(t)) for t in texts]
    print(describe("with a cue   ", [s for s, c in zip(seconds, cue, strict=True) if c]))
    print(describe("without a cue", [s for s, c in zip(seconds, cue, strict=True) if not c]))
    typical = per_call(TYPICAL * 200, aliases, args.runs)
    print(describe("typical quotes (6 x 200)", typical))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
