"""The labeled examples of Huiyan's three binary text tasks, with deterministic train/dev splits.

Tasks (:data:`TASKS`): ``rumor`` (false information), ``vulgar`` (vulgar / offensive / obscene) and
``impersonation`` (scam texts that pose as police, customer service, a boss or an acquaintance). Label 1
is harmful for that task, 0 benign. The rows are read at run time from the shared copies in
``../shared/datasets`` (:data:`DEFAULT_ROOT`); their licences forbid copying them into this repository.

Sources per task (:data:`SOURCE_FILES`):

- rumor: CED ``ced_weibo_rumor/all.jsonl`` and EANN ``eann_weibo_rumor/train.jsonl``, labels as given,
  hash split (the held-out 20 % of CED+EANN).
- vulgar: COLD ``cold/train.jsonl`` -> train and ``cold/dev.jsonl`` -> dev (the official split, on which
  the vulgar target is measured); SWSR ``swsr/all.jsonl`` with its label as given (sexism counts as
  offensive), hash split.
- impersonation: Telecom_Fraud_Texts_5 ``telecom_fraud_texts_5/train.jsonl``, hash split. Label 1 for
  ``fine_label`` 1 (police / government), 3 (customer service) and 4 (leader / acquaintance); 0 for
  ``fine_label`` 0 (normal SMS) and also 0 for ``fine_label`` 2 (loan / credit-card fraud): those texts are
  fraud but impersonate no one, so they are kept as hard negatives that teach the classifier the
  difference between "a scam" and "a scam by impersonation".
- benign negatives: THUCNews headlines ``thucnews_headlines/dev.jsonl`` and waimai reviews
  ``waimai_10k_reviews/all.jsonl``, hash split, added with label 0 to every task (one example per task per
  text); :func:`benign_dev` gives them back for the false-positive rate.

Rules:

- Normalised text (:func:`normalise`): NFKC, all whitespace removed, lower-cased. It is the identity of a
  text for splitting and de-duplication; :attr:`Example.text` keeps the original (outer spaces stripped).
- Hash split (:func:`hash_split`), for every set without an official split: ``dev`` when
  ``int(md5(normalised text, utf-8), 16) % 100 < 20``, else ``train``. It depends on the text alone, so a
  text lands in the same split in every task and every run.
- Texts that are empty once normalised are skipped (counted as ``empty_text``).
- Per task, in this order: (1) a train row whose normalised text also occurs in that task's dev split is
  removed (``train_overlaps_dev``), so the dev split is never reduced for the sake of train; (2) a
  normalised text carrying both labels within a split is dropped in all its copies
  (``conflicting_label``); (3) of the remaining copies of a normalised text the first in
  :data:`SOURCE_FILES` order is kept (``duplicate``), e.g. CED before EANN.

Loading reads one JSON object per line; blank lines are skipped, and a malformed line raises
:class:`DatasetFormatError` naming the file and the line. This module must not train or score anything,
and must not write to the datasets.

``python -m classifiers.data [--root DIR]`` prints the counts per task, split, source and label.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypedDict

from classifiers.scores import CATEGORIES

TASKS: Final = CATEGORIES
SPLITS: Final = ("train", "combine", "dev")
_REPO: Final = Path(__file__).resolve().parents[1]
DEFAULT_ROOT: Final = _REPO.parent / "shared" / "datasets"

# Share of hash-split texts that go to dev, in percent.
DEV_PERCENT: Final = 20
# Share of the training rows (in percent, by the md5 of "combine:" + normalised text) that form the
# ``combine`` split: neither half of the served scorer trains on it, and the combination of the two is
# fitted on it (classifiers/training/ensemble.py).
COMBINE_PERCENT: Final = 15

# Telecom_Fraud_Texts_5 fine labels (see its README): 0 normal, 1 police/gov, 2 loan, 3 customer
# service, 4 leader/acquaintance. Only 1, 3 and 4 pose as someone; 2 is a hard negative.
TELECOM_FINE_LABELS: Final = frozenset({0, 1, 2, 3, 4})
IMPERSONATION_FINE_LABELS: Final = frozenset({1, 3, 4})

BENIGN_SOURCES: Final = frozenset({"THUCNews-headlines", "waimai_10k", "benign_ai_zh"})


class DatasetFormatError(ValueError):
    """A dataset line that is not a JSON object with the keys and values this loader expects."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labeled text of one task; a text used by several tasks is one Example per task."""

    text: str
    task: str  # one of TASKS
    label: int  # 1 = harmful for that task, 0 = benign
    source: str  # dataset name, e.g. "COLD"
    split: str  # "train" or "dev"


Row = Mapping[str, object]


def _given_label(row: Row, task: str) -> int | None:
    """The dataset's own binary ``label``."""
    label = row.get("label")
    if type(label) is not int or label not in (0, 1):
        raise ValueError(f"'label' must be 0 or 1, got {label!r}")
    return label


def _impersonation_label(row: Row, task: str) -> int | None:
    """1 for the telecom classes that impersonate someone; 0 for normal SMS and loan fraud."""
    fine = row.get("fine_label")
    if type(fine) is not int or fine not in TELECOM_FINE_LABELS:
        raise ValueError(f"'fine_label' must be one of {sorted(TELECOM_FINE_LABELS)}, got {fine!r}")
    return 1 if fine in IMPERSONATION_FINE_LABELS else 0


def _benign_label(row: Row, task: str) -> int | None:
    """Benign-only sets are label 0 for every task, whatever their own extra keys say."""
    return 0


def _per_task_label(row: Row, task: str) -> int | None:
    """Huiyan's own register texts carry one 0/1 key per task."""
    label = row.get(task)
    if type(label) is not int or label not in (0, 1):
        raise ValueError(f"{task!r} must be 0 or 1, got {label!r}")
    return label


def _scam_call_label(row: Row, task: str) -> int | None:
    """TeleAntiFraud call scripts: impersonation as given; neither a rumor nor vulgar (a scam is not a
    rumor: the rumor head fired on scams, and these rows teach it not to)."""
    return _given_label(row, task) if task == "impersonation" else 0


# Fraud-R1 categories whose messages pose as someone (acquaintances, police and courts, phishing as a bank
# or a platform). Fraudulent services, fake jobs and online friendships need not impersonate: no
# impersonation label for them, only the rumor and vulgar 0.
FRAUD_R1_IMPERSONATING: Final = frozenset({"impersonation", "phishing"})


def _fraud_r1_label(row: Row, task: str) -> int | None:
    if task != "impersonation":
        return 0
    return 1 if row.get("fraud_category") in FRAUD_R1_IMPERSONATING else None


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file the loader reads and how its rows become examples."""

    source: str
    path: str  # relative to the datasets root
    tasks: tuple[str, ...]
    split: str | None  # the official split of every row, or None for the hash split
    label: Callable[[Row, str], int | None]  # (row, task) -> label, None: no label for that task


# Huiyan's own texts in the register of generated content, labelled for all three tasks (README of
# classifiers/training/register): the train files are trained on, the dev files never.
REGISTER: Final = _REPO / "classifiers" / "training" / "register"
REGISTER_SOURCE: Final = "huiyan-register"


def register_files(register: Path | None = None) -> tuple[SourceFile, ...]:
    """Our register texts: every ``*.jsonl`` of ``register/train`` and ``register/dev``."""
    folder = REGISTER if register is None else register
    return tuple(
        SourceFile(REGISTER_SOURCE, str(path), TASKS, split, _per_task_label)
        for split in ("train", "dev")
        for path in sorted((folder / split).glob("*.jsonl"))
    )


# The shared sets, in the order the de-duplication keeps (the register files come first).
SOURCE_FILES: Final = (
    SourceFile("CED", "ced_weibo_rumor/all.jsonl", ("rumor",), None, _given_label),
    SourceFile("EANN", "eann_weibo_rumor/train.jsonl", ("rumor",), None, _given_label),
    SourceFile("COLD", "cold/train.jsonl", ("vulgar",), "train", _given_label),
    SourceFile("COLD", "cold/dev.jsonl", ("vulgar",), "dev", _given_label),
    SourceFile("SWSR", "swsr/all.jsonl", ("vulgar",), None, _given_label),
    SourceFile(
        "Telecom_Fraud_Texts_5",
        "telecom_fraud_texts_5/train.jsonl",
        ("impersonation",),
        None,
        _impersonation_label,
    ),
    SourceFile("TeleAntiFraud", "teleantifraud_dialogues/data.jsonl", TASKS, None, _scam_call_label),
    SourceFile("Fraud-R1", "fraud_r1_zh/generated.jsonl", TASKS, None, _fraud_r1_label),
    SourceFile("ToxiRewriteCN", "toxirewrite_cn/data.jsonl", ("vulgar",), None, _given_label),
    SourceFile("THUCNews-headlines", "thucnews_headlines/dev.jsonl", TASKS, None, _benign_label),
    SourceFile("waimai_10k", "waimai_10k_reviews/all.jsonl", TASKS, None, _benign_label),
    SourceFile("benign_ai_zh", "benign_ai_zh/data.jsonl", TASKS, None, _benign_label),
)


@dataclass(frozen=True, slots=True)
class LabeledData:
    """The examples, and per task how many rows each rule removed (reason -> count)."""

    examples: tuple[Example, ...]
    removed: Mapping[str, Mapping[str, int]]


class SplitCounts(TypedDict):
    """Counts of one task's split; ``by_source`` maps a source to its ``{"0": n, "1": n}``."""

    n: int
    positives: int
    negatives: int
    by_source: dict[str, dict[str, int]]


def normalise(text: str) -> str:
    """The identity of a text for splitting and de-duplication: NFKC, no whitespace, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def hash_split(normalised: str) -> str:
    """``dev`` for about DEV_PERCENT % of texts, chosen by the md5 of the normalised text."""
    digest = hashlib.md5(normalised.encode("utf-8")).hexdigest()
    return "dev" if int(digest, 16) % 100 < DEV_PERCENT else "train"


def combine_split(normalised: str, split: str) -> str:
    """``combine`` for COMBINE_PERCENT % of the training rows, else ``split``."""
    if split != "train":
        return split
    digest = hashlib.md5(("combine:" + normalised).encode("utf-8")).hexdigest()
    return "combine" if int(digest, 16) % 100 < COMBINE_PERCENT else split


class DatasetsMissing(FileNotFoundError):
    """The shared datasets a command reads are not where it looked; the message says what to pass."""


def require_datasets(root: Path, needed_by: str) -> Path:
    """``root`` when every shared file :func:`load_examples` reads is there; otherwise one clear line."""
    files = data_files(root)
    missing = [path for path in files if not path.is_file()]
    if missing:
        raise DatasetsMissing(
            f"{needed_by} reads the training datasets (../shared/datasets beside a checkout); "
            f"{len(missing)} of {len(files)} files are missing under {root}: pass --data-root DIR"
        )
    return root


def data_files(root: Path = DEFAULT_ROOT) -> list[Path]:
    """Every shared file :func:`load_examples` reads, for the training-data manifest (the register files
    are in this repository, which pins them itself)."""
    return sorted({root / f.path for f in SOURCE_FILES})


def load_examples(root: Path = DEFAULT_ROOT) -> list[Example]:
    """All examples of all tasks, ordered by task, then by source file and line."""
    return list(load_labeled_data(root).examples)


def load_labeled_data(root: Path = DEFAULT_ROOT) -> LabeledData:
    """The examples of all tasks, with the counts of rows removed by each rule."""
    candidates: dict[str, list[_Candidate]] = {task: [] for task in TASKS}
    empty: Counter[str] = Counter()
    for source_file in (*register_files(), *SOURCE_FILES):
        for candidate in _read_candidates(root, source_file):
            if candidate is None:
                empty.update(source_file.tasks)
                continue
            candidates[candidate.example.task].append(candidate)
    examples: list[Example] = []
    removed: dict[str, dict[str, int]] = {}
    for task in TASKS:
        kept, task_removed = _clean_task(candidates[task])
        examples.extend(kept)
        task_removed["empty_text"] = empty[task]
        removed[task] = dict(task_removed)
    return LabeledData(tuple(examples), removed)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An example before the per-task rules, with its normalised text."""

    example: Example
    key: str


def _read_candidates(root: Path, source_file: SourceFile) -> Iterator[_Candidate | None]:
    """One candidate per non-blank line and task that the line labels, or None for a text that
    normalises to ''."""
    path = root / source_file.path
    for number, row in _read_jsonl(path):
        text = row.get("text")
        if not isinstance(text, str):
            raise DatasetFormatError(f"{path}:{number}: 'text' must be a string, got {text!r}")
        key = normalise(text)
        if not key:
            yield None
            continue
        split = combine_split(key, source_file.split or hash_split(key))
        for task in source_file.tasks:
            try:
                label = source_file.label(row, task)
            except ValueError as exc:
                raise DatasetFormatError(f"{path}:{number}: {exc}") from exc
            if label is not None:
                yield _Candidate(Example(text.strip(), task, label, source_file.source, split), key)


def _read_jsonl(path: Path) -> Iterator[tuple[int, Row]]:
    """(line number, object) for each non-blank line of a JSON-lines file."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetFormatError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise DatasetFormatError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
            yield number, row


def _clean_task(candidates: Sequence[_Candidate]) -> tuple[list[Example], Counter[str]]:
    """Applies the de-duplication rules of the module docstring to one task's candidates."""
    removed: Counter[str] = Counter()
    dev_keys = {c.key for c in candidates if c.example.split == "dev"}
    remaining = []
    for candidate in candidates:
        if candidate.example.split != "dev" and candidate.key in dev_keys:
            removed["train_overlaps_dev"] += 1
        else:
            remaining.append(candidate)
    # After the first rule a normalised text lives in one split only, so the key alone identifies it.
    labels: defaultdict[str, set[int]] = defaultdict(set)
    for candidate in remaining:
        labels[candidate.key].add(candidate.example.label)
    kept: list[Example] = []
    seen: set[str] = set()
    for candidate in remaining:
        if len(labels[candidate.key]) > 1:
            removed["conflicting_label"] += 1
        elif candidate.key in seen:
            removed["duplicate"] += 1
        else:
            seen.add(candidate.key)
            kept.append(candidate.example)
    for reason in ("train_overlaps_dev", "conflicting_label", "duplicate"):
        removed.setdefault(reason, 0)
    return kept, removed


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")


def texts_labels(examples: Sequence[Example], task: str, split: str) -> tuple[list[str], list[int]]:
    """The texts and labels of one task's split, in example order."""
    _check_task(task)
    _check_split(split)
    chosen = [e for e in examples if e.task == task and e.split == split]
    return [e.text for e in chosen], [e.label for e in chosen]


def benign_dev(examples: Sequence[Example], task: str) -> list[Example]:
    """The dev examples of ``task`` that come from a benign-only set (for the false-positive rate)."""
    _check_task(task)
    return [e for e in examples if e.task == task and e.split == "dev" and e.source in BENIGN_SOURCES]


def summary(examples: Sequence[Example]) -> dict[str, dict[str, SplitCounts]]:
    """task -> split -> counts, tasks in TASKS order and splits in SPLITS order (only those present)."""
    counts: Counter[tuple[str, str, str, int]] = Counter(
        (e.task, e.split, e.source, e.label) for e in examples
    )
    result: dict[str, dict[str, SplitCounts]] = {}
    for task in TASKS:
        for split in SPLITS:
            cells = {
                (source, label): n for (t, s, source, label), n in counts.items() if (t, s) == (task, split)
            }
            if not cells:
                continue
            by_source: dict[str, dict[str, int]] = {}
            for (source, label), n in cells.items():
                by_source.setdefault(source, {"0": 0, "1": 0})[str(label)] += n
            positives = sum(n for (_, label), n in cells.items() if label == 1)
            negatives = sum(n for (_, label), n in cells.items() if label == 0)
            result.setdefault(task, {})[split] = SplitCounts(
                n=positives + negatives, positives=positives, negatives=negatives, by_source=by_source
            )
    return result


def summary_table(counts: Mapping[str, Mapping[str, SplitCounts]]) -> str:
    """The summary as a markdown table: one row per task, split and source, then the split's total."""
    lines = ["| task | split | source | label 0 | label 1 | total |", "|---|---|---|---:|---:|---:|"]
    for task, splits in counts.items():
        for split, split_counts in splits.items():
            for source, by_label in split_counts["by_source"].items():
                total = by_label["0"] + by_label["1"]
                lines.append(
                    f"| {task} | {split} | {source} | {by_label['0']:,} | {by_label['1']:,} | {total:,} |"
                )
            lines.append(
                f"| **{task}** | **{split}** | **all** | **{split_counts['negatives']:,}** "
                f"| **{split_counts['positives']:,}** | **{split_counts['n']:,}** |"
            )
    return "\n".join(lines)


def removed_table(removed: Mapping[str, Mapping[str, int]]) -> str:
    """Rows removed per task and rule, as a markdown table."""
    reasons = ("empty_text", "train_overlaps_dev", "conflicting_label", "duplicate")
    lines = ["| task | " + " | ".join(reasons) + " |", "|---|" + "---:|" * len(reasons)]
    for task, counts in removed.items():
        lines.append(f"| {task} | " + " | ".join(f"{counts.get(r, 0):,}" for r in reasons) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Counts of Huiyan's labeled examples per task and split.")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the shared datasets folder")
    args = parser.parse_args(argv)
    data = load_labeled_data(args.root)
    print(summary_table(summary(data.examples)))
    print()
    print("Rows removed per rule:")
    print()
    print(removed_table(data.removed))


if __name__ == "__main__":
    main()
