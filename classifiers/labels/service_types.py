"""The rule table: which explicit label a service type and a content type call for.

Two tables, both data. :data:`SERVICE_RULES` maps each deep-synthesis service type of the event
contract to the Deep Synthesis Provisions Art. 17 para 1 item that makes an explicit label mandatory
(or to para 2, where the provider must only offer a labeling function) and says whether it edits a real
person's face or voice (Art. 14 separate consent). :data:`CONTENT_RULES` maps each content type to the
Labeling Measures Art. 4 item and GB 45438-2025 clause that shape the label: which kinds fit, where it
must sit, how large and how long it must be. This module holds facts only; it must not inspect events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from classifiers.content import ContentType, ServiceType

# The kinds of classifiers.content.ExplicitLabel (content-event.v1 explicit_label.kind).
LabelKind = Literal["text", "graphic", "voice", "rhythm", "interface"]
# How the label reaches people: read in the text, heard, or seen on the image or frame.
LabelModality = Literal["text", "audio", "visual"]


@dataclass(frozen=True, slots=True)
class ServiceRule:
    """What the Deep Synthesis Provisions ask of content made by one service type."""

    service_type: ServiceType
    # Art. 17 para 1 item (1)-(5) making an explicit label mandatory; None: para 2, label function only.
    art17_item: int | None
    # Art. 14: face or voice editing of a real person needs that person's separate consent.
    biometric_edit: bool
    summary: str


# Deep Synthesis Provisions Art. 17 para 1; the item each service type falls under is our reading of
# the article's five items (labels.md §1.1).
SERVICE_RULES: Final[Mapping[ServiceType, ServiceRule]] = MappingProxyType(
    {
        # Item (1): intelligent dialogue / writing that simulates a natural person to generate text.
        "person_simulating_text": ServiceRule("person_simulating_text", 1, False, "text simulating a person"),
        # Item (2): synthetic voice and voice imitation (仿声).
        "voice_synthesis": ServiceRule("voice_synthesis", 2, False, "speech synthesis"),
        "voice_cloning": ServiceRule("voice_cloning", 2, True, "voice imitation of a real person"),
        # Item (3): face generation, face swap, face manipulation, pose manipulation.
        "face_generation": ServiceRule("face_generation", 3, False, "face generation"),
        "face_swap": ServiceRule("face_swap", 3, True, "face swap of a real person"),
        "face_pose_manipulation": ServiceRule(
            "face_pose_manipulation", 3, True, "face or pose manipulation of a real person"
        ),
        # Item (4): immersive realistic scenes (沉浸式拟真场景, defined in Art. 23).
        "immersive_scene": ServiceRule("immersive_scene", 4, False, "immersive realistic scene"),
        # Item (5): other services that generate or significantly change information content.
        "image_video_generation": ServiceRule(
            "image_video_generation", 5, False, "image or video generation"
        ),
        # Art. 17 para 2: services outside the list must offer a labeling function, not apply a label.
        "editing": ServiceRule("editing", None, False, "editing outside Art. 17 para 1"),
        "other": ServiceRule("other", None, False, "other deep synthesis service"),
    }
)


@dataclass(frozen=True, slots=True)
class ContentLabelRule:
    """What an explicit label on one content type must look like."""

    content_type: ContentType
    measures_item: int  # Labeling Measures Art. 4 item
    gb_clause: str | None  # GB 45438-2025 clause; None where the standard has no specifics
    modality: LabelModality
    accepted_kinds: frozenset[LabelKind]
    # GB 45438-2025 5.2, 5.4: the prompt must be text; a graphic-only label is a warning.
    text_prompt_expected: bool = False
    # Positions a label must be declared at (Labeling Measures Art. 4(4), 4(5)); None: any.
    required_positions: frozenset[str] | None = None
    # GB 45438-2025 5.2: on an edge or corner of the image; None: no placement rule.
    edge_positions: frozenset[str] | None = None
    # GB 45438-2025 5.2, 5.4: text height over the shortest side of the image or frame, at least 1/20.
    checks_size: bool = False
    # GB 45438-2025 5.4: shown for at least this many seconds at normal speed.
    min_duration_s: float | None = None

    @property
    def article(self) -> str:
        measures = f"Labeling Measures Art. 4({self.measures_item})"
        return f"{measures}; GB 45438-2025 {self.gb_clause}" if self.gb_clause else measures


# GB 45438-2025 5.2, 5.4: minimum label text height as a fraction of the shortest side, as 1/DIVISOR so
# that pixel sizes compare exactly in integers.
MIN_SIZE_DIVISOR: Final = 20
MIN_SIZE_RATIO: Final = 1 / MIN_SIZE_DIVISOR

_EDGES: Final = frozenset(
    {"top_left", "top_right", "bottom_left", "bottom_right", "top", "bottom", "left", "right"}
)
_OPENING_FRAME: Final = frozenset({"opening_frame"})

CONTENT_RULES: Final[Mapping[ContentType, ContentLabelRule]] = MappingProxyType(
    {
        # Measures Art. 4(1): a text or general-symbol prompt in the text, or a prompt in the interface;
        # GB 45438-2025 5.1. A general symbol is declared as kind "graphic".
        "text": ContentLabelRule("text", 1, "5.1", "text", frozenset({"text", "interface", "graphic"})),
        # Measures Art. 4(2): a voice or rhythm prompt, or a prompt in the interface; GB 45438-2025 5.3.
        "audio": ContentLabelRule("audio", 2, "5.3", "audio", frozenset({"voice", "rhythm", "interface"})),
        # Measures Art. 4(3): a prompt on the image itself; GB 45438-2025 5.2.
        "image": ContentLabelRule(
            "image",
            3,
            "5.2",
            "visual",
            frozenset({"text", "graphic"}),
            text_prompt_expected=True,
            edge_positions=_EDGES,
            checks_size=True,
        ),
        # Measures Art. 4(4): a prompt on the opening frame; GB 45438-2025 5.4.
        "video": ContentLabelRule(
            "video",
            4,
            "5.4",
            "visual",
            frozenset({"text", "graphic"}),
            text_prompt_expected=True,
            required_positions=_OPENING_FRAME,
            checks_size=True,
            min_duration_s=2.0,
        ),
        # Measures Art. 4(5): a prompt on the opening frame; no GB 45438-2025 specifics known (labels.md §7).
        "virtual_scene": ContentLabelRule(
            "virtual_scene",
            5,
            None,
            "visual",
            frozenset({"text", "graphic"}),
            required_positions=_OPENING_FRAME,
        ),
    }
)


def explicit_label_required(service_type: ServiceType) -> bool:
    """Deep Synthesis Provisions Art. 17 para 1: the service type must label its content conspicuously."""
    return SERVICE_RULES[service_type].art17_item is not None


def requirement_article(service_type: ServiceType, content_type: ContentType) -> str:
    """The clauses that require (or only suggest) an explicit label for this service and content type."""
    item = SERVICE_RULES[service_type].art17_item
    if item is None:
        return "Deep Synthesis Provisions Art. 17 para 2"
    measures = f"Labeling Measures Art. 4({CONTENT_RULES[content_type].measures_item})"
    return f"Deep Synthesis Provisions Art. 17 para 1 item ({item}); {measures}"


def needs_separate_consent(service_type: ServiceType) -> bool:
    """Deep Synthesis Provisions Art. 14: the service edits a real person's face or voice."""
    return SERVICE_RULES[service_type].biometric_edit
