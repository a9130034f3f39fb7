"""The Kafka topics of a Huiyan worker: content in; decisions, dead letters and shadow decisions out.

(The policy topic is read with a plain consumer, see ``stream.kafka.policy_store``.)

Values travel as raw bytes: the worker parses events itself, so a malformed record reaches the
dead-letter topic with its original bytes instead of failing inside Faust's deserializer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from stream.settings import Settings

# Kafka-Connect-style dead-letter headers: the reason code, a readable detail and where the record came from.
DLQ_REASON = "huiyan.dlq.reason"
DLQ_DETAIL = "huiyan.dlq.detail"
DLQ_SOURCE_TOPIC = "huiyan.dlq.source.topic"
DLQ_SOURCE_PARTITION = "huiyan.dlq.source.partition"
DLQ_SOURCE_OFFSET = "huiyan.dlq.source.offset"
DLQ_EVENT_ID = "huiyan.dlq.event_id"
DLQ_TRUNCATED = "huiyan.dlq.truncated"
DLQ_ORIGINAL_SHA256 = "huiyan.dlq.original.sha256"
# The door a decision, shadow decision or strike came through: b"stream" (a worker) or b"api"
# (huiyan serve). A header, so the decision contract stays as it is.
CHANNEL = "huiyan.channel"


@dataclass(frozen=True, slots=True)
class Topics:
    content: Any
    decisions: Any
    dead_letters: Any
    shadow_decisions: Any
    strikes: Any


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    """Declares the topics; ``internal=True`` makes Faust create them with our partition count."""

    def topic(name: str, retention: float | None = None) -> Any:
        return app.topic(
            name,
            retention=retention,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.topic_partitions,
            replicas=settings.topic_replication,
            internal=True,
        )

    return Topics(
        content=topic(settings.content_topic),
        decisions=topic(settings.decision_topic),
        dead_letters=topic(settings.dead_letter_topic),
        shadow_decisions=topic(settings.shadow_decision_topic),
        # Strikes count for at most 31 days (stream.core.strikes.MAX_WINDOW_S); the topic keeps them as long.
        strikes=topic(settings.strike_topic, retention=31 * 24 * 3600.0),
    )
