"""The worker's Kafka consumer fetches with Huiyan's fetch settings, not Faust's fixed ones."""

from __future__ import annotations

import inspect

import aiokafka

from stream.kafka.app import create_app
from stream.settings import Settings


async def test_the_worker_consumer_takes_the_fetch_settings() -> None:
    app = create_app(
        Settings.from_env(
            {"HUIYAN_FETCH_MIN_BYTES": "12345", "HUIYAN_FETCH_MAX_WAIT_MS": "77", "HUIYAN_METRICS": "0"}
        )
    )
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        assert (consumer._fetch_min_bytes, consumer._fetch_max_wait_ms) == (12345, 77)
        # Faust's own settings still apply to the rest.
        assert consumer._max_partition_fetch_bytes == 4_194_304
        assert consumer._enable_auto_commit is False
    finally:
        await consumer.stop()


def test_the_defaults_batch_fetches() -> None:
    app = create_app(Settings.from_env({"HUIYAN_METRICS": "0"}))
    assert app.fetch_tuning == (65536, 100)


def test_aiokafka_still_reads_the_attributes_the_app_sets() -> None:
    # The app sets aiokafka's private attributes before start(); start() hands them to its fetcher.
    source = inspect.getsource(aiokafka.AIOKafkaConsumer.start)
    assert "fetch_min_bytes=self._fetch_min_bytes" in source
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in source
