"""Seed files for the reader fuzz test: one labelled file per format, written by real libraries.

Pillow writes the images, mutagen the MP3/FLAC tags, Python's ``wave`` and ``zipfile`` the WAV and
OOXML containers, pypdf the PDF and ffmpeg (from imageio-ffmpeg) the MP4, OGG, Matroska and WebM files.
The label JSON is ours. Mutations of these seeds reach deep into each reader's parsing.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import tempfile
import wave
import zipfile
from pathlib import Path

LABEL = json.dumps(
    {
        "AIGC": {
            "Label": "1",
            "ContentProducer": "001191110102MAD55U9H0F10002",
            "ProduceID": "hy-fuzz-0001",
            "ReservedCode1": "",
            "ContentPropagator": "",
            "PropagateID": "",
            "ReservedCode2": "",
        }
    }
)
BARE = json.dumps(json.loads(LABEL)["AIGC"])
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" '
    'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
    'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia">'
    f"<TC260:AIGC>{BARE.replace('&', '&amp;').replace('<', '&lt;')}</TC260:AIGC>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
).encode()


def _images() -> dict[str, tuple[str, bytes]]:
    from PIL import Image, PngImagePlugin

    image = Image.new("RGB", (16, 12), (30, 120, 210))
    out: dict[str, tuple[str, bytes]] = {}
    info = PngImagePlugin.PngInfo()
    info.add_text("AIGC", LABEL)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode(), zip=True)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    out["png"] = ("image/png", buffer.getvalue())
    exif = Image.Exif()
    exif[0x010E] = LABEL
    for fmt, mime in (("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("TIFF", "image/tiff")):
        buffer = io.BytesIO()
        image.save(buffer, fmt, exif=exif, xmp=XMP)
        out[fmt.lower()] = (mime, buffer.getvalue())
    buffer = io.BytesIO()
    image.convert("P").save(buffer, "GIF", comment=LABEL.encode())
    out["gif"] = ("image/gif", buffer.getvalue())
    return out


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(bytes(800))
    data = buffer.getvalue()
    payload = LABEL.encode()
    chunk = b"AIGC" + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(data) - 8 + len(chunk)) + data[8:] + chunk


def _docx() -> bytes:
    custom = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="AIGC">'
        f"<vt:lpwstr>{BARE.replace('&', '&amp;').replace('<', '&lt;')}</vt:lpwstr></property></Properties>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/docProps/custom.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("docProps/custom.xml", custom)
    return buffer.getvalue()


def _pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(72, 72)
    writer.add_metadata({"/AIGC": LABEL})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf_xmp_update() -> bytes:
    """An incremental update by pypdf that adds an XMP /Metadata stream to the plain PDF seed."""
    from pypdf import PdfWriter

    writer = PdfWriter(io.BytesIO(_pdf()), incremental=True)
    writer.xmp_metadata = XMP
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _ffmpeg(directory: Path, name: str, arguments: list[str]) -> bytes:
    import imageio_ffmpeg  # type: ignore[import-untyped]

    path = directory / name
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *arguments, str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return path.read_bytes()


def _audio_video() -> dict[str, tuple[str, bytes]]:
    from mutagen.id3 import ID3, TXXX

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.2"]
        mp4 = _ffmpeg(
            directory,
            "a.mp4",
            [
                *("-f", "lavfi", "-i", "color=c=black:s=16x16:d=0.2"),
                *("-metadata", f"AIGC={BARE}", "-movflags", "use_metadata_tags"),
            ],
        )
        ogg = _ffmpeg(directory, "a.ogg", [*tone, "-c:a", "libvorbis", "-metadata", f"AIGC={LABEL}"])
        flac = _ffmpeg(directory, "a.flac", [*tone, "-metadata", f"AIGC={LABEL}"])
        video = ["-f", "lavfi", "-i", "testsrc=d=0.2:s=16x16:r=10"]
        mkv = _ffmpeg(directory, "a.mkv", [*video, "-c:v", "mpeg4", "-metadata", f"AIGC={LABEL}"])
        webm = _ffmpeg(directory, "a.webm", [*video, "-c:v", "libvpx", "-metadata", f"AIGC={BARE}"])
        _ffmpeg(directory, "a.mp3", tone)
        tags = ID3()
        tags.add(TXXX(encoding=3, desc="AIGC", text=[LABEL]))
        tags.save(directory / "a.mp3")
        mp3 = (directory / "a.mp3").read_bytes()
    return {
        "mp4": ("video/mp4", mp4),
        "ogg": ("audio/ogg", ogg),
        "flac": ("audio/flac", flac),
        "mp3": ("audio/mpeg", mp3),
        "mkv": ("video/x-matroska", mkv),
        "webm": ("video/webm", webm),
    }


def seed_files() -> dict[str, tuple[str, bytes]]:
    """Format name -> (MIME type, bytes) of one labelled file per supported container."""
    seeds = _images()
    seeds.update(_audio_video())
    seeds["wav"] = ("audio/wav", _wav())
    seeds["docx"] = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _docx())
    seeds["pdf"] = ("application/pdf", _pdf())
    seeds["pdf_xmp_update"] = ("application/pdf", _pdf_xmp_update())
    front_matter = "---\nAIGC:\n  Label: '1'\n  ProduceID: x\n---\n# 标题\n正文"
    seeds["markdown"] = ("text/markdown", front_matter.encode())
    return seeds
