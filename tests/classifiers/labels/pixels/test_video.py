"""OCR of the opening seconds of real videos: frames drawn by Pillow, encoded by the ffmpeg of
imageio-ffmpeg, decoded at 2 frames/s; the label's first sighting and time on screen are measured."""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.labels.pixels import PixelReading, check_visible_label, read_visible_labels
from tests.fixtures import pixels as scenes
from tests.fixtures.labels import build_event, codes

pytestmark = pytest.mark.skipif(
    scenes.cjk_font() is None,
    reason=f"no font with Chinese glyphs to draw labels: install Debian's {scenes.FONT_PACKAGES}",
)

DECLARED = {
    "kind": "text",
    "position": "opening_frame",
    "text": "AI生成",
    "size_ratio": 0.08,
    "duration_s": 3,
}


def video_event() -> Any:
    return build_event(content_type="video", service_type="face_generation", explicit_label=DECLARED)


@pytest.fixture(scope="module")
def three_seconds() -> PixelReading:
    data = scenes.video([scenes.Shown("AI生成", 0, 3)], seconds=6)
    return read_visible_labels(data, "video/mp4")


@pytest.fixture(scope="module")
def one_second() -> PixelReading:
    data = scenes.video([scenes.Shown("由人工智能生成", 0, 1, position="top_left")], seconds=6)
    return read_visible_labels(data, "video/mp4")


@pytest.fixture(scope="module")
def from_second_four() -> PixelReading:
    data = scenes.video([scenes.Shown("人工智能合成", 4, 6, position="bottom")], seconds=6)
    return read_visible_labels(data, "video/mp4")


def test_label_shown_three_seconds_from_the_start(three_seconds: PixelReading) -> None:
    reading = three_seconds
    assert reading.problem is None and (reading.width, reading.height) == (640, 360)
    assert reading.frames_read == 12 and reading.seconds_read == 6.0
    [label] = reading.labels
    assert label.text == "AI生成" and label.complete
    assert label.first_seen_s == 0.0 and label.duration_s == 3.0
    assert label.position == "bottom_right" and label.shortest_side_px == 360
    assert 0.07 <= label.size_ratio <= 0.11, label.size_ratio
    assert [t.text for t in reading.texts] == ["AI生成"]
    assert codes(check_visible_label(video_event(), reading)) == ["explicit_label_seen"]


def test_label_shown_one_second_is_too_short(one_second: PixelReading) -> None:
    [label] = one_second.labels
    assert label.text == "由人工智能生成" and label.position == "top_left"
    assert label.first_seen_s == 0.0 and label.duration_s == 1.0
    assert codes(check_visible_label(video_event(), one_second)) == [
        "explicit_label_seen",
        "explicit_label_seen_too_short",
    ]


def test_label_that_appears_at_second_four_is_not_on_the_opening_frame(
    from_second_four: PixelReading,
) -> None:
    [label] = from_second_four.labels
    assert label.text == "人工智能合成" and label.position == "bottom"
    assert label.first_seen_s == 4.0 and label.duration_s == 2.0
    assert from_second_four.texts == ()  # the first frame shows nothing
    assert codes(check_visible_label(video_event(), from_second_four)) == [
        "explicit_label_seen",
        "explicit_label_seen_wrong_place",
    ]


def test_short_matroska_video_labeled_throughout_is_compliant() -> None:
    """MPEG-4 part 2 in Matroska, 1.5 s long: the label is there as long as the video lasts."""
    data = scenes.video(
        [scenes.Shown("由人工智能生成", 0, 2, ratio=0.06, position="top")],
        seconds=1.5,
        size=(480, 640),
        codec="mpeg4",
        container="mkv",
        background=lambda w, h, i: scenes.gradient(w, h, seed=i % 3),
    )
    reading = read_visible_labels(data, "video/x-matroska")
    assert (reading.width, reading.height) == (480, 640) and reading.seconds_read == 1.5
    [label] = reading.labels
    assert label.text == "由人工智能生成" and label.position == "top" and label.duration_s == 1.5
    assert label.shortest_side_px == 480 and 0.05 <= label.size_ratio <= 0.08
    assert codes(check_visible_label(video_event(), reading)) == ["explicit_label_seen"]
