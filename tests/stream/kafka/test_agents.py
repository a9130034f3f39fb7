"""The agent's batch processor without a broker: what it produces, with which keys and headers, and that
it keeps retrying a failed delivery instead of acknowledging undelivered events."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from stream.core.pipeline import EventLimits, ModerationContext
from stream.core.policy import load_policy
from stream.kafka.agents import BatchProcessor
from stream.kafka.topics import DLQ_EVENT_ID, DLQ_REASON, DLQ_SOURCE_OFFSET, DLQ_TRUNCATED, Topics
from tests.fixtures.events import event_bytes


@dataclass
class RecordingTopic:
    """Stands in for a Faust topic: records what is sent; the first ``failures`` sends fail."""

    name: str
    failures: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def send(
        self, *, key: bytes | None, value: bytes, headers: Any, force: bool
    ) -> asyncio.Future[None]:
        assert force, "records must be published now, not attached to the current event"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.failures > 0:
            self.failures -= 1
            future.set_exception(ConnectionError("broker unavailable"))
        else:
            self.sent.append({"key": key, "value": value, "headers": dict(headers or [])})
            future.set_result(None)
        return future


@dataclass
class FakeMessage:
    topic: str = "content"
    partition: int = 2
    offset: int = 41
    key: bytes | None = b"k"
    timestamp: float = 0.0


@dataclass
class FakeEvent:
    value: bytes | None
    message: FakeMessage = field(default_factory=FakeMessage)


def _good(content_id: str) -> bytes:
    return event_bytes(content_id, "你好", scene="s", service_type="other")


def _processor(
    decisions: RecordingTopic, dead: RecordingTopic, dlq_max_bytes: int = 1000, classifiers: Any = ()
) -> BatchProcessor:
    context = ModerationContext(
        policy=load_policy(), limits=EventLimits(10_000, 10_000), classifiers=classifiers
    )
    return BatchProcessor(
        context,
        Topics(content=None, decisions=decisions, dead_letters=dead, shadow_decisions=None, strikes=None),
        dlq_max_bytes=dlq_max_bytes,
    )


async def test_decisions_keyed_by_content_id_and_dead_letters_with_headers() -> None:
    decisions, dead = RecordingTopic("decisions"), RecordingTopic("dead")
    processor = _processor(decisions, dead)
    bad = b'{"event_id": "x-1", "tenant": "t"}'
    await processor.process(
        [FakeEvent(_good("c-1")), FakeEvent(bad), FakeEvent(_good("c-2")), FakeEvent(None)]
    )
    assert [r["key"] for r in decisions.sent] == [b"c-1", b"c-2"]
    assert json.loads(decisions.sent[0]["value"])["event_id"] == "e-c-1"
    assert [r["value"] for r in dead.sent] == [bad, b""]
    assert dead.sent[0]["headers"][DLQ_REASON] == b"missing_field"
    assert dead.sent[0]["headers"][DLQ_EVENT_ID] == b"x-1"
    assert dead.sent[0]["headers"][DLQ_SOURCE_OFFSET] == b"41"
    assert dead.sent[0]["key"] == b"k"
    processor.close()


async def test_failed_delivery_is_retried_until_acknowledged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("stream.kafka.agents._RETRY_FIRST_S", 0.01)
    decisions, dead = RecordingTopic("decisions", failures=3), RecordingTopic("dead")
    processor = _processor(decisions, dead)
    await processor.process([FakeEvent(_good("c-1"))])
    assert [r["key"] for r in decisions.sent] == [b"c-1"]
    assert (
        processor.metrics.registry.get_sample_value("huiyan_send_retries_total", {"topic": "decisions"}) == 3
    )
    processor.close()


class BrokenModel:
    name = "broken"
    version = "0"
    categories = ("rumor", "vulgar", "impersonation")

    def predict_detailed(self, texts: Any) -> Any:
        raise RuntimeError("model file is corrupt")


async def test_a_failing_classifier_is_counted_in_the_notes_metric() -> None:
    decisions, dead = RecordingTopic("decisions"), RecordingTopic("dead")
    processor = _processor(decisions, dead, classifiers=(BrokenModel(),))
    await processor.process([FakeEvent(_good("c-1")), FakeEvent(_good("c-2"))])
    notes = processor.metrics.registry.get_sample_value(
        "huiyan_decision_notes_total", {"code": "classifier_unscored"}
    )
    assert notes == 2
    decided = [json.loads(r["value"]) for r in decisions.sent]
    assert [[n["code"] for n in d["notes"]] for d in decided] == [["classifier_unscored"]] * 2
    assert all(d["action"] == "flag" for d in decided)  # the shipped policy fails closed
    processor.close()


async def test_original_larger_than_the_dead_letter_limit_is_truncated_and_marked() -> None:
    decisions, dead = RecordingTopic("decisions"), RecordingTopic("dead")
    processor = _processor(decisions, dead, dlq_max_bytes=100)
    original = b"[" + b"0," * 10_000 + b"0]"
    await processor.process([FakeEvent(original)])
    (record,) = dead.sent
    assert record["value"] == original[:100]
    assert record["headers"][DLQ_TRUNCATED] == str(len(original)).encode()
    assert record["headers"][DLQ_REASON] == b"oversize"
    processor.close()
