"""The review queue on both databases, and thresholds learnt from reviewers' verdicts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from stream.cli import main
from stream.core.policy import parse_policy
from stream.store.db import Review, SqliteStore, Store, StoreError
from stream.store.reviews import candidate_policy, record_review, review_examples
from stream.store.sink import to_record


def _decision(event_id: str, *, category: str, score: float, action: str = "flag", scene: str = "post",
              tenant: str = "t1", minute: int = 0) -> bytes:  # fmt: skip
    reasons = [] if action == "allow" else [
        {"code": f"{category}_score", "category": category, "action": action, "score": score}
    ]  # fmt: skip
    doc = {
        "event_id": event_id, "tenant": tenant, "scene": scene, "content_id": f"c-{event_id}",
        "action": action, "reasons": reasons, "scores": {category: score},
        "provenance": {"policy_version": "default@sha256:x"},
        "timing": {"decided_at": f"2026-12-04T08:{minute:02d}:00.000Z"},
    }  # fmt: skip
    return json.dumps(doc).encode()


def _fill(store: Store, decisions: list[bytes]) -> None:
    records = [to_record("decisions", "d", 0, i, 0, value, []) for i, value in enumerate(decisions)]
    store.ingest([r for r in records if r is not None])


def test_the_queue_holds_flagged_decisions_without_a_final_verdict_oldest_first(store: Store) -> None:
    _fill(store, [
        _decision("b", category="rumor", score=0.6, minute=2),
        _decision("a", category="vulgar", score=0.4, minute=1, scene="comment"),
        _decision("c", category="rumor", score=0.99, action="block", minute=3),
        _decision("d", category="rumor", score=0.1, action="allow", minute=4),
        _decision("e", category="rumor", score=0.7, tenant="t2", minute=5),
    ])  # fmt: skip
    assert [r["event_id"] for r in store.queue("t1")] == ["a", "b"]
    assert [r["event_id"] for r in store.queue("t1", category="rumor")] == ["b"]
    assert [r["event_id"] for r in store.queue("t1", scene="comment")] == ["a"]
    assert [r["event_id"] for r in store.queue("t1", reason="vulgar_score")] == ["a"]
    published: list[Review] = []
    record_review(store, "t1", "a", "escalate", "alice", "unsure", publish=published.append)
    assert [r["event_id"] for r in store.queue("t1")] == ["a", "b"]  # escalated: still waiting
    record_review(store, "t1", "a", "no_violation", "bob", publish=published.append)
    assert [r["event_id"] for r in store.queue("t1")] == ["b"]
    assert [(r.verdict, r.reviewer) for r in store.reviews("t1")] == [
        ("escalate", "alice"),
        ("no_violation", "bob"),
    ]
    assert json.loads(published[0].to_json())["note"] == "unsure"


def test_a_review_needs_a_known_verdict_a_reviewer_and_the_tenants_own_decision(store: Store) -> None:
    _fill(store, [_decision("a", category="rumor", score=0.6)])
    with pytest.raises(StoreError, match="verdict"):
        record_review(store, "t1", "a", "maybe", "alice")
    with pytest.raises(StoreError, match="reviewer"):
        record_review(store, "t1", "a", "violation", "")
    with pytest.raises(StoreError, match="no stored decision"):
        record_review(store, "t2", "a", "violation", "alice")


def test_verdicts_become_labelled_scores_of_the_category_that_raised_the_flag(store: Store) -> None:
    scores = {"r1": 0.35, "r2": 0.45, "r3": 0.55, "r4": 0.65, "r5": 0.75, "r6": 0.85}
    _fill(store, [_decision(e, category="rumor", score=s) for e, s in scores.items()])
    for event_id, score in scores.items():
        record_review(store, "t1", event_id, "violation" if score >= 0.6 else "no_violation", "alice")
    labels, values = review_examples(store)["rumor"]
    assert sorted(zip(values, labels, strict=True)) == [
        (0.35, 0),
        (0.45, 0),
        (0.55, 0),
        (0.65, 1),
        (0.75, 1),
        (0.85, 1),
    ]


def test_a_candidate_policy_keeps_the_rest_and_parses() -> None:
    text = (
        "name: base\n"
        "label_severity: {violation: flag, warning: allow, info: allow}\n"
        "categories:\n"
        "  rumor: {flag: 0.3, block: 0.95}\n"
    )
    candidate = parse_policy(candidate_policy(text, {"rumor": (0.6, 0.95)}, "6 reviews"))
    assert candidate.name == "base-reviewed"
    assert (candidate.categories["rumor"].flag, candidate.categories["rumor"].block) == (0.6, 0.95)


def test_huiyan_tune_from_reviews_proposes_thresholds_and_saves_a_policy_that_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore(tmp_path / "store.db")
    scores = [0.3 + i * 0.02 for i in range(30)]
    _fill(store, [_decision(f"e{i}", category="vulgar", score=s) for i, s in enumerate(scores)])
    at = datetime(2026, 12, 4, 9, tzinfo=UTC)
    for i, score in enumerate(scores):
        record_review(store, "t1", f"e{i}", "violation" if score >= 0.5 else "no_violation", "alice", now=at)
    store.close()
    monkeypatch.setenv("HUIYAN_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    candidate = tmp_path / "candidate.yaml"
    result = CliRunner().invoke(
        main,
        [
            "tune",
            "--from-reviews",
            "--target-precision",
            "0.95",
            "--save",
            str(candidate),
            "--out",
            str(tmp_path / "plots"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "vulgar" in result.output and "policy push" in result.output
    checked = CliRunner().invoke(main, ["policy", "check", str(candidate)])
    assert checked.exit_code == 0, checked.output
    policy = parse_policy(candidate.read_text("utf-8"))
    assert 0.48 <= policy.categories["vulgar"].flag <= 0.52  # the lowest threshold with precision >= 0.95
    assert (tmp_path / "plots" / "pr-vulgar.png").exists()
    _ = date, Any  # imported for the helpers' annotations
