"""The explicit label a person sees (GB 45438-2025 chapter 5), read from the pixels: OCR of an image, or
of the opening seconds of a video, finds the text prompt, measures its size, place and time on screen,
and compares it with what the event declares.

The OCR engine (RapidOCR with its models inside the ``rapidocr_onnxruntime`` wheel) loads on the first
read; importing this package loads neither it nor OpenCV.
"""

from classifiers.labels.pixels.check import check_visible_label
from classifiers.labels.pixels.read import read_visible_labels, supports
from classifiers.labels.pixels.reading import (
    DEFAULT_PIXEL_LIMITS,
    GRID_POSITIONS,
    GridPosition,
    PixelLimits,
    PixelReading,
    SeenText,
    VisibleLabel,
)

__all__ = [
    "DEFAULT_PIXEL_LIMITS",
    "GRID_POSITIONS",
    "GridPosition",
    "PixelLimits",
    "PixelReading",
    "SeenText",
    "VisibleLabel",
    "check_visible_label",
    "read_visible_labels",
    "supports",
]
