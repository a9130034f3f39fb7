"""Metrics of a task's scores, checked against figures worked out by hand, and the PNG plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from classifiers.evaluation import (
    TaskMetrics,
    metrics_markdown,
    plot_pr_curve,
    plot_score_histogram,
    task_metrics,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Four harmful and four benign texts. At threshold 0.5 (a score equal to it counts as harmful):
# positives 0.9, 0.5 caught, 0.4, 0.3 missed -> TP 2, FN 2; negatives 0.6 flagged, 0.2, 0.1, 0.05 not
# -> FP 1, TN 3. Harmful class: precision 2/3, recall 1/2, F1 4/7. Benign class: precision 3/5,
# recall 3/4, F1 2/3; macro-F1 (4/7 + 2/3) / 2 = 13/21. ROC AUC: of the 16 positive-negative pairs the
# positive scores higher in 4 + 3 + 3 + 3 = 13 -> 13/16.
LABELS = [1, 1, 1, 1, 0, 0, 0, 0]
SCORES = [0.9, 0.5, 0.4, 0.3, 0.6, 0.2, 0.1, 0.05]
# Two of four benign-set texts at or above 0.5.
BENIGN_SCORES = [0.7, 0.5, 0.1, 0.0]


def test_task_metrics_match_the_hand_computed_figures() -> None:
    result = task_metrics("vulgar", LABELS, SCORES, 0.5, benign_scores=BENIGN_SCORES)
    assert result.task == "vulgar"
    assert result.threshold == 0.5
    assert (result.n, result.positives) == (8, 4)
    assert result.confusion == ((3, 1), (2, 2))
    assert result.accuracy == pytest.approx(5 / 8)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(1 / 2)
    assert result.f1 == pytest.approx(4 / 7)
    assert result.macro_f1 == pytest.approx(13 / 21)
    assert result.roc_auc == pytest.approx(13 / 16)
    assert result.benign_fpr == pytest.approx(1 / 2)
    assert result.benign_n == 4


def test_a_higher_threshold_moves_the_confusion_matrix() -> None:
    result = task_metrics("rumor", LABELS, SCORES, 0.65)
    assert result.confusion == ((4, 0), (3, 1))
    assert result.precision == 1.0
    assert result.recall == pytest.approx(1 / 4)
    assert (result.benign_fpr, result.benign_n) == (None, 0)


def test_one_class_only_has_no_roc_auc_and_zero_positive_figures() -> None:
    result = task_metrics("impersonation", [0, 0, 0], [0.1, 0.7, 0.2], 0.5, benign_scores=[])
    assert result.roc_auc is None
    assert result.confusion == ((2, 1), (0, 0))
    assert (result.precision, result.recall, result.f1) == (0.0, 0.0, 0.0)
    assert (result.benign_fpr, result.benign_n) == (None, 0)


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [([1, 0], [0.5], "2 labels but 1 scores"), ([], [], "no examples"), ([1, 2], [0.1, 0.2], "0 or 1")],
)
def test_bad_inputs_are_refused(labels: list[int], scores: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        task_metrics("rumor", labels, scores, 0.5)


def test_metrics_markdown_has_a_row_per_task() -> None:
    results = [
        task_metrics("rumor", LABELS, SCORES, 0.5, benign_scores=BENIGN_SCORES),
        TaskMetrics("vulgar", 0.9, 3, 0, 1.0, 0.0, 0.0, 0.0, 0.5, None, ((3, 0), (0, 0)), None, 0),
    ]
    lines = metrics_markdown(results).splitlines()
    assert lines[0].startswith("| task | threshold | n | positives | accuracy |")
    assert len(lines) == 4
    assert lines[2] == (
        "| rumor | 0.5 | 8 | 4 | 0.625 | 0.667 | 0.500 | 0.571 | 0.619 | 0.812 "
        "| 3 / 1 / 2 / 2 | 50.00 % of 4 |"
    )
    assert lines[3].endswith("| n/a | 3 / 0 / 0 / 0 | n/a |")


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 5_000


def test_plots_write_png_files_and_close_their_figures(tmp_path: Path) -> None:
    points = {"flag": 0.5, "block": 0.9}
    plot_pr_curve("rumor", LABELS, SCORES, tmp_path / "pr.png", operating_points=points)
    plot_score_histogram("rumor", LABELS, SCORES, tmp_path / "hist.png", thresholds=points)
    plot_pr_curve("rumor", LABELS, SCORES, tmp_path / "pr-plain.png")
    for name in ("pr.png", "hist.png", "pr-plain.png"):
        assert_png(tmp_path / name)
    assert plt.get_fignums() == []


def test_a_pr_curve_needs_a_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one positive"):
        plot_pr_curve("rumor", [0, 0], [0.1, 0.2], tmp_path / "pr.png")
    assert not (tmp_path / "pr.png").exists()
