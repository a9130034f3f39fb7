"""``huiyan tune``: proposes a category's ``flag`` (and ``block``) threshold from labelled scores.

The core is pure. :func:`choose_threshold` takes one category's scores and 0/1 labels and a
:class:`Target`, and returns an :class:`OperatingPoint` or, when no threshold meets the target, an
:class:`Unreachable` that says why. A score at or above a threshold counts as harmful, as in
:mod:`classifiers.evaluation` and the policy.

Selection rule:

- Candidates are the distinct scores. Any threshold between two neighbouring scores predicts what the
  upper one does, and tied scores always fall on the same side together.
- A precision target takes the **lowest** candidate whose precision reaches it. That is the one with
  the highest recall. Precision is not monotonic in the threshold, so every candidate is checked: the
  scan does not stop at the first dip.
- A recall target takes the **highest** candidate whose recall reaches it. That is the most precise.
- The comparison is exact: precision TP / (TP + FP) against the target's decimal, in fractions.
- The threshold returned is the chosen score rounded down to the fewest decimals that keep it above
  the next lower score. Every labelled example stays on the same side, so the counts do not change,
  and the policy gets 0.83 rather than 0.8372134. The lowest score has nothing below it and is kept.
- Unreachable: no labelled examples; no harmful example (precision and recall are undefined); or no
  candidate meets the target.
- The ``block`` threshold is a precision target searched only at or above the ``flag`` threshold, so
  ``block >= flag`` always holds, as the policy requires.

Around the core: reading scores a JSONL file already carries, the markdown table, the plots (drawn by
:mod:`classifiers.evaluation`) and a YAML ``categories:`` block for a policy file. This module must not
load a model or a policy itself; the command passes them in.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import numpy.typing as npt

from classifiers.data import TASKS
from classifiers.evaluation import plot_pr_curve, plot_score_histogram

if TYPE_CHECKING:
    from classifiers.eval_run import Labelled

Metric = Literal["precision", "recall"]


class CategoryThresholds(Protocol):
    """A policy's thresholds of one category, as :func:`policy_snippet` reads them (the policy's own
    ``CategoryThresholds`` in ``stream/core/policy.py`` has these fields)."""

    @property
    def enabled(self) -> bool: ...
    @property
    def flag(self) -> float: ...
    @property
    def block(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Target:
    """What the operating point must reach, e.g. ``Target("precision", 0.95)``."""

    metric: Metric
    value: float

    def __post_init__(self) -> None:
        if self.metric not in ("precision", "recall"):
            raise ValueError(f"unknown target metric {self.metric!r}")
        if not 0.0 < self.value <= 1.0:
            raise ValueError(f"a {self.metric} target must be above 0 and at most 1, got {self.value}")

    def __str__(self) -> str:
        return f"{self.metric} >= {self.value:g}"


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """A threshold and what it does to the labelled examples (harmful class: label 1)."""

    threshold: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int
    n: int

    @property
    def positives(self) -> int:
        return self.tp + self.fn


@dataclass(frozen=True, slots=True)
class Unreachable:
    """No threshold meets the target; ``reason`` says why, for the table and the snippet."""

    reason: str
    n: int
    positives: int


Choice = OperatingPoint | Unreachable


@dataclass(frozen=True, slots=True)
class CategoryTuning:
    """The proposed thresholds of one category; ``block`` is None when no block target was given."""

    category: str
    target: Target
    flag: Choice
    block_target: Target | None
    block: Choice | None


@dataclass(frozen=True, slots=True)
class _Sweep:
    """Per distinct score, highest first: the examples scored at or above it, harmful and benign."""

    scores: list[float]
    tp: list[int]
    fp: list[int]


def _checked(
    labels: Sequence[int], scores: Sequence[float]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} labels but {len(scores)} scores")
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if unexpected := sorted(set(y.tolist()) - {0, 1}):
        raise ValueError(f"labels must be 0 or 1, got {unexpected}")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite numbers")
    return y, s


def _sweep(y: npt.NDArray[np.int64], s: npt.NDArray[np.float64]) -> _Sweep:
    order = np.argsort(-s, kind="stable")
    ranked, harmful = s[order], y[order]
    # The last index of each run of equal scores: ties enter together.
    ends = np.append(np.flatnonzero(np.diff(ranked)), len(ranked) - 1)
    tp = np.cumsum(harmful)[ends]
    fp = np.cumsum(1 - harmful)[ends]
    return _Sweep(ranked[ends].tolist(), tp.tolist(), fp.tolist())


def readable_threshold(score: float, below: float | None) -> float:
    """``score`` rounded down to the fewest decimals that stay above ``below`` (kept as is when None).

    Every score at or above ``score`` stays at or above the result, and ``below`` stays under it.
    """
    if below is None:
        return score
    exact = Fraction(repr(score))
    for places in itertools.count():
        scale = 10**places
        rounded = Fraction(math.floor(exact * scale), scale)
        if float(rounded) > below or rounded == exact:
            return float(rounded)
    raise AssertionError("unreachable: a float's repr has finitely many decimals")  # pragma: no cover


def _meets(hits: int, out_of: int, goal: Fraction) -> bool:
    return hits * goal.denominator >= goal.numerator * out_of


def choose_threshold(
    labels: Sequence[int], scores: Sequence[float], target: Target, *, at_least: float | None = None
) -> Choice:
    """The operating point of the module's selection rule; only thresholds >= ``at_least`` are tried."""
    y, s = _checked(labels, scores)
    n, positives = len(y), int(y.sum())
    if n == 0:
        return Unreachable("no labelled examples", 0, 0)
    if positives == 0:
        return Unreachable("no harmful (label 1) examples, so precision and recall are undefined", n, 0)
    sweep = _sweep(y, s)
    tried = [i for i, score in enumerate(sweep.scores) if at_least is None or score >= at_least]
    above = "" if at_least is None else f" at or above {at_least:g}"
    if not tried:
        return Unreachable(f"no example scores{above}", n, positives)
    goal = Fraction(repr(target.value))
    if target.metric == "precision":
        met = [i for i in tried if _meets(sweep.tp[i], sweep.tp[i] + sweep.fp[i], goal)]
        chosen = met[-1] if met else None  # scores run highest first: the last is the lowest
    else:
        met = [i for i in tried if _meets(sweep.tp[i], positives, goal)]
        chosen = met[0] if met else None
    if chosen is None:
        if target.metric == "precision":
            best = max(sweep.tp[i] / (sweep.tp[i] + sweep.fp[i]) for i in tried)
        else:
            best = sweep.tp[tried[-1]] / positives
        return Unreachable(
            f"no threshold{above} reaches {target} (best {target.metric} {best:.3f})", n, positives
        )
    below = sweep.scores[chosen + 1] if chosen + 1 < len(sweep.scores) else None
    tp, fp = sweep.tp[chosen], sweep.fp[chosen]
    fn, tn = positives - tp, n - positives - fp
    return OperatingPoint(
        threshold=readable_threshold(sweep.scores[chosen], below),
        precision=tp / (tp + fp),
        recall=tp / positives,
        f1=2 * tp / (2 * tp + fp + fn),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        n=n,
    )


def tune_category(
    category: str,
    labels: Sequence[int],
    scores: Sequence[float],
    target: Target,
    *,
    block_precision: float | None = None,
) -> CategoryTuning:
    """The ``flag`` point for ``target`` and, with ``block_precision``, a ``block`` point at or above it."""
    flag = choose_threshold(labels, scores, target)
    block_target = None if block_precision is None else Target("precision", block_precision)
    block: Choice | None = None
    if block_target is not None and isinstance(flag, Unreachable):
        block = Unreachable("no flag threshold to build on", flag.n, flag.positives)
    elif block_target is not None and isinstance(flag, OperatingPoint):
        block = choose_threshold(labels, scores, block_target, at_least=flag.threshold)
    return CategoryTuning(category, target, flag, block_target, block)


# --- Around the core: input files, table, plots, policy snippet. ---


def precomputed_scores(paths: Sequence[Path]) -> dict[str, dict[str, float]] | None:
    """text -> scores per category when every row carries ``scores``; None when no row does.

    Rows are those ``huiyan eval --data`` reads (non-blank ``text``); raises ``ValueError`` naming the
    line for a half-scored file, a bad score or one text scored two ways.
    """
    scored: dict[str, dict[str, float]] = {}
    rows = without = 0
    for path in paths:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            doc = json.loads(line)
            text = doc.get("text")
            if not isinstance(text, str) or not text.strip():
                continue
            rows += 1
            if "scores" not in doc:
                without += 1
                continue
            scores = _row_scores(doc["scores"], f"{path}:{number}")
            if scored.setdefault(text, scores) != scores:
                raise ValueError(f"{path}:{number}: the same text has other scores on an earlier line")
    if without == rows:
        return None
    if without:
        raise ValueError(f"{rows - without} of {rows} rows carry `scores`: give them on every row or none")
    return scored


def _row_scores(value: object, where: str) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: `scores` must map categories to numbers")
    scores: dict[str, float] = {}
    for category, score in value.items():
        if category not in TASKS:
            raise ValueError(f"{where}: unknown category {category!r} in `scores`")
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0.0 <= score <= 1.0:
            raise ValueError(f"{where}: score {score!r} of {category} is not a number between 0 and 1")
        scores[category] = float(score)
    return scores


def category_examples(
    rows: Sequence[Labelled], scored: Mapping[str, Mapping[str, float]]
) -> dict[str, tuple[list[int], list[float]]]:
    """Labels and scores per category present in ``rows``, in :data:`TASKS` order."""
    examples: dict[str, tuple[list[int], list[float]]] = {}
    for category in TASKS:
        members = [row for row in rows if row.task == category]
        if not members:
            continue
        scores = []
        for row in members:
            if category not in scored[row.text]:
                raise ValueError(f"no {category} score for the text {row.text[:40]!r}")
            scores.append(scored[row.text][category])
        examples[category] = ([row.label for row in members], scores)
    return examples


def _points(tuning: CategoryTuning) -> dict[str, float]:
    points: dict[str, float] = {}
    if isinstance(tuning.flag, OperatingPoint):
        points[f"flag ({tuning.target})"] = tuning.flag.threshold
    if isinstance(tuning.block, OperatingPoint):
        points[f"block ({tuning.block_target})"] = tuning.block.threshold
    return points


def plot_tuning(
    tuning: CategoryTuning, labels: Sequence[int], scores: Sequence[float], out: Path
) -> list[Path]:
    """``hist-<category>.png`` and, when there is a harmful example, ``pr-<category>.png``, points marked."""
    out.mkdir(parents=True, exist_ok=True)
    if not labels:
        return []
    points = _points(tuning)
    written = [out / f"hist-{tuning.category}.png"]
    plot_score_histogram(tuning.category, labels, scores, written[0], thresholds=points)
    if 1 in labels:
        written.append(out / f"pr-{tuning.category}.png")
        plot_pr_curve(tuning.category, labels, scores, written[1], operating_points=points)
    return written


def _row(category: str, name: str, target: Target, choice: Choice) -> str:
    if isinstance(choice, Unreachable):
        cells = [category, name, str(target), "unreachable", "n/a", "n/a", "n/a", "n/a"]
        cells += [f"{choice.n:,}", f"{choice.positives:,}"]
    else:
        cells = [category, name, str(target), f"{choice.threshold:g}"]
        cells += [f"{choice.precision:.3f}", f"{choice.recall:.3f}", f"{choice.f1:.3f}"]
        cells += [f"{choice.tp:,} / {choice.fp:,} / {choice.fn:,} / {choice.tn:,}"]
        cells += [f"{choice.n:,}", f"{choice.positives:,}"]
    return "| " + " | ".join(cells) + " |"


def tuning_markdown(tunings: Sequence[CategoryTuning]) -> str:
    """A markdown table, a row per category and point, then why each unreachable point is so."""
    lines = [
        "| category | point | target | threshold | precision | recall | F1 | TP / FP / FN / TN | n "
        "| positives |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for tuning in tunings:
        chosen: list[tuple[str, Target, Choice]] = [("flag", tuning.target, tuning.flag)]
        if tuning.block_target is not None and tuning.block is not None:
            chosen.append(("block", tuning.block_target, tuning.block))
        for name, target, choice in chosen:
            lines.append(_row(tuning.category, name, target, choice))
            if isinstance(choice, Unreachable):
                notes.append(f"- {tuning.category} {name}: {choice.reason}.")
    return "\n".join(lines + (["", *notes] if notes else []))


def _comment(category: str, name: str, target: Target, choice: Choice) -> str:
    if isinstance(choice, Unreachable):
        return f"  # {category} {name} ({target}): unreachable, {choice.reason}; kept from the policy."
    figures = f"P {choice.precision:.3f}, R {choice.recall:.3f}, F1 {choice.f1:.3f}, n {choice.n:,}"
    return f"  # {category} {name} ({target}): {figures}."


def policy_snippet(
    tunings: Sequence[CategoryTuning], current: Mapping[str, CategoryThresholds], scores_from: str
) -> str:
    """A YAML ``categories:`` block: the proposed thresholds, the ``current`` ones where none was found.

    A ``block`` kept from the policy is raised to the new ``flag`` where it is below it (a policy needs
    ``block >= flag``), or is 1.0 when the policy has none; a comment says so.
    """
    by_category = {tuning.category: tuning for tuning in tunings}
    lines = [f"# Proposed by huiyan tune; scores from {scores_from}.", "categories:"]
    for category in [c for c in TASKS if c in current or c in by_category]:
        rule = current.get(category)
        flag, block = (rule.flag, rule.block) if rule is not None else (None, None)
        tuning = by_category.get(category)
        if tuning is None:
            lines.append(f"  # {category}: not in the data; kept from the policy.")
        else:
            lines.append(_comment(category, "flag", tuning.target, tuning.flag))
            if tuning.block_target is not None and tuning.block is not None:
                lines.append(_comment(category, "block", tuning.block_target, tuning.block))
            if isinstance(tuning.flag, OperatingPoint):
                flag = tuning.flag.threshold
            if isinstance(tuning.block, OperatingPoint):
                block = tuning.block.threshold
        if flag is None:
            lines.append(f"  # {category}: left out, no threshold found and none in the policy.")
            continue
        if block is None or block < flag:
            block = 1.0 if block is None else flag
            lines.append(f"  # {category}: block set to {block!r}, as a policy needs block >= flag.")
        enabled = "enabled: false, " if rule is not None and not rule.enabled else ""
        lines.append(f"  {category}: {{{enabled}flag: {flag!r}, block: {block!r}}}")
    return "\n".join(lines)
