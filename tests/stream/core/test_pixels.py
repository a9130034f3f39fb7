"""The pixel runner: reads off the text path, a bound on pending reads, a deadline per batch, and what the
decision says when a read could not be done (issue #18 item 4)."""

from __future__ import annotations

import base64
import threading
from typing import Any

from classifiers.labels.pixels import PixelReading, VisibleLabel
from stream.core.pipeline import EventLimits, ModerationContext, moderate
from stream.core.pixels import PixelRunner
from stream.core.policy import load_policy
from tests.fixtures.events import ABSENT, content_event

LABEL = VisibleLabel(
    text="AI生成",
    complete=True,
    height_px=30,
    shortest_side_px=480,
    size_ratio=30 / 480,
    position="bottom_right",
    on_edge=True,
)


def reading(*labels: VisibleLabel) -> PixelReading:
    return PixelReading(width=640, height=480, labels=labels, texts=(), frames_read=1, seconds_read=None)


def image_event(event_id: str = "img", mime: str = "image/png", **fields: Any) -> Any:
    media = {"mime_type": mime, "data_base64": base64.b64encode(b"\x89PNG not really").decode()}
    return content_event(
        f"c-{event_id}",
        ABSENT,
        event_id=event_id,
        content_type="image",
        service_type="image_video_generation",
        media={**media, "width": 640, "height": 480},
        **fields,
    )


class GatedReader:
    """A reader that blocks until released, and records which thread it ran on."""

    def __init__(self, answer: PixelReading) -> None:
        self.answer = answer
        self.gate = threading.Event()
        self.threads: list[str] = []

    def __call__(self, data: bytes, mime_type: str) -> PixelReading:
        self.threads.append(threading.current_thread().name)
        self.gate.wait(10)
        return self.answer


def context(runner: PixelRunner) -> ModerationContext:
    return ModerationContext(
        policy=load_policy(None), limits=EventLimits(1 << 20, 1 << 20), pixel_runner=runner
    )


def test_a_read_runs_on_the_runners_thread_and_its_label_reaches_the_decision() -> None:
    reader = GatedReader(reading(LABEL))
    reader.gate.set()
    runner = PixelRunner(reader, timeout_s=5)
    (decision,) = moderate([image_event()], context(runner))
    assert reader.threads and reader.threads[0].startswith("huiyan-pixels")
    codes = [f.code for f in decision.label_findings]
    assert "explicit_label_seen_undeclared" in codes and "explicit_label_missing" not in codes
    assert runner.outcomes() == {("image", "read"): 1}
    assert runner.pending() == 0


def test_past_the_bound_a_read_is_not_started_and_the_explicit_verdict_is_inconclusive() -> None:
    reader = GatedReader(reading(LABEL))
    runner = PixelRunner(reader, max_pending=1, timeout_s=0.2)
    declared = {"kind": "text", "position": "bottom_right", "text": "AI生成", "size_ratio": 0.06}
    decisions = moderate(
        [image_event("a", explicit_label=declared), image_event("b", explicit_label=declared)],
        context(runner),
    )
    reader.gate.set()
    for decision in decisions:
        unseen = [f for f in decision.label_findings if f.code == "explicit_label_unseen"]
        assert len(unseen) == 1, decision.event_id
        assert decision.explicit_label_status == "inconclusive"
    why = {
        d.event_id: next(f for f in d.label_findings if f.code == "explicit_label_unseen") for d in decisions
    }
    assert "timed_out" in (why["a"].evidence or why["a"].message)
    assert "busy" in (why["b"].evidence or why["b"].message)
    outcomes = runner.outcomes()
    assert outcomes[("image", "busy")] == 1 and outcomes[("image", "timed_out")] == 1


def test_a_text_batch_never_waits_and_never_submits() -> None:
    reader = GatedReader(reading(LABEL))  # never released: a text batch must not touch it
    runner = PixelRunner(reader, timeout_s=30)
    (decision,) = moderate([content_event("c-t", "今天天气很好。", event_id="t")], context(runner))
    assert decision.event_id == "t" and reader.threads == [] and runner.outcomes() == {}


def test_an_unsupported_format_is_answered_without_a_thread() -> None:
    reader = GatedReader(reading(LABEL))
    runner = PixelRunner(reader, timeout_s=30)
    (decision,) = moderate([image_event(mime="image/x-unknown")], context(runner))
    assert reader.threads == []
    assert runner.outcomes() == {("image", "unreadable"): 1}
    assert decision.explicit_label_status == "inconclusive"


def test_a_reader_bug_is_the_events_unseen_finding_not_a_crash() -> None:
    def broken(data: bytes, mime_type: str) -> PixelReading:
        raise RuntimeError("decoder bug")

    runner = PixelRunner(broken, timeout_s=5)
    (decision,) = moderate([image_event()], context(runner))
    assert runner.outcomes() == {("image", "failed"): 1}
    assert any(f.code == "explicit_label_unseen" for f in decision.label_findings)


def test_without_a_runner_the_explicit_label_is_judged_as_declared() -> None:
    bare = ModerationContext(policy=load_policy(None), limits=EventLimits(1 << 20, 1 << 20))
    (decision,) = moderate([image_event()], bare)
    codes = [f.code for f in decision.label_findings]
    assert "explicit_label_missing" in codes and not any(c.startswith("explicit_label_seen") for c in codes)
