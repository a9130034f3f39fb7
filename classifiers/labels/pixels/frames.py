"""Decodes the pixels the OCR reads: an image's first frame with Pillow, a video's opening seconds with
the ffmpeg binary of the ``imageio-ffmpeg`` wheel.

Both decoders treat the bytes as hostile: the size is checked from the header before a pixel is decoded
(a decompression bomb is refused, not decoded), Pillow opens only the formats :func:`supports` names
(never EPS, which runs Ghostscript), and ffmpeg is forced to the demuxer the MIME type names, may read
local files only, and is killed at a timeout. A failure raises :class:`UnreadablePixels` with the problem
``read.py`` reports. This module must not run the OCR or judge anything.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from classifiers.labels.pixels.reading import PixelLimits

RGBFrame = npt.NDArray[np.uint8]  # height x width x 3, RGB

# Pillow's format names per MIME type (the first frame of a GIF or multi-page TIFF).
IMAGE_FORMATS: Final = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/bmp": "BMP",
    "image/x-ms-bmp": "BMP",
    "image/tiff": "TIFF",
}
# ffmpeg's demuxer per MIME type; "matroska" reads WebM too.
VIDEO_DEMUXERS: Final = {
    "video/mp4": "mov",
    "video/quicktime": "mov",
    "video/webm": "matroska",
    "video/x-matroska": "matroska",
}
# Transparent pixels are laid on mid grey: the page colour a viewer shows them on is unknown, and grey
# keeps both white and black text legible.
_MATTE: Final = (128, 128, 128, 255)
_PROBED_SIZE: Final = re.compile(r"Stream #[^\n]*?: Video: [^\n]*?, (\d{1,6})x(\d{1,6})[ ,\n]")


class UnreadablePixels(Exception):
    """The bytes could not be decoded within the limits; ``problem`` says why."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class DecodedFrames:
    width: int  # of the image or frame as a viewer shows it (after EXIF orientation / rotation)
    height: int
    # RGB frames, the first at 0 s and each 1/fps s later for a video; a video's frames may be smaller
    # than width x height (PixelLimits.max_video_side).
    frames: tuple[RGBFrame, ...]


def decode_image(data: bytes, mime_type: str, limits: PixelLimits) -> DecodedFrames:
    """The image's first frame, oriented as shown; raises UnreadablePixels."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns before ours could refuse: refuse at once instead.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[IMAGE_FORMATS[mime_type]])
            width, height = image.size
            if width <= 0 or height <= 0:
                raise UnreadablePixels("undecodable: empty image")
            if width * height > limits.max_pixels:
                raise UnreadablePixels(f"too_large: {width}x{height} pixels")
            image.load()
    except UnreadablePixels:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnreadablePixels("too_large: over Pillow's decompression-bomb limit") from error
    except Exception as error:  # hostile bytes reach any corner of a decoder
        raise UnreadablePixels(f"undecodable: {type(error).__name__}") from error
    shown: Image.Image = image
    with contextlib.suppress(Exception):  # a broken EXIF block leaves the image as stored
        # EXIF orientation: a label is judged where a viewer shows it.
        shown = ImageOps.exif_transpose(image)
    try:
        return DecodedFrames(shown.width, shown.height, (_rgb(shown),))
    except Exception as error:
        raise UnreadablePixels(f"undecodable: {type(error).__name__}") from error


def _rgb(image: Image.Image) -> RGBFrame:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        matte = Image.new("RGBA", image.size, _MATTE)
        matte.alpha_composite(image.convert("RGBA"))
        image = matte
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def decode_video(data: bytes, mime_type: str, limits: PixelLimits, ffmpeg: str) -> DecodedFrames:
    """Frames of the opening ``limits.video_seconds`` at ``limits.video_fps``; raises UnreadablePixels.

    The bytes go to a temporary file: an MP4 whose moov box follows the media data cannot be read from a
    pipe. ffmpeg runs twice: a probe for the frame size (the bomb check), then the decode.
    """
    demuxer = VIDEO_DEMUXERS[mime_type]
    with tempfile.TemporaryDirectory(prefix="huiyan-pixels-") as work:
        source = Path(work) / "input"
        source.write_bytes(data)
        # -protocol_whitelist file: a playlist or reference movie may not reach the network.
        read = ["-protocol_whitelist", "file", "-f", demuxer]
        probe = _ffmpeg([ffmpeg, "-hide_banner", "-nostdin", *read, "-i", str(source)], limits)
        size = _PROBED_SIZE.search(probe.stderr.decode("utf-8", "replace"))
        if size is None:
            raise UnreadablePixels("undecodable: no video stream")
        width, height = int(size.group(1)), int(size.group(2))
        if width <= 0 or height <= 0:
            raise UnreadablePixels("undecodable: empty frame")
        if width * height > limits.max_pixels:
            raise UnreadablePixels(f"too_large: {width}x{height} pixels")
        side = limits.max_video_side
        count = max(1, round(limits.video_seconds * limits.video_fps))
        decode = [
            ffmpeg,
            *("-hide_banner", "-nostdin", "-v", "error"),
            *("-max_pixels", str(limits.max_pixels)),
            *read,
            *("-t", f"{limits.video_seconds:g}", "-i", str(source)),
            *("-map", "0:v:0", "-an", "-sn", "-dn"),
            "-vf",
            f"fps={limits.video_fps:g},scale='min(iw,{side})':'min(ih,{side})'"
            ":force_original_aspect_ratio=decrease",
            *("-frames:v", str(count), "-f", "image2", str(Path(work) / "frame-%04d.png")),
        ]
        _ffmpeg(decode, limits)
        frames = []
        for path in sorted(Path(work).glob("frame-*.png"))[:count]:
            with Image.open(path, formats=["PNG"]) as frame:
                frames.append(np.asarray(frame.convert("RGB"), dtype=np.uint8))
    if not frames:
        raise UnreadablePixels("undecodable: no frame decoded")
    shown_height, shown_width = frames[0].shape[:2]
    if (shown_width > shown_height) != (width > height) and shown_width != shown_height:
        # Rotation metadata (a phone video): ffmpeg turned the frames; the probe saw them as stored.
        width, height = height, width
    return DecodedFrames(width, height, tuple(frames))


def _ffmpeg(command: list[str], limits: PixelLimits) -> subprocess.CompletedProcess[bytes]:
    try:
        # A non-zero exit is not an error here: the probe always fails (no output named), and a truncated
        # file still yields the frames before the damage.
        return subprocess.run(
            command,
            capture_output=True,
            timeout=limits.ffmpeg_timeout_s,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:
        raise UnreadablePixels("timeout") from error
    except OSError as error:
        raise UnreadablePixels(f"ffmpeg_failed: {type(error).__name__}") from error
