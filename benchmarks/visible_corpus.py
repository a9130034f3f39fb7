"""A seeded corpus of images and short videos that show, or do not show, an explicit AIGC label
(GB 45438-2025 ch. 5), each with its ground truth, for ``benchmarks/visible_labels.py``.

    .venv/bin/python benchmarks/visible_corpus.py OUT_DIR [--full] [--seed N]   # writes the files

The ground truth is exact because the corpus draws it: each text is rendered with a real CJK font
(WenQuanYi Zen Hei from Debian's ``fonts-wqy-zenhei``, or Noto Sans CJK from ``fonts-noto-cjk``) and its
box is the box of the pixels the glyphs ink, measured on a mask before the text is placed. So
``height_px`` is the ink height of the line (the top of its tallest glyph to the bottom of its lowest),
``ratio`` is that height over the picture's shortest side (GB 45438-2025 5.2 a): at least 5%), and
``position`` is the 3x3 cell (equal thirds) that holds the box's centre, the same grid the reader uses.
Every label is placed with its centre at least 2% of the side inside its cell, so a reader's box a few
pixels larger lands in the same cell.

The corpus is built in two steps: :func:`build_corpus` decides every item (texts, sizes, places, video
windows) from the seed, and :func:`render` draws one item to PNG, JPEG or MP4 bytes (Pillow, and the
ffmpeg binary of ``imageio-ffmpeg`` fed raw RGB frames). Colours are chosen at render time against the
background under the text, from the item's own seed, so rendering is deterministic too. This module
must not read the pixels back (the benchmark and the tests do).
"""

from __future__ import annotations

import argparse
import functools
import io
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from stream.tools.bench_media import cjk_font as system_cjk_font

Box = tuple[int, int, int, int]  # x0, y0, x1, y1; x1 and y1 exclusive, as Pillow's getbbox
RGB = tuple[int, int, int]
Style = Literal["fill", "box", "outline", "sign"]
Background = Literal["plain_light", "plain_dark", "gradient", "noise", "scene"]

GRID: Final = (
    ("top_left", "top", "top_right"),
    ("left", "center", "right"),
    ("bottom_left", "bottom", "bottom_right"),
)
POSITIONS: Final = tuple(cell for row in GRID for cell in row)
EDGE_POSITIONS: Final = tuple(cell for cell in POSITIONS if cell != "center")

# GB 45438-2025 5.1: both the AI element (人工智能/AI) and the generation element (生成/合成).
COMPLETE_LABELS: Final = ("AI生成", "人工智能生成", "由AI生成", "本内容由人工智能合成", "AI合成")
# One element only: a label a reader must not call complete.
INCOMPLETE_LABELS: Final = ("人工智能", "AI", "AI创作", "合成图像", "人工智能制作")
# Text a photo shows for other reasons. Some carry one element (人工智能大会, 合成材料专卖) or the letters
# A, I inside a word (MAIN STREET); none carries both, and an image gets at most one that carries one.
UNRELATED_TEXTS: Final = (
    "欢迎光临",
    "人工智能大会",
    "新品上市",
    "2025年9月1日",
    "2026-12-04 14:32",
    "营业时间 9:00-21:00",
    "限时特价",
    "MAIN STREET",
    "OPEN",
    "SALE 50% OFF",
    "合成材料专卖",
    "智能生活馆",
    "人工智能实验室",
    "生日快乐",
)
IMAGE_SIZES: Final = ((480, 640), (640, 480), (1280, 720), (1024, 1024))
FULL_IMAGE_SIZES: Final = (*IMAGE_SIZES, (720, 1280), (800, 600))
VIDEO_SIZES: Final = ((640, 360), (360, 640), (480, 480))
VIDEO_FPS: Final = 10
TOO_SMALL_RATIO: Final = 0.05  # GB 45438-2025 5.2 a)
MARGIN: Final = 0.03  # of the side: how far an edge label stays from the edge, at least
CELL_SAFETY: Final = 0.02  # of the side: how far a label's centre stays inside its grid cell


@dataclass(frozen=True)
class TextTruth:
    """One line of text drawn on the picture, and where its ink is."""

    text: str
    complete: bool  # both GB 45438-2025 5.1 elements
    style: Style  # fill: plain text; box: on a semi-transparent box; outline: outline only; sign: on a board
    font_size: int
    stroke: int  # outline width in px (style "outline"), else 0
    origin: tuple[int, int]  # where Pillow's draw.text puts the line (anchor "la")
    box: Box  # the inked pixels
    height_px: int
    ratio: float  # height_px / shortest side
    position: str  # grid cell of the box's centre
    start_s: float | None = None  # video: first frame shown at this time
    end_s: float | None = None  # video: last shown before this time

    def shown_at(self, t: float) -> bool:
        if self.start_s is None or self.end_s is None:
            return True
        return self.start_s - 1e-6 <= t < self.end_s - 1e-6


@dataclass(frozen=True)
class CorpusItem:
    """One file of the corpus, described fully enough to render it and to grade a reading of it."""

    name: str
    category: str
    kind: Literal["image", "video"]
    width: int
    height: int
    background: Background
    file_format: Literal["png", "jpeg", "mp4"]
    seed: int
    label: TextTruth | None = None  # the explicit label, complete or not
    others: tuple[TextTruth, ...] = ()  # unrelated text
    duration_s: float | None = None  # video
    fps: int = VIDEO_FPS

    @property
    def mime_type(self) -> str:
        return {"png": "image/png", "jpeg": "image/jpeg", "mp4": "video/mp4"}[self.file_format]

    @property
    def shortest_side(self) -> int:
        return min(self.width, self.height)

    @property
    def complete_label(self) -> TextTruth | None:
        """The label a reader should report as complete, if the item has one."""
        return self.label if self.label is not None and self.label.complete else None

    def label_seconds(self, read_s: float) -> float:
        """Video: how long the label is on screen within the first ``read_s`` seconds."""
        if self.label is None or self.label.start_s is None or self.label.end_s is None:
            return 0.0
        end = min(self.label.end_s, read_s, self.duration_s or read_s)
        return max(0.0, end - self.label.start_s)


# ---------------------------------------------------------------------------------------------------
# Fonts and text measurement


def cjk_font() -> Path:
    """The font the corpus is drawn with (stream.tools.bench_media.cjk_font); stops when there is none."""
    found = system_cjk_font()
    if found is None:
        raise RuntimeError(
            "no font with Chinese glyphs: install one as root, e.g. apt-get install fonts-wqy-zenhei "
            "(or fonts-noto-cjk)"
        )
    return found


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font()), size, index=0)


@functools.cache
def ink(text: str, size: int, stroke: int = 0) -> Box:
    """The box of the pixels ``text`` inks when drawn at (0, 0), anchor "la" (may start left of or
    above the origin): measured on a rendered mask, since the font's own bbox includes bearings."""
    face = font(size)
    left, top, right, bottom = face.getbbox(text, stroke_width=stroke)
    pad = 4 + stroke
    mask = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(mask).text((pad - left, pad - top), text, font=face, fill=255, stroke_width=stroke)
    found = mask.getbbox()
    if found is None:
        raise ValueError(f"{text!r} inks nothing at {size} px")
    x0, y0, x1, y1 = found
    return (x0 - pad + left, y0 - pad + top, x1 - pad + left, y1 - pad + top)


def size_for_height(text: str, height_px: int, stroke: int = 0) -> int:
    """The font size whose ink is ``height_px`` tall for ``text``, or the nearest one (smaller on a
    tie)."""
    best = (10**9, 0)
    for size in range(max(4, int(height_px * 0.8)), int(height_px * 1.8) + 3):
        _, y0, _, y1 = ink(text, size, stroke)
        best = min(best, (abs((y1 - y0) - height_px), size))
        if y1 - y0 > height_px + 2:
            break
    return best[1]


def grid_position(box: Box, width: int, height: int) -> str:
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    column = min(2, max(0, int(3 * centre_x / width)))
    row = min(2, max(0, int(3 * centre_y / height)))
    return GRID[row][column]


# ---------------------------------------------------------------------------------------------------
# Placing text


def _span(cell: int, side: int, extent: int, rng: random.Random) -> int | None:
    """A start coordinate for a box ``extent`` long in grid cell ``cell`` (0, 1, 2) of ``side``, with
    the box inside the picture, off the edge by at least MARGIN and its centre inside the cell by at
    least CELL_SAFETY; None if it cannot be."""
    margin = max(2, round(MARGIN * side))
    safety = CELL_SAFETY * side
    low_centre = cell * side / 3 + safety
    high_centre = (cell + 1) * side / 3 - safety
    low = max(margin, low_centre - extent / 2)
    high = min(side - margin - extent, high_centre - extent / 2)
    if cell == 0:  # hug the edge, with a little play
        high = min(high, margin + 0.04 * side)
    elif cell == 2:
        low = max(low, side - margin - extent - 0.04 * side)
    else:
        centre = side / 2 - extent / 2
        low, high = max(low, centre - 0.05 * side), min(high, centre + 0.05 * side)
    if high < low:
        return None
    return round(rng.uniform(low, high))


def place_text(
    text: str,
    ratio: float,
    position: str,
    width: int,
    height: int,
    style: Style,
    rng: random.Random,
    *,
    avoid: Sequence[Box] = (),
    window: tuple[float, float] | None = None,
) -> TextTruth | None:
    """``text`` sized to ``ratio`` of the shortest side, in grid cell ``position``; None if it does not
    fit there or overlaps a box in ``avoid``."""
    shortest = min(width, height)
    target = max(6, round(ratio * shortest))
    stroke = max(1, round(target / 14)) if style == "outline" else 0
    for _ in range(4):
        size = size_for_height(text, target, stroke)
        x0, y0, x1, y1 = ink(text, size, stroke)
        if (y1 - y0) * 20 != shortest:
            break
        # Exactly 5%: step to the side of the boundary the ratio asked for (some heights the font
        # cannot ink, so the next size may be needed).
        target += -1 if ratio < TOO_SMALL_RATIO else 1
    row, column = divmod(POSITIONS.index(position), 3)
    left = _span(column, width, x1 - x0, rng)
    top = _span(row, height, y1 - y0, rng)
    if left is None or top is None:
        return None
    box = (left, top, left + x1 - x0, top + y1 - y0)
    # Texts stay more than a line height apart, so no reader could take two for one line.
    gap = (y1 - y0) + 4
    if any(_overlaps(_grow(box, gap), _grow(other, max(gap, (other[3] - other[1]) + 4))) for other in avoid):
        return None
    found = grid_position(box, width, height)
    assert found == position, (text, position, found, box)
    return TextTruth(
        text=text,
        complete=_complete(text),
        style=style,
        font_size=size,
        stroke=stroke,
        origin=(left - x0, top - y0),
        box=box,
        height_px=y1 - y0,
        ratio=(y1 - y0) / shortest,
        position=position,
        start_s=window[0] if window else None,
        end_s=window[1] if window else None,
    )


def _complete(text: str) -> bool:
    # The corpus's own statement of GB 45438-2025 5.1 for the texts above (the test checks it against
    # classifiers/labels/text_prompt.py).
    has_ai = "人工智能" in text or any(
        text[i : i + 2] == "AI"
        and (i == 0 or not text[i - 1].isascii() or not text[i - 1].isalpha())
        and (i + 2 == len(text) or not text[i + 2].isascii() or not text[i + 2].isalpha())
        for i in range(len(text) - 1)
    )
    return has_ai and ("生成" in text or "合成" in text)


def _grow(box: Box, by: int) -> Box:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# ---------------------------------------------------------------------------------------------------
# Deciding the corpus


@dataclass
class _Builder:
    rng: random.Random
    sizes: Sequence[tuple[int, int]]
    items: list[CorpusItem] = field(default_factory=list)

    def add(self, category: str, **fields: object) -> None:
        number = sum(item.category == category for item in self.items)
        name = f"{category}-{number:03d}"
        self.items.append(CorpusItem(name=name, category=category, seed=self.rng.randrange(2**31), **fields))  # type: ignore[arg-type]

    def label(
        self,
        texts: Sequence[str],
        ratio: float,
        position: str,
        size: tuple[int, int],
        style: Style,
        window: tuple[float, float] | None = None,
        first: int = 0,
    ) -> TextTruth:
        """A label from ``texts`` that fits ``position`` at ``ratio``: ``texts[first]`` if it fits,
        else the shortest that does."""
        for text in [texts[first % len(texts)], *sorted(texts, key=len)]:
            placed = place_text(text, ratio, position, *size, style, self.rng, window=window)
            if placed is not None:
                return placed
        raise ValueError(f"no label fits {position} at {ratio:.3f} on {size}")

    def others(
        self, size: tuple[int, int], count: int, taken: Sequence[Box], ratio: tuple[float, float]
    ) -> tuple[TextTruth, ...]:
        """Up to ``count`` unrelated texts in free cells, at most one carrying a label element."""
        placed: list[TextTruth] = []
        boxes = list(taken)
        element_used = False
        for _ in range(count * 8):
            if len(placed) == count:
                break
            text = self.rng.choice(UNRELATED_TEXTS)
            element = any(part in text for part in ("人工智能", "生成", "合成"))
            if element and element_used:
                continue
            style: Style = self.rng.choice(("sign", "sign", "fill"))
            if any(ch.isdigit() for ch in text):
                style = "fill"  # dates and times: a camera's timestamp
            truth = place_text(
                text,
                self.rng.uniform(*ratio),
                self.rng.choice(POSITIONS),
                *size,
                style,
                self.rng,
                avoid=boxes,
            )
            if truth is not None:
                placed.append(truth)
                boxes.append(truth.box)
                element_used |= element
        return tuple(placed)

    def image_fields(self, backgrounds: Sequence[Background]) -> tuple[tuple[int, int], dict[str, object]]:
        """A size, and the fields of an image item of that size: a quarter are JPEG."""
        size = self.rng.choice(list(self.sizes))
        return size, {
            "kind": "image",
            "width": size[0],
            "height": size[1],
            "background": self.rng.choice(list(backgrounds)),
            "file_format": "jpeg" if self.rng.random() < 0.25 else "png",
        }


PLAIN: Final[tuple[Background, ...]] = ("plain_light", "plain_dark")
TEXTURED: Final[tuple[Background, ...]] = ("gradient", "noise", "scene", "scene")
ALL_BACKGROUNDS: Final[tuple[Background, ...]] = (*PLAIN, *TEXTURED)
# Just under and just over GB 45438-2025 5.2 a)'s 5%, and a little further out.
BOUNDARY_RATIOS: Final = (0.040, 0.044, 0.047, 0.049, 0.051, 0.053, 0.056, 0.060)


def build_corpus(seed: int = 20251201, full: bool = False) -> list[CorpusItem]:
    """Every item of the corpus, decided from ``seed``: about 120 images and 12 videos, or four times
    the images and three times the videos with ``full``."""
    rng = random.Random(seed)
    scale = 4 if full else 1
    builder = _Builder(rng, FULL_IMAGE_SIZES if full else IMAGE_SIZES)

    def labelled(category: str, count: int, backgrounds: Sequence[Background], styles: Sequence[Style],
                 ratios: Sequence[float] | None, positions: Sequence[str], texts: Sequence[str],
                 distractors: float = 0.0) -> None:  # fmt: skip
        for n in range(count):
            size, fields = builder.image_fields(backgrounds)
            ratio = ratios[n % len(ratios)] if ratios else rng.uniform(0.06, 0.12)
            style = styles[n % len(styles)]
            label = builder.label(texts, ratio, positions[n % len(positions)], size, style, first=n)
            others = builder.others(size, 1, [label.box], (0.04, 0.10)) if rng.random() < distractors else ()
            builder.add(category, label=label, others=others, **fields)

    edges = list(EDGE_POSITIONS)
    rng.shuffle(edges)
    labelled("label_plain", 16 * scale, PLAIN, ("fill", "fill", "box"), None, edges, COMPLETE_LABELS)
    labelled("label_textured", 24 * scale, TEXTURED, ("fill", "box", "outline"), None, edges[::-1],
             COMPLETE_LABELS, distractors=0.5)  # fmt: skip
    labelled("label_boundary", 20 * scale, ALL_BACKGROUNDS, ("fill", "box"), BOUNDARY_RATIOS, edges,
             COMPLETE_LABELS)  # fmt: skip
    small = [rng.uniform(0.02, 0.038) for _ in range(10 * scale)]
    labelled("label_small", 10 * scale, ALL_BACKGROUNDS, ("fill", "box"), small, edges, COMPLETE_LABELS)
    labelled("label_centre", 8 * scale, ALL_BACKGROUNDS, ("fill", "box", "outline"), None, ["center"],
             COMPLETE_LABELS)  # fmt: skip
    incomplete_ratios = [rng.uniform(0.05, 0.12) for _ in range(10 * scale)]
    labelled("incomplete", 10 * scale, ALL_BACKGROUNDS, ("fill", "box"), incomplete_ratios, edges,
             INCOMPLETE_LABELS)  # fmt: skip
    for _ in range(10 * scale):
        builder.add("blank", **builder.image_fields(ALL_BACKGROUNDS)[1])
    for _ in range(22 * scale):
        size, fields = builder.image_fields(("scene", "scene", "gradient", "plain_light"))
        others = builder.others(size, rng.randint(1, 3), [], (0.04, 0.12))
        builder.add("unrelated_text", others=others, **fields)
    _videos(builder, 1 if not full else 3)
    return builder.items


# Video label windows (start, end) and clip lengths: GB 45438-2025 5.4 asks for the opening frame and at
# least 2 s.
VIDEO_WINDOWS: Final = (
    ("video_open_3s", (0.0, 3.0), 5.0, 4),
    ("video_open_1s", (0.0, 1.0), 4.0, 3),
    ("video_late_3s", (3.0, 6.0), 6.0, 3),
)


def _videos(builder: _Builder, scale: int) -> None:
    rng = builder.rng
    edges = list(EDGE_POSITIONS)
    n = 0
    for category, window, duration, count in VIDEO_WINDOWS:
        for _ in range(count * scale):
            size = VIDEO_SIZES[n % len(VIDEO_SIZES)]
            position = edges[(n * 5) % len(edges)]
            style: Style = ("fill", "box", "outline")[n % 3]
            ratio = rng.uniform(0.06, 0.10)
            label = builder.label(COMPLETE_LABELS, ratio, position, size, style, window, first=n)
            builder.add(category, **_video_fields(size, duration, rng), label=label)
            n += 1
    for _ in range(scale):
        builder.add("video_blank", **_video_fields(VIDEO_SIZES[0], 4.0, rng))
        size = VIDEO_SIZES[1]
        others = builder.others(size, 2, [], (0.05, 0.10))
        builder.add("video_unrelated", **_video_fields(size, 4.0, rng), others=others)


def _video_fields(size: tuple[int, int], duration: float, rng: random.Random) -> dict[str, object]:
    return {
        "kind": "video",
        "width": size[0],
        "height": size[1],
        "background": rng.choice(("scene", "scene", "gradient", "noise")),
        "file_format": "mp4",
        "duration_s": duration,
    }


# ---------------------------------------------------------------------------------------------------
# Rendering


def render_background(item: CorpusItem, pan: int = 0) -> Image.Image:
    """The picture without any text (``pan`` px wider, for a video's camera pan)."""
    rng = random.Random(item.seed)
    noise = np.random.default_rng(item.seed)
    width, height = item.width + pan, item.height
    kind = item.background
    if kind in ("plain_light", "plain_dark"):
        low, high = (205, 250) if kind == "plain_light" else (8, 60)
        colour = tuple(rng.randint(low, high) for _ in range(3))
        return Image.new("RGB", (width, height), colour)  # type: ignore[arg-type]
    if kind == "gradient":
        start, end = np.array(_colour(rng), float), np.array(_colour(rng), float)
        angle = rng.uniform(0, np.pi)
        ys, xs = np.mgrid[0:height, 0:width].astype(float)
        t = xs / width * np.cos(angle) + ys / height * np.sin(angle)
        t = (t - t.min()) / max(1e-9, float(np.ptp(t)))
        pixels = start + t[..., None] * (end - start)
        return _image(pixels + noise.normal(0, 2, pixels.shape))
    if kind == "noise":
        base = np.array(_colour(rng), float)
        coarse = noise.normal(0, rng.uniform(25, 45), (max(2, height // 16), max(2, width // 16), 3))
        blotches = np.asarray(_image(coarse + 128).resize((width, height), Image.Resampling.BICUBIC), float)
        fine = noise.normal(0, rng.uniform(10, 30), (height, width, 3))
        return _image(base + (blotches - 128) + fine)
    return _scene(width, height, rng, noise)


def _scene(width: int, height: int, rng: random.Random, noise: np.random.Generator) -> Image.Image:
    """Something like a photo: sky over ground, with buildings, windows, trees and blobs, blurred."""
    horizon = int(height * rng.uniform(0.35, 0.7))
    sky_top = np.array(rng.choice([(70, 120, 200), (180, 200, 230), (240, 170, 110), (40, 50, 90)]), float)
    sky_low = np.clip(sky_top + rng.uniform(30, 70), 0, 255)
    t = np.linspace(0, 1, horizon)[:, None, None]
    pixels = np.empty((height, width, 3), float)
    pixels[:horizon] = sky_top + t * (sky_low - sky_top)
    ground = np.array(rng.choice([(90, 110, 60), (120, 110, 100), (70, 70, 75), (160, 140, 100)]), float)
    pixels[horizon:] = ground + noise.normal(0, 14, (height - horizon, width, 3))
    picture = _image(pixels)
    draw = ImageDraw.Draw(picture)
    for _ in range(rng.randint(3, 7)):  # buildings with windows: rows of small boxes, like text
        w = int(width * rng.uniform(0.08, 0.22))
        h = int(height * rng.uniform(0.15, 0.5))
        x = rng.randint(-w // 2, width - w // 2)
        y = horizon - h + rng.randint(0, max(1, height // 20))
        draw.rectangle((x, y, x + w, y + h), fill=_colour(rng, dim=True))
        step = max(6, w // rng.randint(4, 7))
        light = _colour(rng)
        for wy in range(y + step // 2, y + h - step, step):
            for wx in range(x + step // 3, x + w - step // 2, step):
                if rng.random() < 0.7:
                    draw.rectangle((wx, wy, wx + step // 2, wy + step // 2), fill=light)
    for _ in range(rng.randint(4, 10)):  # trees, rocks, people-sized blobs, a sun
        r = int(min(width, height) * rng.uniform(0.02, 0.12))
        x, y = rng.randint(0, width), rng.randint(int(horizon * 0.3), height)
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=_colour(rng))
        else:
            points = [(x + rng.randint(-r, r) * 2, y + rng.randint(-r, r)) for _ in range(rng.randint(3, 6))]
            draw.polygon(points, fill=_colour(rng))
    for _ in range(rng.randint(1, 3)):  # wires and kerbs: thin lines
        ends = [(rng.randint(0, width), rng.randint(0, height)) for _ in range(2)]
        draw.line(
            ends,
            fill=_colour(rng, dim=True),
            width=rng.randint(1, 4),
        )
    blurred = np.asarray(picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.5))), float)
    return _image(blurred + noise.normal(0, 4, blurred.shape))


def _colour(rng: random.Random, dim: bool = False) -> RGB:
    top = 150 if dim else 255
    return (rng.randint(0, top), rng.randint(0, top), rng.randint(0, top))


def _image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


_PALETTE: Final[tuple[RGB, ...]] = (
    (255, 255, 255),
    (245, 245, 235),
    (20, 20, 20),
    (60, 60, 60),
    (220, 30, 30),
    (250, 210, 40),
    (30, 80, 200),
    (20, 150, 60),
)


def _luma(colour: Sequence[float]) -> float:
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def _contrasting(under: Sequence[float], rng: random.Random) -> RGB:
    """A palette colour at least 100 luma levels from ``under`` (white or black if none is)."""
    fitting = [c for c in _PALETTE if abs(_luma(c) - _luma(under)) >= 100]
    if not fitting:
        return (255, 255, 255) if _luma(under) < 128 else (0, 0, 0)
    return rng.choice(fitting)


def text_layers(truth: TextTruth, background: Image.Image, rng: random.Random) -> list[Image.Image]:
    """RGBA layers, to composite in order, that draw ``truth`` over ``background``."""
    size = background.size
    region = background.crop(_grow(truth.box, 2)).convert("RGB")
    under = np.asarray(region, float).reshape(-1, 3).mean(axis=0)
    layers = []
    pad = round(0.3 * truth.height_px) + 2
    if truth.style in ("box", "sign"):
        if truth.style == "box":  # a semi-transparent box
            dark = rng.random() < 0.6
            backing: tuple[int, ...] = (0, 0, 0, rng.randint(110, 180)) if dark else (255, 255, 255, 150)
            alpha = backing[3] / 255
            under = under * (1 - alpha) + np.array(backing[:3], float) * alpha
        else:  # an opaque board
            backing = (*_colour(rng), 255)
            under = np.array(backing[:3], float)
        board = Image.new("RGBA", size, (0, 0, 0, 0))
        ImageDraw.Draw(board).rectangle(_grow(truth.box, pad), fill=backing)
        layers.append(board)
    colour = _contrasting(under, rng)
    face = font(truth.font_size)
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    if truth.style == "outline":
        draw.text(truth.origin, truth.text, font=face, fill=255, stroke_width=truth.stroke, stroke_fill=255)
        inner = Image.new("L", size, 0)
        ImageDraw.Draw(inner).text(truth.origin, truth.text, font=face, fill=255)
        mask = ImageChops.subtract(mask, inner)
    else:
        draw.text(truth.origin, truth.text, font=face, fill=255)
    layer = Image.new("RGBA", size, (*colour, 0))
    layer.putalpha(mask)
    layers.append(layer)
    return layers


def render_image(item: CorpusItem) -> Image.Image:
    """An image item's picture, or a video item's picture with everything shown (its first frame's
    background)."""
    background = render_background(item)
    rng = random.Random(item.seed ^ 0x5EED)
    picture = background.convert("RGBA")
    for truth in _texts(item):
        for layer in text_layers(truth, background, rng):
            picture.alpha_composite(layer)
    return picture.convert("RGB")


def _texts(item: CorpusItem) -> list[TextTruth]:
    return [*item.others, *([item.label] if item.label else [])]


def encode_image(item: CorpusItem, picture: Image.Image) -> bytes:
    out = io.BytesIO()
    if item.file_format == "jpeg":
        picture.save(out, "JPEG", quality=88)
    else:
        picture.save(out, "PNG")
    return out.getvalue()


def video_frames(item: CorpusItem) -> Iterator[bytes]:
    """Raw RGB frames of a video item: the background pans slowly, each text is composited on the frames
    of its window."""
    assert item.duration_s is not None
    frames = round(item.duration_s * item.fps)
    pan_per_frame = 2
    wide = render_background(item, pan=pan_per_frame * frames)
    rng = random.Random(item.seed ^ 0x5EED)
    first = wide.crop((0, 0, item.width, item.height))
    layers = [(truth, text_layers(truth, first, rng)) for truth in _texts(item)]
    for index in range(frames):
        t = index / item.fps
        x = index * pan_per_frame
        frame = wide.crop((x, 0, x + item.width, item.height)).convert("RGBA")
        for truth, drawn in layers:
            if truth.shown_at(t):
                for layer in drawn:
                    frame.alpha_composite(layer)
        yield frame.convert("RGB").tobytes()


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # type: ignore[import-untyped]

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def video_codec() -> list[str]:
    """libx264 where the ffmpeg build has it, else MPEG-4 part 2."""
    encoders = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True)
    if " libx264 " in encoders.stdout:
        return ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-threads", "1"]
    return ["-c:v", "mpeg4", "-q:v", "3"]


def encode_video(item: CorpusItem) -> bytes:
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "clip.mp4"
        command = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{item.width}x{item.height}", "-r", str(item.fps),
            "-i", "-", *video_codec(), "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdin is not None
        for frame in video_frames(item):
            process.stdin.write(frame)
        process.stdin.close()
        errors = process.stderr.read() if process.stderr else b""
        if process.wait() != 0:
            raise RuntimeError(f"ffmpeg failed on {item.name}: {errors.decode(errors='replace')[-500:]}")
        return out.read_bytes()


def render(item: CorpusItem) -> bytes:
    """The item's file: PNG, JPEG or MP4 bytes."""
    if item.kind == "video":
        return encode_video(item)
    return encode_image(item, render_image(item))


def write_corpus(items: Sequence[CorpusItem], directory: Path) -> dict[str, Path]:
    """Renders every item into ``directory``; the paths by item name."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for item in items:
        path = directory / f"{item.name}.{item.file_format}"
        path.write_bytes(render(item))
        paths[item.name] = path
    return paths


def describe(items: Sequence[CorpusItem]) -> str:
    """Counts per category, kind and format: what the benchmark prints about its corpus."""
    lines = []
    for category in dict.fromkeys(item.category for item in items):
        group = [item for item in items if item.category == category]
        sizes = sorted({f"{item.width}x{item.height}" for item in group})
        ratios = [item.label.ratio for item in group if item.label]
        spread = f", ratio {min(ratios):.1%}-{max(ratios):.1%}" if ratios else ""
        lines.append(f"  {category}: {len(group)} {group[0].kind}s, {', '.join(sizes)}{spread}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Writes the visible-label corpus and its ground truth.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--seed", type=int, default=20251201)
    args = parser.parse_args(argv)
    import dataclasses
    import json

    items = build_corpus(args.seed, args.full)
    write_corpus(items, args.out)
    truth = [dataclasses.asdict(item) for item in items]
    (args.out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(items)} items in {args.out} (font {cjk_font()})\n{describe(items)}", file=sys.stderr)


if __name__ == "__main__":
    main()
