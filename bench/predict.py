"""Prediction speed: the single-quote fast path (in C, and in pure Python) against the plain
pipeline call, and batch throughput.

    python bench/predict.py [--model PATH] [--batch-rows 100000]

Both single-quote timings run in the same process on the same quotes, so the ratio is what counts
on a noisy machine. The quotes are the embedded training statements (real-looking text of the
lengths the service sees), repeated to reach the batch size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stance.data import read_labelled_csv  # noqa: E402
from stance.model import load_model  # noqa: E402
from training.train import default_data_files  # noqa: E402


def per_call_seconds(fn, texts: list[str], rounds: int) -> float:
    """The median over ``rounds`` of the mean time of one call over all ``texts``."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            fn(text)
        samples.append((time.perf_counter() - start) / len(texts))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=None)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    model = load_model(args.model)
    texts = read_labelled_csv(default_data_files()).texts
    sample = texts[:: max(1, len(texts) // 500)][:500]
    words = [len(t.split()) for t in sample]
    print(
        f"model {model.version}; {len(sample)} quotes of {min(words)}-{max(words)} words "
        f"(median {statistics.median(words):.0f})"
    )

    # Check equality on the same quotes before timing them.
    fast = np.array(
        [[model.predict_one(t).probabilities[label] for label in model.labels] for t in sample]
    )
    slow = model.pipeline.predict_proba(sample)
    print(f"max |fast - pipeline| probability difference: {np.abs(fast - slow).max():.1e}")

    pipeline_s = per_call_seconds(lambda t: model.pipeline.predict_proba([t]), sample, args.rounds)
    python_s = per_call_seconds(
        lambda t: model._prediction(model._fast_proba(t)), sample, args.rounds
    )
    print(f"single quote, pipeline.predict_proba([text]):  {pipeline_s * 1e6:8.1f} us")
    print(f"single quote, fast path in pure Python:        {python_s * 1e6:8.1f} us")
    if model.compiled:
        fast_s = per_call_seconds(model.predict_one, sample, args.rounds)
        print(f"single quote, StanceModel.predict_one (C):     {fast_s * 1e6:8.1f} us")
        print(f"C fast path speed-up over the pipeline: {pipeline_s / fast_s:.1f}x")
    else:
        print("(the C scorer is not built here: predict_one runs the pure-Python path)")
    print(f"pure-Python fast path speed-up over the pipeline: {pipeline_s / python_s:.1f}x")

    batch = (texts * (args.batch_rows // len(texts) + 1))[: args.batch_rows]
    start = time.perf_counter()
    for i in range(0, len(batch), 10_000):
        model.predict(batch[i : i + 10_000])
    elapsed = time.perf_counter() - start
    print(
        f"batch: {len(batch):,} quotes in {elapsed:.2f} s = {len(batch) / elapsed:,.0f} quotes/s "
        "(chunks of 10,000, one core)"
    )


if __name__ == "__main__":
    main()
