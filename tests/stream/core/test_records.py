"""The event contract: valid events parse into typed records, every kind of bad input is a reason code."""

from __future__ import annotations

import base64
import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from classifiers.content import ContentEvent
from stream.core.records import EventRejected, load_schema, parse_event
from stream.core.vocab import REJECT_REASONS

LIMITS = {"max_event_bytes": 100_000, "max_media_bytes": 10_000}


def event(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "event_id": "e-1",
        "tenant": "acme",
        "scene": "comment",
        "content_id": "c-1",
        "content_type": "text",
        "service_type": "person_simulating_text",
        "text": "你好",
    }
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not None}


def parse(doc: Any) -> ContentEvent | EventRejected:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    return parse_event(raw, **LIMITS)


def test_schemas_are_valid_json_schema() -> None:
    for name in ("content-event.v1", "decision.v1"):
        schema = load_schema(name)
        jsonschema.validators.validator_for(schema).check_schema(schema)


def test_full_event_parses_into_typed_record() -> None:
    data = base64.b64encode(b"\x89PNG...").decode()
    parsed = parse(
        event(
            content_type="image",
            service_type="image_video_generation",
            media={"mime_type": "image/png", "data_base64": data, "width": 640, "height": 480},
            implicit_label={"Label": 1, "ContentProducer": "x"},
            explicit_label={"kind": "text", "position": "bottom_right", "text": "AI生成", "size_ratio": 0.05},
            depicted_persons=[{"consent": None}],
            created_at="2026-11-25T09:00:00+08:00",
            unknown_extra="ignored",
        )
    )
    assert isinstance(parsed, ContentEvent)
    assert parsed.media is not None and parsed.media.data == b"\x89PNG..." and parsed.media.width == 640
    assert parsed.implicit_label == {"Label": 1, "ContentProducer": "x"}  # kept as sent, judged later
    assert parsed.explicit_label is not None and parsed.explicit_label.size_ratio == 0.05
    assert parsed.depicted_persons[0].consent is None
    assert parsed.created_at is not None and parsed.created_at.utcoffset() is not None
    assert len(parsed.input_sha256) == 64


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"x" * 100_001, "oversize"),
        (b'{"event_id": "\xff"}', "invalid_encoding"),
        (b"{nope", "invalid_json"),
        (b'"a string"', "not_an_object"),
        (event(content_id=None), "missing_field"),
        (event(text=5), "wrong_type"),
        (event(tenant="has space"), "invalid_value"),
        (event(content_type="pdf"), "invalid_value"),
        (event(created_at="yesterday"), "invalid_value"),
        (event(created_at="2026-11-25T09:00:00"), "invalid_value"),  # no offset: ambiguous event time
        (event(schema_version=2), "unsupported_version"),
        (event(media={"mime_type": "image/png", "data_base64": "***"}), "invalid_media"),
        (event(media={"mime_type": "image/png", "data_base64": "A" * 20_000}), "oversize"),
    ],
)
def test_bad_input_becomes_a_reason_code(raw: Any, reason: str) -> None:
    result = parse(raw)
    assert isinstance(result, EventRejected)
    assert result.reason == reason
    assert result.reason in REJECT_REASONS
    assert result.detail


def test_rejection_keeps_the_event_id_when_readable() -> None:
    result = parse(event(content_id=None))
    assert isinstance(result, EventRejected) and result.event_id == "e-1"


def test_deeply_nested_json_is_rejected_not_raised() -> None:
    result = parse(b'{"a":' * 15_000 + b"1" + b"}" * 15_000)
    assert isinstance(result, EventRejected)


def test_bundled_samples_parse_or_reject_as_documented() -> None:
    lines = [
        line
        for line in resources.files("stream.samples").joinpath("events.jsonl").read_bytes().splitlines()
        if line
    ]
    results = [parse_event(line, **LIMITS) for line in lines]
    assert sum(isinstance(r, ContentEvent) for r in results) == 14
    assert [r.reason for r in results if isinstance(r, EventRejected)] == [
        "invalid_json",
        "missing_field",
        "invalid_value",
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b'{"event_id": "evt-12", "text": "cut off in the mid', "invalid_json", id="truncated"),
        pytest.param(b'{"event_id": "evt-12", "text": "\xff\xfe"}', "invalid_encoding", id="not-utf8"),
        pytest.param(b'{"event_id": "evt-12", "n": 1' + b"0" * 900 + b"}", "invalid_value", id="number"),
        pytest.param(b'{"text": "' + b"x" * 2048 + b'", "event_id": "evt-12"}', "oversize", id="oversize"),
    ],
)
def test_an_event_that_cannot_be_parsed_still_names_its_event_id(raw: bytes, reason: str) -> None:
    rejected = parse_event(raw, max_event_bytes=1024, max_media_bytes=512)
    assert isinstance(rejected, EventRejected)
    assert (rejected.reason, rejected.event_id) == (reason, "evt-12")


def test_the_event_id_scan_reads_keys_not_text_that_looks_like_one() -> None:
    raw = b'{"text": "say \\"event_id\\": \\"fake\\"", "event_id": "real-\\u4e2d", "x": '
    rejected = parse_event(raw, max_event_bytes=1024, max_media_bytes=512)
    assert isinstance(rejected, EventRejected) and rejected.event_id == "real-中"
    nothing = parse_event(b'{"text": "no id here", ', max_event_bytes=1024, max_media_bytes=512)
    assert isinstance(nothing, EventRejected) and nothing.event_id is None
