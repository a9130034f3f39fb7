"""Builds the Faust application of a Huiyan worker from :class:`~stream.settings.Settings`."""

from __future__ import annotations

import faust
from faust.sensors.prometheus import setup_prometheus_sensors

from stream import metrics
from stream.settings import Settings


def create_app(settings: Settings) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        store="memory://",
        datadir=settings.data_dir,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_enabled=True,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        # at-least-once: the agent acks an event only after its decision (or dead letter) is acknowledged.
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_session_timeout=float(settings.session_timeout_s),
        # Room for an oversize event copied to the dead-letter topic (the broker allows 2 MiB).
        producer_max_request_size=2_097_152,
        # Faust reads the same limit for fetches; events may be up to HUIYAN_MAX_EVENT_BYTES.
        consumer_max_fetch_size=4_194_304,
        autodiscover=False,
    )
    if settings.metrics_enabled:
        # Faust's own sensor and Huiyan's metrics share one registry, both on /metrics.
        setup_prometheus_sensors(app, pattern="/metrics", registry=metrics.REGISTRY, name_prefix="faust")
    return app
