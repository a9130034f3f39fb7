"""Builders of real pictures for the pixel-label tests: labels drawn by Pillow with a CJK font from
Debian's packages (fonts-wqy-zenhei or fonts-noto-cjk), on plain, gradient, noisy and photo-like
backgrounds, encoded by Pillow, and short videos encoded by the ffmpeg of imageio-ffmpeg.

Sizes are exact: a label drawn at ``ratio`` has an ink height (the glyphs' bounding box) of
``ratio`` x the shortest side, within one pixel, so the tests can assert what the OCR measured.
"""

from __future__ import annotations

import functools
import io
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from classifiers.labels.pixels import GridPosition

FONT_PACKAGES = "fonts-wqy-zenhei or fonts-noto-cjk"
Colour = tuple[int, int, int]
Box = tuple[int, int, int, int]


@functools.cache
def cjk_font() -> str | None:
    """The file of an installed font with Chinese glyphs, as fontconfig lists it; None when there is none."""
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return None
    files = sorted(line.split(":", 1)[0].strip() for line in listed.splitlines() if line.strip())
    # WenQuanYi Zen Hei first: the font the test command installs; then any Noto CJK.
    files.sort(key=lambda path: (0 if "wqy-zenhei" in path else 1 if "NotoSansCJK" in path else 2, path))
    return files[0] if files else None


def _font(size: int) -> ImageFont.FreeTypeFont:
    path = cjk_font()
    assert path is not None, f"no CJK font: install {FONT_PACKAGES}"
    return ImageFont.truetype(path, size)


def plain(width: int, height: int, colour: Colour = (40, 90, 160)) -> Image.Image:
    return Image.new("RGB", (width, height), colour)


def gradient(width: int, height: int, seed: int = 1) -> Image.Image:
    """A diagonal colour gradient with speckle noise: no flat area for the text to stand out on."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    t = (xs / width + ys / height) / 2
    pixels = np.stack([40 + 180 * t, 200 - 120 * t, 120 + 60 * np.sin(6 * t)], axis=-1)
    pixels += rng.normal(0, 18, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def photo_like(width: int, height: int, seed: int = 2) -> Image.Image:
    """Sky, ground, a sun and a house, with noise: a scene, not a slide."""
    image = gradient(width, height, seed)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 2 // 3, width, height), fill=(70, 110, 50))
    draw.ellipse((width * 0.7, height * 0.08, width * 0.85, height * 0.28), fill=(250, 210, 90))
    draw.rectangle((width * 0.15, height * 0.45, width * 0.4, height * 0.75), fill=(150, 80, 60))
    draw.polygon(
        [(width * 0.12, height * 0.45), (width * 0.275, height * 0.3), (width * 0.43, height * 0.45)],
        fill=(110, 40, 40),
    )
    noise = np.random.default_rng(seed).normal(0, 10, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8))


def text_size(text: str, ink_height: float) -> tuple[ImageFont.FreeTypeFont, Box]:
    """The font whose ink for ``text`` is ``ink_height`` px tall, and that ink's box at the origin."""
    size = max(4, round(ink_height))
    for _ in range(3):  # the ink of CJK glyphs is a little shorter than the em: converge on the height
        font = _font(size)
        box = font.getbbox(text)
        size = max(4, round(size * ink_height / (box[3] - box[1])))
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    return font, (int(left), int(top), int(right), int(bottom))


def place(
    image: Image.Image,
    text: str,
    ratio: float,
    position: GridPosition,
    colour: Colour = (255, 255, 255),
    *,
    margin: float = 0.03,
) -> Box:
    """Draws ``text`` with ink ``ratio`` x the shortest side tall in the ``position`` cell; the ink box."""
    width, height = image.size
    shortest = min(width, height)
    font, (left, top, right, bottom) = text_size(text, ratio * shortest)
    ink_w, ink_h = right - left, bottom - top
    gap = round(margin * shortest)
    column = {"left": 0, "center": 1, "right": 2}
    row = {"top": 0, "center": 1, "bottom": 2}
    vertical, _, horizontal = position.partition("_") if "_" in position else (position, "", position)
    x = (gap, (width - ink_w) // 2, width - ink_w - gap)[column.get(horizontal, 1)]
    y = (gap, (height - ink_h) // 2, height - ink_h - gap)[row.get(vertical, 1)]
    ImageDraw.Draw(image).text((x - left, y - top), text, font=font, fill=colour)
    return x, y, x + ink_w, y + ink_h


def place_at(image: Image.Image, text: str, ink_height: float, x: int, y: int, colour: Colour) -> Box:
    """Draws ``text`` with its ink's top left corner at (x, y); the ink box."""
    font, (left, top, right, bottom) = text_size(text, ink_height)
    ImageDraw.Draw(image).text((x - left, y - top), text, font=font, fill=colour)
    return x, y, x + right - left, y + bottom - top


def encode(image: Image.Image, format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class Shown:
    """A label drawn on the frames from ``start_s`` until before ``end_s``."""

    text: str
    start_s: float
    end_s: float
    ratio: float = 0.08
    position: GridPosition = "bottom_right"


def video(
    shown: Sequence[Shown],
    *,
    seconds: float,
    size: tuple[int, int] = (640, 360),
    fps: int = 10,
    codec: str = "libx264",
    container: str = "mp4",
    background: Callable[[int, int, int], Image.Image] | None = None,
) -> bytes:
    """A video whose frames Pillow draws, encoded by ffmpeg (an MP4 keeps its moov box at the end)."""
    width, height = size
    frames = []
    for index in range(round(seconds * fps)):
        t = index / fps
        frame = background(width, height, index) if background else plain(width, height, (30, 60, 90))
        for label in shown:
            if label.start_s <= t < label.end_s:
                place(frame, label.text, label.ratio, label.position)
        frames.append(np.asarray(frame, dtype=np.uint8).tobytes())
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / f"clip.{container}"
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            *("-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"),
            *("-s", f"{width}x{height}", "-r", str(fps), "-i", "pipe:0"),
            *("-c:v", codec, "-pix_fmt", "yuv420p", str(path)),
        ]
        subprocess.run(command, input=b"".join(frames), check=True, timeout=120)
        return path.read_bytes()
