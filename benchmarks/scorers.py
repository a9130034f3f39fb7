"""Raw speed of every scorer considered for the served text model (issue #13), in one run.

    .venv/bin/python benchmarks/scorers.py [--texts 2000] [--model-dir DIR]

One thread, one process, the same dev texts (20-300 characters, every task) for each candidate, each
figure the median of three passes. The baseline for the ratios is the text-v3 way of serving measured in
the same run: the transformer in calls of up to eight texts. Appends one line to
``benchmarks/scorers.jsonl`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from classifiers.text_model import DEFAULT_MODEL_DIR, TextRiskModel
from stream.tools.bench import bench_texts

RESULTS = Path(__file__).with_name("scorers.jsonl")


def rate(score: Callable[[Sequence[str]], object], texts: list[str], batch: int = 64) -> float:
    score(texts[:64])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        score(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args()
    texts = bench_texts(args.texts)
    served = TextRiskModel(args.model_dir, threads=1)
    batched = TextRiskModel(args.model_dir, threads=1, batch_size=8)
    candidates: dict[str, Callable[[Sequence[str]], object]] = {
        "transformer, calls of up to 8 (text-v3 serving; baseline)": batched.transformer_scores,
        "transformer, one text per call (deterministic)": served.transformer_scores,
    }
    if served.ngram is not None:
        ngram = served.ngram
        candidates["n-gram model alone"] = ngram.logits
        candidates["served: both, combined, with evidence"] = served.predict_detailed
    figures = {
        name: statistics.median(rate(score, texts) for _ in range(3)) for name, score in candidates.items()
    }
    base = next(iter(figures.values()))
    print(f"{len(texts)} texts, 1 thread, median of 3 passes; model {served.version}\n")
    print("| scorer | texts/s | ratio to baseline |\n|---|---:|---:|")
    for name, value in figures.items():
        print(f"| {name} | {value:,.0f} | {value / base:.2f} |")
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": served.version,
        "texts": len(texts),
        "texts_per_s": {name: round(value, 1) for name, value in figures.items()},
    }
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
