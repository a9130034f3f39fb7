"""The TIFF reader on files Pillow writes (both byte orders, BigTIFF, several pages) and c2pa-python signs."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest
from PIL import Image
from PIL.TiffImagePlugin import TiffImageFile

from classifiers.labels.media import tiff
from classifiers.labels.media.base import DEFAULT_LIMITS, Extraction, Limits
from classifiers.labels.media.registry import read_media
from tests.fixtures.images import (
    LABEL,
    XMP_CASES,
    XMP_IDS,
    XmpCase,
    bare,
    c2pa_signed,
    image,
    problem_codes,
    record,
    wrapped,
)

XMP = 700
IMAGE_DESCRIPTION = 270
EXIF_IFD = 34665
USER_COMMENT = 0x9286


def tiff_bytes(tags: dict[int, Any] | None = None, mode: str = "RGB", **params: Any) -> bytes:
    buffer = io.BytesIO()
    picture = image() if mode == "RGB" else Image.new(mode, (24, 16))
    picture.save(buffer, "TIFF", tiffinfo=tags or {}, **params)
    return buffer.getvalue()


def read_tiff(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Extraction:
    out = read_media(data, "image/tiff", limits)
    assert out.format == "tiff"
    return out


def ifd0(data: bytes) -> tuple[str, int, int]:
    """Byte order, offset and entry count of IFD0 of a classic TIFF."""
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    (entries,) = struct.unpack_from(order + "H", data, offset)
    return order, offset, entries


def entry_offset(data: bytes, tag: int) -> int:
    order, offset, entries = ifd0(data)
    for index in range(entries):
        at = offset + 2 + 12 * index
        if struct.unpack_from(order + "H", data, at)[0] == tag:
            return at
    raise AssertionError(f"tag {tag} not in IFD0")


@pytest.mark.parametrize("case", XMP_CASES, ids=XMP_IDS)
def test_xmp_tag_700(case: XmpCase) -> None:
    data = tiff_bytes({XMP: case.packet})
    assert Image.open(io.BytesIO(data)).info["xmp"] == case.packet
    out = read_tiff(data)
    case.check(out, "tiff:IFD0:XMP")
    assert all("nonstandard_location" not in x.variants for x in out.labels)


def test_image_description_is_a_nonstandard_location() -> None:
    [label] = read_tiff(tiff_bytes({IMAGE_DESCRIPTION: wrapped(Label=1)})).labels
    assert label.location == "tiff:IFD0:ImageDescription"
    assert label.record == record(Label=1)
    assert set(label.variants) == {"nonstandard_location", "wrapped", "numeric_label"}


def test_exif_ifd_user_comment() -> None:
    data = tiff_bytes({EXIF_IFD: {USER_COMMENT: b"ASCII\x00\x00\x00" + bare().encode()}})
    [label] = read_tiff(data).labels
    assert label.location == "tiff:ExifIFD:UserComment"
    assert label.record == LABEL and label.variants == ("bare",)


@pytest.mark.parametrize(
    ("mode", "params", "header"),
    [("I;16B", {}, b"MM\x00*"), ("RGB", {"big_tiff": True}, b"II+\x00")],
    ids=["big-endian", "bigtiff"],
)
def test_byte_orders_and_bigtiff(mode: str, params: dict[str, Any], header: bytes) -> None:
    data = tiff_bytes(
        {XMP: XMP_CASES[0].packet, IMAGE_DESCRIPTION: wrapped(ProduceID="d")}, mode=mode, **params
    )
    assert data[:4] == header
    out = read_tiff(data)
    assert sorted((x.location, x.record and x.record["ProduceID"]) for x in out.labels) == [
        ("tiff:IFD0:ImageDescription", "d"),
        ("tiff:IFD0:XMP:TC260:AIGC", "hy-0001"),
    ]
    assert out.problems == []


def test_label_on_a_later_page() -> None:
    pages = [Image.new("RGB", (8, 8), (i * 40, 0, 0)) for i in range(3)]
    pages[2].encoderinfo = {"tiffinfo": {IMAGE_DESCRIPTION: wrapped(ProduceID="page3")}}
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:])
    data = buffer.getvalue()
    opened = Image.open(io.BytesIO(data))
    assert isinstance(opened, TiffImageFile) and opened.n_frames == 3
    [label] = read_tiff(data).labels
    assert label.location == "tiff:IFD2:ImageDescription" and label.record == record(ProduceID="page3")


def test_duplicate_labels_all_come_back() -> None:
    data = tiff_bytes(
        {
            XMP: XMP_CASES[0].packet,
            IMAGE_DESCRIPTION: wrapped(ProduceID="description"),
            EXIF_IFD: {USER_COMMENT: b"ASCII\x00\x00\x00" + wrapped(ProduceID="comment").encode()},
        }
    )
    out = read_tiff(data)
    assert sorted((x.location, x.record and x.record["ProduceID"]) for x in out.labels) == [
        ("tiff:ExifIFD:UserComment", "comment"),
        ("tiff:IFD0:ImageDescription", "description"),
        ("tiff:IFD0:XMP:TC260:AIGC", "hy-0001"),
    ]


def test_unlabelled_file() -> None:
    assert read_tiff(tiff_bytes()) == Extraction(format="tiff")
    assert read_tiff(tiff_bytes({IMAGE_DESCRIPTION: "scan of an AIGC poster"})) == Extraction(format="tiff")


def test_c2pa_tag_is_located() -> None:
    signed = c2pa_signed(tiff_bytes({XMP: XMP_CASES[0].packet}), "image/tiff")
    out = read_tiff(signed)
    assert out.c2pa_locations == ["tiff:IFD0:C2PA"]
    assert [x.location for x in out.labels] == ["tiff:IFD0:XMP:TC260:AIGC"]


def test_ifd_loop_is_cut() -> None:
    data = bytearray(tiff_bytes({IMAGE_DESCRIPTION: wrapped()}))
    order, offset, entries = ifd0(bytes(data))
    struct.pack_into(order + "I", data, offset + 2 + 12 * entries, offset)  # next IFD: IFD0 again
    out = read_tiff(bytes(data))
    assert problem_codes(out) == ["corrupt"] and "loop" in out.problems[0].detail
    assert len(out.labels) == 1


def test_exif_pointer_back_to_ifd0_is_cut() -> None:
    data = bytearray(tiff_bytes({IMAGE_DESCRIPTION: wrapped(), EXIF_IFD: {USER_COMMENT: b"x"}}))
    order, offset, _ = ifd0(bytes(data))
    struct.pack_into(order + "I", data, entry_offset(bytes(data), EXIF_IFD) + 8, offset)
    out = read_tiff(bytes(data))
    assert problem_codes(out) == ["corrupt"] and len(out.labels) == 1


def test_huge_counts() -> None:
    data = bytearray(tiff_bytes({XMP: XMP_CASES[0].packet, IMAGE_DESCRIPTION: wrapped(ProduceID="d")}))
    order, offset, _ = ifd0(bytes(data))
    struct.pack_into(order + "I", data, entry_offset(bytes(data), XMP) + 4, 0xFFFFFFFF)
    out = read_tiff(bytes(data))
    assert problem_codes(out) == ["limit_exceeded"]
    assert [x.location for x in out.labels] == ["tiff:IFD0:ImageDescription"]
    struct.pack_into(order + "H", data, offset, 0xFFFF)  # IFD0 declares 65535 entries
    assert "truncated" in problem_codes(read_tiff(bytes(data)))


def test_value_past_the_end_and_ifd_outside_the_file() -> None:
    data = bytearray(tiff_bytes({IMAGE_DESCRIPTION: wrapped(), XMP: XMP_CASES[0].packet}))
    order, _, _ = ifd0(bytes(data))
    struct.pack_into(order + "I", data, entry_offset(bytes(data), XMP) + 8, len(data) - 10)
    out = read_tiff(bytes(data))
    assert problem_codes(out) == ["truncated"] and len(out.labels) == 1
    struct.pack_into(order + "I", data, 4, 1 << 30)
    out = read_tiff(bytes(data))
    assert problem_codes(out) == ["corrupt"] and out.labels == []


def test_nesting_is_bounded() -> None:
    data = tiff_bytes({EXIF_IFD: {USER_COMMENT: b"ASCII\x00\x00\x00" + wrapped().encode()}})
    out = read_tiff(data, Limits(max_depth=0))
    assert out.labels == [] and problem_codes(out) == ["limit_exceeded"]


def test_registry_picks_the_tiff_reader() -> None:
    data = tiff_bytes({IMAGE_DESCRIPTION: wrapped()})
    assert read_media(data, None).format == "tiff"
    assert read_media(data, "image/x-adobe-dng").problems == []
    assert problem_codes(read_media(data, "image/png")) == ["mime_mismatch"]
    out = Extraction(format="tiff")
    tiff.read(b"II\x2b\x00\x04\x00\x00\x00" + data[8:], out, DEFAULT_LIMITS)  # BigTIFF, wrong offset size
    assert problem_codes(out) == ["corrupt"]


def test_truncated_file() -> None:
    data = tiff_bytes({IMAGE_DESCRIPTION: wrapped()})
    assert problem_codes(read_tiff(data[:6])) == ["corrupt"]  # inside the header
    _, offset, entries = ifd0(data)
    description = data.index(wrapped().encode())
    assert description > offset + 2 + 12 * entries  # Pillow writes IFD0, then the values, then strips
    out = read_tiff(data[: offset + 2 + 12 * 3])  # three entries left
    assert problem_codes(out) == ["truncated"] and out.labels == []
    out = read_tiff(data[: description + 10])  # all entries, the description cut
    assert problem_codes(out) == ["truncated"] and out.labels == []
    assert len(read_tiff(data[: description + len(wrapped()) + 1]).labels) == 1  # the strips cut
