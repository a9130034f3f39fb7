"""Assembles and runs one Huiyan worker: settings -> policy -> Faust app, topics, agent, metrics."""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import logging
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import faust

from stream import metrics, policy_store
from stream.agents import BatchProcessor, register_agents
from stream.app import create_app
from stream.kafka_auth import aiokafka_options
from stream.kafka_io import create_topics, partition_ids
from stream.pipeline import EventLimits, ModerationContext, TextClassifier
from stream.policy import load_policy
from stream.policy_store import PolicyState
from stream.settings import Settings
from stream.strikes import StrikeBook, follow_strikes, load_strikes
from stream.topics import declare_topics

log = logging.getLogger(__name__)


def build_context(settings: Settings) -> ModerationContext:
    """The core's context from settings; shared by the worker and the offline mode.

    The classifier model is loaded here, once per process.
    """
    classifiers: tuple[TextClassifier, ...] = ()
    if settings.classifiers_enabled and settings.classifier_factory:
        classifiers = load_classifiers(settings)
    elif settings.classifiers_enabled:
        from classifiers.text_model import TextRiskModel, served_model_dir

        model_dir = served_model_dir(settings.model_dir)
        classifiers = (TextRiskModel(model_dir, threads=settings.inference_threads),)
    return ModerationContext(
        policy=load_policy(settings.policy_file),
        limits=EventLimits(settings.max_event_bytes, settings.max_media_bytes),
        platform_code=settings.platform_code,
        classifiers=classifiers,
        signing_keys=load_signing_keys(settings.label_signing_keys),
        c2pa_trust_anchors=Path(settings.c2pa_trust_anchors).read_text("utf-8")
        if settings.c2pa_trust_anchors
        else None,
        classifier_timeout_s=settings.classifier_timeout_ms / 1000,
    )


def load_classifiers(settings: Settings) -> tuple[TextClassifier, ...]:
    """The classifiers ``HUIYAN_CLASSIFIER_FACTORY`` (``module:callable``) returns for ``settings``."""
    module_name, _, attribute = settings.classifier_factory.partition(":")
    if not module_name or not attribute:
        raise ValueError(
            f"HUIYAN_CLASSIFIER_FACTORY: expected module:callable, not {settings.classifier_factory!r}"
        )
    factory = getattr(importlib.import_module(module_name), attribute)
    built = factory(settings)
    found = tuple(built) if isinstance(built, list | tuple) else (built,)
    for classifier in found:
        needed = ("name", "version", "categories", "predict_detailed")
        missing = [a for a in needed if not hasattr(classifier, a)]
        if missing:
            raise ValueError(f"HUIYAN_CLASSIFIER_FACTORY: {classifier!r} has no {', '.join(missing)}")
    return found


def load_signing_keys(path: str) -> dict[str, str]:
    """``{"<producer code>": "<SM2 public key hex>", ...}`` from a JSON file; empty path: no keys."""
    if not path:
        return {}
    keys = json.loads(Path(path).read_text("utf-8"))
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise ValueError(f"{path}: expected a JSON object of producer code -> public key hex strings")
    return keys


def build_worker(settings: Settings) -> tuple[HuiyanWorker, BatchProcessor]:
    context = build_context(settings)
    app = create_app(settings)
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
        metrics.record_policy_update(outcome.slot, outcome.applied)
    processor = BatchProcessor(
        context, topics, dlq_max_bytes=settings.dead_letter_max_bytes, policies=policies
    )
    register_agents(
        app,
        topics,
        processor,
        batch_max=settings.batch_max,
        batch_within_s=settings.batch_within_ms / 1000,
        in_flight=settings.delivery_in_flight,
    )
    metrics.record_policy(policies.live.version)
    metrics.record_shadow_policy(policies.shadow.version if policies.shadow else None)

    @app.task  # type: ignore[untyped-decorator]
    async def watch_policies() -> None:
        await follow_policies(settings, policies)

    @app.task  # type: ignore[untyped-decorator]
    async def watch_strikes() -> None:
        await follow_strikes(
            settings.bootstrap_servers,
            settings.strike_topic,
            strike_partitions,
            strikes,
            aiokafka_options(settings),
        )

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
            context.policy.version,
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


async def follow_policies(settings: Settings, policies: PolicyState) -> None:
    """Applies every record pushed to the policy topic after start-up, as it arrives (within about a
    second), until the worker stops. A broken connection is retried; the policies in force stay."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    partition = TopicPartition(settings.policy_topic, 0)
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=",".join(settings.bootstrap_servers),
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=500,
            max_partition_fetch_bytes=2 * settings.kafka_max_message_bytes,
            **aiokafka_options(settings),
        )
        try:
            await consumer.start()
            consumer.assign([partition])
            consumer.seek(partition, policies.position)
            while True:
                batch = await consumer.getmany(partition, timeout_ms=1000)
                for record in batch.get(partition, []):
                    outcome = policies.apply(record.offset, record.value)
                    metrics.record_policy_update(outcome.slot, outcome.applied)
                    if outcome.applied and outcome.slot == "live":
                        metrics.record_policy(policies.live.version)
                    elif outcome.applied:
                        metrics.record_shadow_policy(policies.shadow.version if policies.shadow else None)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reading the policy topic %s failed; retrying in 5 s", settings.policy_topic)
            await asyncio.sleep(5)
        finally:
            await consumer.stop()


def run_worker(settings: Settings) -> None:
    """Runs until SIGTERM/SIGINT (warm shutdown: the batch in hand is finished or left unacknowledged)."""
    worker, processor = build_worker(settings)
    try:
        worker.execute_from_commandline()
    finally:
        processor.close()
