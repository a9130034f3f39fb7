"""Micro-batching: concurrent requests share one trip through the core.

Requests put their events on a queue. A lane takes the first waiting event, waits a few milliseconds
(``HUIYAN_API_BATCH_WINDOW_MS``) for more, and decides them together on its own inference thread with
``moderate_parsed``, the core's call the workers make after their parse, under the live and shadow
policies in force. While a batch is in the model the next one gathers. Each lane has its own model session
(``HUIYAN_API_LANES``, one per core): ONNX Runtime releases the GIL while it scores, so two lanes keep
two cores busy in one process, which keeps idempotency and rate limits in one place. A text is scored
alone in every lane, so its score does not depend on the lane. Past ``max_pending`` waiting events a
request is refused at once (:class:`Overloaded`, a 503) instead of joining a queue whose wait would
collapse latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from classifiers.content import ContentEvent
from stream.core.pipeline import EncodedOutcome, ModerationContext, encode_outcome, moderate_parsed
from stream.core.policy import Policy
from stream.core.records import Decision, EventRejected
from stream.kafka.policy_store import PolicyState
from stream.metrics import Metrics

log = logging.getLogger(__name__)


class Overloaded(Exception):
    """More events are waiting for the model than the API lets wait."""


@dataclass(frozen=True, slots=True)
class Decided:
    decision: Decision
    payload: bytes
    shadow: tuple[Decision, bytes] | None
    strikes: tuple[tuple[bytes, bytes], ...]


Result = Decided | EventRejected


@dataclass(slots=True)
class _Waiting:
    event: ContentEvent
    future: asyncio.Future[Result]


class MicroBatcher:
    def __init__(
        self,
        contexts: Sequence[ModerationContext],
        policies: PolicyState,
        metrics: Metrics,
        *,
        window_s: float,
        max_batch: int = 64,
        max_pending: int = 256,
    ) -> None:
        self.contexts = list(contexts)
        self.policies = policies
        self.metrics = metrics
        self.window_s = window_s
        self.max_batch = max_batch
        self.max_pending = max_pending
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"huiyan-api-core-{i}")
            for i in range(len(contexts))
        ]
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(lane), name=f"huiyan-micro-batcher-{lane}")
            for lane in range(len(self.contexts))
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for executor in self._executors:
            executor.shutdown(wait=True)

    async def decide(self, events: Sequence[ContentEvent]) -> list[Result]:
        """The core's answer for each event (parsed at admission, :func:`stream.core.pipeline.parse_raw`), in
        order; raises :class:`Overloaded` when too many events wait already."""
        if self._queue.qsize() + len(events) > self.max_pending:
            raise Overloaded(f"{self._queue.qsize()} events are waiting for the model")
        loop = asyncio.get_running_loop()
        waiting = [_Waiting(event, loop.create_future()) for event in events]
        for item in waiting:
            self._queue.put_nowait(item)
        return list(await asyncio.gather(*(item.future for item in waiting)))

    async def _run(self, lane: int) -> None:
        loop = asyncio.get_running_loop()
        lane_context, executor = self.contexts[lane], self._executors[lane]
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self.window_s
            while len(batch) < self.max_batch:
                remaining = deadline - loop.time()
                if remaining <= 0 and self._queue.empty():
                    break
                try:
                    batch.append(
                        self._queue.get_nowait()
                        if remaining <= 0
                        else await asyncio.wait_for(self._queue.get(), timeout=remaining)
                    )
                except (TimeoutError, asyncio.QueueEmpty):
                    break
            live, shadow = self.policies.live, self.policies.shadow  # this batch keeps these two
            context = lane_context if live is lane_context.policy else replace(lane_context, policy=live)
            started = time.perf_counter()
            self.metrics.batch_received(len(batch), from_topic=False)
            try:
                results = await loop.run_in_executor(executor, self._decide, batch, context, shadow)
            except Exception as exc:  # the core isolates failures per event; this is a bug outside it
                log.exception("deciding an API batch of %d events failed", len(batch))
                why = EventRejected("internal_error", f"deciding failed: {type(exc).__name__}: {exc}"[:300])
                results = [why] * len(batch)
            self.metrics.batch_decided(time.perf_counter() - started)
            for item, result in zip(batch, results, strict=True):
                if not item.future.done():
                    item.future.set_result(result)

    @staticmethod
    def _decide(batch: list[_Waiting], context: ModerationContext, shadow: Policy | None) -> list[Result]:
        valid = [(index, item.event) for index, item in enumerate(batch)]
        outcome: EncodedOutcome = encode_outcome(moderate_parsed(valid, context, shadow))
        results: list[Result | None] = [None] * len(batch)
        shadows = {index: (decision, payload) for index, decision, payload in outcome.shadow}
        strikes_by_event: dict[str, list[tuple[bytes, bytes]]] = {}
        for key, value in outcome.strikes:
            # A strike names its event; the API hands each one to the answer of that event.
            event_id = _strike_event(value)
            strikes_by_event.setdefault(event_id, []).append((key, value))
        for index, decision, payload in outcome.decisions:
            strikes = tuple(strikes_by_event.get(decision.event_id, ()))
            results[index] = Decided(decision, payload, shadows.get(index), strikes)
        for index, rejected in outcome.rejections:
            results[index] = rejected
        return [r if r is not None else EventRejected("internal_error", "no outcome") for r in results]


def _strike_event(value: bytes) -> str:
    return str(json.loads(value).get("event_id", ""))
