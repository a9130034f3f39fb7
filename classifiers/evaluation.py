"""Metrics and plots of one task's classifier scores against its labels, for the results file.

:func:`task_metrics` turns labels, scores and an operating threshold (a score at or above it counts as
harmful) into a :class:`TaskMetrics`: the scikit-learn figures for the positive class, macro-F1, ROC AUC
and the false-positive rate on benign-only texts. :func:`metrics_markdown` renders several of them as a
table; :func:`plot_pr_curve` and :func:`plot_score_histogram` write PNG files with English labels (a CJK
font may be missing). This module must not load data or models, choose thresholds, or decide actions
(the policy does); it only measures scores it is given.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import matplotlib

matplotlib.use("Agg")  # files only, never a window: must run before pyplot is imported

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)

_NO_POINTS: Mapping[str, float] = MappingProxyType({})
# Thresholds and operating points; blue and red stay free for the benign and harmful histograms.
_THRESHOLD_COLOURS = ("tab:green", "tab:purple", "tab:orange", "tab:brown", "black")
_FIGSIZE = (6.4, 4.8)
_DPI = 120


@dataclass(frozen=True, slots=True)
class TaskMetrics:
    """One task's scores measured at one threshold; precision, recall and F1 are of the harmful class."""

    task: str
    threshold: float
    n: int
    positives: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    macro_f1: float
    roc_auc: float | None  # None when the labels hold one class only
    confusion: tuple[tuple[int, int], tuple[int, int]]  # [[tn, fp], [fn, tp]]
    benign_fpr: float | None  # share of benign-set examples scored >= threshold; None without them
    benign_n: int


def _check_labels_scores(labels: Sequence[int], scores: Sequence[float]) -> None:
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} labels but {len(scores)} scores")
    if not labels:
        raise ValueError("no examples to measure")
    unexpected = set(labels) - {0, 1}
    if unexpected:
        raise ValueError(f"labels must be 0 or 1, got {sorted(unexpected)}")


def _predict(scores: Sequence[float], threshold: float) -> list[int]:
    return [1 if score >= threshold else 0 for score in scores]


def task_metrics(
    task: str,
    labels: Sequence[int],
    scores: Sequence[float],
    threshold: float,
    *,
    benign_scores: Sequence[float] | None = None,
) -> TaskMetrics:
    """The metrics of ``scores`` at ``threshold``; ``benign_scores`` are the benign-set texts' scores."""
    _check_labels_scores(labels, scores)
    predicted = _predict(scores, threshold)
    # Both classes listed explicitly, so a split with one class still yields well-defined (zero) figures.
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=[0, 1], average=None, zero_division=0
    )
    (tn, fp), (fn, tp) = confusion_matrix(labels, predicted, labels=[0, 1]).tolist()
    roc_auc = float(roc_auc_score(labels, scores)) if len(set(labels)) == 2 else None
    benign_n = len(benign_scores) if benign_scores is not None else 0
    benign_fpr = sum(_predict(benign_scores, threshold)) / benign_n if benign_scores else None
    return TaskMetrics(
        task=task,
        threshold=threshold,
        n=len(labels),
        positives=sum(labels),
        accuracy=float(accuracy_score(labels, predicted)),
        precision=float(precision[1]),
        recall=float(recall[1]),
        f1=float(f1[1]),
        macro_f1=float(np.mean(f1)),
        roc_auc=roc_auc,
        confusion=((int(tn), int(fp)), (int(fn), int(tp))),
        benign_fpr=benign_fpr,
        benign_n=benign_n,
    )


def plot_pr_curve(
    task: str,
    labels: Sequence[int],
    scores: Sequence[float],
    path: Path,
    *,
    operating_points: Mapping[str, float] = _NO_POINTS,
) -> None:
    """A PNG of the precision-recall curve, each named threshold (e.g. ``{"flag": 0.5}``) marked on it."""
    _check_labels_scores(labels, scores)
    if 1 not in labels:
        raise ValueError("a precision-recall curve needs at least one positive example")
    precision, recall, _ = precision_recall_curve(labels, scores)
    average_precision = float(average_precision_score(labels, scores))
    prevalence = sum(labels) / len(labels)
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    try:
        ax.step(recall, precision, where="post", label=f"PR curve (AP = {average_precision:.3f})")
        ax.axhline(prevalence, linestyle="--", color="grey", label=f"chance (prevalence {prevalence:.3f})")
        for (name, threshold), colour in zip(
            operating_points.items(), itertools.cycle(_THRESHOLD_COLOURS), strict=False
        ):
            metrics = task_metrics(task, labels, scores, threshold)
            ax.scatter(
                [metrics.recall],
                [metrics.precision],
                s=60,
                zorder=3,
                color=colour,
                edgecolors="black",
                label=f"{name}: score >= {threshold:g} (P {metrics.precision:.3f}, R {metrics.recall:.3f})",
            )
        ax.set(xlim=(0.0, 1.02), ylim=(0.0, 1.05), xlabel="Recall", ylabel="Precision")
        ax.set_title(f"{task}: precision-recall (n = {len(labels):,}, positives = {sum(labels):,})")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=_DPI)
    finally:
        plt.close(fig)


def plot_score_histogram(
    task: str,
    labels: Sequence[int],
    scores: Sequence[float],
    path: Path,
    *,
    thresholds: Mapping[str, float] = _NO_POINTS,
) -> None:
    """A PNG of the score distributions of positives and negatives, a vertical line per threshold."""
    _check_labels_scores(labels, scores)
    values = np.asarray(scores, dtype=float)
    is_positive = np.asarray(labels) == 1
    low = min(0.0, float(values.min()))
    high = max(1.0, float(values.max()))
    bins = np.linspace(low, high, 41).tolist()
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    try:
        tallest = 1
        for mask, name, colour in (
            (~is_positive, "benign (0)", "tab:blue"),
            (is_positive, "harmful (1)", "tab:red"),
        ):
            counts, _, _ = ax.hist(
                values[mask], bins=bins, alpha=0.5, color=colour, label=f"{name}, n = {int(mask.sum()):,}"
            )
            tallest = max(tallest, int(np.max(counts, initial=0)))
        for (name, threshold), colour in zip(
            thresholds.items(), itertools.cycle(_THRESHOLD_COLOURS), strict=False
        ):
            ax.axvline(threshold, linestyle="--", color=colour, label=f"{name} = {threshold:g}")
        # Benign texts usually outnumber harmful ones many times: a log scale keeps both visible, and
        # the headroom above the tallest bar keeps the legend off the bars.
        ax.set_yscale("log")
        ax.set_ylim(0.7, tallest * 30)
        ax.set(xlim=(low, high), xlabel="Score", ylabel="Examples (log scale)")
        ax.set_title(f"{task}: score distribution by label")
        ax.legend(loc="upper center", ncols=2, fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=_DPI)
    finally:
        plt.close(fig)


# Equal-width score bins of the reliability curve and the expected calibration error.
CALIBRATION_BINS = 10


def reliability(
    labels: Sequence[int], scores: Sequence[float], bins: int = CALIBRATION_BINS
) -> list[dict[str, float]]:
    """Per non-empty equal-width score bin: its range, how many texts, their mean score and the share
    that is harmful. A calibrated scorer has mean score close to that share in every bin."""
    _check_labels_scores(labels, scores)
    values = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    truth = np.asarray(labels, dtype=float)
    which = np.minimum((values * bins).astype(int), bins - 1)
    curve = []
    for b in range(bins):
        members = which == b
        if members.any():
            curve.append(
                {
                    "low": b / bins,
                    "high": (b + 1) / bins,
                    "n": int(members.sum()),
                    "mean_score": float(values[members].mean()),
                    "harmful_share": float(truth[members].mean()),
                }
            )
    return curve


def expected_calibration_error(
    labels: Sequence[int], scores: Sequence[float], bins: int = CALIBRATION_BINS
) -> float:
    """The texts-weighted mean gap between mean score and harmful share over the reliability bins."""
    curve = reliability(labels, scores, bins)
    total = sum(point["n"] for point in curve)
    return sum(point["n"] * abs(point["mean_score"] - point["harmful_share"]) for point in curve) / total


def plot_reliability(task: str, curves: Mapping[str, Sequence[Mapping[str, float]]], path: Path) -> None:
    """A PNG of reliability curves (one per named scorer) against the diagonal of perfect calibration."""
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    try:
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
        for (name, curve), colour in zip(curves.items(), itertools.cycle(_THRESHOLD_COLOURS), strict=False):
            ax.plot(
                [p["mean_score"] for p in curve],
                [p["harmful_share"] for p in curve],
                marker="o",
                color=colour,
                label=name,
            )
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="Mean score in bin", ylabel="Share harmful in bin")
        ax.set_title(f"{task}: reliability ({CALIBRATION_BINS} equal-width bins)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=_DPI)
    finally:
        plt.close(fig)


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _metrics_row(result: TaskMetrics) -> str:
    (tn, fp), (fn, tp) = result.confusion
    benign = "n/a" if result.benign_fpr is None else f"{100 * result.benign_fpr:.2f} % of {result.benign_n:,}"
    cells = [
        result.task,
        f"{result.threshold:g}",
        f"{result.n:,}",
        f"{result.positives:,}",
        _figure(result.accuracy),
        _figure(result.precision),
        _figure(result.recall),
        _figure(result.f1),
        _figure(result.macro_f1),
        _figure(result.roc_auc),
        f"{tn:,} / {fp:,} / {fn:,} / {tp:,}",
        benign,
    ]
    return "| " + " | ".join(cells) + " |"


def metrics_markdown(results: Sequence[TaskMetrics]) -> str:
    """A markdown table with one row per result; precision, recall and F1 are of the harmful class."""
    header = (
        "| task | threshold | n | positives | accuracy | precision | recall | F1 | macro-F1 | ROC AUC "
        "| TN / FP / FN / TP | benign FPR |"
    )
    align = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    return "\n".join([header, align, *(_metrics_row(result) for result in results)])
