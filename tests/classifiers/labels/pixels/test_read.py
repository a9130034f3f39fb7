"""OCR of real images: labels drawn by Pillow with a CJK font at 3 %, 5 % and 8 % of the shortest side,
on plain, gradient and photo-like backgrounds, read back with their measured height and grid cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from classifiers.labels.pixels import PixelReading, check_visible_label, read_visible_labels
from classifiers.labels.pixels.check import MEASURE_TOLERANCE
from tests.fixtures import pixels as scenes
from tests.fixtures.labels import build_event, codes

pytestmark = pytest.mark.skipif(
    scenes.cjk_font() is None,
    reason=f"no font with Chinese glyphs to draw labels: install Debian's {scenes.FONT_PACKAGES}",
)

# Debian's package fonts-wqy-zenhei (or fonts-noto-cjk) provides the font; deploy/dev/test.sh installs it.
BACKGROUNDS: dict[str, Callable[[int, int], Image.Image]] = {
    "plain": scenes.plain,
    "gradient": scenes.gradient,
    "photo": scenes.photo_like,
}


def assert_measured(measured_px: int, ink_px: int) -> None:
    """Measured from the ink inside the detector's box: on these renders 2 px under to 6 px over."""
    assert ink_px - 3 <= measured_px <= ink_px * 1.25 + 4, (measured_px, ink_px)


CASES = [
    # text, ratio, position, background, colour
    ("AI生成", 0.03, "bottom_right", "plain", (255, 255, 255)),
    ("AI生成", 0.05, "top_left", "gradient", (255, 255, 255)),
    ("AI生成", 0.08, "bottom", "photo", (255, 255, 0)),
    ("由人工智能生成", 0.03, "top", "gradient", (0, 0, 0)),
    ("由人工智能生成", 0.05, "bottom_left", "plain", (250, 220, 60)),
    ("由人工智能生成", 0.08, "right", "photo", (255, 255, 255)),
    ("人工智能合成", 0.03, "left", "photo", (255, 255, 255)),
    ("人工智能合成", 0.05, "top_right", "plain", (20, 20, 20)),
    ("人工智能合成", 0.08, "center", "gradient", (255, 255, 255)),
]


@pytest.mark.parametrize(
    ("text", "ratio", "position", "background", "colour"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES]
)
def test_label_is_read_with_its_height_and_place(
    text: str, ratio: float, position: Any, background: str, colour: tuple[int, int, int]
) -> None:
    image = BACKGROUNDS[background](640, 480)
    ink = scenes.place(image, text, ratio, position, colour)
    reading = read_visible_labels(scenes.encode(image, "PNG"), "image/png")
    assert reading.problem is None and (reading.width, reading.height) == (640, 480)
    assert reading.frames_read == 1 and reading.seconds_read is None
    [label] = reading.labels
    assert label.text == text and label.complete
    assert_measured(label.height_px, ink[3] - ink[1])
    assert label.shortest_side_px == 480 and label.size_ratio == label.height_px / 480
    # The 5 % rule, with the measurement's tolerance, separates the drawn sizes: 3 % is under it, 5 % and
    # 8 % are not.
    assert (label.size_ratio + MEASURE_TOLERANCE < 0.05) is (ratio < 0.05)
    assert label.position == position and label.on_edge is (position != "center")
    [seen] = [t for t in reading.texts if t.text == text]
    assert abs(seen.box[0] - ink[0]) <= 6 and abs(seen.box[2] - ink[2]) <= 6 and 0.9 < seen.confidence <= 1


def test_label_on_two_lines_of_one_height_is_one_prompt() -> None:
    image = scenes.plain(640, 480)
    top = scenes.place_at(image, "由人工智能", 30, 380, 390, (255, 255, 255))
    bottom = scenes.place_at(image, "生成", 30, 380, top[3] + 10, (255, 255, 255))
    reading = read_visible_labels(scenes.encode(image, "PNG"), "image/png")
    assert sorted(t.text for t in reading.texts) == ["生成", "由人工智能"]
    [label] = reading.labels
    assert label.text == "由人工智能生成" and label.complete
    assert_measured(label.height_px, bottom[3] - bottom[1])
    assert label.position == "bottom_right"


def test_halves_far_apart_are_not_one_prompt() -> None:
    """ "人工智能" in one corner and "生成" in the other: neither is a prompt, and they are not merged."""
    image = scenes.plain(640, 480)
    scenes.place(image, "人工智能", 0.06, "top_left")
    scenes.place(image, "生成", 0.06, "bottom_right")
    reading = read_visible_labels(scenes.encode(image, "PNG"), "image/png")
    assert sorted(t.text for t in reading.texts) == ["人工智能", "生成"]
    assert reading.labels == ()


def test_photo_with_unrelated_chinese_text_shows_no_label() -> None:
    image = scenes.photo_like(640, 480)
    scenes.place(image, "春季新品上市", 0.07, "top_left", (255, 255, 255))
    scenes.place(image, "人工智能大会", 0.06, "bottom_right", (255, 255, 255))
    reading = read_visible_labels(scenes.encode(image, "JPEG", quality=90), "image/jpeg")
    assert {"春季新品上市", "人工智能大会"} <= {t.text for t in reading.texts}
    assert reading.labels == ()


def test_label_with_only_one_element_is_seen_incomplete() -> None:
    image = scenes.gradient(640, 480)
    scenes.place(image, "由AI创作", 0.07, "bottom_right")
    [label] = read_visible_labels(scenes.encode(image, "PNG"), "image/png").labels
    assert label.text == "由AI创作" and not label.complete


def test_large_image_is_read_downscaled_and_measured_in_its_own_pixels() -> None:
    image = scenes.photo_like(1920, 1080)
    ink = scenes.place(image, "由人工智能生成", 0.05, "bottom_right")
    reading = read_visible_labels(scenes.encode(image, "JPEG", quality=90), "image/jpeg")
    assert (reading.width, reading.height) == (1920, 1080)
    [label] = reading.labels
    assert label.shortest_side_px == 1080
    assert_measured(label.height_px, ink[3] - ink[1])
    [seen] = reading.texts
    assert all(abs(a - b) <= 12 for a, b in zip(seen.box, ink, strict=True)), (seen.box, ink)


@pytest.mark.parametrize(
    ("format", "mime"),
    [
        ("JPEG", "image/jpeg"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_every_supported_image_format_is_read(format: str, mime: str) -> None:
    image = scenes.plain(400, 300, (200, 40, 40))
    scenes.place(image, "AI生成", 0.08, "top_right")
    [label] = read_visible_labels(scenes.encode(image, format), mime).labels
    assert label.text == "AI生成" and label.position == "top_right"


def test_transparent_png_is_laid_on_grey_so_dark_text_stays_legible() -> None:
    image = Image.new("RGBA", (640, 480), (0, 0, 0, 0))
    scenes.place(image, "人工智能合成", 0.06, "bottom", (0, 0, 0, 255))  # type: ignore[arg-type]
    [label] = read_visible_labels(scenes.encode(image, "PNG"), "image/png").labels
    assert label.text == "人工智能合成" and label.position == "bottom"


def test_exif_orientation_places_the_label_where_a_viewer_shows_it() -> None:
    shown = scenes.plain(640, 480)
    scenes.place(shown, "AI生成", 0.08, "bottom_right")
    stored = shown.transpose(Image.Transpose.ROTATE_90)  # a phone's sensor stores it turned
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    reading = read_visible_labels(scenes.encode(stored, "JPEG", exif=exif, quality=92), "image/jpeg")
    assert (reading.width, reading.height) == (640, 480)
    [label] = reading.labels
    assert label.position == "bottom_right"


def read_and_check(image: Image.Image, declared: dict[str, Any] | None) -> tuple[PixelReading, list[str]]:
    fields: dict[str, Any] = {"content_type": "image", "service_type": "image_video_generation"}
    if declared is not None:
        fields["explicit_label"] = declared
    reading = read_visible_labels(scenes.encode(image, "PNG"), "image/png")
    return reading, codes(check_visible_label(build_event(**fields), reading))


def test_small_label_declared_large_is_found_too_small() -> None:
    """The event claims 8 %; the pixels show 3 %."""
    image = scenes.gradient(640, 480)
    scenes.place(image, "由人工智能生成", 0.03, "bottom_right")
    declared = {"kind": "text", "position": "bottom_right", "text": "由人工智能生成", "size_ratio": 0.08}
    reading, found = read_and_check(image, declared)
    assert found == ["explicit_label_seen", "explicit_label_seen_too_small"]
    assert reading.labels[0].size_ratio < 0.05


def test_centred_undeclared_label_is_off_the_edges_and_undeclared() -> None:
    image = scenes.photo_like(640, 480)
    scenes.place(image, "AI生成", 0.08, "center")
    _, found = read_and_check(image, None)
    assert found == [
        "explicit_label_seen",
        "explicit_label_not_on_edge",
        "explicit_label_seen_undeclared",
    ]


def test_declared_label_missing_from_the_pixels_is_not_visible() -> None:
    _, found = read_and_check(scenes.photo_like(640, 480), {"kind": "text", "text": "AI生成"})
    assert found == ["explicit_label_declared_not_visible"]
