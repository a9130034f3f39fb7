"""Pushed policies: a compacted Kafka topic holding every policy version pushed, and which one is in force.

Trust-and-safety teams change thresholds and lists without a restart: ``huiyan policy push FILE``
validates the file and produces it to the policy topic; every worker reads that topic and applies each
new record within seconds (:class:`PolicyState`). The topic has one partition, so offsets order the
pushes, and ``cleanup.policy=compact``:

- the key is ``<slot>:<version>`` (slot ``live`` or ``shadow``), so compaction keeps the newest push of
  every distinct version: the topic is the policy history (``huiyan policy history``);
- the newest record of a slot is the policy in force in that slot (``huiyan policy show``);
- a record with ``"yaml": null`` clears the shadow slot (``huiyan policy clear-shadow``).

A worker re-validates every record: one that does not parse or validate, or whose ``version`` is not
the hash of its body, is rejected with an error in the log and a metric, and the previous policy of that
slot stays in force.

Who may push is the broker's to enforce: with the ACLs of docs/security.md only policy administrators
can write this topic. A record names the principal the pushing client logged in as (``principal``,
``User:<name>``, None on an unauthenticated connection) and the person it says pushed it (``pushed_by``).
Kafka does not stamp records with their writer, so both are what the writer wrote; the broker's
authorizer log records the principal of every write.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast

from stream.core.policy import Policy, PolicyError, parse_policy
from stream.core.records import isoformat
from stream.settings import Settings

log = logging.getLogger(__name__)

Slot = Literal["live", "shadow"]
SLOTS: Final[tuple[Slot, ...]] = ("live", "shadow")
# A policy file is small; this bounds what a worker parses from the topic.
MAX_POLICY_BYTES: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """One push: which slot, which policy (None clears the shadow slot), when and by whom."""

    slot: Slot
    version: str | None
    name: str | None
    pushed_at: str
    pushed_by: str
    yaml: str | None
    offset: int = -1
    principal: str | None = None

    def to_json(self) -> bytes:
        doc = {
            "slot": self.slot,
            "version": self.version,
            "name": self.name,
            "pushed_at": self.pushed_at,
            "pushed_by": self.pushed_by,
            "principal": self.principal,
            "yaml": self.yaml,
        }
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    @property
    def key(self) -> bytes:
        return f"{self.slot}:{self.version or 'none'}".encode()

    @property
    def pusher(self) -> str:
        """Who pushed it, for people: the principal with the name it gave, or the name, unauthenticated."""
        if self.principal:
            return f"{self.principal} ({self.pushed_by})" if self.pushed_by else self.principal
        return f"{self.pushed_by or 'unknown'} (unauthenticated)"


def policy_of(record: PolicyRecord) -> Policy | None:
    """The policy ``record`` carries (None: it clears the shadow slot), validated, and only if the record's
    version is the hash of its body; raises :class:`PolicyError` otherwise."""
    if record.yaml is None:
        return None
    policy = parse_policy(record.yaml)
    if record.version != policy.version:
        raise PolicyError(
            f"offset {record.offset}: the record says version {record.version}, but its body is "
            f"{policy.version}: refused"
        )
    return policy


def new_record(
    slot: Slot,
    text: str | None,
    pushed_by: str,
    now: datetime | None = None,
    *,
    principal: str | None = None,
) -> PolicyRecord:
    """A record to push; the policy is validated first (raises :class:`PolicyError`)."""
    if slot not in SLOTS:
        raise PolicyError(f"slot must be one of {', '.join(SLOTS)}, not {slot!r}")
    if text is None:
        if slot == "live":
            raise PolicyError("the live slot cannot be cleared; push another policy instead")
        policy = None
    else:
        if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
            raise PolicyError(f"a policy may have at most {MAX_POLICY_BYTES} bytes")
        policy = parse_policy(text)
    return PolicyRecord(
        slot=slot,
        version=policy.version if policy else None,
        name=policy.name if policy else None,
        pushed_at=isoformat(now or datetime.now(UTC)),
        pushed_by=pushed_by,
        yaml=text,
        principal=principal,
    )


def decode_record(offset: int, value: bytes | None) -> PolicyRecord:
    """The record at ``offset``; raises :class:`PolicyError` if it is not a policy record at all."""
    if value is None:
        raise PolicyError(f"offset {offset}: empty record")
    if len(value) > MAX_POLICY_BYTES * 2:
        raise PolicyError(f"offset {offset}: record of {len(value)} bytes is too large")
    try:
        doc = json.loads(value)
    except (ValueError, RecursionError) as exc:
        raise PolicyError(f"offset {offset}: not JSON ({str(exc)[:200]})") from exc
    if not isinstance(doc, dict):
        raise PolicyError(f"offset {offset}: not a JSON object")
    slot = doc.get("slot")
    if slot not in SLOTS:
        raise PolicyError(f"offset {offset}: slot must be one of {', '.join(SLOTS)}")
    text = doc.get("yaml")
    if text is not None and not isinstance(text, str):
        raise PolicyError(f"offset {offset}: yaml must be a string or null")
    if text is None and slot == "live":
        raise PolicyError(f"offset {offset}: the live slot cannot be cleared")

    def string(key: str) -> str | None:
        found = doc.get(key)
        return found if isinstance(found, str) else None

    return PolicyRecord(
        slot=cast(Slot, slot),
        version=string("version"),
        name=string("name"),
        pushed_at=string("pushed_at") or "",
        pushed_by=string("pushed_by") or "",
        yaml=text,
        offset=offset,
        principal=string("principal"),
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying one record did: ``applied`` or ``rejected`` (with the error), and to which slot."""

    slot: Slot | None
    applied: bool
    version: str | None
    error: str | None = None


class PolicyState:
    """The policies a worker applies: the live one and an optional shadow, updated record by record.

    Reading ``live``/``shadow`` is a plain attribute read, so the inference thread always sees one whole
    policy; a batch keeps the policy it started with.
    """

    def __init__(self, live: Policy, shadow: Policy | None = None) -> None:
        self.live = live
        self.shadow = shadow
        self.position = 0  # the offset after the last record applied or rejected

    def apply(self, offset: int, value: bytes | None) -> Outcome:
        self.position = max(self.position, offset + 1)
        try:
            record = decode_record(offset, value)
            policy = policy_of(record)
            if policy is None:
                self.shadow = None
                return Outcome("shadow", True, None)
        except PolicyError as exc:
            slot = _slot_of(value)
            log.error(
                "policy record at offset %d rejected, the previous policy stays in force: %s", offset, exc
            )
            return Outcome(slot, False, None, str(exc))
        if record.slot == "live":
            self.live = policy
        else:
            self.shadow = policy
        log.info(
            "%s policy %s applied (offset %d, pushed by %s)",
            record.slot,
            policy.version,
            offset,
            record.pusher,
        )
        return Outcome(record.slot, True, policy.version)

    def apply_all(self, records: Iterable[tuple[int, bytes | None]]) -> list[Outcome]:
        return [self.apply(offset, value) for offset, value in records]


def _slot_of(value: bytes | None) -> Slot | None:
    try:
        slot = json.loads(value or b"").get("slot")
    except (ValueError, AttributeError, RecursionError):
        return None
    return cast(Slot, slot) if slot in SLOTS else None


# --- Kafka side (kafka-python: the CLI and the worker's start-up read) ---


def push(settings: Settings, record: PolicyRecord) -> PolicyRecord:
    """Produces ``record`` to the policy topic and returns it with its offset."""
    from kafka import KafkaProducer

    from stream.kafka.auth import kafka_python_options
    from stream.kafka.clients import create_topics

    create_topics(settings)
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        max_request_size=settings.kafka_max_message_bytes,
        **kafka_python_options(settings),
    )
    try:
        metadata = producer.send(settings.policy_topic, key=record.key, value=record.to_json()).get(
            timeout=30
        )
    finally:
        producer.close()
    return PolicyRecord(**{**_fields(record), "offset": metadata.offset})


def read_raw(settings: Settings, timeout_s: float = 10.0) -> list[tuple[int, bytes | None]]:
    """Every record of the policy topic, in offset order, up to its end when called."""
    from kafka import TopicPartition

    from stream.kafka.clients import plain_consumer

    consumer = plain_consumer(settings)
    try:
        partition = TopicPartition(settings.policy_topic, 0)
        deadline = time.monotonic() + timeout_s
        if settings.policy_topic not in consumer.topics():
            return []  # no policy was ever pushed and no worker has run (the topic does not exist yet)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        out: list[tuple[int, bytes | None]] = []
        while consumer.position(partition) < end:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"could not read the policy topic {settings.policy_topic} within {timeout_s}s"
                )
            for records in consumer.poll(timeout_ms=500).values():
                out += [(r.offset, r.value) for r in records if r.offset < end]
        return out
    finally:
        consumer.close()


def read_history(settings: Settings) -> tuple[list[PolicyRecord], list[str]]:
    """Decoded records in offset order, and the problems of records that could not be decoded."""
    records, problems = [], []
    for offset, value in read_raw(settings):
        try:
            records.append(decode_record(offset, value))
        except PolicyError as exc:
            problems.append(str(exc))
    return records, problems


def in_force(records: Sequence[PolicyRecord]) -> dict[Slot, PolicyRecord | None]:
    """The newest valid record of each slot (a record whose YAML no longer validates is skipped)."""
    current: dict[Slot, PolicyRecord | None] = {"live": None, "shadow": None}
    for record in records:
        try:
            policy_of(record)
        except PolicyError:
            continue
        current[record.slot] = record
    return current


def _fields(record: PolicyRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in PolicyRecord.__dataclass_fields__}
