"""Checks one file of the hand-written register corpus: python check.py FILE.jsonl

Prints the counts per label and kind and every problem found (bad JSON, missing or non-binary labels,
empty or duplicate texts, texts also present in another file of the corpus). Exit status 1 on problems.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections import Counter
from pathlib import Path

# classifiers.scores.CATEGORIES, repeated: writers run this script alone, without the package installed.
LABELS = ("rumor", "vulgar", "impersonation")
HERE = Path(__file__).resolve().parent


def _norm(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and ch not in "，。！？、,.!?：:；;“”\"'")


def main(path: str) -> int:
    problems: list[str] = []
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc})")
            continue
        text = row.get("text")
        if not isinstance(text, str) or len(text.strip()) < 6:
            problems.append(f"line {number}: text missing or shorter than 6 characters")
        for label in LABELS:
            if row.get(label) not in (0, 1):
                problems.append(f"line {number}: {label} must be 0 or 1")
        if not isinstance(row.get("kind"), str) or not row["kind"]:
            problems.append(f"line {number}: kind missing")
        rows.append((number, row))
    seen: dict[str, int] = {}
    for number, row in rows:
        key = _norm(str(row.get("text", "")))
        if key in seen:
            problems.append(f"line {number}: same text as line {seen[key]}")
        seen[key] = number
    others = {}
    for other in sorted(HERE.glob("*/*.jsonl")):
        if other.resolve() == Path(path).resolve():
            continue
        for line in other.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                others[_norm(json.loads(line)["text"])] = other.name
    for number, row in rows:
        key = _norm(str(row.get("text", "")))
        if key in others:
            problems.append(f"line {number}: same text as in {others[key]}")
    positives = Counter(label for _, row in rows for label in LABELS if row.get(label) == 1)
    harmless = sum(1 for _, row in rows if all(row.get(label) == 0 for label in LABELS))
    kinds = Counter(str(row.get("kind")) for _, row in rows)
    print(f"{len(rows)} texts; positives {dict(positives)}; harmless in all three {harmless}")
    print("kinds:", ", ".join(f"{kind} {count}" for kind, count in kinds.most_common()))
    for problem in problems[:50]:
        print("PROBLEM", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
