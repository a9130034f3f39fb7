"""The agent keeps pixels off the text path: a batch's text events are delivered while its image is still
being read, later batches go on, and acks still follow batch order (issue #18 item 4)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from typing import Any

from classifiers.labels.pixels import PixelReading, VisibleLabel
from stream.core.pipeline import ModerationContext
from stream.core.pixels import PixelRunner
from stream.core.policy import load_policy
from stream.kafka.agents import BatchProcessor, moderate_stream
from stream.kafka.topics import Topics
from tests.fixtures.agents import LIMITS, FakeEvent, FakeMessage, FakeStream, RecordingTopic
from tests.fixtures.hostile import base_doc

SEEN = PixelReading(
    width=640,
    height=480,
    labels=(VisibleLabel("AI生成", True, 36, 480, 0.075, "bottom_right", True),),
    texts=(),
    frames_read=1,
    seconds_read=None,
)


def image_doc(n: int) -> dict[str, Any]:
    doc = base_doc(n)
    doc.update(
        content_type="image",
        service_type="image_video_generation",
        media={"mime_type": "image/png", "data_base64": base64.b64encode(b"png").decode()},
    )
    return doc


class Gate:
    """A pixel reader that waits until opened."""

    def __init__(self) -> None:
        self.opened = threading.Event()

    def __call__(self, data: bytes, mime_type: str) -> PixelReading:
        self.opened.wait(10)
        return SEEN


def processor(runner: PixelRunner) -> tuple[BatchProcessor, RecordingTopic]:
    decisions = RecordingTopic("decisions")
    topics = Topics(
        content=None,
        decisions=decisions,
        dead_letters=RecordingTopic("dead"),
        shadow_decisions=None,
        strikes=None,
    )
    context = ModerationContext(policy=load_policy(), limits=LIMITS, pixel_runner=runner)
    return BatchProcessor(context, topics, dlq_max_bytes=1_000_000), decisions


def event(doc: dict[str, Any], offset: int) -> FakeEvent:
    return FakeEvent(json.dumps(doc, ensure_ascii=False).encode(), FakeMessage(offset))


async def test_texts_are_delivered_while_the_image_of_their_batch_is_read() -> None:
    gate = Gate()
    runner = PixelRunner(gate, timeout_s=10)
    worker, decisions = processor(runner)
    stream = FakeStream(
        [
            [event(base_doc(0), 0), event(image_doc(1), 1), event(base_doc(2), 2)],
            [event(base_doc(3), 3), event(base_doc(4), 4)],
        ]
    )
    agent = asyncio.ensure_future(
        moderate_stream(stream, worker, batch_max=3, batch_within_s=0.01, in_flight=1)
    )
    for _ in range(200):  # both batches' texts delivered, the image not read yet
        if len(decisions.sent) >= 4:
            break
        await asyncio.sleep(0.01)
    sent = [json.loads(r["value"])["event_id"] for r in decisions.sent]
    assert sent == ["hostile-0", "hostile-2", "hostile-3", "hostile-4"]
    assert stream.acked == []  # no offset passes the image still being read
    gate.opened.set()
    await asyncio.wait_for(agent, 10)
    worker.close()
    image = json.loads(decisions.sent[-1]["value"])
    assert image["event_id"] == "hostile-1"
    assert any(f["code"] == "explicit_label_seen" for f in image["label_findings"])
    assert stream.acked == [0, 1, 2, 3, 4]


async def test_beyond_the_bound_an_image_is_decided_at_once_with_its_pixels_unread() -> None:
    gate = Gate()
    runner = PixelRunner(gate, max_pending=1, timeout_s=10)
    worker, decisions = processor(runner)
    first = await worker.decide([event(image_doc(1), 1)])
    second = await worker.decide([event(image_doc(2), 2)])  # the one media slot is taken
    assert first.media is not None and second.media is None
    [(_, decision, _)] = second.outcome.decisions
    assert decision.explicit_label_status == "inconclusive"
    assert any(
        f.code == "explicit_label_unseen" and "busy" in (f.evidence or "") for f in decision.label_findings
    )
    gate.opened.set()
    await worker.deliver_media([event(image_doc(1), 1)], first)
    worker.close()
    assert json.loads(decisions.sent[-1]["value"])["event_id"] == "hostile-1"
    assert runner.outcomes()[("image", "busy")] == 1
