"""Builds the Faust application of a Huiyan worker from :class:`~stream.settings.Settings`."""

from __future__ import annotations

from typing import Any, cast

import aiokafka
import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.transport.drivers import aiokafka as faust_aiokafka

from stream.kafka.auth import faust_options
from stream.metrics import Metrics
from stream.settings import Settings


class _FetchTunedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread with the worker consumer's fetch settings from Huiyan's settings.

    Faust fixes ``fetch_max_wait_ms`` at 1,500 and leaves ``fetch_min_bytes`` at 1 (``faust-streaming``
    0.15, ``_create_worker_consumer``), so below the maximum rate every arriving event costs a fetch
    request. aiokafka reads both attributes when the consumer starts, after this returns.
    """

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer: aiokafka.AIOKafkaConsumer = super()._create_worker_consumer(transport)
        min_bytes, max_wait_ms = cast(HuiyanApp, self.app).fetch_tuning
        consumer._fetch_min_bytes = min_bytes
        consumer._fetch_max_wait_ms = max_wait_ms
        return consumer


class _FetchTunedConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _FetchTunedConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _FetchTunedTransport(faust_aiokafka.Transport):
    Consumer = _FetchTunedConsumer


class HuiyanApp(faust.App):
    """A Faust app whose worker consumer fetches with ``fetch_tuning`` = (min bytes, max wait ms)."""

    fetch_tuning: tuple[int, int] = (1, 1500)

    def _new_transport(self) -> Any:
        return _FetchTunedTransport(self.conf.broker_consumer, self)


def create_app(settings: Settings, metrics: Metrics | None = None) -> faust.App:
    """The worker's Faust app; with ``metrics`` (and metrics enabled) it serves their registry on
    ``/metrics`` together with Faust's own sensor."""
    app = HuiyanApp(
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
        # The brokers' limit (HUIYAN_KAFKA_MAX_MESSAGE_BYTES): room for an event copied to a dead letter.
        producer_max_request_size=settings.kafka_max_message_bytes,
        # Faust reads the same limit for fetches; a fetch must hold the largest record the broker takes.
        consumer_max_fetch_size=2 * settings.kafka_max_message_bytes,
        autodiscover=False,
        # Huiyan creates its topics itself, with their configurations (stream.kafka.clients.create_topics),
        # and elects no leader: Faust then needs no permission to create topics on an ACL-guarded broker.
        topic_allow_declare=False,
        topic_disable_leader=True,
        **faust_options(settings),
    )
    app.fetch_tuning = (settings.fetch_min_bytes, settings.fetch_max_wait_ms)
    if settings.metrics_enabled:
        # Faust's own sensor and Huiyan's metrics share one registry, both on /metrics.
        registry = (metrics or Metrics()).registry
        setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix="faust")
    return app
