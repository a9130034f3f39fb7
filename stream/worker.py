"""Assembles and runs one Huiyan worker: settings -> policy -> Faust app, topics, agent, metrics."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from dataclasses import replace
from pathlib import Path

import faust

from stream import metrics, policy_store
from stream.agents import BatchProcessor, register_agents
from stream.app import create_app
from stream.kafka_io import create_topics, partition_ids
from stream.pipeline import EventLimits, ModerationContext, TextClassifier
from stream.policy import load_policy
from stream.policy_store import PolicyState
from stream.settings import Settings
from stream.strikes import StrikeBook, follow_strikes, load_strikes
from stream.topics import DLQ_MAX_BYTES, declare_topics

log = logging.getLogger(__name__)


def build_context(settings: Settings) -> ModerationContext:
    """The core's context from settings; shared by the worker and the offline mode.

    The classifier model is loaded here, once per process.
    """
    classifiers: tuple[TextClassifier, ...] = ()
    if settings.classifiers_enabled:
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


def load_signing_keys(path: str) -> dict[str, str]:
    """``{"<producer code>": "<SM2 public key hex>", ...}`` from a JSON file; empty path: no keys."""
    if not path:
        return {}
    keys = json.loads(Path(path).read_text("utf-8"))
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise ValueError(f"{path}: expected a JSON object of producer code -> public key hex strings")
    return keys


def build_worker(settings: Settings) -> tuple[faust.Worker, BatchProcessor]:
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
    processor = BatchProcessor(context, topics, dlq_max_bytes=DLQ_MAX_BYTES, policies=policies)
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
        await follow_strikes(settings.bootstrap_servers, settings.strike_topic, strike_partitions, strikes)

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

    worker = faust.Worker(app, loglevel=settings.log_level, redirect_stdouts=False)
    # Faust's terminal spinner hangs a DEBUG handler on the root logger and lowers it to DEBUG, so every
    # faust and aiokafka debug call on the produce path built a log record only to drop it (about 8% of
    # the event loop's time in a profile of the bench). Nobody watches a spinner in a deployment.
    worker.spinner = None
    return worker, processor


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
            max_partition_fetch_bytes=4_194_304,
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
