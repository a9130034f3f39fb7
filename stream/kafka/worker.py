"""Assembles and runs one Huiyan worker: settings -> policy -> Faust app, topics, agent, metrics."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from dataclasses import replace
from typing import Any

import faust

from stream.core.strikes import StrikeBook
from stream.kafka import policy_store
from stream.kafka.agents import BatchProcessor, register_agents
from stream.kafka.app import create_app
from stream.kafka.clients import create_topics, partition_ids
from stream.kafka.followers import follow_policies, follow_strikes, load_strikes
from stream.kafka.lag import LagReader
from stream.kafka.policy_store import PolicyState
from stream.kafka.topics import declare_topics
from stream.metrics import Metrics
from stream.runtime import build_context
from stream.settings import Settings

log = logging.getLogger(__name__)


def build_worker(settings: Settings) -> tuple[HuiyanWorker, BatchProcessor]:
    context = build_context(settings)
    metrics = Metrics()
    app = create_app(settings, metrics)
    topics = declare_topics(app, settings)
    # The policy topic must be compacted with one partition and the strike topic keep 31 days: create
    # them (and the others) with those settings before Faust or a reader could create them otherwise.
    create_topics(settings)
    strikes = StrikeBook()
    strike_partitions = partition_ids(settings, settings.strike_topic)
    # Strikes recorded before this worker started count from its first batch on.
    loaded = load_strikes(settings, strike_partitions, strikes)
    log.info("read %d strikes of %d accounts from %s", loaded, len(strikes), settings.strike_topic)
    context = replace(context, strike_counts=strikes.count)
    policies = PolicyState(context.policy)
    # Policies pushed before this worker started: replayed in order, so a rejected record leaves the one
    # before it in force, exactly as it did in the workers that saw it arrive.
    for outcome in policies.apply_all(policy_store.read_raw(settings)):
        metrics.policy_update(outcome.slot, outcome.applied)
    processor = BatchProcessor(
        context, topics, dlq_max_bytes=settings.dead_letter_max_bytes, policies=policies, metrics=metrics
    )
    register_agents(
        app,
        topics,
        processor,
        batch_max=settings.batch_max,
        batch_within_s=settings.batch_within_ms / 1000,
        in_flight=settings.delivery_in_flight,
    )
    metrics.policy(policies.live.version)
    metrics.shadow_policy(policies.shadow.version if policies.shadow else None)
    metrics.known_tenants = frozenset(settings.metrics_tenants)
    metrics.watch_classifier_calls(context.classifier_runner.calls, [c.name for c in context.classifiers])
    metrics.watch_strike_book(lambda: len(strikes))
    if context.pixel_runner is not None:
        metrics.watch_pixel_reads(context.pixel_runner)
    lag_reader = LagReader(settings)

    @app.timer(settings.lag_interval_s)  # type: ignore[untyped-decorator]
    async def report_lag() -> None:
        await asyncio.to_thread(lag_reader.record, metrics.lag)

    @app.task  # type: ignore[untyped-decorator]
    async def watch_policies() -> None:
        await follow_policies(settings, policies, metrics)

    @app.task  # type: ignore[untyped-decorator]
    async def watch_strikes() -> None:
        await follow_strikes(settings, strike_partitions, strikes)

    @app.task  # type: ignore[untyped-decorator]
    async def announce() -> None:
        # Everything loaded so far (model, tokenizer, schemas, Faust, aiokafka) lives as long as the
        # worker. A full garbage collection walked it all in about 90 ms, holding the GIL, and landed
        # in the latency tail; frozen objects are skipped by later collections.
        gc.collect()
        gc.freeze()
        log.info(
            "huiyan worker: %s -> %s (dead letters: %s), policy %s, metrics on http://%s:%d/metrics",
            settings.content_topic,
            settings.decision_topic,
            settings.dead_letter_topic,
            policies.live.version,
            settings.web_host,
            settings.web_port,
        )

    worker = HuiyanWorker(app, loglevel=settings.log_level, redirect_stdouts=False)
    worker.shutdown_timeout_s = settings.shutdown_timeout_s
    # Faust's terminal spinner hangs a DEBUG handler on the root logger and lowers it to DEBUG, so every
    # faust and aiokafka debug call on the produce path built a log record only to drop it (about 8% of
    # the event loop's time in a profile of the bench). Nobody watches a spinner in a deployment.
    worker.spinner = None
    return worker, processor


class HuiyanWorker(faust.Worker):
    """Faust's worker with a bound on how long stopping may take.

    Faust waits, when stopping, until every event taken is acknowledged; an agent that crashed before
    acknowledging its batch once made SIGTERM hang for minutes ("wait_empty: Waiting for tasks") until
    ``kill -9``. From the first stop signal, or the start of a shutdown for any other reason, a timer
    thread ends the process after ``shutdown_timeout_s``, whatever the event loop is doing. Nothing is
    lost by it: unacknowledged events are not committed, and the group gives them to another worker.
    """

    shutdown_timeout_s: float = 30.0
    _watchdog: threading.Timer | None = None

    def _schedule_shutdown(self, signal: Any) -> None:
        self.start_watchdog(f"signal {getattr(signal, 'name', signal)}")
        super()._schedule_shutdown(signal)

    def on_worker_shutdown(self) -> None:
        self.start_watchdog("shutdown")
        super().on_worker_shutdown()

    def start_watchdog(self, why: str) -> None:
        if self._watchdog is not None:
            return
        timeout = self.shutdown_timeout_s

        def force_exit() -> None:
            log.critical(
                "worker not stopped %.0f s after %s (HUIYAN_SHUTDOWN_TIMEOUT_S); exiting now. "
                "Unacknowledged events are redone by the group.",
                timeout,
                why,
            )
            logging.shutdown()
            os._exit(EXIT_SHUTDOWN_TIMEOUT)

        self._watchdog = threading.Timer(timeout, force_exit)
        self._watchdog.daemon = True
        self._watchdog.start()


# The exit status of a worker that the shutdown watchdog ended (EX_SOFTWARE).
EXIT_SHUTDOWN_TIMEOUT = 70


def run_worker(settings: Settings) -> None:
    """Runs until SIGTERM/SIGINT (warm shutdown: the batch in hand is finished or left unacknowledged)."""
    worker, processor = build_worker(settings)
    try:
        worker.execute_from_commandline()
    finally:
        processor.close()
