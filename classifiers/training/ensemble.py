"""Fits the served scorer's n-gram half and the per-category combination with the transformer.

Steps (seeded and deterministic: the same data gives byte-identical ``ngram.npz`` and ``model.json``):

1. **Held-out combination texts**: the ``combine`` split of :mod:`classifiers.data` (15 % of the
   training rows of every set). Neither half trains on them.
2. **N-gram model** (:mod:`classifiers.ngram`): character 1-3-gram TF-IDF and one logistic regression per
   category, on every ``train`` text that carries that category's label.
3. **Combination.** On the ``combine`` texts, per category, a logistic regression of the label on the
   transformer's logit and the n-gram logit. Its output is the served score: calibrated on those texts
   (the project's results give the reliability curve and the expected calibration error on dev).

``python -m classifiers.training.ensemble [--model DIR]`` writes ``ngram.npz``, ``model.json`` (with
``ngram`` and ``combine``) and ``ensemble-log.json`` into the model directory, whose ONNX transformer it
scores with. ``huiyan train`` runs it after the transformer's steps; ``huiyan train --ngram-only`` runs
it alone.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from classifiers.data import (
    BENIGN_SOURCES,
    COMBINE_PERCENT,
    DEFAULT_ROOT,
    REGISTER_SOURCE,
    TASKS,
    Example,
    load_examples,
)
from classifiers.ngram import NGRAM_FILE, fit_rows, save_ngram, train_ngram
from classifiers.text_model import DEFAULT_MODEL_DIR, TextRiskModel

SEED: Final = 20261203
# Inverse regularisation of the combination's two-weight regressions: weak, so the weights are the data's.
COMBINE_C: Final = 100.0


def split_training(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(examples the n-gram model trains on, examples the combination is fitted on)."""
    return [e for e in examples if e.split == "train"], [e for e in examples if e.split == "combine"]


def logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def fit_combination(
    examples: Sequence[Example], transformer: dict[str, np.ndarray], ngram: dict[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """Per category: weights of the transformer and n-gram logits and a bias, fitted on ``examples``."""
    from sklearn.linear_model import LogisticRegression

    combine = {}
    for column, task in enumerate(TASKS):
        rows = [e for e in examples if e.task == task]
        features = np.array(
            [[logit(transformer[e.text][column : column + 1])[0], ngram[e.text][column]] for e in rows]
        )
        labels = np.array([e.label for e in rows])
        regression = LogisticRegression(C=COMBINE_C, max_iter=1000, random_state=SEED)
        regression.fit(features, labels)
        combine[task] = {
            "transformer": round(float(regression.coef_[0][0]), 6),
            "ngram": round(float(regression.coef_[0][1]), 6),
            "bias": round(float(regression.intercept_[0]), 6),
        }
    return combine


def held_out_auc(
    examples: Sequence[Example], scorers: dict[str, dict[str, np.ndarray]]
) -> dict[str, dict[str, float]]:
    """Per category, each scorer's ROC AUC on the combine split (neither half trained on it)."""
    from sklearn.metrics import roc_auc_score

    figures: dict[str, dict[str, float]] = {}
    for column, task in enumerate(TASKS):
        rows = [e for e in examples if e.task == task]
        labels = [e.label for e in rows]
        if 0 < sum(labels) < len(labels):
            figures[task] = {
                name: round(float(roc_auc_score(labels, [scored[e.text][column] for e in rows])), 4)
                for name, scored in scorers.items()
            }
    return figures


# The most of the benign sets' combine-split texts a proposed flag threshold may flag (the project's
# target is 1% on the dev texts; half of it leaves a margin).
BENIGN_FPR_BUDGET: Final = 0.005


def register_thresholds(
    examples: Sequence[Example], served: dict[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """Per category, on the combine split (never on dev): F1 on our register texts at 0.5, and the flag
    threshold, in steps of 0.05, with the best register F1 among those that flag at most
    BENIGN_FPR_BUDGET of the benign sets' texts. The default policy's flag thresholds come from here."""
    from sklearn.metrics import f1_score

    figures = {}
    for column, task in enumerate(TASKS):
        rows = [e for e in examples if e.task == task and e.source == REGISTER_SOURCE]
        benign = np.array(
            [served[e.text][column] for e in examples if e.task == task and e.source in BENIGN_SOURCES]
        )
        labels = [e.label for e in rows]
        if not 0 < sum(labels) < len(labels) or not len(benign):
            continue
        scores = np.array([served[e.text][column] for e in rows])
        candidates = [round(float(t), 2) for t in np.arange(0.05, 0.96, 0.05)]
        f1 = {t: float(f1_score(labels, scores >= t, zero_division=0)) for t in candidates}
        fpr = {t: float((benign >= t).mean()) for t in candidates}
        allowed = [t for t in candidates if fpr[t] <= BENIGN_FPR_BUDGET] or [candidates[-1]]
        best = max(allowed, key=lambda t: (f1[t], -abs(t - 0.5)))
        figures[task] = {
            "n": len(rows),
            "positives": sum(labels),
            "benign_n": len(benign),
            "f1_at_0.5": round(f1[0.5], 4),
            "benign_fpr_at_0.5": round(fpr[0.5], 4),
            "flag_threshold": best,
            "f1_at_flag": round(f1[best], 4),
            "benign_fpr_at_flag": round(fpr[best], 4),
        }
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR, help="model directory to complete")
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args(argv)
    started = time.time()
    fit, combination = split_training(load_examples(args.data_root))
    texts, labels = fit_rows((e.text, e.task, e.label) for e in fit)
    print(f"n-gram model: {len(texts)} texts; combination: {len({e.text for e in combination})}", flush=True)
    save_ngram(train_ngram(texts, labels, seed=SEED), args.model / NGRAM_FILE)
    print(f"n-gram model written ({time.time() - started:.0f} s)", flush=True)

    card_path = args.model / "model.json"
    card = json.loads(card_path.read_text("utf-8"))
    card.pop("combine", None)
    card["ngram"] = NGRAM_FILE
    card_path.write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", "utf-8")
    scorer = TextRiskModel(args.model, threads=2)  # no combination yet: the transformer's own scores
    assert scorer.ngram is not None
    held_texts = sorted({e.text for e in combination})
    t_scores, _, _ = scorer.transformer_scores(held_texts)
    n_logits = scorer.ngram.logits(held_texts)[:, [scorer.ngram.categories.index(t) for t in TASKS]]
    transformer = dict(zip(held_texts, t_scores, strict=True))
    ngram = dict(zip(held_texts, n_logits, strict=True))
    card["combine"] = fit_combination(combination, transformer, ngram)
    card_path.write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", "utf-8")
    combined = TextRiskModel(args.model, threads=2).combined(t_scores, scorer.ngram.logits(held_texts))
    log = {
        "seed": SEED,
        "combine_percent": COMBINE_PERCENT,
        "ngram_texts": len(texts),
        "ngram_examples": {task: len(labels[task][0]) for task in sorted(labels)},
        "combination_texts": len(held_texts),
        "combination_examples": {task: sum(e.task == task for e in combination) for task in TASKS},
        "combine": card["combine"],
        "combine_split_roc_auc": held_out_auc(
            combination,
            {
                "transformer": transformer,
                "ngram": ngram,
                "combined": dict(zip(held_texts, combined, strict=True)),
            },
        ),
        "register_thresholds": register_thresholds(combination, dict(zip(held_texts, combined, strict=True))),
        "minutes": round((time.time() - started) / 60, 1),
    }
    text = json.dumps(log, ensure_ascii=False, indent=1)
    (args.model / "ensemble-log.json").write_text(text + "\n", "utf-8")
    print(text, flush=True)


if __name__ == "__main__":
    main()
