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
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import faust
import mode

from classifiers.content import ContentEvent
from stream.core.pipeline import (
    EncodedOutcome,
    ModerationContext,
    RawEvent,
    encode_outcome,
    moderate_parsed,
    parse_batch,
)
from stream.core.policy import Policy
from stream.core.records import EventRejected
from stream.kafka.policy_store import PolicyState
from stream.kafka.topics import (
    CHANNEL,
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
from stream.metrics import Metrics

if TYPE_CHECKING:
    from stream.core.pixels import PendingRead

log = logging.getLogger(__name__)

STREAM_CHANNEL = (CHANNEL, b"stream")

_RETRY_FIRST_S = 0.2
# Batches delivered and waiting for their acks behind a batch whose media is still being read: beyond
# this many the agent takes no new batch (about 6 s of events at the bench's top rate).
_MAX_UNACKED_BATCHES = 64
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
        metrics: Metrics | None = None,
    ) -> None:
        self.context = context
        # What this processor records (its own registry unless the worker passes the one it serves).
        self.metrics = metrics or Metrics()
        # The live and shadow policies; the policy watcher swaps them while batches are decided.
        self.policies = policies or PolicyState(context.policy)
        self.topics = topics
        self.dlq_max_bytes = dlq_max_bytes
        # One thread: the core is CPU-bound; running it off the loop keeps Kafka heartbeats and commits alive.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="huiyan-core")
        # The batch's image and video events wait for their pixel reads here, not on the core's thread:
        # the rest of the batch is decided and delivered meanwhile (see decide). The reads start when the
        # batch is split, so the pixel runner's own bound holds: a read beyond HUIYAN_PIXEL_QUEUE is
        # answered "busy" at once, and its event waits for nothing.
        self.media_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="huiyan-media")

    async def process(self, events: Sequence[Any]) -> None:
        """Decides ``events`` (Faust events with raw byte values); returns once every result is delivered."""
        planned = await self.decide(events)
        await self.deliver(events, planned)
        await self.deliver_media(events, planned)

    async def decide(self, events: Sequence[Any]) -> Planned:
        """Runs the core on the inference thread and encodes its outputs there; nothing is produced yet.

        Image and video events whose pixels are to be read are split off: their decisions come in
        ``Planned.media``, decided on the media thread once their reads end, so the batch's other events
        never wait for OCR.
        """
        self.metrics.batch_received(len(events))
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        live, shadow = self.policies.live, self.policies.shadow  # this batch keeps these two
        context = self.context if live is self.context.policy else replace(self.context, policy=live)
        planned: Planned = await loop.run_in_executor(self.executor, self._plan, events, context, shadow)
        self.metrics.batch_decided(time.perf_counter() - started)
        return planned

    def _plan(self, events: Sequence[Any], context: ModerationContext, shadow: Policy | None) -> Planned:
        """The core's outcome and every record to produce for it (on the inference thread: JSON encoding
        is CPU work, and a failure to encode must cost one event, not a task nobody awaits)."""
        now = datetime.now(UTC)
        media: Future[Planned] | None = None
        seen: list[tuple[int, ContentEvent]] = []
        try:
            raw = [RawEvent(value=e.value, received_at=now) for e in events]
            valid, rejections = parse_batch(raw, context.limits)
            runner = context.pixel_runner
            if runner is not None:
                seen = [pair for pair in valid if runner.wants(pair[1])]
            reads: dict[int, PendingRead] | None = None
            if seen and runner is not None:
                reads = {index: runner.submit(event) for index, event in seen}
                # Only reads still running wait on the media thread; one answered at once (busy,
                # unsupported) is decided now with the rest.
                seen = [pair for pair in seen if reads[pair[0]].reading is None]
                if seen:
                    valid = [pair for pair in valid if pair not in seen]
                    media = self.media_executor.submit(self._plan_media, events, seen, reads, context, shadow)
            outcome = encode_outcome(moderate_parsed(valid, context, shadow, rejections, reads))
        except Exception as exc:
            split_off = {i for i, _ in seen} if media is not None else set()
            outcome = self._failed(events, exc, [i for i in range(len(events)) if i not in split_off])
        return Planned(outcome, self._outgoing(events, outcome), media)

    def _plan_media(
        self,
        events: Sequence[Any],
        seen: list[tuple[int, ContentEvent]],
        reads: Mapping[int, PendingRead],
        context: ModerationContext,
        shadow: Policy | None,
    ) -> Planned:
        """The media events of a batch, decided once their pixels were read (on the media thread)."""
        try:
            outcome = encode_outcome(moderate_parsed(seen, context, shadow, reads=reads))
        except Exception as exc:
            outcome = self._failed(events, exc, [i for i, _ in seen])
        return Planned(outcome, self._outgoing(events, outcome))

    @staticmethod
    def _failed(events: Sequence[Any], exc: Exception, positions: Sequence[int]) -> EncodedOutcome:
        # moderate_parsed isolates failures per event; reaching here is a bug outside that. Every event
        # of the batch still ends somewhere, and the worker does not crash-loop on the batch.
        log.exception("deciding a batch of %d events failed outside the core's isolation", len(events))
        detail = f"deciding its batch failed: {type(exc).__name__}: {exc}"[:300]
        why = EventRejected("internal_error", detail)
        return EncodedOutcome([], [(i, why) for i in positions], [], [])

    def _outgoing(self, events: Sequence[Any], outcome: EncodedOutcome) -> list[Outgoing]:
        outgoing = [
            Outgoing("decisions", self.topics.decisions, _key(d.content_id), payload, [STREAM_CHANNEL])
            for _, d, payload in outcome.decisions
        ]
        outgoing += [self._dead_letter(events[i], rejected) for i, rejected in outcome.rejections]
        outgoing += [
            Outgoing(
                "shadow_decisions",
                self.topics.shadow_decisions,
                _key(d.content_id),
                payload,
                [STREAM_CHANNEL],
            )
            for _, d, payload in outcome.shadow
        ]
        outgoing += [
            Outgoing("strikes", self.topics.strikes, key, value, [STREAM_CHANNEL])
            for key, value in outcome.strikes
        ]
        return outgoing

    async def deliver_media(self, events: Sequence[Any], planned: Planned) -> None:
        """Waits for the batch's media decisions, when it has any, and delivers them."""
        if planned.media is not None:
            await self.deliver(events, await asyncio.wrap_future(planned.media))

    async def deliver(self, events: Sequence[Any], planned: Planned) -> None:
        """Produces the records of ``planned``; returns once the broker has them all."""
        delivered = time.perf_counter()
        await deliver(planned.outgoing, self.metrics)
        self.metrics.batch_delivered(time.perf_counter() - delivered)
        try:
            self._record(events, planned.outcome)
        except Exception:  # delivered is delivered: a bookkeeping bug must not hold back the acks
            log.exception("recording the metrics of a delivered batch failed")

    def _record(self, events: Sequence[Any], outcome: EncodedOutcome) -> None:
        acked_at = time.time()
        decisions = [d for _, d, _ in outcome.decisions]
        named = self.policies.live.tenants
        for index, decision, _ in outcome.decisions:
            created = decision.timing.event_time
            event_time = (
                datetime.fromisoformat(created).timestamp() if created else events[index].message.timestamp
            )
            tenant = self.metrics.tenant_label(decision.tenant, named)
            self.metrics.decision_acknowledged(acked_at - event_time, tenant)
        self.metrics.decisions(decisions, named)
        self.metrics.strikes_recorded(len(outcome.strikes))
        if outcome.shadow:
            self.metrics.shadow(
                [(i, d) for i, d, _ in outcome.decisions], [(i, d) for i, d, _ in outcome.shadow]
            )
        for _, rejected in outcome.rejections:
            self.metrics.dead_letter(rejected.reason)
            log.warning("dead-lettered event (%s): %s", rejected.reason, rejected.detail)

    def _dead_letter(self, event: Any, rejected: EventRejected) -> Outgoing:
        message = event.message
        original: bytes = event.value or b""
        # Header values must be bytes whatever the event held: lone surrogates are written as escapes.
        headers = [
            (DLQ_REASON, rejected.reason.encode()),
            (DLQ_DETAIL, rejected.detail.encode("utf-8", "backslashreplace")[:1000]),
            (DLQ_SOURCE_TOPIC, str(message.topic).encode()),
            (DLQ_SOURCE_PARTITION, str(message.partition).encode()),
            (DLQ_SOURCE_OFFSET, str(message.offset).encode()),
            (DLQ_ORIGINAL_SHA256, hashlib.sha256(original).hexdigest().encode()),
        ]
        if rejected.event_id:
            headers.append((DLQ_EVENT_ID, rejected.event_id.encode("utf-8", "backslashreplace")[:256]))
        value = original
        if len(original) > self.dlq_max_bytes:
            # The broker took the record, but it may exceed what we may produce: keep a prefix and say so.
            value = original[: self.dlq_max_bytes]
            headers.append((DLQ_TRUNCATED, str(len(original)).encode()))
        key = message.key if isinstance(message.key, bytes) else None
        return Outgoing("dead_letters", self.topics.dead_letters, key, value, headers)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)
        self.media_executor.shutdown(wait=True, cancel_futures=False)


def _key(content_id: str) -> bytes:
    return content_id.encode("utf-8")


@dataclass(frozen=True, slots=True)
class Planned:
    """A decided batch: the encoded outcome and the records that deliver it, and, when the batch had
    image or video events, the decisions of those, which come once their pixels were read."""

    outcome: EncodedOutcome
    outgoing: list[Outgoing]
    media: Future[Planned] | None = None


class DeliveryFailed(RuntimeError):
    """A batch could not be delivered for a reason other than the broker (a bug). The agent stops
    acknowledging and crashes the worker, so that another worker (or this one, restarted) redoes the
    unacknowledged events from the committed offsets."""


async def deliver(outgoing: Sequence[Outgoing], metrics: Metrics) -> None:
    """Produces every record and waits for the broker's acknowledgement, retrying failures until delivered
    (each retry counted in ``metrics``).

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
                metrics.send_retried(item.kind)
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

    # A crashed agent crashes the worker instead of being restarted in place: a restarted agent would take
    # the events after the failed batch, and Faust commits past a gap of unacknowledged offsets once the
    # offsets after it are acknowledged, losing the failed batch for good.
    @app.agent(topics.content, name="huiyan.moderate", supervisor_strategy=mode.CrashingSupervisor)
    async def moderate_events(stream: Any) -> None:
        await moderate_stream(
            stream, processor, batch_max=batch_max, batch_within_s=batch_within_s, in_flight=in_flight
        )

    return moderate_events


async def moderate_stream(
    stream: Any, processor: BatchProcessor, *, batch_max: int, batch_within_s: float, in_flight: int
) -> None:
    """The agent's loop: takes batches, decides each, delivers up to ``in_flight`` at once and acks
    every event after its batch is delivered, batch after batch in order. Raises
    :class:`DeliveryFailed` (acking nothing more) when a delivery fails for any reason but stopping.

    A batch's image and video events are delivered later than the rest, once their pixels were read;
    the batches after it go on being decided and delivered meanwhile (``in_flight`` counts only the
    undelivered), and only their acks wait, in order, so no committed offset passes an undecided event.
    """
    pending: set[asyncio.Future[None]] = set()
    undelivered: set[asyncio.Future[None]] = set()
    previous: asyncio.Future[None] | None = None
    failures: list[BaseException] = []
    loop = asyncio.get_running_loop()

    async def deliver_and_ack(
        events: Sequence[Any],
        planned: Planned,
        before: asyncio.Future[None] | None,
        delivered: asyncio.Future[None],
    ) -> None:
        try:
            await processor.deliver(events, planned)
        finally:
            if not delivered.done():
                delivered.set_result(None)
        await processor.deliver_media(events, planned)
        # Acks go in batch order: a batch is acknowledged only once the one before it was, so a failed
        # batch holds back every later ack and no committed offset passes it.
        if before is not None:
            await before
        for event in events:
            await stream.ack(event)

    def settled(task: asyncio.Future[None]) -> None:
        pending.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            failures.append(exc)

    def waiting() -> bool:
        full = (bool(undelivered) and len(undelivered) >= in_flight) or len(pending) >= _MAX_UNACKED_BATCHES
        return full and not failures

    try:
        async for events in stream.noack_take(batch_max, within=batch_within_s):
            planned = await processor.decide(events)
            delivered: asyncio.Future[None] = loop.create_future()
            undelivered.add(delivered)
            delivered.add_done_callback(undelivered.discard)
            previous = asyncio.ensure_future(deliver_and_ack(events, planned, previous, delivered))
            pending.add(previous)
            previous.add_done_callback(settled)
            while waiting():
                await asyncio.wait(undelivered | pending, return_when=asyncio.FIRST_COMPLETED)
            if failures:
                processor.metrics.delivery_failed()
                raise DeliveryFailed(f"delivering a batch failed: {failures[0]!r}") from failures[0]
        # The stream ended (a test's, or the worker stopping): what was still being delivered must not
        # fail unseen.
        await asyncio.gather(*pending, return_exceptions=True)
        if failures:
            processor.metrics.delivery_failed()
            raise DeliveryFailed(f"delivering a batch failed: {failures[0]!r}") from failures[0]
    finally:
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
