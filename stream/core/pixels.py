"""Looks for the visible label in the pixels of image and video events, off the text path.

Decoding media and running OCR (``classifiers.labels.pixels``) costs tens to thousands of times what
scoring a text does, so it never runs on the thread that scores texts: a :class:`PixelRunner` owns an
executor of its own and a bound on how many reads may be pending at once. The core submits a batch's
media events before it scores the batch's texts, so both run at the same time, and waits for each read
only until its deadline (its submission plus the timeout); a worker submits them earlier still, when it
splits a batch's media off (``stream.kafka.agents``). A read that cannot start (the bound is reached)
or does not end in time yields a reading with a ``problem``, which the label check turns into
``explicit_label_unseen``: the explicit verdict is then ``inconclusive``, never silently ``compliant``.
A batch without media never waits.

It must not judge what it reads (``classifiers.labels.pixels.check_visible_label`` does) nor know about
Kafka or settings: the runtime builds it from settings.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from classifiers.content import ContentEvent
from classifiers.labels.pixels import PixelReading, supports
from stream.core.vocab import PixelOutcome

log = logging.getLogger(__name__)

# (data, MIME type) -> what the pixels show; classifiers.labels.pixels.read_visible_labels in production.
PixelReader = Callable[[bytes, str], PixelReading]

# Content types whose explicit label is seen (GB 45438-2025 5.2 images, 5.4 video).
SEEN_CONTENT_TYPES = frozenset({"image", "video"})


@dataclass(slots=True)
class PendingRead:
    """One event's read: already answered (``reading``), or running (``future``) until ``deadline`` (the
    runner's monotonic clock; None: as long as it takes)."""

    content_type: str
    reading: PixelReading | None = None
    future: Future[PixelReading] | None = None
    deadline: float | None = None


class PixelRunner:
    """Reads pixels on ``threads`` threads of its own, with at most ``max_pending`` reads pending.

    ``timeout_s`` bounds how long a batch waits for its reads, counted from their submission (None: as
    long as they take, for the offline mode). A read the batch stopped waiting for still runs to its end
    and still counts as pending, so a slow stream of media backs off by itself instead of piling up.
    """

    def __init__(
        self,
        reader: PixelReader,
        *,
        threads: int = 1,
        max_pending: int = 4,
        timeout_s: float | None = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.max_pending = max_pending
        self.timeout_s = timeout_s
        self.monotonic = monotonic
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="huiyan-pixels", initializer=_lower_priority
        )
        self._lock = threading.Lock()
        self._pending = 0
        # (content type, outcome) -> reads so far, and the seconds the finished reads took; read by metrics.
        self._outcomes: Counter[tuple[str, PixelOutcome]] = Counter()
        self._seconds: dict[str, float] = {}

    @staticmethod
    def wants(event: ContentEvent) -> bool:
        """Whether ``event`` has pixels to look at: an image or video with inline bytes."""
        return event.content_type in SEEN_CONTENT_TYPES and event.media is not None and bool(event.media.data)

    def submit(self, event: ContentEvent) -> PendingRead:
        """Starts reading ``event``'s pixels, or answers at once when they cannot be read now."""
        assert event.media is not None and event.media.data is not None
        content_type = event.content_type
        if not supports(event.media.mime_type):
            reading = _problem(f"unsupported: no pixel decoder for {event.media.mime_type}")
            return self._answered(content_type, "unreadable", reading)
        with self._lock:
            if self._pending >= self.max_pending:
                busy = True
            else:
                busy = False
                self._pending += 1
        if busy:
            reading = _problem(f"busy: {self.max_pending} pixel reads pending (HUIYAN_PIXEL_QUEUE)")
            return self._answered(content_type, "busy", reading)
        data, mime_type = event.media.data, event.media.mime_type
        future = self._executor.submit(self._read, content_type, data, mime_type)
        deadline = None if self.timeout_s is None else self.monotonic() + self.timeout_s
        return PendingRead(content_type, future=future, deadline=deadline)

    def result(self, pending: PendingRead) -> PixelReading:
        """The reading of ``pending``; waits until its deadline at most."""
        if pending.reading is not None:
            return pending.reading
        assert pending.future is not None
        deadline = pending.deadline
        remaining = None if deadline is None else max(0.0, deadline - self.monotonic())
        try:
            return pending.future.result(timeout=remaining)
        except FutureTimeout:
            with self._lock:
                self._outcomes[pending.content_type, "timed_out"] += 1
            return _problem(f"timed_out: not read within {self.timeout_s:g} s (HUIYAN_PIXEL_TIMEOUT_MS)")

    def outcomes(self) -> dict[tuple[str, PixelOutcome], int]:
        """Reads so far by content type and outcome (a read that timed out counts again when it ends)."""
        with self._lock:
            return dict(self._outcomes)

    def seconds(self) -> dict[str, float]:
        """Seconds spent reading, by content type (finished reads only)."""
        with self._lock:
            return dict(self._seconds)

    def pending(self) -> int:
        with self._lock:
            return self._pending

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _read(self, content_type: str, data: bytes, mime_type: str) -> PixelReading:
        started = time.perf_counter()
        outcome: PixelOutcome = "failed"
        try:
            reading = self.reader(data, mime_type)
            outcome = "unreadable" if reading.problem else "read"
            return reading
        except Exception as exc:  # the reader never raises on input; reaching here is a bug
            log.exception("reading the pixels of a %s failed", mime_type)
            return _problem(f"failed: {type(exc).__name__}: {exc}"[:200])
        finally:
            with self._lock:
                self._pending -= 1
                self._outcomes[content_type, outcome] += 1
                spent = time.perf_counter() - started
                self._seconds[content_type] = self._seconds.get(content_type, 0.0) + spent

    def _answered(self, content_type: str, outcome: PixelOutcome, reading: PixelReading) -> PendingRead:
        with self._lock:
            self._outcomes[content_type, outcome] += 1
        return PendingRead(content_type, reading=reading)


# The niceness of the pixel threads (Linux schedules threads one by one): when the cores are busy, the
# thread that scores texts and the event loop run first, and OCR takes the time left over.
PIXEL_NICENESS = 10


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PIXEL_NICENESS)
    except (AttributeError, OSError) as exc:  # not Linux, or not permitted: reads run at normal priority
        log.info("pixel threads keep their priority: %s", exc)


def _problem(why: str) -> PixelReading:
    return PixelReading(width=0, height=0, labels=(), texts=(), frames_read=0, seconds_read=None, problem=why)
