"""The content a judge reads: a validated generated-content event, as the label checks and text
classifiers take it.

``stream/core/records.py`` parses raw bytes against the published event schema into these types; the
judges in ``classifiers/`` read them and never import ``stream/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, get_args

ContentType = Literal["text", "image", "audio", "video", "virtual_scene"]
ServiceType = Literal[
    "person_simulating_text",
    "voice_synthesis",
    "voice_cloning",
    "face_generation",
    "face_swap",
    "face_pose_manipulation",
    "immersive_scene",
    "image_video_generation",
    "editing",
    "other",
]
CONTENT_TYPES: Final = get_args(ContentType)
SERVICE_TYPES: Final = get_args(ServiceType)
LabelKind = Literal["text", "graphic", "voice", "rhythm", "interface"]

# The seven GB 45438-2025 Annex E implicit-label elements, in the standard's order.
AIGC_FIELDS: Final = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)


@dataclass(frozen=True, slots=True)
class Media:
    mime_type: str
    data: bytes | None = None
    filename: str | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class ExplicitLabel:
    kind: LabelKind
    position: str | None = None
    text: str | None = None
    size_ratio: float | None = None
    text_height_px: int | None = None
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class Producer:
    provider_code: str | None = None
    provider_name: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class DepictedPerson:
    consent: bool | None
    person_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ContentEvent:
    """A validated generated-content event (schema ``content-event.v1``)."""

    event_id: str
    tenant: str
    scene: str
    content_id: str
    content_type: ContentType
    service_type: ServiceType
    input_sha256: str
    text: str | None = None
    media: Media | None = None
    # Kept as sent: label rules judge the values (a numeric Label is a finding, not a rejection).
    implicit_label: dict[str, Any] | None = None
    explicit_label: ExplicitLabel | None = None
    declared_ai_generated: bool | None = None
    producer: Producer = field(default_factory=Producer)
    depicted_persons: tuple[DepictedPerson, ...] = ()
    created_at: datetime | None = None
    published_at: datetime | None = None
    received_at: datetime | None = None
    # Where lone surrogates were replaced by U+FFFD at the edge, as (JSON path, count); the decision
    # carries a ``text_normalised`` note naming them.
    normalised: tuple[tuple[str, int], ...] = ()
