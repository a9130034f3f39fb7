"""Events through a real broker and real worker processes: decisions out, dead letters, metrics."""

from __future__ import annotations

import base64
import json
from importlib import resources

import jsonschema
import pytest

from stream.core.records import load_schema
from stream.kafka.topics import DLQ_EVENT_ID, DLQ_ORIGINAL_SHA256, DLQ_REASON, DLQ_SOURCE_TOPIC, DLQ_TRUNCATED
from tests.fixtures.events import event_bytes
from tests.fixtures.kafka import Deployment

pytestmark = pytest.mark.integration

SAMPLES = [
    line
    for line in resources.files("stream.samples").joinpath("events.jsonl").read_bytes().splitlines()
    if line
]


def _event(event_id: str, content_id: str, **fields: object) -> bytes:
    return event_bytes(content_id, event_id=event_id, tenant="it", **fields)


def test_sample_events_get_the_expected_decisions(deployment: Deployment) -> None:
    # The label rules alone decide here; tests/integration/test_classifiers.py covers the classifier's part.
    worker = deployment.start_worker(HUIYAN_CLASSIFIERS="0")
    deployment.produce(SAMPLES)
    decisions = deployment.decisions(14)
    dead = deployment.read(deployment.settings.dead_letter_topic, 3)

    by_content = {d["content_id"]: d for d in decisions}
    assert len(by_content) == 14, deployment.log()
    validator = jsonschema.Draft202012Validator(load_schema("decision.v1"))
    for decision in decisions:
        validator.validate(decision)
    expected = {
        "chat-0001": "allow",
        "chat-0002": "flag",
        "write-0003": "flag",
        "img-0004": "allow",
        "img-0005": "flag",
        "vid-0006": "block",
        "vid-0007": "flag",
        "voice-0008": "allow",
        "scene-0009": "allow",
        "edit-0010": "allow",
        "chat-0011": "flag",
        # Labels read from the image bytes: matching, altered (Art. 18), absent.
        "img-0015": "allow",
        "img-0016": "flag",
        "img-0017": "flag",
    }
    assert {cid: d["action"] for cid, d in by_content.items()} == expected
    assert "biometric_edit_without_consent" in {r["code"] for r in by_content["vid-0006"]["reasons"]}
    assert by_content["chat-0001"]["notice"]["level"] == "confirmed"
    assert "file_label_mismatch" in {r["code"] for r in by_content["img-0016"]["reasons"]}
    assert "file_label_missing" in {f["code"] for f in by_content["img-0017"]["label_findings"]}
    assert by_content["chat-0001"]["provenance"]["policy_version"].startswith("default@sha256:")

    assert sorted(r.headers[DLQ_REASON].decode() for r in dead) == [
        "invalid_json",
        "invalid_value",
        "missing_field",
    ]
    assert {r.value for r in dead} == {SAMPLES[11], SAMPLES[12], SAMPLES[13]}  # original bytes, unchanged
    assert worker.poll() is None


def test_decisions_are_keyed_by_content_id(deployment: Deployment) -> None:
    deployment.start_worker()
    deployment.produce([_event(f"key-{i}", f"content-{i}") for i in range(6)])
    records = deployment.read(deployment.settings.decision_topic, 6)
    assert sorted(r.key for r in records) == sorted(f"content-{i}".encode() for i in range(6))
    assert all(json.loads(r.value)["content_id"].encode() == r.key for r in records)


def test_bad_input_is_dead_lettered_and_the_worker_survives(deployment: Deployment) -> None:
    worker = deployment.start_worker(HUIYAN_MAX_EVENT_BYTES="20000", HUIYAN_MAX_MEDIA_BYTES="1000")
    huge = _event("huge-1", "huge", text="长" * 30000)
    bad_inputs = {
        "oversize": huge,
        "invalid_encoding": b'{"event_id": "\xff\xfe"}',
        "invalid_json": b"{not json",
        "not_an_object": b"[1, 2, 3]",
        "wrong_type": _event("type-1", "type", text=12345),
        "invalid_media": _event(
            "media-1",
            "media",
            content_type="image",
            service_type="image_video_generation",
            media={"mime_type": "image/png", "data_base64": "%%%not base64%%%"},
        ),
        "unsupported_version": _event("version-1", "version", schema_version=2),
    }
    media_too_big = _event(
        "media-2",
        "media2",
        content_type="image",
        service_type="image_video_generation",
        media={"mime_type": "image/png", "data_base64": base64.b64encode(b"x" * 5000).decode()},
    )
    deployment.produce([*bad_inputs.values(), media_too_big, _event("good-1", "good")])

    dead = deployment.read(deployment.settings.dead_letter_topic, len(bad_inputs) + 1)
    by_value = {r.value: r for r in dead}
    assert {r.headers[DLQ_REASON].decode() for r in dead} == set(bad_inputs), deployment.log()
    assert by_value[media_too_big].headers[DLQ_REASON] == b"oversize"
    for reason, original in bad_inputs.items():
        record = by_value[original]  # the original bytes, unchanged
        assert record.headers[DLQ_REASON].decode() == reason
        assert record.headers[DLQ_SOURCE_TOPIC].decode() == deployment.settings.content_topic
        assert len(record.headers[DLQ_ORIGINAL_SHA256]) == 64
        assert DLQ_TRUNCATED not in record.headers
    assert by_value[bad_inputs["wrong_type"]].headers[DLQ_EVENT_ID] == b"type-1"

    decisions = deployment.decisions(1)
    assert [d["event_id"] for d in decisions] == ["good-1"]
    assert worker.poll() is None, "the worker must survive bad input"

    deployment.metrics_with(
        worker,
        'huiyan_dead_letters_total{reason="oversize"} 2.0',
        'huiyan_dead_letters_total{reason="invalid_json"} 1.0',
    )


def test_metrics_are_exposed(deployment: Deployment) -> None:
    worker = deployment.start_worker()
    deployment.produce(SAMPLES)
    deployment.decisions(11)
    deployment.metrics_with(
        worker,
        'huiyan_decisions_total{action="block",category="consent",content_type="video"} 1.0',
        'huiyan_label_findings_total{code="implicit_label_missing",severity="violation"}',
        "huiyan_batch_size_count",
        "huiyan_batch_processing_seconds_bucket",
        "huiyan_end_to_end_latency_seconds_count",
        "huiyan_policy_info{version=",
        "faust_messages_received_total",
    )
