"""The media part of ``huiyan bench``: what one pixel read costs, and image events to mix into the stream.

Images and a short video are rendered here with Pillow, a CJK font from the system (Debian's
``fonts-wqy-zenhei`` or ``fonts-noto-cjk``) and the ffmpeg binary of ``imageio-ffmpeg``, each with a
visible label "AI生成" at 6% of the shortest side in the bottom-right corner, over a textured
background so that decoding and OCR do real work. Nothing is read from disk but the font.
"""

from __future__ import annotations

import base64
import functools
import io
import random
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.labels.pixels import read_visible_labels

LABEL = "AI生成"
IMAGE_SIZES = ((640, 480), (1280, 720), (1920, 1080))
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


@dataclass(frozen=True, slots=True)
class PixelCost:
    """Median milliseconds of one read_visible_labels call, and whether it found the label."""

    what: str
    ms: float
    found: bool


@functools.cache
def cjk_font() -> Path | None:
    """A font file with Chinese glyphs from the system, or None: a known Debian path first, so pictures
    come out the same on every machine with that package (WenQuanYi Zen Hei, which the test command
    installs, then Noto Sans CJK), else the first that ``fc-list :lang=zh`` names. The bench, the test
    pictures and the benchmark corpus all draw with it."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return None
    files = sorted(line.split(":", 1)[0].strip() for line in listed.splitlines() if line.strip())
    return Path(files[0]) if files else None


def render_image(width: int, height: int, font: Path, *, seed: int = 1, image_format: str = "PNG") -> bytes:
    """A textured picture with the label at 6% of its shortest side, bottom right."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (rng.randrange(60, 200), 120, 160))
    draw = ImageDraw.Draw(image)
    for _ in range(40):  # shapes, so the detector has edges to reject
        x, y = rng.randrange(width), rng.randrange(height)
        size = rng.randrange(10, max(11, min(width, height) // 4))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + size, y + size), fill=colour)
    label_font = ImageFont.truetype(str(font), max(8, round(min(width, height) * 0.06)))
    left, top, right, bottom = draw.textbbox((0, 0), LABEL, font=label_font)
    margin = min(width, height) // 40
    x = round(width - (right - left) - margin - left)
    y = round(height - (bottom - top) - margin - top)
    draw.rectangle((x + left - 4, y + top - 4, x + right + 4, y + bottom + 4), fill=(255, 255, 255))
    draw.text((x, y), LABEL, font=label_font, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, image_format)
    return out.getvalue()


def render_video(width: int, height: int, font: Path, *, seconds: int = 4, fps: int = 10) -> bytes | None:
    """An MP4 of ``seconds`` with the label on every frame; None when no ffmpeg binary is available."""
    import tempfile

    from PIL import Image

    try:
        import imageio_ffmpeg  # type: ignore[import-untyped]

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return None
    frames = [Image.open(io.BytesIO(render_image(width, height, font, seed=i))) for i in range(3)]
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "bench.mp4"
        command = [
            ffmpeg,
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{width}x{height}",
        ]
        command += [
            "-r",
            str(fps),
            "-i",
            "-",
            "-c:v",
            "mpeg4",
            "-q:v",
            "5",
            "-pix_fmt",
            "yuv420p",
            str(target),
        ]
        raw = b"".join(
            frames[(i // fps) % len(frames)].convert("RGB").tobytes() for i in range(seconds * fps)
        )
        subprocess.run(command, input=raw, check=True, timeout=120)
        return target.read_bytes()


def pixel_costs(font: Path, passes: int = 3) -> list[PixelCost]:
    """Milliseconds per read of each image size and of a 4-second 640x360 video (median of ``passes``)."""
    items: list[tuple[str, bytes, str]] = [
        (f"image {w}x{h} PNG", render_image(w, h, font), "image/png") for w, h in IMAGE_SIZES
    ]
    items.append(("image 1280x720 JPEG", render_image(1280, 720, font, image_format="JPEG"), "image/jpeg"))
    if (video := render_video(640, 360, font)) is not None:
        items.append(("video 640x360 4 s MP4", video, "video/mp4"))
    read_visible_labels(items[0][1], items[0][2])  # loads the OCR models before the clock starts
    costs = []
    for what, data, mime_type in items:
        times, found = [], False
        for _ in range(passes):
            started = time.perf_counter()
            reading = read_visible_labels(data, mime_type)
            times.append((time.perf_counter() - started) * 1000)
            found = any(label.complete for label in reading.labels)
        costs.append(PixelCost(what, statistics.median(times), found))
    return costs


def image_event_fields(font: Path, count: int = 4) -> list[dict[str, Any]]:
    """Event fields of ``count`` different 640x480 labelled PNG images (declared as they are)."""
    fields = []
    for seed in range(count):
        data = render_image(640, 480, font, seed=100 + seed)
        fields.append(
            {
                "content_type": "image",
                "service_type": "image_video_generation",
                "media": {
                    "mime_type": "image/png",
                    "data_base64": base64.b64encode(data).decode(),
                    "width": 640,
                    "height": 480,
                },
                "explicit_label": {
                    "kind": "text",
                    "position": "bottom_right",
                    "text": LABEL,
                    "size_ratio": 0.06,
                },
            }
        )
    return fields
