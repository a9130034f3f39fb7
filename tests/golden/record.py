"""Decides ``events.jsonl`` with the packaged policy and model and writes the canonical records.

Run from the repository root: ``.venv/bin/python -m tests.golden.record``. The canonical form masks
what varies by time (the decision's ``timing``) and rounds floats to four decimals, so that a different
CPU's last bits of an ONNX score do not count as a change; everything else is kept byte for byte.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EVENTS = HERE / "events.jsonl"
DEAD_LETTERS = HERE / "dead_letters.jsonl"
# Policy file (None: the packaged default) -> where its canonical decisions are recorded.
POLICIES: dict[str | None, Path] = {
    None: HERE / "decisions.default.jsonl",
    str(HERE / "policy.yaml"): HERE / "decisions.golden.jsonl",
}


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def canonical_decision(payload: bytes) -> str:
    doc = json.loads(payload)
    doc["timing"] = "<masked>"
    return json.dumps(_canonical(doc), ensure_ascii=False)


def decide(policy_file: str | None) -> tuple[list[str], list[str]]:
    """The canonical decisions and dead letters of the golden events under a policy, in input order."""
    from stream.core.offline import moderate_lines
    from stream.runtime import build_context
    from stream.settings import Settings

    # The visible label is read by OCR, whose figures belong to its own tests (tests/classifiers/labels/
    # pixels); the golden decisions pin the rules, the model and the policy.
    settings = Settings.from_env(environ={"HUIYAN_PIXEL_CHECKS": "0"}, policy_file=policy_file)
    context = build_context(settings)
    decisions, dead_letters = io.BytesIO(), io.StringIO()
    moderate_lines(EVENTS.read_bytes().splitlines(), decisions, dead_letters, context, batch_size=16)
    return (
        [canonical_decision(line) for line in decisions.getvalue().splitlines()],
        dead_letters.getvalue().splitlines(),
    )


def main() -> None:
    for policy_file, path in POLICIES.items():
        decisions, dead_letters = decide(policy_file)
        path.write_text("".join(line + "\n" for line in decisions), "utf-8")
        DEAD_LETTERS.write_text("".join(line + "\n" for line in dead_letters), "utf-8")
        print(f"{path.name}: {len(decisions)} decisions; {len(dead_letters)} dead letters")


if __name__ == "__main__":
    main()
