"""What the pixels show against what the event declares (GB 45438-2025 5.2, 5.4): the findings of
check_visible_label on readings built by hand, so each rule is hit at its boundary without OCR."""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.labels.codes import FINDING_CODES
from classifiers.labels.pixels import PixelReading, VisibleLabel, check_visible_label
from tests.fixtures.labels import build_event, codes, only

TEXT_LABEL = {"kind": "text", "position": "bottom_right", "text": "AI生成", "size_ratio": 0.08}


def image_event(explicit_label: dict[str, Any] | None = None, content_type: str = "image") -> Any:
    fields: dict[str, Any] = {"content_type": content_type, "service_type": "image_video_generation"}
    if explicit_label is not None:
        fields["explicit_label"] = explicit_label
    return build_event(**fields)


def label(
    text: str = "AI生成",
    *,
    height_px: int = 40,
    shortest: int = 480,
    position: Any = "bottom_right",
    first_seen_s: float | None = None,
    duration_s: float | None = None,
) -> VisibleLabel:
    return VisibleLabel(
        text=text,
        complete=text in ("AI生成", "由人工智能生成", "人工智能合成"),
        height_px=height_px,
        shortest_side_px=shortest,
        size_ratio=height_px / shortest,
        position=position,
        on_edge=position != "center",
        first_seen_s=first_seen_s,
        duration_s=duration_s,
    )


def image_reading(*labels: VisibleLabel, problem: str | None = None) -> PixelReading:
    return PixelReading(640, 480, labels, (), frames_read=1, seconds_read=None, problem=problem)


def video_reading(*labels: VisibleLabel, seconds: float = 6.0) -> PixelReading:
    return PixelReading(640, 360, labels, (), frames_read=round(seconds * 2), seconds_read=seconds)


def test_declared_label_seen_where_declared_is_one_info_finding() -> None:
    findings = check_visible_label(image_event(TEXT_LABEL), image_reading(label()))
    assert codes(findings) == ["explicit_label_seen"]
    seen = only(findings, "explicit_label_seen")
    assert seen.severity == "info"
    assert "AI生成" in seen.message and "8.3%" in seen.message and "bottom_right" in seen.message
    assert seen.article == "Labeling Measures Art. 4(3); GB 45438-2025 5.2"


def test_declared_text_label_not_visible_is_a_violation() -> None:
    findings = check_visible_label(image_event(TEXT_LABEL), image_reading())
    assert codes(findings) == ["explicit_label_declared_not_visible"]
    assert findings[0].severity == "violation"
    assert findings[0].evidence == "AI生成"


def test_declared_graphic_label_is_not_looked_for_in_the_text() -> None:
    """A graphic label has no words the OCR could read: its absence from the text says nothing."""
    assert check_visible_label(image_event({"kind": "graphic"}), image_reading()) == ()


def test_no_label_declared_and_none_seen_leaves_the_missing_label_to_explicit_py() -> None:
    assert check_visible_label(image_event(), image_reading()) == ()


@pytest.mark.parametrize(
    ("height_px", "too_small"),
    [(22, True), (23, False), (24, False), (14, True), (38, False)],
    # 23 of 480 is 4.8%: within the measurement's tolerance of 5%, so it is not called too small.
    ids=["22of480", "23of480-within-tolerance", "24of480-exactly-5pct", "3pct", "8pct"],
)
def test_text_height_below_one_twentieth_of_the_shortest_side_is_too_small(
    height_px: int, too_small: bool
) -> None:
    findings = check_visible_label(image_event(TEXT_LABEL), image_reading(label(height_px=height_px)))
    assert ("explicit_label_seen_too_small" in codes(findings)) is too_small
    if too_small:
        evidence = only(findings, "explicit_label_seen_too_small").evidence or ""
        assert evidence.startswith(f"{height_px} px of 480 px")


@pytest.mark.parametrize("position", ["top_left", "top", "right", "bottom", "bottom_right"])
def test_image_label_on_an_edge_or_corner_is_in_place(position: str) -> None:
    findings = check_visible_label(image_event(TEXT_LABEL), image_reading(label(position=position)))
    assert codes(findings) == ["explicit_label_seen"]


def test_image_label_in_the_centre_is_off_the_edges() -> None:
    findings = check_visible_label(image_event(TEXT_LABEL), image_reading(label(position="center")))
    wrong = only(findings, "explicit_label_not_on_edge")
    assert wrong.severity == "warning" and wrong.evidence == "center"
    assert "explicit_label_seen_wrong_place" not in codes(findings)


def test_video_label_from_the_opening_for_two_seconds_is_compliant() -> None:
    event = image_event({**TEXT_LABEL, "position": "opening_frame", "duration_s": 3}, content_type="video")
    findings = check_visible_label(event, video_reading(label(first_seen_s=0.0, duration_s=2.0)))
    assert codes(findings) == ["explicit_label_seen"]
    assert "from 0 s for 2 s" in findings[0].message


@pytest.mark.parametrize(("first_seen_s", "late"), [(0.5, False), (1.0, True), (4.0, True)])
def test_video_label_first_seen_after_the_opening_is_in_the_wrong_place(
    first_seen_s: float, late: bool
) -> None:
    event = image_event({**TEXT_LABEL, "position": "opening_frame"}, content_type="video")
    findings = check_visible_label(event, video_reading(label(first_seen_s=first_seen_s, duration_s=2.0)))
    assert ("explicit_label_seen_wrong_place" in codes(findings)) is late


@pytest.mark.parametrize(("duration_s", "short"), [(1.5, True), (2.0, False), (0.5, True)])
def test_video_label_shown_under_two_seconds_is_too_short(duration_s: float, short: bool) -> None:
    event = image_event({**TEXT_LABEL, "position": "opening_frame"}, content_type="video")
    findings = check_visible_label(event, video_reading(label(first_seen_s=0.0, duration_s=duration_s)))
    assert ("explicit_label_seen_too_short" in codes(findings)) is short


def test_video_shorter_than_two_seconds_labeled_throughout_is_not_too_short() -> None:
    event = image_event({**TEXT_LABEL, "position": "opening_frame"}, content_type="video")
    whole = video_reading(label(first_seen_s=0.0, duration_s=1.5), seconds=1.5)
    assert codes(check_visible_label(event, whole)) == ["explicit_label_seen"]
    # The same 1.5 s in a longer video is too short.
    part = video_reading(label(first_seen_s=0.0, duration_s=1.5), seconds=6.0)
    assert "explicit_label_seen_too_short" in codes(check_visible_label(event, part))


def test_incomplete_visible_prompt_is_a_violation_naming_the_missing_element() -> None:
    findings = check_visible_label(image_event(TEXT_LABEL), image_reading(label("由AI创作")))
    assert codes(findings) == ["explicit_label_declared_not_visible", "explicit_label_seen_incomplete"]
    incomplete = only(findings, "explicit_label_seen_incomplete")
    assert "generation element" in incomplete.message and incomplete.evidence == "由AI创作"


def test_complete_prompt_outranks_an_incomplete_one() -> None:
    reading = image_reading(label("AI生成"), label("由AI创作"))
    assert codes(check_visible_label(image_event(TEXT_LABEL), reading)) == ["explicit_label_seen"]


def test_visible_prompt_the_event_does_not_declare_is_a_warning() -> None:
    findings = check_visible_label(image_event(), image_reading(label("由人工智能生成")))
    assert codes(findings) == ["explicit_label_seen", "explicit_label_seen_undeclared"]
    assert only(findings, "explicit_label_seen_undeclared").severity == "warning"


def test_unreadable_pixels_leave_the_label_undecided() -> None:
    findings = check_visible_label(image_event(TEXT_LABEL), image_reading(problem="timeout"))
    assert codes(findings) == ["explicit_label_unseen"]
    assert FINDING_CODES["explicit_label_unseen"].undecided
    assert findings[0].evidence == "timeout"


def test_content_without_pixels_gets_no_pixel_findings() -> None:
    assert check_visible_label(image_event(content_type="audio"), image_reading(label())) == ()


def test_every_pixel_code_is_registered_as_an_explicit_label_finding() -> None:
    pixel_codes = [
        code for code in FINDING_CODES if code.startswith(("explicit_label_seen", "explicit_label_un"))
    ]
    pixel_codes.append("explicit_label_declared_not_visible")
    assert len(pixel_codes) == 8
    for code in pixel_codes:
        spec = FINDING_CODES[code]
        assert spec.judges == "explicit" and spec.category == "label"
        assert "GB 45438-2025" in spec.article or "Labeling Measures" in spec.article
