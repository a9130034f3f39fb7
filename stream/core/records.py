"""The two contracts of Huiyan: the generated-content event it consumes and the decision it produces.

The JSON Schemas in ``stream/schemas/`` are the published contracts; this module parses raw bytes
against the event schema into a typed :class:`ContentEvent` (or an :class:`EventRejected` value
naming why it cannot be processed) and defines the typed :class:`Decision` that serialises to the
decision schema. It knows nothing of Kafka, classifiers or policies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Final

import fastjsonschema

from classifiers.content import (
    ContentEvent,
    DepictedPerson,
    ExplicitLabel,
    Media,
    Producer,
)
from classifiers.labels.findings import LabelFinding, LabelStatus, Notice
from classifiers.scores import Evidence
from stream.core.terms import Span
from stream.core.vocab import Action, NoteCode, ReasonCategory, RejectReason

EVENT_SCHEMA_VERSION: Final = 1
DECISION_SCHEMA_VERSION: Final = 1


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Returns a bundled JSON Schema, ``content-event.v1`` or ``decision.v1``."""
    text = resources.files("stream.schemas").joinpath(f"{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _event_validator() -> Callable[[Any], Any]:
    # fastjsonschema compiles the schema to Python: about 100 us an event against 2.5 ms for jsonschema's
    # interpreter, which alone would cap a 2-core worker near 400 events/s.
    return fastjsonschema.compile(load_schema("content-event.v1"))


# Numbers of more characters are refused: no interoperable JSON reader keeps them exactly (RFC 7493 2.2),
# and Python's own integer parser raises past 4,300 digits, which once crashed the agent.
MAX_NUMBER_CHARS: Final = 40
# Objects and arrays nested deeper are refused; the contract nests three levels.
MAX_NESTING: Final = 32
# Identifiers must arrive exactly as sent: one with a lone surrogate is refused, never rewritten, so a
# producer can still match the dead letter to its event. Every other string is repaired (see normalised).
IDENTIFIER_PATHS: Final = frozenset(
    {
        ("event_id",),
        ("content_id",),
        ("tenant",),
        ("scene",),
        ("producer", "provider_code"),
        ("producer", "user_id"),
        ("depicted_persons", "*", "person_ref"),
    }
)
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class _NumberRefused(ValueError):
    """A JSON number the edge does not accept (too long, not finite, NaN/Infinity literals)."""


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _NumberRefused(f"an integer of {len(literal)} characters (at most {MAX_NUMBER_CHARS})")
    return int(literal)


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _NumberRefused(f"a number of {len(literal)} characters (at most {MAX_NUMBER_CHARS})")
    value = float(literal)
    if not math.isfinite(value):
        raise _NumberRefused(f"{literal} is out of range for a double")
    return value


def _parse_constant(name: str) -> float:
    raise _NumberRefused(f"{name} is not JSON")


_DECODER: Final = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)


@dataclass(frozen=True, slots=True)
class EventRejected:
    """An event that cannot be processed; it goes to the dead-letter topic with its original bytes."""

    reason: RejectReason
    detail: str
    event_id: str | None = None


def _parse_time(value: str | None, name: str) -> datetime | EventRejected | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return EventRejected("invalid_value", f"{name} is not an RFC 3339 date-time: {value[:40]!r}")
    if parsed.tzinfo is None:
        return EventRejected("invalid_value", f"{name} has no time zone offset: {value[:40]!r}")
    return parsed


def _schema_rejection(error: fastjsonschema.JsonSchemaValueException, event_id: str | None) -> EventRejected:
    path = [str(p) for p in (error.path or [])][1:]  # the first element is the document itself, "data"
    reason: RejectReason
    if error.rule == "required":
        reason = "missing_field"
    elif error.rule == "type":
        reason = "wrong_type"
    elif error.rule == "const" and path == ["schema_version"]:
        reason = "unsupported_version"
    else:
        reason = "invalid_value"
    where = "/".join(path) or "(event)"
    return EventRejected(reason, f"{where}: {error.message[:300]}", printable(event_id))


def parse_event(
    raw: bytes,
    *,
    max_event_bytes: int,
    max_media_bytes: int,
    received_at: datetime | None = None,
) -> ContentEvent | EventRejected:
    """Validates raw bytes against ``content-event.v1``; never raises on bad input.

    Besides the schema, the edge refuses what no later step could carry: numbers of more than
    ``MAX_NUMBER_CHARS`` characters, NaN and Infinity, nesting deeper than ``MAX_NESTING`` and lone
    surrogates in identifiers. Lone surrogates elsewhere (a ``\\udfff`` escape decodes to a code point
    UTF-8 cannot encode) are replaced by U+FFFD and listed in ``ContentEvent.normalised``.
    """
    if len(raw) > max_event_bytes:
        detail = f"event is {len(raw)} bytes, limit {max_event_bytes}"
        return EventRejected("oversize", detail, scanned_event_id(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        detail = f"not UTF-8: {exc.reason} at byte {exc.start}"
        return EventRejected("invalid_encoding", detail, scanned_event_id(raw))
    try:
        doc = _DECODER.decode(text)
    except _NumberRefused as exc:
        return EventRejected("invalid_value", f"unacceptable number: {exc}"[:300], scanned_event_id(raw))
    except (ValueError, RecursionError) as exc:
        return EventRejected("invalid_json", f"not JSON: {exc}"[:300], scanned_event_id(raw))
    if not isinstance(doc, dict):
        return EventRejected("not_an_object", f"event is a JSON {type(doc).__name__}, not an object")
    event_id = doc.get("event_id") if isinstance(doc.get("event_id"), str) else None
    # Cheap tests first: only a document with many brackets can be deep, only one with a \\uD escape
    # can hold a lone surrogate.
    if raw.count(b"{") + raw.count(b"[") > MAX_NESTING and (depth := nesting_depth(doc)) > MAX_NESTING:
        return EventRejected("invalid_value", f"nested {depth} levels deep (at most {MAX_NESTING})", event_id)
    normalised: list[tuple[str, int]] = []
    if b"\\ud" in raw or b"\\uD" in raw:
        refused: list[str] = []
        doc = _replace_surrogates(doc, (), normalised, refused)
        if refused:
            return EventRejected(
                "invalid_encoding",
                f"{', '.join(refused)}: a lone surrogate (unencodable code point) in an identifier",
                printable(event_id),
            )
    try:
        _event_validator()(doc)
    except fastjsonschema.JsonSchemaValueException as error:
        return _schema_rejection(error, event_id)
    return _build_event(doc, raw, max_media_bytes, received_at, tuple(normalised))


# An "event_id" key and its string value in raw JSON (a quote inside a JSON string is escaped, so this
# finds keys only). Bounded: an identifier longer than this is not read.
_EVENT_ID_KEY: Final = re.compile(rb'"event_id"\s*:\s*"((?:[^"\\\x00-\x1f]|\\.){1,512})"')
# An oversize event is scanned this far for its identifier, no further.
_EVENT_ID_SCAN_BYTES: Final = 4 << 20


def scanned_event_id(raw: bytes) -> str | None:
    """The ``event_id`` of an event that could not be parsed (oversize, not UTF-8, not JSON), read from
    the first ``"event_id": "..."`` in its bytes, so that its dead letter still names it; None when there
    is none. Best effort: in a document that does not parse, the first such key is taken as the event's."""
    match = _EVENT_ID_KEY.search(raw, 0, _EVENT_ID_SCAN_BYTES)
    if match is None:
        return None
    try:
        value = json.loads(b'"' + match.group(1) + b'"')
    except ValueError:  # a bad escape, or bytes that are not UTF-8
        value = match.group(1).decode("utf-8", "backslashreplace")
    return printable(value) if isinstance(value, str) and value else None


def printable(value: str | None) -> str | None:
    """``value`` with lone surrogates written as ``\\udxxx`` escapes, as the JSON it came in spelled them:
    for dead-letter headers and files, which must be valid UTF-8."""
    if value is None or not _LONE_SURROGATE.search(value):
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def nesting_depth(doc: Any) -> int:
    """Levels of objects and arrays in ``doc`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _replace_surrogates(
    value: Any, path: tuple[str, ...], normalised: list[tuple[str, int]], refused: list[str]
) -> Any:
    if isinstance(value, str):
        repaired, count = _LONE_SURROGATE.subn("\ufffd", value)
        if count:
            if path in IDENTIFIER_PATHS:
                refused.append("/".join(path))
            else:
                normalised.append(("/".join(path) or "(event)", count))
        return repaired
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            fixed_key = _replace_surrogates(key, (*path, "(key)"), normalised, refused)
            out[fixed_key] = _replace_surrogates(item, (*path, str(fixed_key)), normalised, refused)
        return out
    if isinstance(value, list):
        return [_replace_surrogates(item, (*path, "*"), normalised, refused) for item in value]
    return value


def _build_event(
    doc: dict[str, Any],
    raw: bytes,
    max_media_bytes: int,
    received_at: datetime | None,
    normalised: tuple[tuple[str, int], ...] = (),
) -> ContentEvent | EventRejected:
    event_id: str = doc["event_id"]
    media = None
    if (m := doc.get("media")) is not None:
        data = None
        if (encoded := m.get("data_base64")) is not None:
            # base64 inflates by 4/3; reject before decoding so a huge field costs no memory.
            if len(encoded) > (max_media_bytes * 4) // 3 + 4:
                return EventRejected("oversize", f"media is over {max_media_bytes} bytes", event_id)
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                return EventRejected("invalid_media", f"media.data_base64 is not base64: {exc}", event_id)
        media = Media(
            mime_type=m["mime_type"],
            data=data,
            filename=m.get("filename"),
            width=m.get("width"),
            height=m.get("height"),
            duration_s=m.get("duration_s"),
        )
    explicit = None
    if (e := doc.get("explicit_label")) is not None:
        explicit = ExplicitLabel(
            kind=e["kind"],
            position=e.get("position"),
            text=e.get("text"),
            size_ratio=e.get("size_ratio"),
            text_height_px=e.get("text_height_px"),
            duration_s=e.get("duration_s"),
        )
    times: dict[str, datetime | None] = {}
    for name in ("created_at", "published_at"):
        parsed = _parse_time(doc.get(name), name)
        if isinstance(parsed, EventRejected):
            return EventRejected(parsed.reason, parsed.detail, event_id)
        times[name] = parsed
    producer = doc.get("producer") or {}
    return ContentEvent(
        event_id=event_id,
        tenant=doc["tenant"],
        scene=doc["scene"],
        content_id=doc["content_id"],
        content_type=doc["content_type"],
        service_type=doc["service_type"],
        input_sha256=hashlib.sha256(raw).hexdigest(),
        text=doc.get("text"),
        media=media,
        implicit_label=doc.get("implicit_label"),
        explicit_label=explicit,
        declared_ai_generated=doc.get("declared_ai_generated"),
        producer=Producer(
            provider_code=producer.get("provider_code"),
            provider_name=producer.get("provider_name"),
            user_id=producer.get("user_id"),
        ),
        depicted_persons=tuple(
            DepictedPerson(consent=p["consent"], person_ref=p.get("person_ref"))
            for p in doc.get("depicted_persons", ())
        ),
        created_at=times["created_at"],
        published_at=times["published_at"],
        received_at=received_at,
        normalised=normalised,
    )


@dataclass(frozen=True, slots=True)
class Note:
    """Something the platform should know about how the event was judged, which is not a reason."""

    code: NoteCode
    message: str


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision's action was taken: one fired rule, with what it rests on."""

    code: str
    category: ReasonCategory
    action: Action
    basis: str
    message: str
    score: float | None = None
    threshold: float | None = None
    # A term list's matches: where in the text (character offsets) each listed term occurred.
    spans: tuple[Span, ...] | None = None
    # A category score's evidence: the spans of the text that drove the score, strongest first.
    evidence: tuple[Evidence, ...] | None = None


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Provenance:
    huiyan_version: str
    models: tuple[ModelVersion, ...]
    policy_version: str
    input_sha256: str
    event_schema_version: int = EVENT_SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class Timing:
    event_time: str | None
    received_at: str | None
    decided_at: str
    processing_ms: float


@dataclass(frozen=True, slots=True)
class Decision:
    """Huiyan's verdict on one event (schema ``decision.v1``)."""

    event_id: str
    tenant: str
    scene: str
    content_id: str
    content_type: str
    service_type: str
    action: Action
    reasons: tuple[Reason, ...]
    scores: dict[str, float]
    label_findings: tuple[LabelFinding, ...]
    # Overall label status, then each label's own verdict (classifiers.labels.compliance.LabelReport).
    label_status: LabelStatus
    implicit_label_status: LabelStatus
    explicit_label_status: LabelStatus
    notice: Notice
    propagator_metadata: dict[str, str] | None
    provenance: Provenance
    timing: Timing
    notes: tuple[Note, ...] = ()
    schema_version: int = DECISION_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        plain: dict[str, Any] = _plain(self)
        return plain

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    if (names := _FIELD_NAMES.get(cls)) is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies: the records are frozen and hold only strings,
    numbers, tuples and dicts, and a worker serialises every decision on the event loop (``asdict`` was
    16% of the loop's time in a profile of the bench)."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def isoformat(moment: datetime) -> str:
    """RFC 3339 with milliseconds, in UTC."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
