"""Regenerates the media events at the end of ``stream/samples/events.jsonl`` (evt-0015 to evt-0017).

The images are drawn by Pillow here and carry labels we wrote: a PNG whose file label matches the
declared one and whose visible "AI生成" is drawn as declared (10% of the shortest side, bottom left), a
JPEG whose EXIF UserComment label names another content number than the event declares (what tampering
looks like) and whose visible label is drawn at 4% though 10% is declared, and a WebP without any label,
in the file or in the pixels, although the event declares both. The visible label is drawn with a CJK
font from Debian's fonts-wqy-zenhei. Run with
``.venv/bin/python deploy/dev/media_samples.py``; it replaces those three lines and keeps the rest.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

SAMPLES = Path(__file__).resolve().parents[2] / "stream" / "samples" / "events.jsonl"
PRODUCER = {
    "provider_code": "001191110108MA01ABCD2X1HY01",
    "provider_name": "星河智能（示例）",
    "user_id": "u-1024",
}
IDS = ("evt-0015", "evt-0016", "evt-0017")


def label(content_id: str) -> dict[str, str]:
    code = PRODUCER["provider_code"]
    return {
        "Label": "1",
        "ContentProducer": code,
        "ProduceID": content_id,
        "ReservedCode1": "",
        "ContentPropagator": code,
        "PropagateID": content_id,
        "ReservedCode2": "",
    }


WIDTH, HEIGHT = 640, 400
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def picture(colour: tuple[int, int, int], label_ratio: float | None) -> Image.Image:
    """A plain picture with a light band, and the visible label "AI生成" at ``label_ratio`` of the
    shortest side in the bottom-left corner (None: no label)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, HEIGHT // 3, WIDTH, HEIGHT // 3 + 20), fill=(240, 240, 240))
    if label_ratio is not None:
        font = ImageFont.truetype(str(FONT), round(label_ratio * min(WIDTH, HEIGHT)))
        left, top, right, bottom = draw.textbbox((0, 0), "AI生成", font=font)
        x, y = 16, HEIGHT - 16 - (bottom - top)
        draw.rectangle((x - 6, y - 6, x + right - left + 6, y + bottom - top + 6), fill=(255, 255, 255))
        draw.text((x - left, y - top), "AI生成", font=font, fill=(0, 0, 0))
    return image


def encode(image: Image.Image, fmt: str, **options: Any) -> str:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return base64.b64encode(out.getvalue()).decode()


def event(number: int, content_id: str, text: str, mime: str, data: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "tenant": "demo",
        "scene": "post",
        "producer": PRODUCER,
        "event_id": f"evt-00{number}",
        "content_id": content_id,
        "content_type": "image",
        "service_type": "image_video_generation",
        "text": text,
        "media": {"mime_type": mime, "width": WIDTH, "height": HEIGHT, "data_base64": data},
        "implicit_label": label(content_id),
        "explicit_label": {"kind": "text", "position": "bottom_left", "text": "AI生成", "size_ratio": 0.1},
    }


def main() -> None:
    png_info = PngImagePlugin.PngInfo()
    png_info.add_text("AIGC", json.dumps({"AIGC": label("img-0015")}))
    exif = Image.Exif()
    # PG-20259A Annex B: UserComment with the ASCII character-code prefix, then the wrapped JSON.
    exif[0x9286] = b"ASCII\0\0\0" + json.dumps({"AIGC": label("img-0099")}).encode()
    lines = [
        event(
            15,
            "img-0015",
            "湖边的白色帆船",
            "image/png",
            encode(picture((70, 130, 180), 0.1), "PNG", pnginfo=png_info),
        ),
        event(
            16,
            "img-0016",
            "夜色中的城市天际线",
            "image/jpeg",
            encode(picture((20, 20, 60), 0.04), "JPEG", exif=exif, quality=90),
        ),
        event(17, "img-0017", "秋天的银杏大道", "image/webp", encode(picture((220, 180, 40), None), "WEBP")),
    ]
    kept = [
        line
        for line in SAMPLES.read_text("utf-8").splitlines()
        if line and not any(f'"event_id": "{i}"' in line for i in IDS)
    ]
    kept += [json.dumps(doc, ensure_ascii=False) for doc in lines]
    SAMPLES.write_text("\n".join(kept) + "\n", "utf-8")


if __name__ == "__main__":
    main()
