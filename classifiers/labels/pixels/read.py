"""Reads the explicit label a person sees (GB 45438-2025 5.2, 5.4) from an image's pixels or from the
opening seconds of a video: decode (``frames.py``), OCR each frame (``ocr.py``), find and place the
prompts (``layout.py``).

:func:`read_visible_labels` never raises on hostile input: anything it cannot read becomes
``PixelReading.problem``. It measures only; comparing with what the event declares is ``check.py``'s job.
"""

from __future__ import annotations

from classifiers.labels.pixels.frames import (
    IMAGE_FORMATS,
    VIDEO_DEMUXERS,
    DecodedFrames,
    UnreadablePixels,
    decode_image,
    decode_video,
)
from classifiers.labels.pixels.layout import Sighting, find_sightings, image_labels, same_labels, video_labels
from classifiers.labels.pixels.ocr import OcrLine, read_lines
from classifiers.labels.pixels.reading import DEFAULT_PIXEL_LIMITS, PixelLimits, PixelReading


def supports(mime_type: str) -> bool:
    """Images Pillow decodes (PNG, JPEG, WebP, GIF's first frame, BMP, TIFF) and MP4, QuickTime, WebM
    and Matroska video."""
    mime = _bare(mime_type)
    return mime in IMAGE_FORMATS or mime in VIDEO_DEMUXERS


def read_visible_labels(
    data: bytes, mime_type: str, *, limits: PixelLimits = DEFAULT_PIXEL_LIMITS
) -> PixelReading:
    """The prompts visible on an image, or on the first ``limits.video_seconds`` of a video."""
    mime = _bare(mime_type)
    video = mime in VIDEO_DEMUXERS
    if not supports(mime):
        return _unread(f"unsupported: {mime[:64]}")
    if len(data) > limits.max_bytes:
        return _unread(f"too_large: {len(data)} bytes")
    try:
        decoded = (
            decode_video(data, mime, limits, _ffmpeg_exe()) if video else decode_image(data, mime, limits)
        )
    except UnreadablePixels as unreadable:
        return _unread(unreadable.problem)
    except OSError as error:  # the temporary file of a video (a full disk)
        return _unread(f"io_failed: {type(error).__name__}")
    try:
        return _video_reading(decoded, limits) if video else _image_reading(decoded, limits)
    except Exception as error:  # the engine's failure on one input must not stop the stream
        return _unread(f"ocr_failed: {type(error).__name__}: {str(error)[:200]}", decoded)


def _image_reading(decoded: DecodedFrames, limits: PixelLimits) -> PixelReading:
    lines = read_lines(decoded.frames[0], decoded.width, decoded.height, short_side=limits.ocr_short_side)
    return PixelReading(
        width=decoded.width,
        height=decoded.height,
        labels=image_labels(find_sightings(lines), decoded.width, decoded.height),
        texts=tuple(line.seen for line in lines),
        frames_read=1,
        seconds_read=None,
    )


def _video_reading(decoded: DecodedFrames, limits: PixelLimits) -> PixelReading:
    """OCR of every other sampled frame, and of a frame between two only where their labels differ.

    A label that stays put costs half the OCR, and where one comes or goes the frame between still
    gives its time to one sample interval. A label on screen for less than two intervals (1 s at 2
    frames/s) between two frames without it may be missed; it would be too short anyway.
    """

    def sightings_at(index: int) -> list[Sighting]:
        lines = read_lines(
            decoded.frames[index], decoded.width, decoded.height, short_side=limits.video_ocr_short_side
        )
        if index == 0:
            first_lines.extend(lines)
        return find_sightings(lines)

    first_lines: list[OcrLine] = []
    count = len(decoded.frames)
    per_frame: list[list[Sighting]] = [[] for _ in range(count)]
    for index in range(0, count, 2):
        per_frame[index] = sightings_at(index)
    for index in range(1, count, 2):
        if index + 1 < count and same_labels(per_frame[index - 1], per_frame[index + 1]):
            per_frame[index] = per_frame[index - 1]
        else:
            per_frame[index] = sightings_at(index)
    return PixelReading(
        width=decoded.width,
        height=decoded.height,
        labels=video_labels(per_frame, limits.video_fps, decoded.width, decoded.height),
        texts=tuple(line.seen for line in first_lines),
        frames_read=count,
        seconds_read=count / limits.video_fps,
    )


def _bare(mime_type: str) -> str:
    return mime_type.split(";", 1)[0].strip().lower()


def _unread(problem: str, decoded: DecodedFrames | None = None) -> PixelReading:
    return PixelReading(
        width=decoded.width if decoded else 0,
        height=decoded.height if decoded else 0,
        labels=(),
        texts=(),
        frames_read=0,
        seconds_read=None,
        problem=problem,
    )


def _ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped]

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as error:  # no binary for this platform
        raise UnreadablePixels(f"ffmpeg_failed: {type(error).__name__}") from error
