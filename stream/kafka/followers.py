"""The feeds every worker follows beside its consumer group: the policy topic and the strike topic.

Both are read the same way, by :func:`follow_topic`: a consumer outside any group, assigned every
partition, from the position the worker's start-up read reached, each record handed to the feed's
``take`` as it arrives, until the worker stops. A broken connection is retried from where it broke.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from stream.core.strikes import MAX_WINDOW_S, StrikeBook
from stream.kafka.auth import aiokafka_options
from stream.kafka.policy_store import PolicyState
from stream.metrics import Metrics
from stream.settings import Settings

log = logging.getLogger(__name__)

RETRY_S = 5.0


async def follow_topic(
    settings: Settings,
    topic: str,
    positions: Callable[[], Mapping[int, int]],
    take: Callable[[int, int, bytes | None], object],
    *,
    max_partition_fetch_bytes: int | None = None,
) -> None:
    """Hands every record of ``topic``'s partitions to ``take(partition, offset, value)``, starting at
    ``positions()`` (partition -> next offset, asked again after a broken connection), until cancelled."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    extra: dict[str, Any] = {}
    if max_partition_fetch_bytes is not None:
        extra["max_partition_fetch_bytes"] = max_partition_fetch_bytes
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=",".join(settings.bootstrap_servers),
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=500,
            **extra,
            **aiokafka_options(settings),
        )
        try:
            await consumer.start()
            start = dict(positions())
            partitions = [TopicPartition(topic, p) for p in sorted(start)]
            consumer.assign(partitions)
            log.info("following %s (%d partitions)", topic, len(partitions))
            for tp in partitions:
                consumer.seek(tp, start[tp.partition])
            while True:
                for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                    for record in records:
                        take(tp.partition, record.offset, record.value)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reading the topic %s failed; retrying in %.0f s", topic, RETRY_S)
            await asyncio.sleep(RETRY_S)
        finally:
            await consumer.stop()


async def follow_policies(settings: Settings, policies: PolicyState, metrics: Metrics) -> None:
    """Applies every record pushed to the policy topic after start-up, as it arrives (within about a
    second); the policies in force stay while the connection is broken."""

    def take(partition: int, offset: int, value: bytes | None) -> None:
        outcome = policies.apply(offset, value)
        metrics.policy_update(outcome.slot, outcome.applied)
        if outcome.applied and outcome.slot == "live":
            metrics.policy(policies.live.version)
        elif outcome.applied:
            metrics.shadow_policy(policies.shadow.version if policies.shadow else None)

    await follow_topic(
        settings,
        settings.policy_topic,
        lambda: {0: policies.position},
        take,
        max_partition_fetch_bytes=2 * settings.kafka_max_message_bytes,
    )


async def follow_strikes(settings: Settings, partition_ids: list[int], book: StrikeBook) -> None:
    """Feeds ``book`` from every partition of the strike topic (``partition_ids``, read from the broker's
    metadata at start-up) from ``book.position`` on, where :func:`load_strikes` stopped (it must have
    run first)."""
    await follow_topic(
        settings, settings.strike_topic, lambda: {p: book.position[p] for p in partition_ids}, book.take
    )


def load_strikes(
    settings: Settings, partition_ids: list[int], book: StrikeBook, timeout_s: float = 120
) -> int:
    """Reads the last ``MAX_WINDOW_S`` of strikes into ``book``, up to the topic's end when called; returns
    how many were read. The worker calls it before it decides anything, so a repeat offender is
    escalated from a worker's first batch on; :func:`follow_strikes` then goes on from ``book.position``.
    Past ``timeout_s`` it stops early and says so: the follower catches up with the rest."""
    from kafka import TopicPartition

    from stream.kafka.clients import plain_consumer

    topic = settings.strike_topic
    consumer = plain_consumer(settings)
    read = 0
    try:
        partitions = [TopicPartition(topic, p) for p in partition_ids]
        consumer.assign(partitions)
        start_ms = int((time.time() - MAX_WINDOW_S) * 1000)
        found = consumer.offsets_for_times({tp: start_ms for tp in partitions})
        ends = consumer.end_offsets(partitions)
        for tp in partitions:
            start = found[tp].offset if found.get(tp) else ends[tp]
            consumer.seek(tp, start)
            book.position[tp.partition] = start
        deadline = time.monotonic() + timeout_s
        while any(book.position[tp.partition] < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                log.warning(
                    "read %d strikes from %s in %.0f s; the rest follow in the background",
                    read,
                    topic,
                    timeout_s,
                )
                break
            for tp, records in consumer.poll(timeout_ms=500).items():
                read += sum(book.take(tp.partition, record.offset, record.value) for record in records)
    finally:
        consumer.close()
    return read
