"""Hostile producers (issue #12): every event ends in exactly one of decisions and dead letters, whatever
its bytes; one poisoned text leaves its batch-mates scored; acks stay in batch order after a failure."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.content import ContentEvent
from classifiers.scores import ClassifierOutput
from classifiers.text_model import TextRiskModel
from stream.core.offline import moderate_lines
from stream.core.pipeline import ClassifierRunner, ModerationContext, moderate, score_isolated
from stream.core.policy import load_policy
from stream.core.records import EventRejected, parse_event
from stream.kafka.agents import BatchProcessor, DeliveryFailed, Planned, moderate_stream
from stream.kafka.topics import DLQ_EVENT_ID, DLQ_REASON, Topics
from tests.fixtures.agents import LIMITS, FakeEvent, FakeMessage, FakeStream, RecordingTopic
from tests.fixtures.hostile import FIELDS, FRAGMENTS, base_doc, hostile_texts, odd_encodings, with_fragment


@pytest.fixture(scope="module")
def model() -> TextRiskModel:
    return TextRiskModel()


def _context(*classifiers: Any, timeout_s: float | None = 10.0) -> ModerationContext:
    return ModerationContext(
        policy=load_policy(), limits=LIMITS, classifiers=classifiers, classifier_timeout_s=timeout_s
    )


def _parse(raw: bytes) -> ContentEvent | EventRejected:
    return parse_event(raw, max_event_bytes=LIMITS.max_event_bytes, max_media_bytes=LIMITS.max_media_bytes)


def _account_offline(
    lines: list[bytes], context: ModerationContext
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Runs ``huiyan moderate``'s core on ``lines`` and checks that every line ends in exactly one place."""
    out, dead = io.BytesIO(), io.StringIO()
    moderate_lines(lines, out, dead, context, batch_size=16)
    decisions = [json.loads(line) for line in out.getvalue().splitlines()]
    dead_letters = [json.loads(line) for line in dead.getvalue().splitlines()]
    decided_ids = [d["event_id"] for d in decisions]
    dead_lines = [d["line"] for d in dead_letters]
    assert len(set(dead_lines)) == len(dead_lines)
    sent_ids = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if number in dead_lines:
            continue
        doc = json.loads(line)
        sent_ids[doc["event_id"]] = number
    # Every line not dead-lettered was decided once, under the id it was sent with.
    assert sorted(decided_ids) == sorted(sent_ids), (decided_ids, sent_ids)
    return decisions, dead_letters


@pytest.mark.parametrize("path", FIELDS, ids=lambda p: ".".join(p))
def test_every_fragment_in_every_field_ends_somewhere(path: tuple[str, ...]) -> None:
    lines = [with_fragment(base_doc(n), path, fragment) for n, fragment in enumerate(FRAGMENTS)]
    decisions, dead = _account_offline(lines, _context())
    assert len(decisions) + len(dead) == len(lines)
    for letter in dead:
        assert letter["reason"] in {
            "invalid_json",
            "invalid_value",
            "wrong_type",
            "invalid_encoding",
            "missing_field",
        }, letter
        json.dumps(letter).encode("utf-8")  # a dead letter is always writable


@given(
    path=st.sampled_from(FIELDS),
    value=st.one_of(
        st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=5),
        st.text(max_size=50),
        st.integers(min_value=-(10**60), max_value=10**60),
        st.floats(),
        st.recursive(st.none() | st.booleans() | st.text(max_size=5), lambda c: st.lists(c, max_size=3)),
    ),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_generated_hostile_values_end_somewhere(path: tuple[str, ...], value: Any) -> None:
    # ensure_ascii writes lone surrogates as \\udxxx escapes, allow_nan writes NaN/Infinity literals.
    fragment = json.dumps(value, ensure_ascii=True, allow_nan=True)
    lines = [json.dumps(base_doc(0)).encode(), with_fragment(base_doc(1), path, fragment)]
    decisions, dead = _account_offline(lines, _context())
    assert len(decisions) + len(dead) == 2
    for decision in decisions:
        json.dumps(decision, allow_nan=False).encode("utf-8")  # strict JSON, valid UTF-8


def test_the_real_model_scores_every_normal_neighbour_of_hostile_texts(model: TextRiskModel) -> None:
    normal = [json.dumps(base_doc(n), ensure_ascii=False).encode() for n in range(10)]
    lines = [*hostile_texts(100), *normal]
    decisions, dead = _account_offline(lines, _context(model))
    assert dead == []
    by_id = {d["event_id"]: d for d in decisions}
    for n in range(10):
        decision = by_id[f"hostile-{n}"]
        assert set(decision["scores"]) == {"rumor", "vulgar", "impersonation"}
        assert decision["notes"] == []
    poisoned = by_id["hostile-100"]  # the first hostile text: a lone surrogate, replaced at the edge
    assert [n["code"] for n in poisoned["notes"]] == ["text_normalised"]
    assert "U+FFFD in text (1)" in poisoned["notes"][0]["message"]
    assert set(poisoned["scores"]) == {"rumor", "vulgar", "impersonation"}


def test_odd_encodings_are_dead_lettered_with_a_reason() -> None:
    lines = odd_encodings(3)
    out, dead = io.BytesIO(), io.StringIO()
    moderate_lines(lines, out, dead, _context())
    letters = [json.loads(line) for line in dead.getvalue().splitlines()]
    # The empty line is skipped as a separator; every other one is refused with a reason.
    assert out.getvalue() == b""
    assert {letter["reason"] for letter in letters} <= {"invalid_encoding", "invalid_json"}
    assert len(letters) == len([line for line in lines if line.strip()])


@pytest.mark.parametrize(
    ("fragment", "reason", "detail", "event_id"),
    [
        # Refused while reading: the document never exists, but its id is found in the bytes for the
        # dead letter, which keeps them.
        ("1" * 5000, "invalid_value", "an integer of 5000 characters", "hostile-1"),
        ("NaN", "invalid_value", "NaN is not JSON", "hostile-1"),
        ("1e999", "invalid_value", "out of range", "hostile-1"),
        ("[" * 1200 + "]" * 1200, "invalid_json", "recursion", "hostile-1"),
        ("[" * 40 + "]" * 40, "invalid_value", "nested 41 levels deep", "hostile-1"),
    ],
)
def test_the_edge_refuses_numbers_and_nesting_no_later_step_could_carry(
    fragment: str, reason: str, detail: str, event_id: str | None
) -> None:
    rejected = _parse(with_fragment(base_doc(1), ("extra_field",), fragment))
    assert isinstance(rejected, EventRejected)
    assert (rejected.reason, rejected.event_id) == (reason, event_id)
    assert detail in rejected.detail


def test_a_lone_surrogate_in_an_identifier_is_refused_and_named_as_escaped() -> None:
    rejected = _parse(with_fragment(base_doc(1), ("event_id",), '"id-\\udfff"'))
    assert isinstance(rejected, EventRejected)
    assert rejected.reason == "invalid_encoding" and rejected.detail.startswith("event_id:")
    assert rejected.event_id == "id-\\udfff"  # as the JSON spelled it: valid UTF-8 for a header


def test_a_lone_surrogate_elsewhere_is_replaced_and_listed() -> None:
    raw = with_fragment(base_doc(1), ("explicit_label",), '{"kind": "text", "text": "AI\\ud800生成"}')
    event = _parse(raw)
    assert isinstance(event, ContentEvent)
    assert event.explicit_label is not None and event.explicit_label.text == "AI\ufffd生成"
    assert event.normalised == (("explicit_label/text", 1),)
    (decision,) = moderate([event], _context())
    assert decision.notes[0].code == "text_normalised"
    decision.to_json().decode("utf-8")


# --- the agent's path: encoding, dead-letter headers, acks ---


def _processor(context: ModerationContext) -> tuple[BatchProcessor, RecordingTopic, RecordingTopic]:
    decisions, dead = RecordingTopic("decisions"), RecordingTopic("dead")
    topics = Topics(content=None, decisions=decisions, dead_letters=dead, shadow_decisions=None, strikes=None)
    return BatchProcessor(context, topics, dlq_max_bytes=1_000_000), decisions, dead


async def test_the_agent_path_gives_each_hostile_event_one_record() -> None:
    lines = [
        with_fragment(base_doc(n), path, f)
        for n, (path, f) in enumerate((p, f) for p in FIELDS for f in FRAGMENTS[::3])
    ]
    lines += odd_encodings(999)
    processor, decisions, dead = _processor(_context())
    events = [FakeEvent(line or None, FakeMessage(i)) for i, line in enumerate(lines)]
    for start in range(0, len(events), 32):
        await processor.process(events[start : start + 32])
    processor.close()
    offsets = [int(r["headers"]["huiyan.dlq.source.offset"]) for r in dead.sent]
    decided = [json.loads(r["value"])["event_id"] for r in decisions.sent]
    assert len(offsets) + len(decided) == len(lines)
    assert len(set(offsets)) == len(offsets) and len(set(decided)) == len(decided)
    escaped = [r for r in dead.sent if b"\\ud" in r["headers"].get(DLQ_EVENT_ID, b"")]
    assert escaped and all(r["headers"][DLQ_REASON] == b"invalid_encoding" for r in escaped)


class FailingFirstDelivery(BatchProcessor):
    """Its first batch's delivery fails slowly (a bug, not the broker); later ones succeed at once."""

    calls = 0

    async def deliver(self, events: Sequence[Any], planned: Planned) -> None:
        self.calls += 1
        if self.calls == 1:
            await asyncio.sleep(0.2)
            raise UnicodeEncodeError("utf-8", "\udfff", 0, 1, "surrogates not allowed")


async def test_a_failed_delivery_stops_every_later_ack_and_raises() -> None:
    decisions, dead = RecordingTopic("decisions"), RecordingTopic("dead")
    topics = Topics(content=None, decisions=decisions, dead_letters=dead, shadow_decisions=None, strikes=None)
    processor = FailingFirstDelivery(_context(), topics, dlq_max_bytes=1000)
    good = json.dumps(base_doc(1)).encode()
    stream = FakeStream(
        [[FakeEvent(good, FakeMessage(o)) for o in range(i * 3, i * 3 + 3)] for i in range(4)]
    )
    with pytest.raises(DeliveryFailed):
        await moderate_stream(stream, processor, batch_max=3, batch_within_s=0.01, in_flight=2)
    processor.close()
    # The second batch was delivered while the first failed, but it is not acknowledged: committing its
    # offsets would skip the first batch's for good.
    assert stream.acked == []


async def test_acks_follow_batch_order_when_deliveries_finish_out_of_order() -> None:
    class SlowFirst(BatchProcessor):
        calls = 0

        async def deliver(self, events: Sequence[Any], planned: Planned) -> None:
            self.calls += 1
            await asyncio.sleep(0.2 if self.calls == 1 else 0)

    topics = Topics(
        content=None,
        decisions=RecordingTopic("d"),
        dead_letters=RecordingTopic("x"),
        shadow_decisions=None,
        strikes=None,
    )
    processor = SlowFirst(_context(), topics, dlq_max_bytes=1000)
    good = json.dumps(base_doc(1)).encode()
    stream = FakeStream(
        [[FakeEvent(good, FakeMessage(o)) for o in range(i * 2, i * 2 + 2)] for i in range(3)]
    )
    await moderate_stream(stream, processor, batch_max=2, batch_within_s=0.01, in_flight=2)
    processor.close()
    assert stream.acked == [0, 1, 2, 3, 4, 5]


# --- isolation of classifier failures ---


class Picky:
    """Raises for any batch holding a text with ``poison``; sleeps past any timeout on ``slow``."""

    name = "picky"
    version = "1"
    categories = ("rumor",)

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def predict_detailed(self, texts: Sequence[str]) -> list[ClassifierOutput]:
        with self.lock:
            self.calls += 1
        if any("poison" in t for t in texts):
            raise ValueError("tokenizer refused the batch")
        if any("slow" in t for t in texts):
            time.sleep(1.0)
        return [ClassifierOutput({"rumor": 0.1}) for _ in texts]


def test_bisection_leaves_only_the_failing_texts_unscored() -> None:
    picky = Picky()
    texts = [f"text {i}" for i in range(64)]
    texts[5] = "poison one"
    texts[40] = "poison two"
    outcomes = score_isolated(picky, texts, 10.0)
    failed = [i for i, o in enumerate(outcomes) if isinstance(o, str)]
    assert failed == [5, 40]
    assert picky.calls <= 4 * 6 + 1  # about 2 log2(64) calls per poisoned text


def test_a_text_that_times_out_leaves_its_neighbours_scored_within_the_budget() -> None:
    picky = Picky()
    texts = [f"text {i}" for i in range(16)]
    texts[9] = "slow one"
    started = time.monotonic()
    outcomes = score_isolated(picky, texts, 0.3)
    assert time.monotonic() - started < 3 * 0.3 + 0.5
    assert [i for i, o in enumerate(outcomes) if isinstance(o, str)] == [9]
    assert str(outcomes[9]).startswith("timed out")


def test_isolated_failures_become_notes_and_the_fail_closed_reason_on_those_events_only() -> None:
    docs = [base_doc(n) for n in range(6)]
    docs[2]["text"] = "poison（本内容由人工智能生成）"
    events = [_parse(json.dumps(d, ensure_ascii=False).encode()) for d in docs]
    assert all(isinstance(e, ContentEvent) for e in events)
    decisions = moderate(events, _context(Picky()))  # type: ignore[arg-type]
    for index, decision in enumerate(decisions):
        codes = [n.code for n in decision.notes]
        if index == 2:
            assert codes == ["classifier_unscored"] and decision.action == "flag"
            assert decision.scores == {}
        else:
            assert codes == [] and decision.scores == {"rumor": 0.1} and decision.action == "allow"


def test_a_worker_that_cannot_stop_exits_after_its_shutdown_timeout() -> None:
    script = (
        "import time, faust\n"
        "from stream.kafka.worker import HuiyanWorker\n"
        "w = HuiyanWorker(faust.App('t', autodiscover=False), redirect_stdouts=False)\n"
        "w.shutdown_timeout_s = 0.5\n"
        "w.start_watchdog('test')\n"
        "time.sleep(30)\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == 70, done.stderr.decode()
    assert time.monotonic() - started < 20
    assert b"worker not stopped" in done.stderr


def test_the_agent_crashes_the_worker_instead_of_restarting_in_place() -> None:
    import faust
    import mode

    from stream.kafka.agents import register_agents

    app = faust.App("t-crash", autodiscover=False)
    topics = Topics(
        content=app.topic("content"), decisions=None, dead_letters=None, shadow_decisions=None, strikes=None
    )
    processor, _, _ = _processor(_context())
    agent = register_agents(app, topics, processor, batch_max=8, batch_within_s=0.01)
    assert agent.supervisor_strategy is mode.CrashingSupervisor
    processor.close()


async def test_a_bug_outside_the_cores_isolation_dead_letters_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in strike counting")

    monkeypatch.setattr("stream.kafka.agents.moderate_parsed", broken)
    processor, decisions, dead = _processor(_context())
    events = [FakeEvent(json.dumps(base_doc(n)).encode(), FakeMessage(n)) for n in range(3)]
    await processor.process(events)
    processor.close()
    assert decisions.sent == []
    assert [r["headers"][DLQ_REASON] for r in dead.sent] == [b"internal_error"] * 3
    assert [r["value"] for r in dead.sent] == [e.value for e in events]


def test_a_hung_classifier_fails_closed_at_once_and_recovers_when_its_calls_return() -> None:
    picky = Picky()  # every text "slow": each call sleeps 1 s, far past the 0.05 s timeout
    texts = [f"slow {i}" for i in range(64)]
    runner = ClassifierRunner()  # one per context: the worker's batches share it
    started = time.monotonic()
    first = score_isolated(picky, texts, 0.05, runner)
    second = score_isolated(picky, texts, 0.05, runner)
    assert time.monotonic() - started < 1.0  # never waits for the hung calls
    assert all(isinstance(o, str) for o in first + second)
    assert any("is hung" in str(o) for o in second)
    time.sleep(1.5)  # the abandoned calls return, their threads end
    assert score_isolated(picky, ["fine"], 0.5, runner) == [ClassifierOutput({"rumor": 0.1})]
