"""The rule table: Provisions Art. 14 and 17 per service type, Labeling Measures Art. 4 per content type."""

from __future__ import annotations

from typing import get_args

import pytest

from classifiers.content import ContentType, ServiceType
from classifiers.labels.service_types import (
    CONTENT_RULES,
    SERVICE_RULES,
    LabelKind,
    explicit_label_required,
    needs_separate_consent,
    requirement_article,
)
from stream.core.records import load_schema


def test_rule_tables_cover_the_event_contract() -> None:
    """Every service type and content type of content-event.v1 has a rule."""
    assert set(SERVICE_RULES) == set(get_args(ServiceType))
    assert set(CONTENT_RULES) == set(get_args(ContentType))
    schema = load_schema("content-event.v1")
    assert set(get_args(LabelKind)) == set(
        schema["properties"]["explicit_label"]["properties"]["kind"]["enum"]
    )
    positions = set(schema["properties"]["explicit_label"]["properties"]["position"]["enum"])
    for rule in CONTENT_RULES.values():
        assert rule.accepted_kinds <= set(get_args(LabelKind))
        assert (rule.required_positions or set()) <= positions
        assert (rule.edge_positions or set()) <= positions


@pytest.mark.parametrize(
    ("service_type", "item"),
    [
        ("person_simulating_text", 1),
        ("voice_synthesis", 2),
        ("voice_cloning", 2),
        ("face_generation", 3),
        ("face_swap", 3),
        ("face_pose_manipulation", 3),
        ("immersive_scene", 4),
        ("image_video_generation", 5),
        ("editing", None),
        ("other", None),
    ],
)
def test_art17_item_per_service_type(service_type: ServiceType, item: int | None) -> None:
    """Provisions Art. 17 para 1 items (1)-(5) need an explicit label; para 2 services do not."""
    assert SERVICE_RULES[service_type].art17_item == item
    assert explicit_label_required(service_type) is (item is not None)
    expected = f"item ({item})" if item else "Art. 17 para 2"
    assert expected in requirement_article(service_type, "image")


def test_separate_consent_services() -> None:
    """Provisions Art. 14: voice cloning, face swap and face/pose manipulation edit a real person."""
    editing = {s for s in SERVICE_RULES if needs_separate_consent(s)}
    assert editing == {"voice_cloning", "face_swap", "face_pose_manipulation"}


@pytest.mark.parametrize(
    ("content_type", "modality", "measures_item"),
    [
        ("text", "text", 1),
        ("audio", "audio", 2),
        ("image", "visual", 3),
        ("video", "visual", 4),
        ("virtual_scene", "visual", 5),
    ],
)
def test_label_modality_per_content_type(
    content_type: ContentType, modality: str, measures_item: int
) -> None:
    """Measures Art. 4(1)-(5): text, audio or visual prompt by content type."""
    rule = CONTENT_RULES[content_type]
    assert rule.modality == modality and rule.measures_item == measures_item
