"""The GIF reader on files Pillow writes and c2pa-python signs.

No installed library writes GIF's XMP Application Extension, so :func:`with_xmp` inserts one into a
Pillow-written file the XMP Specification Part 3 §1.1.2 way (the packet as it is, then the 258-byte
magic trailer); Pillow still decodes every such file, which shows the block is well formed.
"""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from PIL import Image

from classifiers.labels.media import gif
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

# XMP Part 3 §1.1.2: 0x01, 0xFF, 0xFE, ... 0x01, 0x00, then the block terminator.
MAGIC_TRAILER = bytes([0x01, *range(0xFF, -1, -1), 0x00])


def gif_bytes(frames: int = 1, **params: Any) -> bytes:
    first = image("P")
    others = [Image.new("RGB", (24, 16), (10 * i, 80, 200)).convert("P") for i in range(1, frames)]
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=frames > 1, append_images=others, **params)
    return buffer.getvalue()


def _first_block(data: bytes) -> int:
    """The offset after the header, the logical screen descriptor and the global color table."""
    flags = data[10]
    return 13 + (3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0)


def with_xmp(data: bytes, packet: bytes, *, after_image: bool = False) -> bytes:
    block = b"\x21\xff\x0bXMP DataXMP" + packet + MAGIC_TRAILER
    at = len(data) - 1 if after_image else _first_block(data)  # before the trailer 0x3B, or first
    assert data[-1:] == b"\x3b"
    marked = data[:at] + block + data[at:]
    decoded = Image.open(io.BytesIO(marked))
    decoded.load()
    assert decoded.tobytes() == Image.open(io.BytesIO(data)).tobytes()
    return marked


def read_gif(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Extraction:
    out = read_media(data, "image/gif", limits)
    assert out.format == "gif"
    return out


@pytest.mark.parametrize("case", XMP_CASES, ids=XMP_IDS)
def test_xmp_application_extension(case: XmpCase) -> None:
    case.check(read_gif(with_xmp(gif_bytes(), case.packet)), "gif:XMP")


def test_xmp_after_the_image_data() -> None:
    [label] = read_gif(with_xmp(gif_bytes(frames=3), XMP_CASES[0].packet, after_image=True)).labels
    assert label.record == LABEL
    assert set(label.variants) == {"after_media_data", "bare"}


@pytest.mark.parametrize(
    ("comment", "expected", "variants"),
    [
        (wrapped(), LABEL, {"wrapped"}),
        (bare(), LABEL, {"bare"}),
        (f"AIGC{bare(Label=2)}", record(Label=2), {"prefixed", "bare", "numeric_label"}),
        (f"made with X; {wrapped()}", LABEL, {"wrapped"}),
    ],
    ids=["wrapped", "bare", "prefixed-numeric", "inside-text"],
)
def test_comment_extension(comment: str, expected: dict[str, Any], variants: set[str]) -> None:
    [label] = read_gif(gif_bytes(comment=comment)).labels
    assert label.location == "gif:comment"
    assert label.record == expected
    assert set(label.variants) == {"nonstandard_location", *variants}


def test_long_comment_over_many_sub_blocks() -> None:
    long_label = wrapped(ProduceID="p" * 600)  # Pillow splits comments into 255-byte sub-blocks
    [label] = read_gif(gif_bytes(comment=long_label)).labels
    assert label.record == record(ProduceID="p" * 600)


def test_comment_mentioning_aigc_is_no_label() -> None:
    out = read_gif(gif_bytes(comment="an AIGC sticker"))
    assert out.labels == [] and out.problems == []


def test_duplicate_labels_all_come_back() -> None:
    data = with_xmp(gif_bytes(frames=2, comment=wrapped(ProduceID="comment")), XMP_CASES[0].packet)
    out = read_gif(data)
    assert sorted((x.location, x.record and x.record["ProduceID"]) for x in out.labels) == [
        ("gif:XMP:TC260:AIGC", "hy-0001"),
        ("gif:comment", "comment"),
    ]


def test_unlabelled_files() -> None:
    assert read_gif(gif_bytes()) == Extraction(format="gif")
    assert read_gif(gif_bytes(frames=3, loop=0, duration=50)) == Extraction(format="gif")


def test_c2pa_application_extension_is_located() -> None:
    signed = c2pa_signed(gif_bytes(comment=wrapped()), "image/gif")
    out = read_gif(signed)
    assert out.c2pa_locations == ["gif:C2PA_GIF"]
    assert len(out.labels) == 1 and out.problems == []


def test_truncated_file_keeps_what_was_read() -> None:
    data = gif_bytes(comment=wrapped())
    out = read_gif(data[:-10])
    assert problem_codes(out) == ["truncated"] and len(out.labels) == 1
    xmp = with_xmp(gif_bytes(), XMP_CASES[0].packet)
    out = read_gif(xmp[: xmp.index(b"XMP DataXMP") + 200])
    assert problem_codes(out) == ["truncated"] and out.labels == []


def test_unknown_block_is_corrupt() -> None:
    data = gif_bytes(comment=wrapped())
    out = read_gif(data[:-1] + b"\x99garbage")
    assert problem_codes(out) == ["corrupt"] and len(out.labels) == 1


def test_oversized_xmp_is_not_read_and_the_walk_goes_on() -> None:
    padded = XMP_CASES[0].packet.replace(b"</rdf:RDF>", b" " * 5000 + b"</rdf:RDF>")
    data = with_xmp(gif_bytes(), padded, after_image=True)
    out = read_gif(data, Limits(max_field_bytes=1000))
    assert out.labels == [] and "limit_exceeded" in problem_codes(out)
    assert len(read_gif(data).labels) == 1


def test_block_count_is_bounded() -> None:
    out = read_gif(gif_bytes(frames=8), Limits(max_structures=5))
    assert problem_codes(out) == ["limit_exceeded"]


def test_sub_block_count_is_bounded() -> None:
    noise = Image.frombytes("L", (200, 200), random.Random(4).randbytes(40_000)).convert("P")
    buffer = io.BytesIO()
    noise.save(buffer, "GIF")
    data = buffer.getvalue()
    assert read_gif(data, Limits(max_structures=4)).problems == []  # about 220 sub-blocks of image data
    assert problem_codes(read_gif(data, Limits(max_structures=2))) == ["limit_exceeded"]


def test_registry_picks_the_gif_reader() -> None:
    data = gif_bytes(comment=wrapped())
    assert read_media(data, None).format == "gif"
    assert problem_codes(read_media(data, "image/webp")) == ["mime_mismatch"]
    out = Extraction(format="gif")
    gif.read(b"GIF90a" + data[6:], out, DEFAULT_LIMITS)
    assert problem_codes(out) == ["corrupt"]
