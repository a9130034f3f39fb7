"""The WebP reader on files Pillow writes (lossy and lossless) and c2pa-python signs."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest
from PIL import Image

from classifiers.labels.media import webp
from classifiers.labels.media.base import DEFAULT_LIMITS, Extraction, Limits
from classifiers.labels.media.registry import read_media
from tests.fixtures.images import (
    LABEL,
    XMP_CASES,
    XMP_IDS,
    XmpCase,
    c2pa_signed,
    image,
    problem_codes,
    record,
    wrapped,
)

USER_COMMENT = 0x9286
IMAGE_DESCRIPTION = 0x010E


def exif(description: str | None = None, comment: bytes | None = None) -> Image.Exif:
    data = Image.Exif()
    if description is not None:
        data[IMAGE_DESCRIPTION] = description
    if comment is not None:
        data.get_ifd(0x8769)[USER_COMMENT] = comment
    return data


def webp_bytes(**params: Any) -> bytes:
    buffer = io.BytesIO()
    image().save(buffer, "WEBP", **params)
    return buffer.getvalue()


def chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(fourcc, start, end without padding) of each chunk of a well-formed WebP."""
    found = []
    pos = 12
    while pos < len(data):
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        found.append((fourcc, pos, pos + 8 + size))
        pos += 8 + size + (size & 1)
    return found


def read_webp(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Extraction:
    out = read_media(data, "image/webp", limits)
    assert out.format == "webp"
    return out


@pytest.mark.parametrize("case", XMP_CASES, ids=XMP_IDS)
@pytest.mark.parametrize("lossless", [False, True], ids=["lossy", "lossless"])
def test_xmp_chunk(case: XmpCase, lossless: bool) -> None:
    case.check(read_webp(webp_bytes(xmp=case.packet, lossless=lossless)), "webp:XMP")


def test_exif_chunk_user_comment_and_description() -> None:
    data = webp_bytes(
        exif=exif(description=wrapped(Label=1), comment=b"ASCII\x00\x00\x00" + wrapped().encode())
    )
    out = read_webp(data)
    assert [(x.location, x.record, x.variants) for x in out.labels] == [
        (
            "webp:EXIF:IFD0:ImageDescription",
            record(Label=1),
            ("nonstandard_location", "wrapped", "numeric_label"),
        ),
        ("webp:EXIF:ExifIFD:UserComment", LABEL, ("wrapped",)),
    ]
    assert out.problems == []


def test_exif_chunk_with_the_jpeg_header() -> None:
    # Some writers copy JPEG's "Exif\0\0" into the chunk; Pillow's own EXIF reader accepts both.
    data = webp_bytes(exif=b"Exif\x00\x00" + exif(description=wrapped()).tobytes())
    assert Image.open(io.BytesIO(data)).getexif()[IMAGE_DESCRIPTION] == wrapped()
    assert [x.location for x in read_webp(data).labels] == ["webp:EXIF:IFD0:ImageDescription"]


def test_duplicate_labels_all_come_back() -> None:
    out = read_webp(webp_bytes(xmp=XMP_CASES[0].packet, exif=exif(description=wrapped(ProduceID="exif"))))
    assert [(x.location, x.record and x.record["ProduceID"]) for x in out.labels] == [
        ("webp:EXIF:IFD0:ImageDescription", "exif"),
        ("webp:XMP:TC260:AIGC", "hy-0001"),
    ]


def test_odd_sized_chunks_are_padded() -> None:
    # Pillow writes EXIF before XMP: an odd-sized EXIF chunk puts a pad byte in front of the XMP chunk.
    # (Pillow's EXIF is word-aligned, so one spare byte after the TIFF structure makes it odd.)
    data = webp_bytes(exif=exif(description=wrapped()).tobytes() + b"\x00", xmp=XMP_CASES[0].packet)
    sizes = [(fourcc, end - start - 8) for fourcc, start, end in chunks(data)]
    assert [fourcc for fourcc, _ in sizes][-2:] == [b"EXIF", b"XMP "] and sizes[-2][1] % 2 == 1
    out = read_webp(data)
    assert [x.location for x in out.labels] == ["webp:EXIF:IFD0:ImageDescription", "webp:XMP:TC260:AIGC"]
    assert out.problems == []


def test_unlabelled_file() -> None:
    assert read_webp(webp_bytes()) == Extraction(format="webp")
    assert read_webp(webp_bytes(lossless=True, exif=exif(description="holiday"))) == Extraction(format="webp")


def test_c2pa_chunk_is_located() -> None:
    signed = c2pa_signed(webp_bytes(xmp=XMP_CASES[0].packet), "image/webp")
    out = read_webp(signed)
    assert out.c2pa_locations == ["webp:C2PA"]
    assert [x.location for x in out.labels] == ["webp:XMP:TC260:AIGC"]


def test_declared_riff_size_past_the_data_is_reported_and_reading_goes_on() -> None:
    data = bytearray(webp_bytes(xmp=XMP_CASES[0].packet))
    struct.pack_into("<I", data, 4, len(data) + 1000)
    out = read_webp(bytes(data))
    assert problem_codes(out) == ["truncated"] and len(out.labels) == 1


def test_truncated_file_keeps_what_was_read() -> None:
    data = webp_bytes(exif=exif(description=wrapped()), xmp=XMP_CASES[0].packet)
    xmp_start = next(start for fourcc, start, _ in chunks(data) if fourcc == b"XMP ")
    out = read_webp(data[: xmp_start + 40])
    assert "truncated" in problem_codes(out)
    assert [x.location for x in out.labels] == ["webp:EXIF:IFD0:ImageDescription"]


def test_huge_declared_chunk_size() -> None:
    data = bytearray(webp_bytes(exif=exif(description=wrapped()), xmp=XMP_CASES[0].packet))
    xmp_start = next(start for fourcc, start, _ in chunks(bytes(data)) if fourcc == b"XMP ")
    struct.pack_into("<I", data, xmp_start + 4, 0xFFFFFFF0)
    out = read_webp(bytes(data))
    assert problem_codes(out) == ["truncated"] and len(out.labels) == 1


def test_oversized_xmp_chunk_is_not_read() -> None:
    big = XMP_CASES[0].packet.replace(b"</rdf:RDF>", b" " * 5000 + b"</rdf:RDF>")
    assert len(read_webp(webp_bytes(xmp=big)).labels) == 1
    out = read_webp(webp_bytes(xmp=big), Limits(max_field_bytes=1000))
    assert problem_codes(out) == ["limit_exceeded"] and out.labels == []


def test_registry_picks_the_webp_reader() -> None:
    data = webp_bytes(xmp=XMP_CASES[0].packet)
    assert read_media(data, None).format == "webp"
    assert problem_codes(read_media(data, "image/png")) == ["mime_mismatch"]
    out = Extraction(format="webp")
    webp.read(b"RIFF\x00\x00\x00\x00WAVE", out, DEFAULT_LIMITS)
    assert problem_codes(out) == ["corrupt"]
