"""The naive service a user would write first, for ``huiyan bench`` to compare against: consume one
event, call a ``transformers`` text-classification pipeline on its text, produce a decision, repeat.

Same model weights (the torch copy in the workers' model directory, ``HUIYAN_MODEL_DIR`` included), same
topics and settings as a worker; no batching, no ONNX Runtime, no label checks. Not used in production.
Needs the ``train`` extra.
"""

from __future__ import annotations

import json
import signal
from types import FrameType
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from transformers import AutoModelForSequenceClassification, BertTokenizerFast, pipeline

from classifiers.text_model import served_model_dir
from stream.kafka.auth import kafka_python_options
from stream.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    model_dir = served_model_dir(settings.model_dir)  # the weights the workers serve
    classify = pipeline(
        "text-classification",
        model=AutoModelForSequenceClassification.from_pretrained(model_dir),
        tokenizer=BertTokenizerFast(vocab_file=str(model_dir / "vocab.txt")),
        top_k=None,
        function_to_apply="sigmoid",
    )
    consumer = KafkaConsumer(
        settings.content_topic,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=settings.app_id,
        auto_offset_reset="earliest",
        **kafka_python_options(settings),
    )
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", **kafka_python_options(settings)
    )
    running = True

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    while running:
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                event = json.loads(record.value)
                # With top_k=None each input gives a list of {label, score}; the stubs say otherwise.
                output: Any = classify([event.get("text") or ""], truncation=True, max_length=128)
                results: list[dict[str, Any]] = output[0]
                scores: dict[str, float] = {r["label"]: float(r["score"]) for r in results}
                decision = {
                    "event_id": event["event_id"],
                    "content_id": event["content_id"],
                    "scores": scores,
                    "action": "flag" if max(scores.values()) >= 0.5 else "allow",
                }
                producer.send(settings.decision_topic, json.dumps(decision).encode(), key=record.key).get(30)
    consumer.close()
    producer.close()


if __name__ == "__main__":
    main()
