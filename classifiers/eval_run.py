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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from classifiers.data import BENIGN_SOURCES, IMPERSONATION_FINE_LABELS, TASKS, load_examples
from classifiers.evaluation import (
    TaskMetrics,
    metrics_markdown,
    plot_pr_curve,
    plot_score_histogram,
    task_metrics,
)
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


def dev_rows() -> list[Labelled]:
    return [
        Labelled(e.text, e.task, e.label, e.source, e.source in BENIGN_SOURCES)
        for e in load_examples()
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


def evaluate(
    model: TextRiskModel,
    rows: Sequence[Labelled],
    out: Path,
    *,
    threshold: float = 0.5,
    operating_points: Mapping[str, Mapping[str, float]] | None = None,
) -> list[TaskMetrics]:
    """Scores every distinct text once, then reports each category and source; writes files to ``out``."""
    texts = sorted({row.text for row in rows})
    scored = dict(zip(texts, model.predict(texts), strict=True))
    out.mkdir(parents=True, exist_ok=True)
    results: list[TaskMetrics] = []
    benign_fpr: dict[str, dict[str, float]] = {}
    for (task, group), members in sorted(_groups(rows).items()):
        labels = [r.label for r in members]
        scores = [scored[r.text][task] for r in members]
        benign = (
            [scored[r.text][task] for r in rows if r.task == task and r.benign] if group == "all" else None
        )
        if len(set(labels)) < 2 and group != "all":
            continue
        metrics = task_metrics(f"{task} / {group}", labels, scores, threshold, benign_scores=benign)
        results.append(metrics)
        if group == "all" and 0 < sum(labels) < len(labels):
            points = dict((operating_points or {}).get(task, {}))
            plot_pr_curve(task, labels, scores, out / f"pr-{task}.png", operating_points=points)
            plot_score_histogram(task, labels, scores, out / f"hist-{task}.png", thresholds=points)
    for source in sorted({r.group for r in rows if r.benign}):
        for task in TASKS:
            benign_scores = [
                scored[r.text][task] for r in rows if r.benign and r.group == source and r.task == task
            ]
            if benign_scores:
                fpr = sum(s >= threshold for s in benign_scores) / len(benign_scores)
                benign_fpr[f"{task} / {source}"] = {"n": len(benign_scores), "fpr": fpr}
    report = {
        "model": model.version,
        "threshold": threshold,
        "groups": [asdict(m) for m in results],
        "benign_fpr": benign_fpr,
    }
    (out / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
    (out / "results.md").write_text(render_markdown(results, report), "utf-8")
    return results


def render_markdown(results: Sequence[TaskMetrics], report: Mapping[str, object]) -> str:
    lines = [
        f"Model `{report['model']}`; threshold {report['threshold']} for accuracy, precision, recall, F1 "
        "and the confusion matrix.",
        "",
        metrics_markdown(results),
        "",
        "False-positive rate on benign sets (share scored at or above the threshold):",
        "",
        "| category / benign set | n | FPR |",
        "|---|---|---|",
    ]
    benign = report.get("benign_fpr", {})
    assert isinstance(benign, Mapping)
    for key, value in sorted(benign.items()):
        lines.append(f"| {key} | {value['n']} | {value['fpr']:.4f} |")
    return "\n".join(lines) + "\n"


def load_rows(data: Iterable[Path], task: str | None, use_dev: bool) -> list[Labelled]:
    rows = dev_rows() if use_dev else []
    for path in data:
        rows += rows_from_file(path, task)
    return rows
