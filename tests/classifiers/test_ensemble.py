"""The combination step: weights fitted on the combine split, and flag thresholds chosen there under the
benign false-positive budget (never on dev)."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.data import TASKS, Example
from classifiers.training.ensemble import fit_combination, register_thresholds, split_training

pytest.importorskip("sklearn")


def _examples(rng: np.random.Generator) -> tuple[list[Example], dict[str, np.ndarray], dict[str, np.ndarray]]:
    examples, transformer, ngram = [], {}, {}
    for i in range(400):
        label = int(i % 4 == 0)
        text = f"text {i}"
        for task in TASKS:
            examples.append(Example(text, task, label, "huiyan-register", "combine"))
        # the n-gram logit separates the classes, the transformer's score is noise
        ngram[text] = np.full(3, (2.0 if label else -2.0) + rng.normal(0, 2.0))
        transformer[text] = np.full(3, rng.uniform(0.05, 0.95), dtype=np.float32)
    for i in range(300):
        text = f"benign {i}"
        for task in TASKS:
            examples.append(Example(text, task, 0, "benign_ai_zh", "combine"))
        ngram[text] = np.full(3, -4.0 + rng.normal(0, 1.0))
        transformer[text] = np.full(3, rng.uniform(0.05, 0.95), dtype=np.float32)
    return examples, transformer, ngram


def test_the_combination_weighs_the_informative_scorer() -> None:
    examples, transformer, ngram = _examples(np.random.default_rng(1))
    weights = fit_combination(examples, transformer, ngram)
    for task in TASKS:
        assert weights[task]["ngram"] > 0.5
        assert abs(weights[task]["transformer"]) < 0.3


def test_thresholds_come_from_the_combine_split_within_the_benign_budget() -> None:
    examples, _, ngram = _examples(np.random.default_rng(2))
    served = {text: 1 / (1 + np.exp(-logits)) for text, logits in ngram.items()}
    chosen = register_thresholds(examples, served)
    for task in TASKS:
        assert chosen[task]["benign_fpr_at_flag"] <= 0.005
        assert chosen[task]["f1_at_flag"] >= chosen[task]["f1_at_0.5"] - 1e-9
        assert 0.05 <= chosen[task]["flag_threshold"] <= 0.95


def test_split_training_keeps_dev_out_of_both_parts() -> None:
    rows = [Example("a", "rumor", 1, "CED", split) for split in ("train", "combine", "dev")]
    fit, combine = split_training(rows)
    assert [e.split for e in fit] == ["train"] and [e.split for e in combine] == ["combine"]
