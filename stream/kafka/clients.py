"""Plain Kafka clients for the command line, the demo and the tests: create topics, produce events,
read decisions and dead letters. The worker itself uses Faust; this module never decides anything."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from stream.kafka.auth import kafka_python_options
from stream.settings import Settings


def create_topics(
    settings: Settings, configs: Mapping[str, Mapping[str, str]] | None = None, extra: tuple[str, ...] = ()
) -> list[str]:
    """Creates the worker's topics if missing (content, decisions, dead letters, shadow decisions,
    strikes and the compacted policy topic, and the ``extra`` ones: ``huiyan topics`` adds the review
    topic, which workers never touch); returns the names it created. ``configs`` adds topic
    configurations by topic name (the benchmark's decision topic takes the broker's append time)."""
    configs = configs or {}
    admin = KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id="huiyan-admin",
        **kafka_python_options(settings),
    )
    try:
        existing = set(admin.list_topics())
        # The broker refuses an event over HUIYAN_MAX_EVENT_BYTES at the content topic, before any worker.
        configs = {
            settings.content_topic: {"max.message.bytes": str(settings.content_topic_max_bytes)},
            **configs,
        }
        wanted = [
            settings.content_topic,
            settings.decision_topic,
            settings.dead_letter_topic,
            settings.shadow_decision_topic,
            *extra,
        ]
        new = [
            NewTopic(
                name,
                settings.topic_partitions,
                settings.topic_replication,
                topic_configs=dict(configs.get(name, {})),
            )
            for name in wanted
            if name not in existing
        ]
        if settings.strike_topic not in existing:
            # Strikes count for at most 31 days (stream.core.strikes.MAX_WINDOW_S); keep them as long.
            retention = {"retention.ms": str(31 * 24 * 3600 * 1000)}
            new.append(
                NewTopic(
                    settings.strike_topic,
                    settings.topic_partitions,
                    settings.topic_replication,
                    topic_configs=retention,
                )
            )
        if settings.policy_topic not in existing:
            # One partition keeps pushes in order; compaction keeps the newest push of every version.
            new.append(
                NewTopic(
                    settings.policy_topic,
                    1,
                    settings.topic_replication,
                    topic_configs={"cleanup.policy": "compact"},
                )
            )
        if new:
            # Another worker or test may create one between our list and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new)
        return [t.name for t in new]
    finally:
        admin.close()


def partition_ids(settings: Settings, topic: str, timeout_s: float = 30) -> list[int]:
    """The partitions of ``topic`` (it must exist), as the broker's metadata lists them."""
    consumer = plain_consumer(settings)
    try:
        deadline = time.monotonic() + timeout_s
        while not (ids := consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {topic} has no partitions (does it exist?)")
            time.sleep(0.2)
        return sorted(ids)
    finally:
        consumer.close()


def event_key(line: bytes) -> bytes | None:
    """The content id of a raw event, used as the Kafka key so one content stays on one partition."""
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError):  # hostile bytes are the worker's to dead-letter, not ours to fail on
        return None
    content_id = doc.get("content_id") if isinstance(doc, dict) else None
    return content_id.encode("utf-8") if isinstance(content_id, str) else None


class EventTooLarge(ValueError):
    """An event over ``HUIYAN_MAX_EVENT_BYTES``, refused before it is sent."""


def produce_events(settings: Settings, records: Iterable[bytes], *, topic: str | None = None) -> int:
    """Produces raw event bytes to the content topic, waiting for every acknowledgement.

    An event over ``HUIYAN_MAX_EVENT_BYTES`` is refused before anything is sent (:class:`EventTooLarge`):
    the broker or a worker would refuse it later.
    """
    records = list(records)
    for number, record in enumerate(records, start=1):
        if (topic is None or topic == settings.content_topic) and len(record) > settings.max_event_bytes:
            raise EventTooLarge(
                f"event {number} has {len(record)} bytes, over HUIYAN_MAX_EVENT_BYTES "
                f"({settings.max_event_bytes}); nothing was sent"
            )
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        max_request_size=settings.kafka_max_message_bytes,
        linger_ms=5,
        **kafka_python_options(settings),
    )
    try:
        futures = [producer.send(topic or settings.content_topic, value=r, key=event_key(r)) for r in records]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
        return len(futures)
    finally:
        producer.close()


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def plain_consumer(settings: Settings) -> KafkaConsumer:
    """A consumer outside any group, committing nothing, that takes records up to the 2 MiB events allow."""
    return KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        fetch_max_bytes=4 * settings.kafka_max_message_bytes,
        max_partition_fetch_bytes=2 * settings.kafka_max_message_bytes,
        **kafka_python_options(settings),
    )


def open_reader(settings: Settings, topics: Iterable[str], *, from_beginning: bool) -> KafkaConsumer:
    """A group-less consumer assigned to every partition of ``topics``, at their start or end."""
    consumer = plain_consumer(settings)
    partitions = []
    for topic in topics:
        deadline = time.monotonic() + 30
        while not (ids := consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {topic} has no partitions (does it exist?)")
            time.sleep(0.2)
        partitions += [TopicPartition(topic, p) for p in sorted(ids)]
    consumer.assign(partitions)
    if from_beginning:
        consumer.seek_to_beginning(*partitions)
    else:
        consumer.seek_to_end(*partitions)
        for tp in partitions:
            consumer.position(tp)  # resolve the end offset now, before anything new is produced
    return consumer


def read_records(
    consumer: KafkaConsumer, *, idle_timeout_s: float, max_records: int | None = None
) -> Iterator[ConsumedRecord]:
    """Yields records until ``max_records`` were read or nothing arrived for ``idle_timeout_s``."""
    count = 0
    last = time.monotonic()
    while time.monotonic() - last < idle_timeout_s:
        batch = consumer.poll(timeout_ms=200)
        for records in batch.values():
            for r in records:
                last = time.monotonic()
                count += 1
                yield ConsumedRecord(
                    r.topic, r.partition, r.offset, r.key, r.value, {k: v for k, v in (r.headers or [])}
                )
                if max_records is not None and count >= max_records:
                    return
