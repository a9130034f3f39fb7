"""The comparison behind ``huiyan shadow report`` and ``huiyan replay``."""

from __future__ import annotations

import json
from typing import Any

from stream.core.policy_diff import DiffReport, category_actions, pair_by_event


def _decision(event_id: str, action: str, *reasons: tuple[str, str], tenant: str = "t") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "content_id": f"c-{event_id}",
        "tenant": tenant,
        "scene": "post",
        "action": action,
        "reasons": [{"code": f"{c}_x", "category": c, "action": a, "message": "m"} for c, a in reasons],
        "provenance": {"policy_version": f"p@{action}"},
    }


def test_category_actions_keep_the_strongest_per_category() -> None:
    decision = _decision("e", "block", ("rumor", "flag"), ("rumor", "block"), ("label", "flag"))
    assert category_actions(decision) == {"rumor": "block", "label": "flag"}


def test_report_counts_changes_by_action_category_and_tenant() -> None:
    report = DiffReport()
    report.add(_decision("1", "allow"), _decision("1", "flag", ("rumor", "flag")))
    report.add(_decision("2", "flag", ("rumor", "flag")), _decision("2", "flag", ("rumor", "flag")))
    report.add(
        _decision("3", "flag", ("label", "flag"), tenant="kids"),
        _decision("3", "block", ("label", "flag"), ("vulgar", "block"), tenant="kids"),
    )
    assert (report.compared, report.changed) == (3, 2)
    assert report.actions == {("allow", "flag"): 1, ("flag", "flag"): 1, ("flag", "block"): 1}
    assert report.categories == {("rumor", "allow", "flag"): 1, ("vulgar", "allow", "block"): 1}
    assert report.tenants == {("t", "allow", "flag"): 1, ("kids", "flag", "block"): 1}
    assert [e["event_id"] for e in report.examples["flag->block"]] == ["3"]
    text = report.render("live", "shadow")
    assert "3 events compared, 2 decided differently (66.7%)" in text
    assert "flag -> block" in text
    assert json.loads(json.dumps(report.to_dict()))["changed"] == 2


def test_pairing_by_event_keeps_the_newest_and_counts_the_unpaired() -> None:
    live = [json.dumps(_decision(e, "allow")).encode() for e in ("1", "2", "3")]
    live.append(json.dumps(_decision("1", "flag")).encode())  # a redelivery: the newest wins
    shadow = [json.dumps(_decision(e, "block")).encode() for e in ("1", "2", "9")] + [b"not json"]
    pairs, live_only, shadow_only = pair_by_event(live, shadow)
    assert [(a["event_id"], a["action"], b["action"]) for a, b in pairs] == [
        ("1", "flag", "block"),
        ("2", "allow", "block"),
    ]
    assert (live_only, shadow_only) == (1, 1)
