"""``huiyan eval``: scores labelled texts with the served model and reports per-category metrics.

Input is either our dev splits (``--dev``: :mod:`classifiers.data`) or JSONL files (``--data``) in
the layout of ../shared/datasets: ``text`` and ``label`` (1 = harmful for the file's own category)
plus ``source``; or ``text`` with per-category keys ``rumor`` / ``vulgar`` / ``impersonation``. The
category of a file is taken from ``--task``, else from per-row keys, else from its ``source`` (COLD,
ToxiCN, SWSR: vulgar; CED, EANN, CHECKED, Weibo rumor sets: rumor; the telecom set: impersonation,
by ``fine_label`` 1/3/4). THUCNews and waimai rows are benign for every category and give the
false-positive rates. Results: a markdown table and JSON, plus a PR curve and a score histogram per
category, written to ``--out``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from classifiers.data import BENIGN_SOURCES, DEFAULT_ROOT, IMPERSONATION_FINE_LABELS, TASKS, load_examples
from classifiers.evaluation import (
    CALIBRATION_BINS,
    TaskMetrics,
    expected_calibration_error,
    metrics_markdown,
    plot_pr_curve,
    plot_reliability,
    plot_score_histogram,
    reliability,
    task_metrics,
)
from classifiers.ngram import NgramModel, fit_rows, train_ngram
from classifiers.text_model import TextRiskModel

# Lower-cased source-name prefixes and the category their ``label`` is for.
SOURCE_TASKS: Mapping[str, str] = {
    "cold": "vulgar",
    "toxicn": "vulgar",
    "swsr": "vulgar",
    "ced": "rumor",
    "eann": "rumor",
    "checked": "rumor",
    "weibo": "rumor",
    "telecom": "impersonation",
}


@dataclass(frozen=True, slots=True)
class Labelled:
    """One text with its label for one category; ``group`` names where it came from in reports."""

    text: str
    task: str
    label: int
    group: str
    benign: bool


def _source_task(source: str) -> str | None:
    lowered = source.lower()
    return next((task for prefix, task in SOURCE_TASKS.items() if lowered.startswith(prefix)), None)


def _is_benign_source(source: str) -> bool:
    lowered = source.lower()
    return any(lowered.startswith(b.lower().split("-")[0]) for b in BENIGN_SOURCES)


def rows_from_file(path: Path, task: str | None) -> list[Labelled]:
    """Labelled rows of a JSONL file; raises ``ValueError`` naming the line it cannot use."""
    rows: list[Labelled] = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        doc = json.loads(line)
        text, source = doc.get("text"), str(doc.get("source", path.stem))
        if not isinstance(text, str) or not text.strip():
            continue
        if _is_benign_source(source):
            rows += [Labelled(text, t, 0, source, True) for t in TASKS]
        elif any(t in doc for t in TASKS):
            rows += [Labelled(text, t, int(doc[t]), path.stem, False) for t in TASKS if t in doc]
        else:
            row_task = task or _source_task(source)
            if row_task is None:
                raise ValueError(
                    f"{path}:{number}: cannot tell the category of source {source!r}; pass --task"
                )
            label = int(doc["label"])
            if row_task == "impersonation" and "fine_label" in doc:
                label = int(int(doc["fine_label"]) in IMPERSONATION_FINE_LABELS)
            rows.append(Labelled(text, row_task, label, source, False))
    return rows


def dev_rows(root: Path = DEFAULT_ROOT) -> list[Labelled]:
    return [
        Labelled(e.text, e.task, e.label, e.source, e.source in BENIGN_SOURCES)
        for e in load_examples(root)
        if e.split == "dev"
    ]


def _groups(rows: Sequence[Labelled]) -> dict[tuple[str, str], list[Labelled]]:
    """Per category: every row ("all"), the labelled rows without benign sets ("labelled"), and the rows of
    each labelled source. The project's rumor target is macro-F1 on "labelled" (CED + EANN dev)."""
    groups: dict[tuple[str, str], list[Labelled]] = defaultdict(list)
    for row in rows:
        groups[(row.task, "all")].append(row)
        if not row.benign:
            groups[(row.task, "labelled")].append(row)
            groups[(row.task, row.group)].append(row)
    return groups


# A scorer compared with the served model: texts -> one {category: score} per text.
Scorer = Callable[[Sequence[str]], Sequence[Mapping[str, float]]]
BASELINE: Final = "n-gram baseline"


def train_baseline(root: Path = DEFAULT_ROOT) -> Scorer:
    """The project's baseline, trained now on the whole training split of :mod:`classifiers.data` (the
    data the served scorer was trained on): character 1-3-gram TF-IDF and a logistic regression per
    category (:mod:`classifiers.ngram`)."""
    examples = [e for e in load_examples(root) if e.split == "train"]
    texts, labels = fit_rows((e.text, e.task, e.label) for e in examples)
    model = NgramModel(train_ngram(texts, labels))

    def score(batch: Sequence[str]) -> list[dict[str, float]]:
        return [dict(zip(model.categories, map(float, row), strict=True)) for row in model.score(batch)]

    return score


def transformer_alone(model: TextRiskModel) -> Scorer:
    """The served model's transformer without the n-gram half and the combination."""

    def score(batch: Sequence[str]) -> list[dict[str, float]]:
        scores, _, _ = model.transformer_scores(batch)
        return [dict(zip(model.categories, map(float, row), strict=True)) for row in scores]

    return score


def evaluate(
    model: TextRiskModel,
    rows: Sequence[Labelled],
    out: Path,
    *,
    threshold: float | Mapping[str, float] = 0.5,
    operating_points: Mapping[str, Mapping[str, float]] | None = None,
    others: Mapping[str, Scorer] | None = None,
) -> list[TaskMetrics]:
    """Scores every distinct text once with the served model and each of ``others``, then reports each
    category and source, the comparison, the heads' false positives on the other categories' harmful
    texts, and calibration; writes files to ``out``."""
    thresholds = {t: threshold for t in TASKS} if isinstance(threshold, int | float) else dict(threshold)
    texts = sorted({row.text for row in rows})
    scored = dict(zip(texts, model.predict(texts), strict=True))
    scorers: dict[str, Mapping[str, Mapping[str, float]]] = {"served": scored}
    for name, scorer in (others or {}).items():
        scorers[name] = dict(zip(texts, scorer(texts), strict=True))
    out.mkdir(parents=True, exist_ok=True)
    results: list[TaskMetrics] = []
    benign_fpr: dict[str, dict[str, float]] = {}
    comparison: list[dict[str, object]] = []
    calibration: dict[str, dict[str, object]] = {}
    groups = _groups(rows)
    for (task, group), members in sorted(groups.items()):
        labels = [r.label for r in members]
        scores = [scored[r.text][task] for r in members]
        benign = (
            [scored[r.text][task] for r in rows if r.task == task and r.benign] if group == "all" else None
        )
        if len(set(labels)) < 2 and group != "all":
            continue
        metrics = task_metrics(f"{task} / {group}", labels, scores, thresholds[task], benign_scores=benign)
        results.append(metrics)
        if len(set(labels)) == 2:
            comparison.append(_compare(task, group, members, scorers, thresholds[task]))
        if group == "all" and 0 < sum(labels) < len(labels):
            points = dict((operating_points or {}).get(task, {}))
            plot_pr_curve(task, labels, scores, out / f"pr-{task}.png", operating_points=points)
            plot_score_histogram(task, labels, scores, out / f"hist-{task}.png", thresholds=points)
    for task in TASKS:
        members = groups.get((task, "labelled")) or groups.get((task, "all")) or []
        labels = [r.label for r in members]
        if 0 < sum(labels) < len(labels):
            curves = {
                name: reliability(labels, [s[r.text][task] for r in members]) for name, s in scorers.items()
            }
            calibration[task] = {
                "n": len(members),
                "ece": {
                    name: expected_calibration_error(labels, [s[r.text][task] for r in members])
                    for name, s in scorers.items()
                },
                "reliability": curves["served"],
            }
            plot_reliability(task, curves, out / f"reliability-{task}.png")
    for source in sorted({r.group for r in rows if r.benign}):
        for task in TASKS:
            benign_scores = [
                scored[r.text][task] for r in rows if r.benign and r.group == source and r.task == task
            ]
            if benign_scores:
                fpr = sum(s >= thresholds[task] for s in benign_scores) / len(benign_scores)
                benign_fpr[f"{task} / {source}"] = {"n": len(benign_scores), "fpr": fpr}
    report = {
        "model": model.version,
        "threshold": thresholds,
        "groups": [asdict(m) for m in results],
        "benign_fpr": benign_fpr,
        "comparison": comparison,
        "bleeding": _bleeding(rows, scorers, thresholds),
        "calibration": calibration,
    }
    (out / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
    (out / "results.md").write_text(render_markdown(results, report), "utf-8")
    return results


def _compare(
    task: str,
    group: str,
    members: Sequence[Labelled],
    scorers: Mapping[str, Mapping[str, Mapping[str, float]]],
    threshold: float,
) -> dict[str, object]:
    labels = [r.label for r in members]
    figures = {}
    for name, scored in scorers.items():
        metrics = task_metrics(task, labels, [scored[r.text][task] for r in members], threshold)
        figures[name] = {"roc_auc": metrics.roc_auc, "f1": metrics.f1, "recall": metrics.recall}
    return {"task": task, "group": group, "n": len(labels), "positives": sum(labels), "scorers": figures}


def _bleeding(
    rows: Sequence[Labelled],
    scorers: Mapping[str, Mapping[str, Mapping[str, float]]],
    thresholds: Mapping[str, float],
) -> dict[str, dict[str, object]]:
    """Per head: on texts labelled for every category that are harmful in another category but not in
    this one, the share each scorer flags in this one (the head "bleeding" into its neighbours)."""
    labels: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        if not row.benign:
            labels[row.text][row.task] = row.label
    complete = {text: by_task for text, by_task in labels.items() if set(by_task) == set(TASKS)}
    bleeding: dict[str, dict[str, object]] = {}
    for head in TASKS:
        for other in TASKS:
            if other == head:
                continue
            members = [t for t, by_task in complete.items() if by_task[head] == 0 and by_task[other] == 1]
            if members:
                bleeding[f"{head} on {other}"] = {
                    "n": len(members),
                    "fpr": {
                        name: sum(s[t][head] >= thresholds[head] for t in members) / len(members)
                        for name, s in scorers.items()
                    },
                }
    return bleeding


def render_markdown(results: Sequence[TaskMetrics], report: Mapping[str, Any]) -> str:
    names = list(next(iter(report["comparison"]), {"scorers": {"served": None}})["scorers"])
    lines = [
        f"Model `{report['model']}` (served); thresholds "
        + ", ".join(f"{t} {v:g}" for t, v in report["threshold"].items())
        + " (a score at or above counts as harmful) for accuracy, precision, recall, F1, the confusion "
        "matrix, false-positive rates and bleeding.",
        "",
        metrics_markdown(results),
        "",
        "Side by side, on the same texts (ROC AUC / F1 at the threshold); the n-gram baseline is trained in "
        "the same run on the same training data:",
        "",
        "| category / group | n | positives | " + " | ".join(names) + " |",
        "|---|---:|---:|" + "---:|" * len(names),
    ]
    for row in report["comparison"]:
        cells = [
            f"{_figure(row['scorers'][n]['roc_auc'])} / {_figure(row['scorers'][n]['f1'])}" for n in names
        ]
        lines.append(
            f"| {row['task']} / {row['group']} | {row['n']:,} | {row['positives']:,} | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "False-positive rate on benign sets (share scored at or above the threshold), served model:",
        "",
        "| category / benign set | n | FPR |",
        "|---|---|---|",
    ]
    for key, value in sorted(report["benign_fpr"].items()):
        lines.append(f"| {key} | {value['n']} | {value['fpr']:.4f} |")
    if report["bleeding"]:
        lines += [
            "",
            "Heads bleeding into each other: share of texts harmful in another category only (not in this "
            "one) that this head flags at the threshold:",
            "",
            "| head on other category's positives | n | " + " | ".join(names) + " |",
            "|---|---:|" + "---:|" * len(names),
        ]
        for key, value in report["bleeding"].items():
            cells = [f"{value['fpr'][n]:.3f}" for n in names]
            lines.append(f"| {key} | {value['n']} | " + " | ".join(cells) + " |")
    if report["calibration"]:
        lines += [
            "",
            f"Calibration: expected calibration error over {CALIBRATION_BINS} equal-width score bins "
            "(labelled texts; plots reliability-*.png):",
            "",
            "| category | n | " + " | ".join(names) + " |",
            "|---|---:|" + "---:|" * len(names),
        ]
        for task, value in report["calibration"].items():
            cells = [f"{value['ece'][n]:.3f}" for n in names]
            lines.append(f"| {task} | {value['n']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _figure(value: object) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def load_rows(
    data: Iterable[Path], task: str | None, use_dev: bool, root: Path = DEFAULT_ROOT
) -> list[Labelled]:
    rows = dev_rows(root) if use_dev else []
    for path in data:
        rows += rows_from_file(path, task)
    return rows
