"""The Faust agent: reads content events in batches, runs the pure core off the event loop, produces the
decisions and dead letters, and only then acknowledges the events (at-least-once).

Acknowledgement is manual (``noack_take``): an event is acked only after the broker has acknowledged
its decision or its dead letter, so a worker stopped or killed mid-batch leaves those events
uncommitted and another worker decides them again. Decisions carry ``event_id`` for de-duplication.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import faust

from stream import metrics
from stream.pipeline import BatchOutcome, ModerationContext, RawEvent, moderate_raw
from stream.policy_store import PolicyState
from stream.records import EventRejected
from stream.topics import (
    DLQ_DETAIL,
    DLQ_EVENT_ID,
    DLQ_ORIGINAL_SHA256,
    DLQ_REASON,
    DLQ_SOURCE_OFFSET,
    DLQ_SOURCE_PARTITION,
    DLQ_SOURCE_TOPIC,
    DLQ_TRUNCATED,
    Topics,
)

log = logging.getLogger(__name__)

_RETRY_FIRST_S = 0.2
_RETRY_MAX_S = 5.0


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce; ``kind`` names the topic in metrics and logs."""

    kind: str
    topic: Any
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


class BatchProcessor:
    """Decides one batch of Kafka events and delivers the results; owns the inference thread."""

    def __init__(
        self,
        context: ModerationContext,
        topics: Topics,
        *,
        dlq_max_bytes: int,
        policies: PolicyState | None = None,
    ) -> None:
        self.context = context
        # The live and shadow policies; the policy watcher swaps them while batches are decided.
        self.policies = policies or PolicyState(context.policy)
        self.topics = topics
        self.dlq_max_bytes = dlq_max_bytes
        # One thread: the core is CPU-bound; running it off the loop keeps Kafka heartbeats and commits alive.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="huiyan-core")

    async def process(self, events: Sequence[Any]) -> None:
        """Decides ``events`` (Faust events with raw byte values); returns once every result is delivered."""
        await self.deliver(events, await self.decide(events))

    async def decide(self, events: Sequence[Any]) -> BatchOutcome:
        """Runs the core on the inference thread; nothing is produced yet."""
        metrics.EVENTS_RECEIVED.inc(len(events))
        metrics.BATCH_SIZE.observe(len(events))
        now = datetime.now(UTC)
        raw = [RawEvent(value=e.value, received_at=now) for e in events]
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        live, shadow = self.policies.live, self.policies.shadow  # this batch keeps these two
        context = self.context if live is self.context.policy else replace(self.context, policy=live)
        outcome: BatchOutcome = await loop.run_in_executor(self.executor, moderate_raw, raw, context, shadow)
        metrics.PROCESSING_SECONDS.observe(time.perf_counter() - started)
        return outcome

    async def deliver(self, events: Sequence[Any], outcome: BatchOutcome) -> None:
        """Produces the decisions and dead letters of ``outcome``; returns once the broker has them all."""
        outgoing = [
            Outgoing("decisions", self.topics.decisions, d.content_id.encode("utf-8"), d.to_json())
            for _, d in outcome.decisions
        ]
        outgoing += [self._dead_letter(events[i], rejected) for i, rejected in outcome.rejections]
        outgoing += [
            Outgoing(
                "shadow_decisions", self.topics.shadow_decisions, d.content_id.encode("utf-8"), d.to_json()
            )
            for _, d in outcome.shadow
        ]
        outgoing += [Outgoing("strikes", self.topics.strikes, s.key, s.to_json()) for s in outcome.strikes]
        delivered = time.perf_counter()
        await deliver(outgoing)
        metrics.DELIVERY_SECONDS.observe(time.perf_counter() - delivered)

        acked_at = time.time()
        for index, decision in outcome.decisions:
            created = decision.timing.event_time
            event_time = (
                datetime.fromisoformat(created).timestamp() if created else events[index].message.timestamp
            )
            metrics.END_TO_END_SECONDS.observe(max(0.0, acked_at - event_time))
        metrics.record_decisions([d for _, d in outcome.decisions])
        if outcome.shadow:
            metrics.record_shadow(outcome.decisions, outcome.shadow)
        for _, rejected in outcome.rejections:
            metrics.record_dead_letter(rejected.reason)
            log.warning("dead-lettered event (%s): %s", rejected.reason, rejected.detail)

    def _dead_letter(self, event: Any, rejected: EventRejected) -> Outgoing:
        message = event.message
        original: bytes = event.value or b""
        headers = [
            (DLQ_REASON, rejected.reason.encode()),
            (DLQ_DETAIL, rejected.detail.encode("utf-8")[:1000]),
            (DLQ_SOURCE_TOPIC, str(message.topic).encode()),
            (DLQ_SOURCE_PARTITION, str(message.partition).encode()),
            (DLQ_SOURCE_OFFSET, str(message.offset).encode()),
            (DLQ_ORIGINAL_SHA256, hashlib.sha256(original).hexdigest().encode()),
        ]
        if rejected.event_id:
            headers.append((DLQ_EVENT_ID, rejected.event_id.encode("utf-8")[:256]))
        value = original
        if len(original) > self.dlq_max_bytes:
            # The broker took the record, but it may exceed what we may produce: keep a prefix and say so.
            value = original[: self.dlq_max_bytes]
            headers.append((DLQ_TRUNCATED, str(len(original)).encode()))
        key = message.key if isinstance(message.key, bytes) else None
        return Outgoing("dead_letters", self.topics.dead_letters, key, value, headers)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)


async def deliver(outgoing: Sequence[Outgoing]) -> None:
    """Produces every record and waits for the broker's acknowledgement, retrying failures until delivered.

    Raises only ``CancelledError`` (worker stopping): then the batch stays unacknowledged and is redone.
    """
    pending = list(outgoing)
    backoff = _RETRY_FIRST_S
    while pending:
        results = await asyncio.gather(*(_send(item) for item in pending), return_exceptions=True)
        failed = []
        for item, result in zip(pending, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                metrics.SEND_RETRIES.labels(item.kind).inc()
                log.warning("produce to %s failed (%r); retrying in %.1fs", item.kind, result, backoff)
                failed.append(item)
        pending = failed
        if pending:
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _RETRY_MAX_S)


async def _send(item: Outgoing) -> Any:
    # force=True: publish now. Without it Faust attaches the record to the current event and only sends it
    # when that event is acked, the reverse of the order at-least-once needs here.
    future = await item.topic.send(key=item.key, value=item.value, headers=item.headers, force=True)
    return await future


def register_agents(
    app: faust.App,
    topics: Topics,
    processor: BatchProcessor,
    *,
    batch_max: int,
    batch_within_s: float,
    in_flight: int = 1,
) -> Any:
    """Registers the moderation agent on ``app`` and returns it.

    ``in_flight`` batches may wait for the broker's acknowledgement of their decisions while the next
    batch is already being decided. Acks stay per event and after delivery, so at-least-once holds:
    Faust commits an offset only when every event before it is acked.
    """

    @app.agent(topics.content, name="huiyan.moderate")
    async def moderate_events(stream: Any) -> None:
        pending: set[asyncio.Future[None]] = set()

        async def deliver_and_ack(events: Sequence[Any], outcome: BatchOutcome) -> None:
            await processor.deliver(events, outcome)
            for event in events:
                await stream.ack(event)

        try:
            async for events in stream.noack_take(batch_max, within=batch_within_s):
                outcome = await processor.decide(events)
                if in_flight <= 1:
                    await deliver_and_ack(events, outcome)
                    continue
                task = asyncio.ensure_future(deliver_and_ack(events, outcome))
                pending.add(task)
                task.add_done_callback(pending.discard)
                while len(pending) >= in_flight:
                    await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    return moderate_events
