"""``huiyan replay``: re-decide past events under a candidate policy and report what would change.

Reads the content topic from an offset or a time up to its end when the replay starts, decides each
event under the baseline (the live policy in force, unless another is given) and under the candidate
with one scoring pass (``judge``), and compares the two (``stream.core.policy_diff``). It never
produces: not to the decision topic, not anywhere. Both sides are decided now, with the same model, so
the differences come from the policies alone, not from a model or rules changed since the events were
first decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from classifiers.content import ContentEvent
from stream.core.pipeline import ModerationContext, judge
from stream.core.policy import Policy, load_policy, parse_policy
from stream.core.policy_diff import DiffReport
from stream.core.records import EventRejected, parse_event
from stream.kafka.policy_store import in_force, read_history
from stream.settings import Settings

BATCH: int = 64


@dataclass
class ReplayResult:
    report: DiffReport
    baseline: str
    candidate: str
    read: int = 0
    # Records that are not valid events (they would be dead-lettered), by reason code.
    rejected: Counter[str] = field(default_factory=Counter)
    partitions: dict[int, tuple[int, int]] = field(default_factory=dict)


def live_policy(settings: Settings) -> Policy:
    """The live policy workers apply now: the newest valid push, else the file they start with."""
    current = in_force(read_history(settings)[0])["live"]
    if current is not None and current.yaml is not None:
        return parse_policy(current.yaml)
    return load_policy(settings.policy_file)


def read_events(
    settings: Settings,
    *,
    from_offset: int | None,
    from_time: datetime | None,
    max_events: int | None,
    positions: dict[int, tuple[int, int]],
) -> Iterator[tuple[bytes | None, datetime]]:
    """Raw content records from the start position of every partition to its end at call time."""
    from kafka import TopicPartition

    from stream.kafka.clients import plain_consumer

    consumer = plain_consumer(settings)
    try:
        ids = consumer.partitions_for_topic(settings.content_topic)
        if not ids:
            raise ValueError(f"topic {settings.content_topic} does not exist")
        partitions = [TopicPartition(settings.content_topic, p) for p in sorted(ids)]
        consumer.assign(partitions)
        firsts = consumer.beginning_offsets(partitions)
        ends = consumer.end_offsets(partitions)
        if from_time is not None:
            found = consumer.offsets_for_times({tp: int(from_time.timestamp() * 1000) for tp in partitions})
            starts = {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in partitions}
        else:
            starts = {tp: min(max(from_offset or 0, firsts[tp]), ends[tp]) for tp in partitions}
        for tp in partitions:
            positions[tp.partition] = (starts[tp], ends[tp])
            consumer.seek(tp, starts[tp])
        remaining = {tp for tp in partitions if starts[tp] < ends[tp]}
        count = 0
        while remaining and (max_events is None or count < max_events):
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for record in records:
                    if record.offset >= ends[tp] or (max_events is not None and count >= max_events):
                        continue
                    count += 1
                    yield record.value, datetime.fromtimestamp(record.timestamp / 1000, UTC)
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        consumer.close()


def replay(
    settings: Settings,
    context: ModerationContext,
    candidate: Policy,
    *,
    baseline: Policy | None = None,
    from_offset: int | None = None,
    from_time: datetime | None = None,
    max_events: int | None = None,
) -> ReplayResult:
    """Decides the events from the start position under ``baseline`` (default: the live policy) and
    ``candidate``, and compares them."""
    base = baseline or live_policy(settings)
    result = ReplayResult(DiffReport(), base.version, candidate.version)
    pending: list[ContentEvent] = []

    def flush() -> None:
        if pending:
            for judged in judge(pending, context, (base, candidate)):
                old, new = judged.decisions
                result.report.add(old.to_dict(), new.to_dict())
            pending.clear()

    for value, received_at in read_events(
        settings,
        from_offset=from_offset,
        from_time=from_time,
        max_events=max_events,
        positions=result.partitions,
    ):
        result.read += 1
        parsed = (
            EventRejected("invalid_json", "empty record")
            if value is None
            else parse_event(
                value,
                max_event_bytes=context.limits.max_event_bytes,
                max_media_bytes=context.limits.max_media_bytes,
                received_at=received_at,
            )
        )
        if isinstance(parsed, EventRejected):
            result.rejected[parsed.reason] += 1
            continue
        pending.append(parsed)
        if len(pending) >= BATCH:
            flush()
    flush()
    return result
