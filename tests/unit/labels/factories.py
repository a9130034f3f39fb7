"""Test helpers: real ContentEvents for the label rules, from small dicts parsed by the event contract."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from stream.records import ContentEvent, LabelFinding, parse_event

# A well-formed TC260-PG-20252A code made up for the tests: "00", subject 1, binding 1, an 18-character
# credit code, service type 1 (generation), app code A7K2.
PRODUCER_CODE = "0011911100007DK3QW8A2Y1A7K2"
PLATFORM_CODE = "0011911100007DK3QW8A2Y2B3C4"

# Pass as a value to drop that key from the document.
ABSENT: Any = object()


def valid_implicit_label(**overrides: Any) -> dict[str, Any]:
    """A complete Annex E label of a first write; keyword overrides change or (ABSENT) drop elements."""
    label: dict[str, Any] = {
        "Label": "1",
        "ContentProducer": PRODUCER_CODE,
        "ProduceID": "gen-20250901-0001",
        "ReservedCode1": "",
        "ContentPropagator": "",
        "PropagateID": "",
        "ReservedCode2": "",
    }
    label.update(overrides)
    return {k: v for k, v in label.items() if v is not ABSENT}


def build_event(**fields: Any) -> ContentEvent:
    """An event from the contract's required fields plus ``fields`` (a value of ABSENT drops a key)."""
    doc: dict[str, Any] = {
        "event_id": "evt-1",
        "tenant": "demo",
        "scene": "post",
        "content_id": "content-42",
        "content_type": "text",
        "service_type": "person_simulating_text",
    }
    doc.update(fields)
    doc = {k: v for k, v in doc.items() if v is not ABSENT}
    event = parse_event(
        json.dumps(doc, ensure_ascii=False).encode(), max_event_bytes=1 << 20, max_media_bytes=1 << 20
    )
    assert isinstance(event, ContentEvent), event
    return event


def codes(findings: Sequence[LabelFinding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: Sequence[LabelFinding], code: str) -> LabelFinding:
    """The one finding of ``code``; fails when there is none or several."""
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, (code, codes(findings))
    return matching[0]
