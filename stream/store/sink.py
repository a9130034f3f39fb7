"""``huiyan store``: the decision, shadow-decision and dead-letter topics into the store.

A consumer group of its own (``<app id>-store``) reads the three topics; each polled batch is kept in one
database transaction, and only then are its offsets committed. A crash in between delivers the batch
again, and the store keeps each record once (by event id, or by a dead letter's source position), so a
record is stored exactly once however often it is delivered. Retention drops whole days once an hour.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from types import FrameType
from typing import Any

from stream.kafka.topics import (
    CHANNEL,
    DLQ_EVENT_ID,
    DLQ_REASON,
    DLQ_SOURCE_OFFSET,
    DLQ_SOURCE_PARTITION,
    DLQ_SOURCE_TOPIC,
)
from stream.settings import Settings
from stream.store.db import MIN_RETENTION_DAYS, Kind, Store, StoredRecord, StoreError

log = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).date()


def to_record(kind: Kind, topic: str, partition: int, offset: int, timestamp_ms: int, value: bytes | None,
              headers: Iterable[tuple[str, bytes]]) -> StoredRecord | None:  # fmt: skip
    """The store's record of one Kafka record, or None for one that is not a decision (logged)."""
    head = {name: raw for name, raw in headers}
    channel = head.get(CHANNEL, b"").decode("utf-8", "replace")
    if kind == "dead_letters":
        source = (
            head.get(DLQ_SOURCE_TOPIC, topic.encode()).decode("utf-8", "replace"),
            head.get(DLQ_SOURCE_PARTITION, str(partition).encode()).decode(),
            head.get(DLQ_SOURCE_OFFSET, str(offset).encode()).decode(),
        )
        at = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
        doc = {
            "headers": {name: raw.decode("utf-8", "backslashreplace") for name, raw in head.items()},
            "original": (value or b"").decode("utf-8", "backslashreplace"),
        }
        return StoredRecord(
            kind, "/".join(source), at.date(), at.isoformat(timespec="milliseconds"), "", "", "",
            head.get(DLQ_EVENT_ID, b"").decode("utf-8", "replace"), "dead_letter",
            head.get(DLQ_REASON, b"").decode("utf-8", "replace"), "", channel,
            json.dumps(doc, ensure_ascii=False),
        )  # fmt: skip
    try:
        decision = json.loads(value or b"")
        at = decision["timing"]["decided_at"]
        strongest = next((r for r in decision["reasons"] if r["action"] == decision["action"]), None)
        return StoredRecord(
            kind, decision["event_id"], _day(at), at, decision["tenant"], decision["scene"],
            decision["content_id"], decision["event_id"], decision["action"],
            strongest["code"] if strongest else "", decision["provenance"]["policy_version"], channel,
            (value or b"").decode("utf-8"), _scores(decision.get("scores") or {}),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError) as exc:
        log.warning(
            "skipped a record of %s that is not a decision (%s): %r", topic, exc, (value or b"")[:200]
        )
        return None


def _scores(scores: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    def one(category: str) -> float | None:
        value = scores.get(category)
        return float(value) if isinstance(value, int | float) else None

    return one("rumor"), one("vulgar"), one("impersonation")


class Sink:
    def __init__(self, settings: Settings, store: Store, consumer: Any | None = None) -> None:
        if settings.store_retention_days < MIN_RETENTION_DAYS:
            raise StoreError(
                f"HUIYAN_STORE_RETENTION_DAYS={settings.store_retention_days}: decisions must be kept at "
                f"least {MIN_RETENTION_DAYS} days (Labeling Measures Art. 11, Cybersecurity Law Art. 21)"
            )
        self.settings = settings
        self.store = store
        self.kinds: dict[str, Kind] = {
            settings.decision_topic: "decisions",
            settings.shadow_decision_topic: "shadow_decisions",
            settings.dead_letter_topic: "dead_letters",
        }
        self.consumer = consumer or self._consumer()
        self.stopping = False
        self.stored = 0
        self._purged_at = 0.0

    def _consumer(self) -> Any:
        from kafka import KafkaConsumer

        from stream.kafka.auth import kafka_python_options

        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=f"{self.settings.app_id}-store",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=1000,
            fetch_max_bytes=4 * self.settings.kafka_max_message_bytes,
            max_partition_fetch_bytes=2 * self.settings.kafka_max_message_bytes,
            **kafka_python_options(self.settings),
        )
        consumer.subscribe(list(self.kinds))
        return consumer

    def step(self, timeout_ms: int = 1000) -> int:
        """One poll: keeps its records, then commits their offsets. Returns how many were new."""
        polled = self.consumer.poll(timeout_ms=timeout_ms)
        records = []
        for tp, batch in polled.items():
            kind = self.kinds[tp.topic]
            for r in batch:
                record = to_record(
                    kind, tp.topic, tp.partition, r.offset, r.timestamp, r.value, r.headers or ()
                )
                if record is not None:
                    records.append(record)
        new = self.store.ingest(records) if records else 0
        if polled:
            self.consumer.commit()
        self.stored += new
        return new

    def purge(self, today: date | None = None) -> list[str]:
        cutoff = (today or datetime.now(UTC).date()) - timedelta(days=self.settings.store_retention_days)
        dropped = self.store.purge(cutoff)
        if dropped:
            log.info("retention: dropped %d days before %s", len(dropped), cutoff)
        return dropped

    def run(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("huiyan store: %s -> %s", ", ".join(self.kinds), type(self.store).__name__)
        try:
            while not self.stopping:
                if time.monotonic() - self._purged_at > PURGE_EVERY_S:
                    self.purge()
                    self._purged_at = time.monotonic()
                self.step()
        finally:
            self.consumer.close()
            self.store.close()
            log.info("huiyan store stopped after %d new records", self.stored)
