"""Explicit label rules: Deep Synthesis Provisions Art. 17, Labeling Measures Art. 4, GB 45438-2025 ch. 5."""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.labels.explicit import ExplicitLabelCheck, check_explicit_label
from tests.fixtures.labels import build_event, codes, only

GENERATED_TEXT = "春天的江南，细雨打湿了青石板路，河边的柳树抽出了新芽，远处传来摇橹的声音。"
IMAGE = {"mime_type": "image/png", "width": 1024, "height": 1536}
VIDEO = {"mime_type": "video/mp4", "width": 1920, "height": 1080, "duration_s": 12.0}


def check(**fields: Any) -> ExplicitLabelCheck:
    return check_explicit_label(build_event(**fields))


def image_label(**overrides: Any) -> dict[str, Any]:
    """A declared image label that passes every check; an override of None drops that key."""
    label: dict[str, Any] = {"kind": "text", "position": "bottom_right", "text": "AI生成", "size_ratio": 0.06}
    label.update(overrides)
    return {k: v for k, v in label.items() if v is not None}


def video_label(**overrides: Any) -> dict[str, Any]:
    """A declared video label that passes every check; an override of None drops that key."""
    label: dict[str, Any] = {
        "kind": "text",
        "position": "opening_frame",
        "text": "本视频由人工智能合成",
        "size_ratio": 0.06,
        "duration_s": 3.0,
    }
    label.update(overrides)
    return {k: v for k, v in label.items() if v is not None}


@pytest.mark.parametrize(
    ("service_type", "content_type", "item", "measures"),
    [
        ("person_simulating_text", "text", 1, 1),
        ("voice_synthesis", "audio", 2, 2),
        ("voice_cloning", "audio", 2, 2),
        ("face_generation", "image", 3, 3),
        ("face_swap", "video", 3, 4),
        ("face_pose_manipulation", "video", 3, 4),
        ("immersive_scene", "virtual_scene", 4, 5),
        ("image_video_generation", "image", 5, 3),
    ],
)
def test_explicit_label_missing(service_type: str, content_type: str, item: int, measures: int) -> None:
    """Provisions Art. 17 para 1 items (1)-(5); Measures Art. 4(1)-(5): these need an explicit label."""
    result = check(service_type=service_type, content_type=content_type, text=GENERATED_TEXT)
    finding = only(result.findings, "explicit_label_missing")
    assert finding.severity == "violation"
    assert f"Art. 17 para 1 item ({item})" in finding.article
    assert f"Labeling Measures Art. 4({measures})" in finding.article


@pytest.mark.parametrize("service_type", ["editing", "other"])
def test_explicit_label_optional_for_art17_para2(service_type: str) -> None:
    """Provisions Art. 17 para 2: the provider must only offer a labeling function; no violation."""
    result = check(service_type=service_type, content_type="image", media=IMAGE)
    assert codes(result.findings) == ["explicit_label_optional"]
    assert result.findings[0].severity == "info"
    assert "Art. 17 para 2" in result.findings[0].article


@pytest.mark.parametrize(
    ("text", "position"),
    [
        (f"本内容由人工智能生成。{GENERATED_TEXT}", "start"),
        (f"{GENERATED_TEXT}\n以上内容由AI生成，仅供参考", "end"),
        (f"【AI合成】{GENERATED_TEXT}", "start"),
    ],
)
def test_explicit_label_in_text(text: str, position: str) -> None:
    """GB 45438-2025 5.1; Measures Art. 4(1): a complete prompt in the text is the text's explicit label."""
    result = check(text=text)
    finding = only(result.findings, "explicit_label_in_text")
    assert finding.severity == "info" and position in finding.message
    assert finding.evidence is not None and finding.evidence in text
    assert "explicit_label_missing" not in codes(result.findings)


def test_explicit_label_in_text_ai_inside_english_word() -> None:
    """GB 45438-2025 5.1: "SAID"/"MAIL" do not carry the AI element, so the label is missing."""
    result = check(text="He SAID the MAIL was 生成 on time.")
    assert codes(result.findings) == ["explicit_label_missing"]


def test_explicit_label_in_text_incomplete() -> None:
    """GB 45438-2025 5.1: "由AI创作" lacks the generation element: a warning, and the label is missing."""
    result = check(text=f"{GENERATED_TEXT}\n由AI创作")
    finding = only(result.findings, "explicit_label_in_text_incomplete")
    assert finding.severity == "warning" and finding.evidence == "由AI创作"
    assert "generation element" in finding.message
    assert "incomplete" in only(result.findings, "explicit_label_missing").message


def test_explicit_label_caption_does_not_label_an_image() -> None:
    """Measures Art. 4(3): a caption prompt is reported, but the image itself still needs its label."""
    result = check(service_type="face_generation", content_type="image", media=IMAGE, text="AI生成的人像")
    assert codes(result.findings) == ["explicit_label_in_text", "explicit_label_missing"]
    assert "caption" in only(result.findings, "explicit_label_missing").message


@pytest.mark.parametrize(
    ("content_type", "kind", "media"),
    [
        ("text", "voice", None),
        ("text", "rhythm", None),
        ("image", "voice", IMAGE),
        ("image", "interface", IMAGE),
        ("audio", "text", {"mime_type": "audio/mpeg"}),
        ("audio", "graphic", {"mime_type": "audio/mpeg"}),
        ("video", "voice", VIDEO),
        ("video", "interface", VIDEO),
        ("virtual_scene", "rhythm", None),
    ],
)
def test_explicit_label_wrong_kind(content_type: str, kind: str, media: dict[str, Any] | None) -> None:
    """Measures Art. 4(1)-(5); GB 45438-2025 5.1-5.4: the label kind must fit the content type."""
    fields: dict[str, Any] = {"content_type": content_type, "explicit_label": {"kind": kind}}
    if media is not None:
        fields["media"] = media
    result = check(service_type="image_video_generation", **fields)
    assert codes(result.findings) == ["explicit_label_wrong_kind"]
    assert "Labeling Measures Art. 4(" in result.findings[0].article


@pytest.mark.parametrize(
    ("content_type", "label"),
    [
        ("text", {"kind": "interface", "text": "内容由AI生成"}),
        ("text", {"kind": "text", "position": "end", "text": "本文由人工智能生成"}),
        ("audio", {"kind": "rhythm", "position": "start"}),
        ("audio", {"kind": "voice", "position": "end", "text": "本音频由人工智能合成"}),
        ("image", image_label()),
        ("video", video_label()),
        ("virtual_scene", {"kind": "text", "position": "opening_frame", "text": "AI生成场景"}),
    ],
)
def test_explicit_label_present(content_type: str, label: dict[str, Any]) -> None:
    """Measures Art. 4; GB 45438-2025 ch. 5: a fitting declared label passes every check."""
    media = {"image": IMAGE, "video": VIDEO}.get(content_type)
    fields: dict[str, Any] = {"content_type": content_type, "explicit_label": label}
    if media is not None:
        fields["media"] = media
    result = check(service_type="image_video_generation", **fields)
    assert codes(result.findings) == ["explicit_label_present"]


@pytest.mark.parametrize("content_type", ["image", "video"])
def test_explicit_label_graphic_only(content_type: str) -> None:
    """GB 45438-2025 5.2, 5.4: an image or video prompt is text; a graphic is a warning."""
    label = image_label(kind="graphic", text=None) if content_type == "image" else video_label(kind="graphic")
    media = IMAGE if content_type == "image" else VIDEO
    result = check(
        service_type="face_generation", content_type=content_type, media=media, explicit_label=label
    )
    assert codes(result.findings) == ["explicit_label_graphic_only", "explicit_label_present"]
    assert result.findings[0].severity == "warning"


@pytest.mark.parametrize(
    ("content_type", "text"),
    [("text", "由AI创作"), ("image", "人工智能"), ("audio", "本音频为合成声音"), ("video", "AI")],
)
def test_explicit_label_incomplete(content_type: str, text: str) -> None:
    """GB 45438-2025 5.1-5.4: a declared label's text needs the AI element and the generation element."""
    kinds = {"text": "text", "image": "text", "audio": "voice", "video": "text"}
    label: dict[str, Any] = (
        video_label(text=text)
        if content_type == "video"
        else image_label(kind=kinds[content_type], text=text)
    )
    media = {"image": IMAGE, "video": VIDEO}.get(content_type)
    fields: dict[str, Any] = {"content_type": content_type, "explicit_label": label}
    if media is not None:
        fields["media"] = media
    result = check(service_type="image_video_generation", **fields)
    finding = only(result.findings, "explicit_label_incomplete")
    assert finding.severity == "violation" and finding.evidence == text


@pytest.mark.parametrize(
    ("ratio", "too_small"), [(0.049, True), (0.0499, True), (0.05, False), (0.051, False)]
)
def test_explicit_label_too_small_size_ratio(ratio: float, too_small: bool) -> None:
    """GB 45438-2025 5.2: text height at least 5 % of the shortest side (4.9 % fails, 5.0 % passes)."""
    result = check(
        service_type="face_generation",
        content_type="image",
        media=IMAGE,
        explicit_label=image_label(size_ratio=ratio),
    )
    assert ("explicit_label_too_small" in codes(result.findings)) is too_small


@pytest.mark.parametrize(("height_px", "too_small"), [(50, True), (51, True), (52, False)])
def test_explicit_label_too_small_from_pixels(height_px: int, too_small: bool) -> None:
    """GB 45438-2025 5.4: no size_ratio: text_height_px over the frame's shortest side (1040 -> 52 px)."""
    label = video_label(size_ratio=None, text_height_px=height_px)
    media = {"mime_type": "video/mp4", "width": 1040, "height": 1920}  # shortest side 1040: 52 px is 5 %
    result = check(service_type="face_swap", content_type="video", media=media, explicit_label=label)
    assert ("explicit_label_too_small" in codes(result.findings)) is too_small


@pytest.mark.parametrize(
    ("label", "media"),
    [
        ({"kind": "text", "position": "top", "text": "AI生成"}, IMAGE),  # no size at all
        (
            {"kind": "text", "position": "top", "text": "AI生成", "text_height_px": 80},
            {"mime_type": "image/png"},
        ),
    ],
)
def test_explicit_label_size_unknown(label: dict[str, Any], media: dict[str, Any]) -> None:
    """GB 45438-2025 5.2: when the size cannot be computed the rule is undecided (warning)."""
    result = check(service_type="face_generation", content_type="image", media=media, explicit_label=label)
    assert codes(result.findings) == ["explicit_label_size_unknown", "explicit_label_present"]


@pytest.mark.parametrize(("duration", "too_short"), [(1.9, True), (1.99, True), (2.0, False), (5.0, False)])
def test_explicit_label_too_short(duration: float, too_short: bool) -> None:
    """GB 45438-2025 5.4: a video label is shown at least 2 s (1.9 s fails, 2.0 s passes)."""
    result = check(
        service_type="face_swap",
        content_type="video",
        media=VIDEO,
        explicit_label=video_label(duration_s=duration),
    )
    assert ("explicit_label_too_short" in codes(result.findings)) is too_short


def test_explicit_label_duration_unknown() -> None:
    """GB 45438-2025 5.4: a video label without a declared duration is undecided (warning)."""
    label = video_label(duration_s=None)
    result = check(service_type="face_swap", content_type="video", media=VIDEO, explicit_label=label)
    assert codes(result.findings) == ["explicit_label_duration_unknown", "explicit_label_present"]


@pytest.mark.parametrize(
    ("content_type", "position"),
    [("video", "around_player"), ("video", "end"), ("video", "bottom_right"), ("virtual_scene", "middle")],
)
def test_explicit_label_wrong_position(content_type: str, position: str) -> None:
    """Measures Art. 4(4), 4(5): video and virtual-scene labels go on the opening frame."""
    label = video_label(position=position)
    result = check(
        service_type="immersive_scene", content_type=content_type, media=VIDEO, explicit_label=label
    )
    finding = only(result.findings, "explicit_label_wrong_position")
    assert finding.severity == "violation" and finding.evidence == position


def test_explicit_label_position_unknown() -> None:
    """Measures Art. 4(4): a video label with no declared position is undecided (warning)."""
    label = video_label(position=None)
    result = check(service_type="face_swap", content_type="video", media=VIDEO, explicit_label=label)
    assert codes(result.findings) == ["explicit_label_position_unknown", "explicit_label_present"]


@pytest.mark.parametrize(
    ("position", "flagged"), [("center", True), ("interface", True), ("bottom_left", False)]
)
def test_explicit_label_not_on_edge(position: str, flagged: bool) -> None:
    """GB 45438-2025 5.2: an image label sits on an edge or corner."""
    result = check(
        service_type="face_generation",
        content_type="image",
        media=IMAGE,
        explicit_label=image_label(position=position),
    )
    assert ("explicit_label_not_on_edge" in codes(result.findings)) is flagged
