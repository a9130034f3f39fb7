"""The same ``event_id`` from the same tenant within a window gets the first answer again.

An entry is made when a request is admitted, before it is decided, so a second request arriving while
the first is in the model waits for the first one's answer instead of being decided twice (a second
decision on the topic, a second strike). Entries expire after the window; the table is bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

# Answers kept at most; the oldest go first (an entry is a decision's JSON, about 1-2 KB).
MAX_ENTRIES: Final = 200_000

Answer = tuple[int, bytes]  # HTTP status and body


class Recent:
    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, asyncio.Future[Answer]]] = OrderedDict()

    def claim(self, tenant: str, event_id: str) -> tuple[bool, asyncio.Future[Answer]]:
        """(True, a future to fulfil) for an event seen first; (False, the first one's future) for a
        repeat within the window."""
        now = self._clock()
        self._expire(now)
        key = (tenant, event_id)
        found = self._entries.get(key)
        if found is not None and now - found[0] < self.window_s:
            return False, found[1]
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._entries[key] = (now, future)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
        return True, future

    def forget(self, tenant: str, event_id: str) -> None:
        """Drops an entry whose request ended without a decision (refused, shed): a retry is new."""
        self._entries.pop((tenant, event_id), None)

    def _expire(self, now: float) -> None:
        while self._entries:
            key, (at, _) = next(iter(self._entries.items()))
            if now - at < self.window_s:
                break
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
