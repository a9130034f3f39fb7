"""Reads the lines of text on one frame with RapidOCR (PaddleOCR's PP-OCRv4 Chinese detection,
direction and recognition models, run by ONNX Runtime).

``rapidocr_onnxruntime`` 1.4 ships its three models inside the wheel, so nothing is fetched at run time
(its 2.x successor ``rapidocr`` downloads them on first use and is not used for that reason). The engine
loads once per process, on the first frame read, in about 0.1 s. This module must not decide what a
label is (``layout.py`` does).

The box of a line is the detector's quadrilateral, which after its unclip step hugs the glyphs with a
margin of a few pixels of the frame the detector sees. Measured on Pillow-rendered labels: on 640x480
images (read at a shortest side of 736) ink heights of 14, 24 and 38 px came out as 16-21, 24-30 and
36-44 px; on a 1920x1080 video frame (read at 480) a 54 px label came out as 68 px. A measured text
height thus errs on the large side, by more where the frame is read smaller: in the producer's favour,
so a "too small" finding stands.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from PIL import Image

from classifiers.labels.pixels.frames import RGBFrame
from classifiers.labels.pixels.reading import SeenText

_MAX_LONG_SIDE: Final = 2000


@dataclass(frozen=True, slots=True)
class OcrLine:
    """A read line with the measure the label rules need beyond :class:`SeenText`."""

    seen: SeenText
    # Text height in original pixels: the short side of the detected quadrilateral, so that a rotated
    # or vertical line is measured across its characters.
    height: float


@functools.cache
def _engine() -> Any:
    # Imported here: loading OpenCV and three ONNX sessions is paid only where pixels are read.
    from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]

    # The detector's own scaling to a shortest side of 736 px is turned off (32 is its rounding step):
    # read_lines scales each frame to the shortest side its caller asks for. One ONNX Runtime thread per
    # read: the cores a worker has are the text scorer's and the pixel threads' (HUIYAN_PIXEL_THREADS),
    # and a read that took every core would slow the texts it is meant to stay out of the way of.
    return RapidOCR(det_limit_side_len=32, intra_op_num_threads=1, inter_op_num_threads=1)


def read_lines(frame: RGBFrame, width: int, height: int, *, short_side: int) -> list[OcrLine]:
    """The lines on ``frame`` scaled to ``short_side``, with boxes in the pixels of the ``width`` x
    ``height`` original."""
    rows, columns = frame.shape[:2]
    # The engine reduces a longer side to 2,000 px itself (Global.max_side_len); a banner-shaped image is
    # never blown up past that.
    scale = min(short_side / min(rows, columns), _MAX_LONG_SIDE / max(rows, columns))
    if abs(scale - 1.0) > 0.01:
        size = (max(1, round(columns * scale)), max(1, round(rows * scale)))
        frame = np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.LANCZOS), dtype=np.uint8)
        rows, columns = frame.shape[:2]
    bgr = np.ascontiguousarray(frame[:, :, ::-1])  # RapidOCR takes an array as OpenCV's BGR
    result, _elapsed = _engine()(bgr)
    to_x, to_y = width / columns, height / rows
    lines = []
    for quad, text, score in result or ():
        points = [(float(x) * to_x, float(y) * to_y) for x, y in quad]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        box = (
            max(0, math.floor(min(xs))),
            max(0, math.floor(min(ys))),
            min(width, math.ceil(max(xs))),
            min(height, math.ceil(max(ys))),
        )
        seen = SeenText(text=str(text), box=box, confidence=float(score))
        box_height = _short_side(points)
        ink = _ink_rows(frame, [(float(x), float(y)) for x, y in quad])
        lines.append(OcrLine(seen=seen, height=ink * to_y if ink is not None else box_height))
    return lines


# A row of the box holds ink when at least this share of its pixels are on the ink side of the threshold.
_INK_ROW_SHARE: Final = 0.005
# The ink's colour bin must hold at least this share of the middle rows' pixels, beyond twice its share
# of the border rows.
_MIN_INK_COLOUR: Final = 0.04
# The largest difference per channel (0-255) from the ink's mean colour of a pixel counted as ink.
_INK_DISTANCE: Final = 96
# The ink must fill at least this share of the box's height, or the measure is not trusted (a box over
# a textured background, where the threshold splits the texture rather than the glyphs).
_MIN_INK_SHARE: Final = 0.55


def _ink_rows(frame: RGBFrame, quad: list[tuple[float, float]]) -> float | None:
    """The height in rows of the glyphs' ink inside a horizontal box on ``frame``, or None.

    The detector's box hugs the glyphs with a margin (11-17% of the font size on Pillow-rendered labels),
    so its height overstates the text height, most at the 5% boundary. The ink is told from the paper by
    its colour: the colour most frequent in the box's middle rows and rare on its top and bottom rows,
    which are margin. This holds over a photo or a gradient, where a grey-level split would cut the
    background instead. The rows holding pixels of that colour span the glyphs; for CJK glyphs that span
    is the font size to within 3% (wqy-zenhei, Noto Sans CJK). A rotated box, or one where no colour
    stands out, keeps the box's height.
    """
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    if max(abs(quad[0][1] - quad[1][1]), abs(quad[2][1] - quad[3][1])) > 0.1 * (max(ys) - min(ys)) + 1:
        return None  # not horizontal: the box's short side is the measure
    rows, columns = frame.shape[:2]
    x0, x1 = max(0, math.floor(min(xs))), min(columns, math.ceil(max(xs)))
    y0, y1 = max(0, math.floor(min(ys))), min(rows, math.ceil(max(ys)))
    height = y1 - y0
    if x1 - x0 < 4 or height < 6:
        return None
    crop = frame[y0:y1, x0:x1].astype(np.int32)
    bins = (crop[:, :, 0] >> 4) * 256 + (crop[:, :, 1] >> 4) * 16 + (crop[:, :, 2] >> 4)
    edge = max(1, height // 10)
    middle = bins[height // 4 : height - height // 4].ravel()
    border = np.concatenate((bins[:edge].ravel(), bins[height - edge :].ravel()))
    inside = np.bincount(middle, minlength=4096) / middle.size
    outside = np.bincount(border, minlength=4096) / border.size
    score = inside - 2 * outside
    ink_bin = int(np.argmax(score))
    if score[ink_bin] < _MIN_INK_COLOUR:
        return None
    colour = crop[bins == ink_bin].mean(axis=0)
    # Anti-aliased glyph edges blend ink and paper: a pixel within a generous distance counts.
    near = np.abs(crop - colour).max(axis=2) <= _INK_DISTANCE
    inked = np.flatnonzero(near.mean(axis=1) >= _INK_ROW_SHARE)
    if inked.size == 0:
        return None
    span = float(inked[-1] - inked[0] + 1)
    return span if span >= _MIN_INK_SHARE * height else None


def _short_side(points: list[tuple[float, float]]) -> float:
    if len(points) != 4:
        return max(p[1] for p in points) - min(p[1] for p in points)
    sides = [math.dist(points[i], points[(i + 1) % 4]) for i in range(4)]
    return min((sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2)
