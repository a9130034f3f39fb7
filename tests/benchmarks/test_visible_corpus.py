"""The ground truth of the visible-label corpus (benchmarks/visible_corpus.py) against the pixels it
renders: the recorded box, height, ratio and grid cell of a label are what a ruler would measure on the
picture, completeness agrees with the lexical rules of GB 45438-2025 5.1, and a video shows its label
on the frames of its window only. Renders four images and one 4 s video."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import ImageChops, ImageFont

from benchmarks.visible_corpus import (
    COMPLETE_LABELS,
    INCOMPLETE_LABELS,
    UNRELATED_TEXTS,
    CorpusItem,
    build_corpus,
    cjk_font,
    ffmpeg_exe,
    render,
    render_background,
    render_image,
    video_frames,
)
from classifiers.labels.text_prompt import missing_elements

try:
    cjk_font()
    NO_FONT = ""
except RuntimeError as missing:
    NO_FONT = str(missing)

pytestmark = pytest.mark.skipif(bool(NO_FONT), reason=NO_FONT)
CELLS = (
    ("top_left", "top", "top_right"),
    ("left", "center", "right"),
    ("bottom_left", "bottom", "bottom_right"),
)


@pytest.fixture(scope="module")
def corpus() -> list[CorpusItem]:
    return build_corpus()


def first(corpus: list[CorpusItem], category: str, style: str, below_5: bool | None = None) -> CorpusItem:
    """The first PNG item of ``category`` whose only text is a label drawn in ``style``."""
    for item in corpus:
        if item.category != category or item.file_format != "png" or item.others or item.label is None:
            continue
        if item.label.style == style and (below_5 is None or (item.label.ratio < 0.05) == below_5):
            return item
    raise LookupError(category)


@pytest.mark.parametrize(
    ("category", "style", "below_5"),
    [
        ("label_plain", "fill", None),
        ("label_boundary", "fill", True),
        ("label_textured", "outline", None),
        ("incomplete", "fill", None),
    ],
)
def test_the_recorded_label_is_what_the_pixels_show(
    corpus: list[CorpusItem], category: str, style: str, below_5: bool | None
) -> None:
    item = first(corpus, category, style, below_5)
    label = item.label
    assert label is not None
    picture = render_image(item)
    assert picture.size == (item.width, item.height)
    changed = ImageChops.difference(picture, render_background(item)).convert("L")
    box = changed.point(lambda v: 255 * (v > 0)).getbbox()
    assert box is not None
    # The ink, measured from the pixels the label changed, is the recorded box (antialiasing: 1 px).
    assert all(abs(a - b) <= 1 for a, b in zip(box, label.box, strict=True)), (box, label.box)
    height = box[3] - box[1]
    assert abs(height - label.height_px) <= 1
    assert abs(height / min(picture.size) - label.ratio) <= 1 / min(picture.size)
    # The font's own box, with the outline's stroke, agrees on the height.
    face = ImageFont.truetype(str(cjk_font()), label.font_size)
    top, bottom = face.getbbox(label.text, stroke_width=label.stroke)[1::2]
    assert abs((bottom - top) - label.height_px) <= 1
    # The grid cell is the third of the picture that holds the measured box's centre.
    column = int(3 * (box[0] + box[2]) / 2 / item.width)
    row = int(3 * (box[1] + box[3]) / 2 / item.height)
    assert CELLS[row][column] == label.position
    if below_5:
        assert height / min(picture.size) < 0.05


def test_completeness_follows_the_lexical_rules(corpus: list[CorpusItem]) -> None:
    for text in (*COMPLETE_LABELS, *INCOMPLETE_LABELS, *UNRELATED_TEXTS):
        drawn = [t for item in corpus for t in (item.label, *item.others) if t and t.text == text]
        assert drawn, text
        assert all(truth.complete == (not missing_elements(text)) for truth in drawn), text
    assert all(not truth.complete for item in corpus for truth in item.others)


def test_every_label_lies_in_its_cell_inside_the_picture(corpus: list[CorpusItem]) -> None:
    for item in corpus:
        texts = [truth for truth in (item.label, *item.others) if truth]
        for truth in texts:
            x0, y0, x1, y1 = truth.box
            assert 0 <= x0 < x1 <= item.width and 0 <= y0 < y1 <= item.height, item.name
            cell = CELLS[int(1.5 * (y0 + y1) / item.height)][int(1.5 * (x0 + x1) / item.width)]
            assert cell == truth.position, item.name
            assert truth.height_px == y1 - y0
            assert truth.ratio == pytest.approx(truth.height_px / item.shortest_side)
        for n, a in enumerate(texts):  # no two texts touch
            for b in texts[n + 1 :]:
                apart = a.box[2] <= b.box[0] or b.box[2] <= a.box[0]
                assert apart or a.box[3] <= b.box[1] or b.box[3] <= a.box[1]
    boundary = [item.label.ratio for item in corpus if item.category == "label_boundary" and item.label]
    assert sum(r < 0.05 for r in boundary) >= 8 and sum(r > 0.05 for r in boundary) >= 8
    assert all(0.038 <= r <= 0.062 and r != 0.05 for r in boundary)
    assert {item.label.position for item in corpus if item.label} == {cell for row in CELLS for cell in row}


def test_the_corpus_is_the_same_for_a_seed(corpus: list[CorpusItem]) -> None:
    assert build_corpus() == corpus
    assert build_corpus(seed=1) != corpus
    item = first(corpus, "label_plain", "fill")
    assert render(item) == render(item)


def test_a_video_shows_its_label_in_its_window_only(corpus: list[CorpusItem]) -> None:
    item = next(item for item in corpus if item.category == "video_open_1s")
    label = item.label
    assert label is not None and (label.start_s, label.end_s) == (0.0, 1.0) and item.duration_s == 4.0
    raw = [np.frombuffer(frame, np.uint8).reshape(item.height, item.width, 3) for frame in video_frames(item)]
    assert len(raw) == 40
    decoded = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
        input=render(item),
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(decoded, np.uint8).reshape(-1, item.height, item.width, 3)
    assert len(frames) == 40  # 4 s at 10 fps
    x0, y0, x1, y1 = label.box

    def label_contrast(frame: np.ndarray, index: int) -> float:
        """How far the label's box differs from the same frame drawn without any text."""
        shifted = render_background(item, pan=80).crop((2 * index, 0, 2 * index + item.width, item.height))
        plain = np.asarray(shifted, float)[y0:y1, x0:x1]
        return float(np.abs(frame[y0:y1, x0:x1].astype(float) - plain).mean())

    for index in (0, 5, 9):  # shown before 1.0 s
        assert label_contrast(raw[index], index) > 10
        assert label_contrast(frames[index], index) > 10
    for index in (10, 20, 39):  # gone from 1.0 s
        assert label_contrast(raw[index], index) == 0
        assert label_contrast(frames[index], index) < 6
    assert np.abs(frames[20].astype(float) - raw[20]).mean() < 6  # the codec keeps the picture
