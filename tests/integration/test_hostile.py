"""Hostile producers on the real broker (issue #12): generated hostile events mixed into normal traffic,
two workers. Every record sent ends as a decision or a dead letter, every normal event carries its
scores (a text that times out among them included), and the workers that saw it all stop on SIGTERM
within their shutdown timeout."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import pytest

from tests.fixtures.classifiers import MARKER
from tests.fixtures.hostile import Sent, base_doc, hostile_texts, mixed_traffic
from tests.fixtures.kafka import Deployment

pytestmark = pytest.mark.integration

CATEGORIES = {"rumor", "vulgar", "impersonation"}


def test_hostile_events_mixed_into_traffic_all_end_somewhere(deployment: Deployment) -> None:
    sent = list(mixed_traffic(300, seed=12))
    sent += [Sent(value, False) for value in hostile_texts(10_000)]
    # A text that times out: the bundled model, slowed down to 8 s on this text only.
    hang = base_doc(20_000, f"{MARKER}这段文字会让分类器超时。")
    sent.insert(150, Sent(json.dumps(hang, ensure_ascii=False).encode(), False))
    workers = [
        deployment.start_worker(
            HUIYAN_SHUTDOWN_TIMEOUT_S="20",
            HUIYAN_CLASSIFIER_TIMEOUT_MS="3000",
            HUIYAN_CLASSIFIER_FACTORY="tests.fixtures.classifiers:build",
        )
        for _ in range(2)
    ]
    deployment.produce([s.value for s in sent])

    # Read until every record is accounted for (at-least-once: a rebalance may repeat some).
    decided: dict[str, dict[str, object]] = {}
    dead: Counter[bytes] = Counter()
    expected_ids = {s.event_id for s in sent if s.event_id is not None}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        for record in deployment.read(deployment.settings.decision_topic, 10_000, timeout_s=2):
            doc = json.loads(record.value)
            decided[str(doc["event_id"])] = doc
        letters = deployment.read(deployment.settings.dead_letter_topic, 10_000, timeout_s=2)
        dead = Counter(r.value for r in letters)
        # A record is missing if it was not decided and fewer dead letters than copies sent hold its bytes
        # (some hostile records are byte for byte the same, such as an empty one).
        undecided = Counter(s.value for s in sent if s.event_id not in decided)
        missing = [value for value, copies in undecided.items() if dead[value] < copies]
        if not missing:
            break
        time.sleep(2)
    assert not missing, (len(missing), [m[:120] for m in missing[:5]], deployment.log(0)[-3000:])
    assert len(decided) + dead.total() >= len(sent)
    assert set(decided) <= expected_ids  # no decision under an id nobody sent

    for record in sent:
        if record.normal:
            decision = decided[str(record.event_id)]
            assert set(decision["scores"]) == CATEGORIES, decision  # type: ignore[arg-type]
            assert decision["notes"] == [], decision
    hostile_decided = [decided[s.event_id] for s in sent if not s.normal and s.event_id in decided]
    assert any("text_normalised" in json.dumps(d["notes"]) for d in hostile_decided)
    timed_out = decided["hostile-20000"]
    assert timed_out["scores"] == {} and timed_out["action"] == "flag", timed_out
    assert [n["code"] for n in timed_out["notes"]] == ["classifier_unscored"]  # type: ignore[union-attr]
    assert "timed out" in json.dumps(timed_out["notes"])

    for index, worker in enumerate(workers):
        started = time.monotonic()
        code = deployment.stop_worker(worker, signal.SIGTERM)
        assert code == 0 and time.monotonic() - started < 25, (code, deployment.log(index)[-3000:])
    for index in range(2):
        assert "Traceback" not in deployment.log(index), deployment.log(index)[-3000:]
