"""Behaviour is unchanged: the golden events decide exactly as recorded (issue #14, item 7).

The records were written by ``record.py`` before the layout changed; time fields are masked and
floats rounded to four decimals, everything else must match byte for byte. After a change that is
meant to alter decisions (a new model, a new rule), re-record and review the diff in the commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.record import DEAD_LETTERS, POLICIES, decide


@pytest.mark.parametrize("policy_file", list(POLICIES), ids=lambda p: Path(p).stem if p else "default")
def test_the_golden_events_decide_as_recorded(policy_file: str | None) -> None:
    decisions, dead_letters = decide(policy_file)
    recorded = POLICIES[policy_file].read_text("utf-8").splitlines()
    assert len(decisions) == len(recorded) == 358
    changed = [n for n, (now, then) in enumerate(zip(decisions, recorded, strict=True)) if now != then]
    assert not changed, (
        f"{len(changed)} decisions changed, first:\n{recorded[changed[0]]}\n{decisions[changed[0]]}"
    )
    assert dead_letters == DEAD_LETTERS.read_text("utf-8").splitlines()
