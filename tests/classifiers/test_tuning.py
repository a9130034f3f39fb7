"""``huiyan tune``: thresholds chosen on small labelled sets whose right answers are worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest
import yaml
from click.testing import CliRunner

from classifiers.evaluation import task_metrics
from classifiers.tuning import (
    OperatingPoint,
    Target,
    Unreachable,
    choose_threshold,
    policy_snippet,
    readable_threshold,
    tune_category,
)
from stream.cli import main
from stream.core.policy import CategoryThresholds, parse_policy

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# A score at or above the threshold counts as harmful. From the top:
#   >= 0.9: TP 1 FP 0 (P 1,   R 1/3)    >= 0.6: TP 3 FP 1 (P 3/4, R 1)
#   >= 0.8: TP 2 FP 0 (P 1,   R 2/3)    >= 0.4: TP 3 FP 2 (P 3/5, R 1)
#   >= 0.7: TP 2 FP 1 (P 2/3, R 2/3)    >= 0.3: TP 3 FP 3 (P 1/2, R 1)
# Precision dips at 0.7 and rises again at 0.6.
SCORES = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3]
LABELS = [1, 1, 0, 1, 0, 0]


def point(labels: list[int], scores: list[float], target: Target, **kwargs: Any) -> OperatingPoint:
    result = choose_threshold(labels, scores, target, **kwargs)
    assert isinstance(result, OperatingPoint), result
    return result


def test_precision_one_takes_the_lowest_threshold_without_a_false_positive() -> None:
    result = point(LABELS, SCORES, Target("precision", 1.0))
    assert result.threshold == 0.8
    assert (result.tp, result.fp, result.fn, result.tn, result.n) == (2, 0, 1, 3, 6)
    assert result.precision == 1.0
    assert result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(0.8)  # 2 * 2 / (2 * 2 + 0 + 1)


@pytest.mark.parametrize("goal", [0.7, 0.75])
def test_a_precision_target_looks_past_a_dip_and_counts_an_exact_hit(goal: float) -> None:
    # 0.7 misses either goal (2/3), yet 0.6 meets both (exactly 3/4 for 0.75): the lowest wins.
    result = point(LABELS, SCORES, Target("precision", goal))
    assert result.threshold == 0.6
    assert (result.tp, result.fp, result.fn, result.tn) == (3, 1, 0, 2)
    assert (result.precision, result.recall) == (0.75, 1.0)
    assert result.f1 == pytest.approx(6 / 7)


@pytest.mark.parametrize(
    ("goal", "threshold", "tp", "fp"),
    [(1.0, 0.6, 3, 1), (2 / 3, 0.8, 2, 0), (0.5, 0.8, 2, 0), (0.3, 0.9, 1, 0)],
)
def test_a_recall_target_takes_the_highest_threshold_that_reaches_it(
    goal: float, threshold: float, tp: int, fp: int
) -> None:
    result = point(LABELS, SCORES, Target("recall", goal))
    assert (result.threshold, result.tp, result.fp) == (threshold, tp, fp)
    assert result.recall >= goal


def test_an_unreachable_precision_says_so_with_the_best_there_is() -> None:
    # >= 0.9: P 0; >= 0.5: P 1/2; >= 0.2: P 1/3.
    result = choose_threshold([0, 1, 0], [0.9, 0.5, 0.2], Target("precision", 0.9))
    assert result == Unreachable("no threshold reaches precision >= 0.9 (best precision 0.500)", 3, 1)


def test_all_negative_data_and_an_empty_category_are_unreachable() -> None:
    for target in (Target("precision", 0.5), Target("recall", 0.5)):
        no_harm = choose_threshold([0, 0, 0], [0.9, 0.2, 0.1], target)
        assert isinstance(no_harm, Unreachable)
        assert (no_harm.n, no_harm.positives) == (3, 0)
        assert "no harmful (label 1) examples" in no_harm.reason
        assert choose_threshold([], [], target) == Unreachable("no labelled examples", 0, 0)


def test_all_positive_data_flags_from_the_lowest_score() -> None:
    result = point([1, 1, 1], [0.7, 0.4123, 0.9], Target("precision", 1.0))
    assert (result.threshold, result.recall, result.tn) == (0.4123, 1.0, 0)  # nothing below: not rounded


def test_tied_scores_fall_on_the_same_side() -> None:
    labels, scores = [1, 1, 0, 0], [0.9, 0.8, 0.8, 0.3]
    strict = point(labels, scores, Target("precision", 1.0))
    assert (strict.threshold, strict.tp, strict.fp) == (0.9, 1, 0)  # 0.8 would take the negative too
    full = point(labels, scores, Target("recall", 1.0))
    assert (full.threshold, full.tp, full.fp, full.precision) == (0.8, 2, 1, pytest.approx(2 / 3))


def test_the_threshold_is_rounded_down_without_moving_any_example() -> None:
    labels, scores = [1, 0, 1, 0], [0.8372, 0.8123, 0.5, 0.2]
    result = point(labels, scores, Target("precision", 1.0))
    assert result.threshold == 0.83  # between 0.8123 and 0.8372: the fewest decimals
    # The evaluation counts the same confusion matrix at the rounded threshold.
    assert task_metrics("vulgar", labels, scores, result.threshold).confusion == ((2, 0), (1, 1))
    assert readable_threshold(0.8372, 0.8372 - 1e-9) == 0.8372
    assert readable_threshold(0.75, 0.1) == 0.7
    assert readable_threshold(0.3, None) == 0.3


def test_the_block_point_is_never_below_the_flag_point() -> None:
    # A recall of 1/2 flags at 0.8; a precision of 0.7 alone would block from 0.6, below the flag.
    tuning = tune_category("rumor", LABELS, SCORES, Target("recall", 0.5), block_precision=0.7)
    assert isinstance(tuning.flag, OperatingPoint) and isinstance(tuning.block, OperatingPoint)
    assert (tuning.flag.threshold, tuning.block.threshold) == (0.8, 0.8)
    stricter = tune_category("rumor", LABELS, SCORES, Target("precision", 0.7), block_precision=1.0)
    assert isinstance(stricter.flag, OperatingPoint) and isinstance(stricter.block, OperatingPoint)
    assert (stricter.flag.threshold, stricter.block.threshold) == (0.6, 0.8)
    beyond = choose_threshold(LABELS, SCORES, Target("precision", 0.5), at_least=0.95)
    assert beyond == Unreachable("no example scores at or above 0.95", 6, 3)
    unflagged = tune_category("rumor", [0, 1], [0.9, 0.1], Target("precision", 0.9), block_precision=0.99)
    assert isinstance(unflagged.block, Unreachable)


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([1, 0], [0.5], "2 labels but 1 scores"),
        ([1, 2], [0.1, 0.2], "0 or 1"),
        ([1], [float("nan")], "finite"),
    ],
)
def test_bad_inputs_are_refused(labels: list[int], scores: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        choose_threshold(labels, scores, Target("precision", 0.9))


@pytest.mark.parametrize("value", [0.0, -0.1, 1.01])
def test_a_target_must_be_a_share(value: float) -> None:
    with pytest.raises(ValueError, match="above 0 and at most 1"):
        Target("precision", value)


def test_the_snippet_keeps_the_policy_where_nothing_was_found() -> None:
    current = {
        "rumor": CategoryThresholds(True, 0.5, 0.7),
        "vulgar": CategoryThresholds(False, 0.5, 0.95),
        "impersonation": CategoryThresholds(True, 0.4, 0.9),
    }
    tunings = [
        tune_category("rumor", LABELS, SCORES, Target("precision", 1.0)),  # flag 0.8 > the policy's block
        tune_category("vulgar", [0, 0], [0.3, 0.6], Target("precision", 1.0)),  # no harmful example
    ]
    snippet = policy_snippet(tunings, current, "test scores")
    assert yaml.safe_load(snippet) == {
        "categories": {
            "rumor": {"flag": 0.8, "block": 0.8},
            "vulgar": {"enabled": False, "flag": 0.5, "block": 0.95},
            "impersonation": {"flag": 0.4, "block": 0.9},
        }
    }
    assert "rumor: block set to 0.8, as a policy needs block >= flag" in snippet
    assert "vulgar flag (precision >= 1): unreachable" in snippet


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", "utf-8")
    return path


def scored_rows() -> list[dict[str, Any]]:
    """The rumor set above; vulgar with a tie; impersonation benign only (from a benign source)."""
    rows: list[dict[str, Any]] = [
        {"text": f"传言{i}", "rumor": label, "scores": {"rumor": score}}
        for i, (score, label) in enumerate(zip(SCORES, LABELS, strict=True))
    ]
    vulgar = [(0.95, 1), (0.9, 0), (0.9, 1), (0.2, 0)]
    rows += [{"text": f"脏话{i}", "vulgar": y, "scores": {"vulgar": s}} for i, (s, y) in enumerate(vulgar)]
    scores = {"rumor": 0.05, "vulgar": 0.1, "impersonation": 0.3}
    rows.append({"text": "体育新闻：国足今晚出战", "source": "THUCNews-headlines", "scores": scores})
    return rows


def test_the_command_prints_the_table_writes_the_plots_and_a_pasteable_snippet(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "labelled.jsonl", scored_rows())
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "name: strict\nlabel_severity: {violation: flag, warning: allow, info: allow}\n"
        "categories:\n  rumor: {flag: 0.5, block: 0.95}\n  vulgar: {flag: 0.5, block: 0.95}\n"
        "  impersonation: {flag: 0.6, block: 0.9}\n",
        "utf-8",
    )
    out = tmp_path / "plots"
    args = ["tune", "--data", str(data), "--target-precision", "0.7", "--block-precision", "1.0"]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--policy", str(policy), "--policy-snippet"])
    assert result.exit_code == 0, result.output
    # rumor: the THUCNews headline adds a benign 0.05, below every threshold.
    assert "| rumor | flag | precision >= 0.7 | 0.6 | 0.750 | 1.000 | 0.857 | 3 / 1 / 0 / 3 | 7 | 3 |" in (
        result.output
    )
    assert "| rumor | block | precision >= 1 | 0.8 | 1.000 | 0.667 | 0.800 | 2 / 0 / 1 / 4 | 7 | 3 |" in (
        result.output
    )
    # vulgar: the tie at 0.9 holds a harmful and a benign text (P 2/3 < 0.7): both points sit at 0.95.
    assert "| vulgar | block | precision >= 1 | 0.95 | 1.000 | 0.500 | 0.667 | 1 / 0 / 1 / 3 | 5 | 2 |" in (
        result.output
    )
    assert "| impersonation | flag | precision >= 0.7 | unreachable |" in result.output
    for name in ("pr-rumor", "hist-rumor", "pr-vulgar", "hist-vulgar", "hist-impersonation"):
        assert (out / f"{name}.png").read_bytes().startswith(PNG_SIGNATURE)
    assert not (out / "pr-impersonation.png").exists()  # no harmful example: no PR curve
    assert plt.get_fignums() == []

    snippet = result.stdout[result.stdout.index("# Proposed by huiyan tune") :]
    assert yaml.safe_load(snippet)["categories"] == {
        "rumor": {"flag": 0.6, "block": 0.8},
        "vulgar": {"flag": 0.95, "block": 0.95},
        "impersonation": {"flag": 0.6, "block": 0.9},
    }
    # Pasted over the policy's own block, it still loads.
    pasted = policy.read_text("utf-8").split("categories:")[0] + snippet
    assert parse_policy(pasted).categories["rumor"] == CategoryThresholds(True, 0.6, 0.8)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give one of --target-precision and --target-recall"),
        (["--target-precision", "0.9", "--target-recall", "0.9"], "give one of"),
        (["--target-precision", "0.9", "--block-precision", "0.8"], "at least --target-precision"),
        (["--target-recall", "0"], "0<x<=1"),
    ],
)
def test_the_command_refuses_unclear_targets(tmp_path: Path, extra: list[str], message: str) -> None:
    data = write_jsonl(tmp_path / "labelled.jsonl", scored_rows())
    result = CliRunner().invoke(main, ["tune", "--data", str(data), "--out", str(tmp_path), *extra])
    assert result.exit_code == 2
    assert message in result.output


def test_the_command_refuses_a_half_scored_file(tmp_path: Path) -> None:
    rows = scored_rows()
    del rows[0]["scores"]
    data = write_jsonl(tmp_path / "labelled.jsonl", rows)
    result = CliRunner().invoke(main, ["tune", "--data", str(data), "--target-recall", "0.9"])
    assert result.exit_code == 1
    assert "10 of 11 rows carry `scores`: give them on every row or none" in result.output
