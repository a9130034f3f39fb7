"""Strikes against an account: repeat offenders are escalated by the policy's ``strikes`` rules.

When the live decision on an event counts as a strike (by default a ``block``) and the event names the
account that produced it (``producer.user_id``), the worker produces a strike record to the strike
topic, keyed by tenant and account. Every worker follows that topic and keeps the recent strikes of
every account in memory (:class:`StrikeBook`), the way the policy topic is followed: when a later event
of the same account is decided, the number of its strikes within the policy's window can escalate the
decision (reason ``repeat_offender``).

Why not a Faust table: content events are keyed by ``content_id``, so a table keyed by account would
need a repartition hop and a global table on top for the reads (several workers decide events of one
account), and faust's global tables take part in every rebalance. A record per strike on its own topic
gives every worker the whole count, without touching the consumer group of the content topic.

Counts are eventually consistent: a strike is visible to other events about a second after its
decision was delivered, so events of one account in the same batch do not see each other's strikes.
A redelivered event repeats its strike record; the book counts each ``event_id`` once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Final

from stream.core.vocab import ACTIONS, Action

log = logging.getLogger(__name__)

# Per account, the newest strikes kept; a policy cannot escalate above this count.
MAX_STRIKES_PER_ACCOUNT: Final = 100
# Strikes older than this are forgotten whatever the policy's window (the strike topic keeps as long).
MAX_WINDOW_S: Final = 31 * 24 * 3600
# Accounts kept in memory; the least recently struck are dropped beyond this.
MAX_ACCOUNTS: Final = 200_000


@dataclass(frozen=True, slots=True)
class StrikeRecord:
    """One strike: an event of this account was decided ``action`` at ``at`` (seconds since the epoch)."""

    tenant: str
    user_id: str
    event_id: str
    action: Action
    at: float

    @property
    def key(self) -> bytes:
        return account_key(self.tenant, self.user_id).encode("utf-8")

    def to_json(self) -> bytes:
        doc = {
            "tenant": self.tenant,
            "user_id": self.user_id,
            "event_id": self.event_id,
            "action": self.action,
            "at": self.at,
        }
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def account_key(tenant: str, user_id: str) -> str:
    # U+001F (unit separator) cannot occur in either part's JSON-decoded text by accident.
    return f"{tenant}\x1f{user_id}"


def decode_strike(value: bytes | None) -> StrikeRecord | None:
    """The strike in a record, or None for a record that is not one (it is skipped and logged)."""
    try:
        doc = json.loads(value or b"")
        record = StrikeRecord(
            tenant=str(doc["tenant"]),
            user_id=str(doc["user_id"]),
            event_id=str(doc["event_id"]),
            action=doc["action"] if doc["action"] in ACTIONS else "block",
            at=float(doc["at"]),
        )
    except (ValueError, KeyError, TypeError, RecursionError):
        log.warning("skipped a record of the strike topic that is not a strike: %r", (value or b"")[:200])
        return None
    return record


class StrikeBook:
    """Recent strikes of every account, fed from the strike topic; read from the inference thread."""

    def __init__(self) -> None:
        self._accounts: dict[str, deque[tuple[float, str]]] = {}
        self._lock = threading.Lock()
        self.position: dict[int, int] = {}  # partition -> next offset to read

    def add(self, record: StrikeRecord) -> None:
        key = account_key(record.tenant, record.user_id)
        with self._lock:
            strikes = self._accounts.pop(key, None) or deque(maxlen=MAX_STRIKES_PER_ACCOUNT)
            if all(event_id != record.event_id for _, event_id in strikes):
                strikes.append((record.at, record.event_id))
            self._accounts[key] = strikes  # re-inserted: dict order is least recently struck first
            while len(self._accounts) > MAX_ACCOUNTS:
                del self._accounts[next(iter(self._accounts))]

    def take(self, partition: int, offset: int, value: bytes | None) -> bool:
        """Adds the strike in one record of the strike topic and moves past it; False if it was none."""
        strike = decode_strike(value)
        if strike is not None:
            self.add(strike)
        self.position[partition] = offset + 1
        return strike is not None

    def count(self, tenant: str, user_id: str, window_s: float, now: float) -> int:
        """Strikes of the account within the ``window_s`` seconds before ``now`` (seconds since the epoch,
        from the deciding context's clock)."""
        since = now - min(window_s, MAX_WINDOW_S)
        with self._lock:
            strikes = self._accounts.get(account_key(tenant, user_id))
            return sum(1 for at, _ in strikes if at >= since) if strikes else 0

    def __len__(self) -> int:
        return len(self._accounts)
