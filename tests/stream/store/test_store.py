"""The decision store on SQLite and PostgreSQL: each record kept once, days as partitions, retention,
and an audit export whose chains show any removal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from stream.settings import Settings
from stream.store.audit import export, verify
from stream.store.db import Store, StoredRecord, StoreError
from stream.store.sink import Sink, to_record

DAY = date(2026, 12, 4)


def _decision(event_id: str, day: date = DAY, tenant: str = "t1", action: str = "flag") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "tenant": tenant,
        "scene": "post",
        "content_id": f"c-{event_id}",
        "action": action,
        "reasons": [{"code": "rumor_score", "action": action}] if action != "allow" else [],
        "provenance": {"policy_version": "default@sha256:x"},
        "timing": {"decided_at": f"{day.isoformat()}T08:00:00.{len(event_id):03d}Z"},
    }


def _record(event_id: str, day: date = DAY, tenant: str = "t1") -> StoredRecord:
    record = to_record(
        "decisions",
        "d",
        0,
        0,
        0,
        json.dumps(_decision(event_id, day, tenant)).encode(),
        [("huiyan.channel", b"api")],
    )
    assert record is not None
    return record


def test_a_record_delivered_twice_is_kept_once(store: Store) -> None:
    assert store.ingest([_record("e1"), _record("e2"), _record("e1")]) == 2
    assert store.ingest([_record("e2"), _record("e3")]) == 1
    rows = list(store.rows("decisions", DAY))
    assert [r["event_id"] for r in rows] == ["e1", "e2", "e3"]
    assert rows[0]["channel"] == "api" and rows[0]["reason"] == "rumor_score"
    assert json.loads(rows[0]["doc"])["event_id"] == "e1"


def test_days_are_partitions_and_retention_drops_whole_days(store: Store) -> None:
    days = [date(2026, 6, 1), date(2026, 6, 2), DAY]
    store.ingest([_record(f"e{i}", day) for i, day in enumerate(days)])
    assert store.days("decisions") == days
    dropped = store.purge(date(2026, 6, 2))
    assert dropped == ["decisions_p20260601"] and store.days("decisions") == days[1:]
    assert [r["event_id"] for r in store.rows("decisions", days[1])] == ["e1"]
    assert store.count("decisions") == 2


def test_rows_of_one_tenant(store: Store) -> None:
    store.ingest([_record("a", tenant="t1"), _record("b", tenant="t2")])
    assert [r["event_id"] for r in store.rows("decisions", DAY, tenant="t2")] == ["b"]


def test_an_export_verifies_and_any_removal_or_change_shows(store: Store, tmp_path: Path) -> None:
    store.ingest([_record(f"e{i}", date(2026, 12, 1 + i % 3)) for i in range(9)])
    out = tmp_path / "export"
    done = export(store, out, date(2026, 12, 1), date(2026, 12, 3))
    assert (done.files, done.records) == (3, 9)
    assert verify(out) == []
    one = out / "decisions-2026-12-02.jsonl"
    lines = one.read_bytes().splitlines(keepends=True)
    one.write_bytes(b"".join(lines[:1] + lines[2:]))  # a line removed
    assert any("chain broken" in p for p in verify(out))
    one.write_bytes(b"".join(lines))
    assert verify(out) == []
    (out / "decisions-2026-12-03.jsonl").unlink()  # a file removed
    assert any("missing" in p for p in verify(out))


def test_dead_letters_are_kept_once_by_their_source_position() -> None:
    headers = [
        ("huiyan.dlq.reason", b"missing_field"),
        ("huiyan.dlq.source.topic", b"huiyan.content"),
        ("huiyan.dlq.source.partition", b"2"),
        ("huiyan.dlq.source.offset", b"41"),
        ("huiyan.dlq.event_id", b"x-1"),
    ]
    first = to_record("dead_letters", "huiyan.dead-letter", 0, 7, 1_764_835_200_000, b'{"x": 1}', headers)
    again = to_record("dead_letters", "huiyan.dead-letter", 0, 9, 1_764_835_200_000, b'{"x": 1}', headers)
    assert first is not None and again is not None and first.id == again.id == "huiyan.content/2/41"
    assert first.reason == "missing_field" and first.event_id == "x-1"
    assert to_record("decisions", "d", 0, 0, 0, b"not json", []) is None


@dataclass
class FakeMessage:
    offset: int
    value: bytes
    timestamp: int = 0
    headers: list[tuple[str, bytes]] | None = None


@dataclass(frozen=True)
class FakePartition:
    topic: str
    partition: int = 0


class FakeConsumer:
    """Delivers its batches, then the first one again (a redelivery after a crash before the commit)."""

    def __init__(self, batches: list[dict[FakePartition, list[FakeMessage]]]) -> None:
        self.batches = [*batches, batches[0]]
        self.commits = 0

    def poll(self, timeout_ms: int) -> dict[FakePartition, list[FakeMessage]]:
        return self.batches.pop(0) if self.batches else {}

    def commit(self) -> None:
        self.commits += 1

    def close(self) -> None:
        pass


def test_the_sink_stores_each_record_once_and_commits_after_storing(store: Store) -> None:
    settings = Settings.from_env(environ={})
    decisions = FakePartition(settings.decision_topic)
    shadow = FakePartition(settings.shadow_decision_topic)
    batch1 = {decisions: [FakeMessage(i, json.dumps(_decision(f"e{i}")).encode()) for i in range(3)]}
    batch2 = {shadow: [FakeMessage(0, json.dumps(_decision("e0", action="block")).encode())]}
    consumer = FakeConsumer([batch1, batch2])
    sink = Sink(settings, store, consumer)
    assert [sink.step() for _ in range(4)] == [3, 1, 0, 0]
    assert consumer.commits == 3 and store.count("decisions") == 3 and store.count("shadow_decisions") == 1


def test_a_retention_under_180_days_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="at least 180 days"):
        Sink(Settings.from_env(environ={}, store_retention_days=30), store, FakeConsumer([{}]))


def _scored(event_id: str, score: float, day: date = DAY) -> StoredRecord:
    doc = {**_decision(event_id, day), "scores": {"rumor": score, "vulgar": 0.0}}
    record = to_record("decisions", "d", 0, 0, 0, json.dumps(doc).encode(), [])
    assert record is not None
    return record


def test_the_threshold_page_queries_count_and_find_what_a_new_threshold_changes(store: Store) -> None:
    scores = [0.05, 0.12, 0.31, 0.35, 0.49, 0.5, 0.72, 0.96]
    store.ingest([_scored(f"e{i}", s) for i, s in enumerate(scores)])
    store.ingest([_scored("old", 0.4, date(2026, 6, 1))])  # before the period
    bins = store.histogram("rumor", date(2026, 12, 1))
    assert sum(bins.values()) == 8 and bins[31] == 1 and bins[96] == 1 and bins[5] == 1
    crossing = store.crossing("rumor", date(2026, 12, 1), (0.3, 0.95), (0.5, 0.95))
    assert sorted(event for event, _ in crossing) == ["e2", "e3", "e4"]  # 0.31, 0.35, 0.49: flag -> allow
    assert store.crossing("rumor", date(2026, 12, 1), (0.3, 0.95), (0.3, 0.7)) == [("e6", 0.72)]
