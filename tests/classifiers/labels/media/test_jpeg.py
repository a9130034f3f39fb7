"""The JPEG reader (and the shared EXIF walk) on files Pillow writes and c2pa-python signs."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest
from PIL import Image

from classifiers.labels.media import jpeg
from classifiers.labels.media.base import DEFAULT_LIMITS, Extraction, Limits, find_aigc_json
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
    xmp_packet,
)

USER_COMMENT = 0x9286
IMAGE_DESCRIPTION = 0x010E
EXIF_IFD = 0x8769


def exif(description: str | None = None, comment: bytes | None = None) -> Image.Exif:
    data = Image.Exif()
    if description is not None:
        data[IMAGE_DESCRIPTION] = description
    if comment is not None:
        data.get_ifd(EXIF_IFD)[USER_COMMENT] = comment
    return data


def jpeg_bytes(**params: Any) -> bytes:
    buffer = io.BytesIO()
    image().save(buffer, "JPEG", **params)
    return buffer.getvalue()


def app_segment(number: int, payload: bytes) -> bytes:
    """An APPn marker segment (ITU T.81 B.2.4.6) for Pillow's ``extra=``, which adds it after APP0."""
    return bytes([0xFF, 0xE0 + number]) + struct.pack(">H", 2 + len(payload)) + payload


def segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of the segments before the first scan, for the damage the tests do."""
    found = []
    pos = 2
    while True:
        marker = data[pos + 1]
        (length,) = struct.unpack_from(">H", data, pos + 2)
        found.append((marker, pos, pos + 2 + length))
        if marker == 0xDA:
            return found
        pos += 2 + length


def read_jpeg(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Extraction:
    out = read_media(data, "image/jpeg", limits)
    assert out.format == "jpeg"
    return out


@pytest.mark.parametrize("case", XMP_CASES, ids=XMP_IDS)
def test_xmp_in_app1(case: XmpCase) -> None:
    case.check(read_jpeg(jpeg_bytes(xmp=case.packet)), "jpeg:APP1:xmp")


def test_exif_user_comment_holds_the_annex_b_form() -> None:
    out = read_jpeg(jpeg_bytes(exif=exif(comment=b"ASCII\x00\x00\x00" + wrapped().encode())))
    [label] = out.labels
    assert label.location == "jpeg:APP1:exif:ExifIFD:UserComment"
    assert label.record == LABEL and label.variants == ("wrapped",)
    assert out.problems == []


@pytest.mark.parametrize(
    "comment",
    [
        b"UNICODE\x00" + wrapped().encode("utf-16-be"),
        b"UNICODE\x00" + wrapped().encode("utf-16-le"),  # against Pillow's big-endian EXIF byte order
        b"UNICODE\x00" + wrapped().encode("utf-16"),  # with a byte order mark
        b"\x00" * 8 + wrapped().encode(),  # undefined character code
        wrapped().encode(),  # no character code at all
        b"ASCII\x00\x00\x00" + wrapped().encode() + b"\x00\x00",
    ],
    ids=["unicode-be", "unicode-le", "unicode-bom", "undefined", "no-code", "nul-padded"],
)
def test_user_comment_character_codes(comment: bytes) -> None:
    [label] = read_jpeg(jpeg_bytes(exif=exif(comment=comment))).labels
    assert label.record == LABEL


def test_image_description_is_a_nonstandard_location() -> None:
    [label] = read_jpeg(jpeg_bytes(exif=exif(description=bare(Label=1)))).labels
    assert label.location == "jpeg:APP1:exif:IFD0:ImageDescription"
    assert label.record == record(Label=1)
    assert set(label.variants) == {"nonstandard_location", "bare", "numeric_label"}


def test_ordinary_exif_text_is_no_label() -> None:
    data = jpeg_bytes(exif=exif(description="AIGC poster, 2025", comment=b"ASCII\x00\x00\x00shot on a phone"))
    out = read_jpeg(data)
    assert out.labels == [] and out.problems == []


def test_prefixed_label_in_a_comment_segment() -> None:
    [label] = read_jpeg(jpeg_bytes(comment=f"AIGC{bare()}")).labels
    assert label.location == "jpeg:COM"
    assert label.record == LABEL
    assert set(label.variants) == {"prefixed", "nonstandard_location", "bare"}


@pytest.mark.parametrize("payload", [f"AIGC\x00{wrapped()}", f"AIGC{wrapped()}", wrapped()])
def test_label_in_an_application_segment_of_its_own(payload: str) -> None:
    data = jpeg_bytes(extra=app_segment(10, payload.encode()))
    [label] = read_jpeg(data).labels
    assert label.location == "jpeg:APP10"
    assert label.record == LABEL and "nonstandard_location" in label.variants


def test_every_copy_comes_back() -> None:
    data = jpeg_bytes(
        xmp=XMP_CASES[0].packet,
        exif=exif(description=wrapped(ProduceID="desc"), comment=b"ASCII\x00\x00\x00" + wrapped().encode()),
        comment=f"AIGC{bare(ProduceID='com')}",
    )
    out = read_jpeg(data)
    assert sorted((x.location, x.record and x.record["ProduceID"]) for x in out.labels) == [
        ("jpeg:APP1:exif:ExifIFD:UserComment", "hy-0001"),
        ("jpeg:APP1:exif:IFD0:ImageDescription", "desc"),
        ("jpeg:APP1:xmp:TC260:AIGC", "hy-0001"),
        ("jpeg:COM", "com"),
    ]


def test_segments_after_the_image_data() -> None:
    data = jpeg_bytes(progressive=True)  # several scans with tables between them: the walk must go on
    assert data.count(b"\xff\xda") > 1
    eoi = data.rindex(b"\xff\xd9")
    comment = b"\xff\xfe" + struct.pack(">H", 2 + len(wrapped())) + wrapped().encode()
    data = data[:eoi] + comment + data[eoi:] + f"AIGC{bare(ProduceID='tail')}".encode()
    Image.open(io.BytesIO(data)).load()  # still a JPEG Pillow decodes
    out = read_jpeg(data)
    assert [(x.location, x.variants) for x in out.labels] == [
        ("jpeg:COM", ("after_media_data", "nonstandard_location", "wrapped")),
        ("jpeg:after-EOI", ("after_media_data", "nonstandard_location", "prefixed", "bare")),
    ]
    assert out.problems == []


def test_extended_xmp_is_reassembled() -> None:
    # XMP Part 3 §1.1.3.1: a packet too big for one segment continues in APP1 "xmp/extension" parts,
    # each with the GUID, the full length and its offset. No installed library writes them.
    extension = XMP_CASES[0].packet
    guid = b"0123456789ABCDEF0123456789ABCDEF"
    header = b"http://ns.adobe.com/xmp/extension/\x00" + guid + struct.pack(">I", len(extension))
    half = len(extension) // 2
    parts = [
        app_segment(1, header + struct.pack(">I", half) + extension[half:]),  # out of order on purpose
        app_segment(1, header + struct.pack(">I", 0) + extension[:half]),
    ]
    main = xmp_packet(
        '<rdf:Description rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
        f'xmpNote:HasExtendedXMP="{guid.decode()}"/>'
    )
    out = read_jpeg(jpeg_bytes(xmp=main, extra=b"".join(parts)))
    [label] = out.labels
    assert label.location == "jpeg:APP1:xmp-extension:TC260:AIGC" and label.record == LABEL
    out = read_jpeg(jpeg_bytes(xmp=main, extra=parts[0]))
    assert "truncated" in problem_codes(out)


def test_unlabelled_file() -> None:
    assert read_jpeg(jpeg_bytes()) == Extraction(format="jpeg")
    assert read_jpeg(jpeg_bytes(exif=exif(description="holiday"), comment="ok")) == Extraction(format="jpeg")


def test_c2pa_store_in_app11_is_located_once() -> None:
    # A manifest over 64 KB: c2pa-python splits the JUMBF store over several APP11 segments.
    signed = c2pa_signed(jpeg_bytes(xmp=XMP_CASES[0].packet), "image/jpeg", title="t" * 100_000)
    assert sum(1 for marker, _, _ in segments(signed) if marker == 0xEB) >= 2
    out = read_jpeg(signed)
    assert out.c2pa_locations == ["jpeg:APP11:jumbf"]
    assert [x.location for x in out.labels] == ["jpeg:APP1:xmp:TC260:AIGC"]


def test_truncated_file_keeps_what_was_read() -> None:
    data = jpeg_bytes(exif=exif(comment=b"ASCII\x00\x00\x00" + wrapped().encode()), xmp=XMP_CASES[0].packet)
    out = read_jpeg(data[:-40])  # inside the scan
    assert problem_codes(out) == ["truncated"] and len(out.labels) == 2
    xmp_start = next(start for marker, start, end in segments(data) if data[start + 4 : start + 8] == b"http")
    out = read_jpeg(data[: xmp_start + 50])  # inside the XMP segment
    assert problem_codes(out) == ["truncated"]
    assert [x.location for x in out.labels] == ["jpeg:APP1:exif:ExifIFD:UserComment"]


@pytest.mark.parametrize(("length", "code"), [(0xFFFF, "truncated"), (1, "corrupt")])
def test_bad_segment_length(length: int, code: str) -> None:
    data = bytearray(jpeg_bytes(exif=exif(description=wrapped()), xmp=XMP_CASES[0].packet))
    xmp_start = next(s for _, s, _ in segments(bytes(data)) if data[s + 4 : s + 8] == b"http")
    struct.pack_into(">H", data, xmp_start + 2, length)
    out = read_jpeg(bytes(data))
    assert problem_codes(out) == [code]
    assert [x.location for x in out.labels] == ["jpeg:APP1:exif:IFD0:ImageDescription"]


def _exif_tiff_start(data: bytes) -> int:
    return data.index(b"Exif\x00\x00") + 6


def test_exif_ifd_loop_is_cut() -> None:
    data = bytearray(jpeg_bytes(exif=exif(description=wrapped())))
    tiff = _exif_tiff_start(bytes(data))
    (ifd0,) = struct.unpack_from(">I", data, tiff + 4)  # Pillow writes big-endian EXIF
    (entries,) = struct.unpack_from(">H", data, tiff + ifd0)
    struct.pack_into(">I", data, tiff + ifd0 + 2 + 12 * entries, ifd0)  # next IFD: IFD0 again
    out = read_jpeg(bytes(data))
    assert problem_codes(out) == ["corrupt"] and "loop" in out.problems[0].detail
    assert len(out.labels) == 1


def test_exif_huge_counts() -> None:
    data = bytearray(
        jpeg_bytes(exif=exif(description=wrapped(), comment=b"ASCII\x00\x00\x00" + wrapped().encode()))
    )
    tiff = _exif_tiff_start(bytes(data))
    (ifd0,) = struct.unpack_from(">I", data, tiff + 4)
    description = data.index(struct.pack(">HH", IMAGE_DESCRIPTION, 2), tiff)
    struct.pack_into(">I", data, description + 4, 0xFFFFFFFF)
    out = read_jpeg(bytes(data))
    assert problem_codes(out) == ["limit_exceeded"]
    assert [x.location for x in out.labels] == ["jpeg:APP1:exif:ExifIFD:UserComment"]
    struct.pack_into(">H", data, tiff + ifd0, 0xFFFF)  # IFD0 declares 65535 entries
    out = read_jpeg(bytes(data))
    assert "truncated" in problem_codes(out)


def test_segment_count_is_bounded() -> None:
    out = read_jpeg(jpeg_bytes(extra=app_segment(5, b"x") * 20), Limits(max_structures=10))
    assert problem_codes(out) == ["limit_exceeded"]


def test_registry_picks_the_jpeg_reader() -> None:
    data = jpeg_bytes(comment=f"AIGC{bare()}")
    assert read_media(data, None).format == "jpeg"
    assert read_media(data, "image/jpg").problems == []
    assert problem_codes(read_media(data, "image/png")) == ["mime_mismatch"]
    out = Extraction(format="jpeg")
    jpeg.read(b"\x00" + data, out, DEFAULT_LIMITS)
    assert problem_codes(out) == ["corrupt"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Generated with an AIGC model", None),
        ("no label here", None),
        (wrapped(), wrapped()),
        (f"  {bare()}\x00", bare()),
        (f"AIGC: {bare()}", f"AIGC{bare()}"),
        (f"made by X {wrapped()} -- end", wrapped()),
        (f"see AIGC{bare()} and more", f"AIGC{bare()}"),
        ('{"Software": "AIGC Studio"}', None),
        ('{"AIGC":{"Label":"1",', '{"AIGC":{"Label":"1",'),  # broken: still a label, reported unparseable
    ],
)
def test_find_aigc_json(text: str, expected: str | None) -> None:
    assert find_aigc_json(text) == expected
