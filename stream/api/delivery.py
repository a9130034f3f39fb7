"""The API's audit trail: every decision it answers is produced to Kafka, or kept on local disk until
the broker is back.

Requests never wait for Kafka. Records go to a queue; one sender task produces them (acks from all
in-sync replicas) and, when a send fails or the broker cannot be reached, appends them to the spool:
append-only segment files under ``HUIYAN_API_SPOOL_DIR``, flushed and synced before they count as kept.
When the broker answers again the sender delivers the spool, oldest segment first, then deletes it.
The spool is bounded (``HUIYAN_API_SPOOL_MAX_BYTES``): when it is full the API stops answering with
decisions (503, fail closed) rather than give one it cannot record.

A record whose send timed out may still have reached the broker, and is then delivered again from the
spool: the decision topic is at least once, as it is for the workers (de-duplicate on ``event_id``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from stream.metrics import Metrics

log = logging.getLogger(__name__)

SEND_TIMEOUT_S: Final = 15.0
RETRY_S: Final = 1.0
# Records sent to the broker in one go (a segment of the spool is sent in pieces of this size).
SEND_BATCH: Final = 500

State = Literal["connecting", "delivering", "spooling"]


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    def to_line(self) -> bytes:
        doc = {
            "topic": self.topic,
            "key": base64.b64encode(self.key).decode() if self.key is not None else None,
            "value": base64.b64encode(self.value).decode(),
            "headers": [[name, base64.b64encode(value).decode()] for name, value in self.headers],
        }
        return json.dumps(doc).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Record:
        doc = json.loads(line)
        return cls(
            topic=doc["topic"],
            key=base64.b64decode(doc["key"]) if doc["key"] is not None else None,
            value=base64.b64decode(doc["value"]),
            headers=tuple((name, base64.b64decode(value)) for name, value in doc["headers"]),
        )


class Spool:
    """Records not yet delivered, in numbered segment files; bounded in bytes."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._next = max((self._number(p) for p in self.segments()), default=0) + 1
        self.size = sum(p.stat().st_size for p in self.segments())
        # Set when a write did not fit: the spool counts as full until a segment is delivered.
        self.refused = False

    @staticmethod
    def _number(path: Path) -> int:
        return int(path.stem.split("-")[1])

    def segments(self) -> list[Path]:
        """The segment files, oldest first."""
        return sorted(self.directory.glob("segment-*.jsonl"), key=self._number)

    @property
    def full(self) -> bool:
        return self.refused or self.size >= self.max_bytes

    def append(self, records: Sequence[Record]) -> bool:
        """Keeps ``records`` in a new segment, synced to disk; False (nothing kept) when full."""
        if not records:
            return True
        data = b"".join(record.to_line() for record in records)
        if self.size + len(data) > self.max_bytes:
            self.refused = True
            return False
        path = self.directory / f"segment-{self._next:09d}.jsonl"
        self._next += 1
        temporary = path.with_suffix(".tmp")
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        self.size += len(data)
        return True

    def read(self, path: Path) -> list[Record]:
        return [Record.from_line(line) for line in path.read_bytes().splitlines() if line.strip()]

    def remove(self, path: Path) -> None:
        size = path.stat().st_size
        path.unlink()
        self.size -= size
        self.refused = False


class Sender:
    """What the audit trail sends with: ``start``, ``send_all`` (True once the broker has them all) and
    ``stop``. The real one is an aiokafka producer; tests use others."""

    async def start(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    async def send_all(self, records: Sequence[Record]) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    async def stop(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class KafkaSender(Sender):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.producer: Any = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(**self.options)
        try:
            await asyncio.wait_for(producer.start(), timeout=SEND_TIMEOUT_S)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=5)
            raise
        self.producer = producer

    async def send_all(self, records: Sequence[Record]) -> None:
        async def one(record: Record) -> None:
            await self.producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )

        await asyncio.wait_for(asyncio.gather(*(one(r) for r in records)), timeout=SEND_TIMEOUT_S)

    async def stop(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), timeout=5)


class AuditTrail:
    """Queues the API's records and delivers them, spooling while the broker is away."""

    def __init__(self, sender_factory: Callable[[], Sender], spool: Spool, metrics: Metrics) -> None:
        self._sender_factory = sender_factory
        self._sender: Sender | None = None
        self.spool = spool
        self.metrics = metrics
        self.state: State = "connecting"
        self._queue: asyncio.Queue[Record] = asyncio.Queue()
        # Records the full spool could not take: held in memory (the API admits nothing more meanwhile)
        # and delivered first when the broker is back.
        self._held: list[Record] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def accepting(self) -> bool:
        """Whether a new decision can be recorded (delivered or spooled)."""
        return not self.spool.full and not self._held

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def submit(self, records: Sequence[Record]) -> None:
        for record in records:
            self._queue.put_nowait(record)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="huiyan-audit-trail")

    async def stop(self, timeout_s: float = 20.0) -> None:
        """Delivers or spools everything still queued, then stops."""
        self._stopping = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._drain_on_stop(), timeout=timeout_s)
            except TimeoutError:
                log.warning("the broker did not take the last records in time; spooling them")
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._spool(self._take_queued())
        if self._held:
            log.error(
                "stopping with %d decisions neither delivered nor spooled (the spool is full)",
                len(self._held),
            )
            self.metrics.spool_lost(len(self._held))
        if self._sender is not None:
            await self._sender.stop()

    async def _drain_on_stop(self) -> None:
        while self._queue.qsize() and self.state == "delivering":
            await asyncio.sleep(0.05)

    def _take_queued(self, limit: int | None = None) -> list[Record]:
        taken: list[Record] = []
        while not self._queue.empty() and (limit is None or len(taken) < limit):
            taken.append(self._queue.get_nowait())
        return taken

    def _spool(self, records: Sequence[Record]) -> None:
        if not records:
            return
        if not self.spool.append(records):
            # The spool filled between admission and delivery: the API now admits nothing more, and
            # these wait in memory for the broker.
            log.error("the spool is full: %d decisions held in memory until the broker is back", len(records))
            self._held.extend(records)
            return
        self.metrics.spooled(len(records), self.spool.size)

    async def _connect(self) -> bool:
        if self._sender is not None:
            return True
        sender = self._sender_factory()
        try:
            await sender.start()
        except Exception as exc:
            log.warning("the broker cannot be reached (%s); decisions are spooled", type(exc).__name__)
            return False
        self._sender = sender
        return True

    async def _reset(self) -> None:
        if self._sender is not None:
            await self._sender.stop()
            self._sender = None

    async def _send(self, records: Sequence[Record]) -> bool:
        assert self._sender is not None
        try:
            for start in range(0, len(records), SEND_BATCH):
                await self._sender.send_all(records[start : start + SEND_BATCH])
        except Exception as exc:
            log.warning("producing %d records failed (%s); spooling", len(records), type(exc).__name__)
            await self._reset()
            return False
        return True

    def _set(self, state: State) -> None:
        if state != self.state:
            log.info("audit trail: %s", state)
        self.state = state
        self.metrics.spool_state(state == "spooling", self.spool.size)

    async def _run(self) -> None:
        while True:
            if not await self._connect():
                self._set("spooling")
                self._spool(self._take_queued())
                await asyncio.sleep(RETRY_S)
                continue
            delivered = True
            for segment in self.spool.segments():
                if not await self._send(self.spool.read(segment)):
                    delivered = False
                    break
                self.spool.remove(segment)
                self.metrics.spool_state(True, self.spool.size)
            if delivered and self._held:
                held, self._held = self._held, []
                if not await self._send(held):
                    self._held = held + self._held
                    delivered = False
            if not delivered:
                self._set("spooling")
                self._spool(self._take_queued())
                await asyncio.sleep(RETRY_S)
                continue
            self._set("delivering")
            if self._queue.empty():
                try:
                    first = await asyncio.wait_for(self._queue.get(), timeout=0.5)
                except TimeoutError:
                    continue
                await asyncio.sleep(0.001)  # let a burst's records join the batch
                batch = [first, *self._take_queued(limit=5 * SEND_BATCH)]
            else:
                batch = self._take_queued(limit=5 * SEND_BATCH)
            if not await self._send(batch):
                self._set("spooling")
                self._spool([*batch, *self._take_queued()])
