"""The worker group's consumer lag on the content topic, as the broker has it.

Per partition: the end offset (the next offset to be written) minus the offset the group committed; a
partition the group never committed counts from its earliest offset, since the group starts there
(``auto_offset_reset=earliest``). Every worker reads the whole group's lag, not only its own partitions:
a partition whose worker stopped or hangs keeps being reported by the others, which is when lag matters.
Dashboards and alerts take the maximum over workers per partition.

Read with kafka-python's clients on a thread of their own (``LagReader.read`` blocks), every
``HUIYAN_LAG_INTERVAL_S``; the worker (``stream.kafka.worker``) records the result in its metrics. When
the only worker is down, nobody reports its lag: ``huiyan lag --serve`` (:func:`serve_lag`) is the same
reader in a process of its own, beside the workers, so that the lag of a stopped group is still seen.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from stream.kafka.auth import kafka_python_options
from stream.metrics import LagMetrics
from stream.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """One partition: its end offset, and the group's committed offset (None: never committed; the
    group then starts at ``start``, the earliest offset)."""

    end: int
    committed: int | None
    start: int

    @property
    def lag(self) -> int:
        return max(0, self.end - (self.start if self.committed is None else self.committed))


class LagReader:
    """Reads the lag of ``settings.app_id`` (Faust's consumer group) on the content topic."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.content_topic
        self._admin: KafkaAdminClient | None = None
        self._consumer: KafkaConsumer | None = None

    def read(self) -> dict[int, PartitionOffsets]:
        """Partition -> its offsets. Raises on a broker error."""
        admin, consumer = self._clients()
        partitions = consumer.partitions_for_topic(self.topic)
        if not partitions:
            raise LookupError(f"topic {self.topic} has no partitions the broker knows of")
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        ends = consumer.end_offsets(tps)
        group = self.settings.app_id
        committed = admin.list_group_offsets({group: tps}).get(group, {})
        missing = [tp for tp in tps if _offset(committed.get(tp)) is None]
        starts = consumer.beginning_offsets(missing) if missing else {}
        return {
            tp.partition: PartitionOffsets(ends[tp], _offset(committed.get(tp)), starts.get(tp, 0))
            for tp in tps
        }

    def record(self, metrics: LagMetrics) -> bool:
        """Reads the offsets into ``metrics``; on failure counts it, logs it, and drops the clients so the
        next read connects afresh. Returns whether the read succeeded."""
        try:
            offsets = self.read()
        except Exception as exc:  # the broker away, a topic missing: counted, logged, tried again
            metrics.failed()
            log.warning("reading the consumer lag of group %s failed: %r", self.settings.app_id, exc)
            self.close()
            return False
        metrics.read(self.topic, {p: (o.end, o.lag) for p, o in offsets.items()})
        return True

    def _clients(self) -> tuple[KafkaAdminClient, KafkaConsumer]:
        options = kafka_python_options(self.settings)
        if self._admin is None:
            self._admin = KafkaAdminClient(
                bootstrap_servers=self.settings.bootstrap_servers, client_id="huiyan-lag", **options
            )
        if self._consumer is None:
            # No group: this consumer only asks for offsets and never joins the worker's group.
            self._consumer = KafkaConsumer(
                bootstrap_servers=self.settings.bootstrap_servers,
                client_id="huiyan-lag",
                group_id=None,
                enable_auto_commit=False,
                **options,
            )
        return self._admin, self._consumer

    def close(self) -> None:
        """Closes the clients; the next read opens new ones (after a broker error, say)."""
        for client in (self._admin, self._consumer):
            if client is not None:
                try:
                    client.close()
                except Exception:  # closing a client that failed must not fail the caller
                    log.debug("closing a lag client failed", exc_info=True)
        self._admin = self._consumer = None


def _offset(meta: object) -> int | None:
    """The committed offset in ``meta`` (kafka-python's OffsetAndMetadata), None when there is none."""
    offset = getattr(meta, "offset", None)
    return offset if isinstance(offset, int) and offset >= 0 else None


def serve_lag(settings: Settings, host: str, port: int, stop: threading.Event | None = None) -> None:
    """Serves the group's lag on ``http://host:port/metrics``, read every ``HUIYAN_LAG_INTERVAL_S``,
    until ``stop`` is set (or forever)."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=True)
    metrics = LagMetrics(registry)
    server, thread = start_http_server(port, host, registry=registry)
    reader = LagReader(settings)
    stop = stop or threading.Event()
    log.info("serving the lag of group %s on http://%s:%d/metrics", settings.app_id, host, port)
    try:
        while True:
            reader.record(metrics)
            if stop.wait(settings.lag_interval_s):
                break
    finally:
        reader.close()
        server.shutdown()
        thread.join()
