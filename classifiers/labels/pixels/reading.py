"""What the pixels of an image or of a video's opening show: the OCR lines, the label-like prompts among
them with their measured size, place and (video) time on screen, and the bounds on the work reading costs.

These are values only; reading them is ``read.py``'s job and judging them against the event is
``check.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

# The 3x3 grid cells a label's centre falls in: the content-event.v1 explicit_label.position values for
# a place on the image or frame.
GridPosition = Literal[
    "top_left", "top", "top_right", "left", "center", "right", "bottom_left", "bottom", "bottom_right"
]
GRID_POSITIONS: Final = get_args(GridPosition)


@dataclass(frozen=True, slots=True)
class SeenText:
    """One line the OCR engine read."""

    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the original image or frame
    confidence: float


@dataclass(frozen=True, slots=True)
class VisibleLabel:
    """A line, or adjacent lines merged, that carries the AI element and/or the generation element."""

    text: str
    complete: bool  # both GB 45438-2025 5.1 elements (text_prompt.missing_elements(text) is empty)
    height_px: int  # text height: the line's box height (the short side of a rotated box)
    shortest_side_px: int
    size_ratio: float  # height_px / shortest_side_px
    position: GridPosition
    on_edge: bool  # position != "center"
    first_seen_s: float | None = None  # video only
    duration_s: float | None = None  # video only: seen in consecutive sampled frames from first_seen_s


@dataclass(frozen=True, slots=True)
class PixelReading:
    """What the OCR saw on an image, or on the opening seconds of a video."""

    width: int
    height: int
    # Best first: complete ones, then larger; for a video complete, then seen in the opening, then longer.
    labels: tuple[VisibleLabel, ...]
    texts: tuple[SeenText, ...]  # every OCR line of the image or of the video's first frame, for evidence
    frames_read: int  # 1 for an image
    seconds_read: float | None  # video: seconds of the opening decoded
    # Why nothing could be said ("undecodable", "too_large", "timeout", "ocr_failed: ..."); labels empty.
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class PixelLimits:
    """Bounds on the work one image or video may cause, whatever its bytes claim."""

    max_bytes: int = 64 * 1024 * 1024  # larger inputs are not decoded at all
    # Decompression-bomb guard: width x height read from the header before any pixel is decoded.
    max_pixels: int = 50_000_000
    # Every image is scaled, up or down, to this shortest side before OCR and its boxes mapped back: the
    # size rule is relative to the shortest side, so a 5 % label is 37 px tall for the detector on any
    # image. 736 is the detector's own default (rapidocr_onnxruntime's config.yaml, Det.limit_side_len).
    ocr_short_side: int = 736
    # The same for a video's sampled frames, smaller for speed: a 5 % label is still 24 px, and the
    # detector's time grows with the pixels (per frame on two cores about 0.25 s at 853x480, 0.3-0.5 s at
    # 1308x736). The price: box margins weigh more, so heights read larger (ocr.py).
    video_ocr_short_side: int = 480
    # GB 45438-2025 5.4: the label sits on the opening frame for at least 2 s; 6 s shows both, and a
    # label that only comes later.
    video_seconds: float = 6.0
    video_fps: float = 2.0  # sampled frames per second: durations are measured to 1/fps s
    max_video_side: int = 1280  # ffmpeg scales decoded frames to at most this longest side
    ffmpeg_timeout_s: float = 20.0  # for each of the two ffmpeg runs (probe, decode)


DEFAULT_PIXEL_LIMITS: Final = PixelLimits()
