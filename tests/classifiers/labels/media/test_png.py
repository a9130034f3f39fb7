"""The PNG reader on files Pillow writes (and c2pa-python signs), with and without labels, damaged."""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngImageFile, PngInfo

from classifiers.labels.media import png
from classifiers.labels.media.base import DEFAULT_LIMITS, Extraction, Limits
from classifiers.labels.media.registry import read_media
from tests.fixtures.images import (
    LABEL,
    XMP_CASES,
    XMP_IDS,
    XmpCase,
    c2pa_signed,
    chunk_at,
    png_bytes,
    problem_codes,
    read_png,
    record,
    with_text,
    wrapped,
)


@pytest.mark.parametrize(
    ("chunk", "write"),
    [
        ("tEXt", lambda info, value: info.add_text("AIGC", value)),
        ("zTXt", lambda info, value: info.add_text("AIGC", value, zip=True)),
        ("iTXt", lambda info, value: info.add_itxt("AIGC", value)),
        ("iTXt", lambda info, value: info.add_itxt("AIGC", value, zip=True)),
    ],
    ids=["tEXt", "zTXt", "iTXt", "iTXt-compressed"],
)
def test_reads_the_aigc_keyword_in_every_text_chunk(
    chunk: str, write: Callable[[PngInfo, str], None]
) -> None:
    info = PngInfo()
    write(info, wrapped())
    data = png_bytes(info)
    assert chunk.encode() in data
    out = read_png(data)
    [label] = out.labels
    assert label.location == f"png:{chunk}:AIGC"
    assert label.record == LABEL
    assert label.variants == ("wrapped",)
    assert out.problems == []


def test_itxt_with_language_and_translated_keyword() -> None:
    info = PngInfo()
    info.add_itxt("AIGC", wrapped(), lang="zh-CN", tkey="人工智能生成合成内容标识")
    [label] = read_png(png_bytes(info)).labels
    assert label.location == "png:iTXt:AIGC" and label.record == LABEL


def test_exif_chunk_is_read_like_jpeg_exif() -> None:
    exif = Image.Exif()
    exif[0x0131] = "Pillow"  # an Exif object with only a sub-IFD is falsy and not written
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + wrapped().encode()
    data = png_bytes(exif=exif)
    assert b"eXIf" in data
    [label] = read_png(data).labels
    assert label.location == "png:eXIf:ExifIFD:UserComment" and label.record == LABEL


def test_bare_json_and_numeric_label_are_variants() -> None:
    out = read_png(with_text(("AIGC", json.dumps(record(Label=1)))))
    [label] = out.labels
    assert label.record == record(Label=1)
    assert set(label.variants) == {"bare", "numeric_label"}


def test_utf8_json_in_a_text_chunk() -> None:
    # Pillow writes bytes to tEXt as they are; Doubao-style writers put UTF-8 there, not Latin-1.
    info = PngInfo()
    info.add_text("AIGC", wrapped(ContentProducer="豆包").encode())
    [label] = read_png(png_bytes(info)).labels
    assert label.record == record(ContentProducer="豆包")


def test_keyword_spelled_otherwise_or_label_under_another_keyword_is_nonstandard() -> None:
    out = read_png(
        with_text(("aigc_label", wrapped()), ("Description", f"generated; {wrapped(ProduceID='x')}"))
    )
    assert [(x.location, x.record, "nonstandard_location" in x.variants) for x in out.labels] == [
        ("png:tEXt:aigc_label", LABEL, True),
        ("png:tEXt:Description", record(ProduceID="x"), True),
    ]


def test_text_merely_mentioning_aigc_is_no_label() -> None:
    out = read_png(with_text(("parameters", "a cat, AIGC style, 8k"), ("Software", "AIGC Studio")))
    assert out.labels == [] and out.problems == []


def test_unparseable_aigc_value_is_kept_with_its_error() -> None:
    [label] = read_png(with_text(("AIGC", '{"Label":"1",'))).labels
    assert label.record is None and label.error and label.error.startswith("not JSON")


@pytest.mark.parametrize("case", XMP_CASES, ids=XMP_IDS)
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "compressed"])
def test_xmp_in_itxt(case: XmpCase, compressed: bool) -> None:
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", case.packet.decode(), zip=compressed)
    case.check(read_png(png_bytes(info)), "png:iTXt:xmp")


def test_duplicate_labels_all_come_back() -> None:
    # GB 45438-2025 6.1 c: one label per file; judging that needs every copy.
    info = PngInfo()
    info.add_text("AIGC", wrapped(ProduceID="first"))
    info.add_itxt("XML:com.adobe.xmp", XMP_CASES[0].packet.decode())
    info.add_text("AIGC", wrapped(ProduceID="second"), zip=True)
    out = read_png(png_bytes(info))
    assert [x.location for x in out.labels] == ["png:tEXt:AIGC", "png:iTXt:xmp:TC260:AIGC", "png:zTXt:AIGC"]
    assert [x.record and x.record["ProduceID"] for x in out.labels] == ["first", "hy-0001", "second"]


def _move_after_idat(data: bytes, kind: bytes) -> bytes:
    """Moves the chunk Pillow wrote (bytes and CRC unchanged) from before IDAT to just before IEND."""
    start, end = chunk_at(data, kind)
    moved = data[:start] + data[end:]
    iend, _ = chunk_at(moved, b"IEND")
    return moved[:iend] + data[start:end] + moved[iend:]


def test_label_after_idat_is_read_and_reported() -> None:
    data = _move_after_idat(with_text(("AIGC", wrapped())), b"tEXt")
    reopened = Image.open(io.BytesIO(data))
    assert isinstance(reopened, PngImageFile)
    reopened.load()
    assert reopened.text == {"AIGC": wrapped()}  # Pillow reads the moved chunk too: the file is valid
    [label] = read_png(data).labels
    assert label.variants == ("after_media_data", "wrapped")


def test_unlabelled_file() -> None:
    out = read_png(png_bytes())
    assert out == Extraction(format="png")


def test_palette_and_alpha_images_are_walked_alike() -> None:
    info = PngInfo()
    info.add_text("AIGC", wrapped())
    for mode in ("P", "RGBA", "L"):
        assert len(read_png(png_bytes(info, mode=mode)).labels) == 1


def test_c2pa_store_in_cabx_is_located() -> None:
    info = PngInfo()
    info.add_text("AIGC", wrapped())
    signed = c2pa_signed(png_bytes(info), "image/png")
    out = read_png(signed)
    assert out.c2pa_locations == ["png:caBX"]
    assert [x.location for x in out.labels] == ["png:tEXt:AIGC"]
    assert read_png(png_bytes()).c2pa_locations == []


def test_crc_mismatch_is_reported_and_reading_goes_on() -> None:
    data = bytearray(with_text(("AIGC", wrapped())))
    _, ihdr_end = chunk_at(bytes(data), b"IHDR")
    data[ihdr_end - 1] ^= 0xFF
    out = read_png(bytes(data))
    assert [(p.code, p.location) for p in out.problems] == [("corrupt", "png:IHDR")]
    assert len(out.labels) == 1


def test_truncated_file_keeps_what_was_read() -> None:
    data = with_text(("AIGC", wrapped()))
    idat, idat_end = chunk_at(data, b"IDAT")
    out = read_png(data[: idat + 20])
    assert problem_codes(out) == ["truncated"] and len(out.labels) == 1
    text, _ = chunk_at(data, b"tEXt")
    out = read_png(data[: text + 30])
    assert problem_codes(out) == ["truncated"] and out.labels == []
    out = read_png(data[:idat_end])  # no IEND
    assert problem_codes(out) == ["truncated"] and len(out.labels) == 1


@pytest.mark.parametrize(("length", "code"), [(0x7FFFFFF0, "truncated"), (0xFFFFFFF0, "corrupt")])
def test_huge_declared_chunk_length(length: int, code: str) -> None:
    data = bytearray(with_text(("AIGC", wrapped(ProduceID="early")), ("AIGC", wrapped(ProduceID="late"))))
    _, first_end = chunk_at(bytes(data), b"tEXt")
    struct.pack_into(">I", data, first_end, length)  # the second tEXt
    out = read_png(bytes(data))
    assert problem_codes(out) == [code]
    assert [x.record and x.record["ProduceID"] for x in out.labels] == ["early"]


def test_compressed_text_inflates_only_up_to_the_limit() -> None:
    padded = wrapped()[:-1] + " " * 50_000 + "}"  # deflates to a few hundred bytes
    data = with_text(("AIGC", padded), zip=True)
    assert len(data) < 2_000
    out = read_png(data, Limits(max_inflated_bytes=10_000))
    assert out.labels == [] and problem_codes(out) == ["limit_exceeded"]
    assert len(read_png(data).labels) == 1


def test_broken_zlib_stream_is_corrupt_not_an_exception() -> None:
    data = bytearray(with_text(("AIGC", wrapped()), zip=True))
    start, end = chunk_at(bytes(data), b"zTXt")
    body = bytes(data[start + 8 : end - 4])
    broken = body[: len("AIGC") + 2] + b"\x00" * (len(body) - len("AIGC") - 2)
    data[start + 8 : end - 4] = broken
    struct.pack_into(">I", data, end - 4, zlib.crc32(b"zTXt" + broken))
    out = read_png(bytes(data))
    assert out.labels == [] and problem_codes(out) == ["corrupt"]


def test_stops_at_iend() -> None:
    data = with_text(("AIGC", wrapped()))
    text, text_end = chunk_at(data, b"tEXt")
    out = read_png(data + data[text:text_end] + b"trailing garbage")
    assert len(out.labels) == 1 and out.problems == []


def test_chunk_count_is_bounded() -> None:
    info = PngInfo()
    for index in range(10):
        info.add_text(f"k{index}", "v")
    out = read_png(png_bytes(info), Limits(max_structures=5))
    assert problem_codes(out) == ["limit_exceeded"]


def test_registry_picks_the_png_reader() -> None:
    data = with_text(("AIGC", wrapped()))
    assert read_media(data, None).format == "png"
    mislabelled = read_media(data, "image/jpeg")
    assert mislabelled.format == "png" and len(mislabelled.labels) == 1
    assert problem_codes(mislabelled) == ["mime_mismatch"]
    out = Extraction(format="png")
    png.read(b"GIF89a" + data[6:], out, DEFAULT_LIMITS)
    assert problem_codes(out) == ["corrupt"]
