"""Reads the labels a PNG file carries in its text chunks, and where its C2PA store is.

GB 45438 image guide (labels.md §4.3): the XMP packet in iTXt keyword ``XML:com.adobe.xmp``, or the
JSON itself in a tEXt/zTXt/iTXt chunk whose keyword contains ``AIGC``. C2PA puts its manifest store in
a ``caBX`` chunk (§5.3). The reader walks the chunks from the signature to IEND, checks each CRC,
inflates compressed text within the limits and never decodes image data.
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

from classifiers.labels.media.base import (
    Extraction,
    LimitExceeded,
    Limits,
    Variant,
    decode_text,
    find_aigc_json,
    is_aigc_key,
    parse_aigc_text,
)
from classifiers.labels.media.exif import read_tiff_structure
from classifiers.labels.media.registry import ReaderSpec, register
from classifiers.labels.media.xmp import read_xmp

SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD: Final = "XML:com.adobe.xmp"
STANDARD_KEYWORD: Final = "AIGC"
_TEXT_CHUNKS: Final = frozenset({b"tEXt", b"zTXt", b"iTXt"})
_IMAGE_DATA: Final = frozenset({b"IDAT", b"fdAT"})
_MAX_KEYWORD: Final = 79  # PNG 3rd edition §11.3.3.2: 1-79 bytes
_MAX_CHUNK: Final = 2**31 - 1  # PNG §5.3: lengths above 2^31-1 are invalid


def _sniff(data: bytes) -> bool:
    return data.startswith(SIGNATURE)


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    if not data.startswith(SIGNATURE):
        out.problem("corrupt", "no PNG signature", "png")
        return
    pos = len(SIGNATURE)
    after_image = False
    chunks = 0
    while True:
        if pos == len(data):
            out.problem("truncated", "the file ends before IEND", "png")
            return
        if pos + 8 > len(data):
            out.problem("truncated", "the file ends inside a chunk header", "png")
            return
        length, kind = struct.unpack_from(">I4s", data, pos)
        where = f"png:{kind.decode('latin-1')}"
        if not kind.isalpha():
            out.problem("corrupt", f"chunk type {kind!r} at offset {pos} is not four letters", "png")
            return
        if length > _MAX_CHUNK:
            out.problem("corrupt", f"chunk length {length} above 2^31-1", where)
            return
        end = pos + 8 + length
        if end + 4 > len(data):
            out.problem("truncated", f"chunk declares {length} bytes, {len(data) - pos - 8} left", where)
            return
        chunks += 1
        if chunks > limits.max_structures:
            raise LimitExceeded(f"more than {limits.max_structures} PNG chunks")
        body = data[pos + 8 : end]
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(kind + body) != crc:
            out.problem("corrupt", "CRC mismatch; the chunk is read anyway", where)
        variants: tuple[Variant, ...] = ("after_media_data",) if after_image else ()
        if kind in _TEXT_CHUNKS:
            _text_chunk(kind, body, out, limits, variants)
        elif kind == b"caBX":
            out.c2pa_locations.append(where)
        elif kind == b"eXIf":
            read_tiff_structure(body, where, out, limits, variants=variants)
        elif kind in _IMAGE_DATA:
            after_image = True
        elif kind == b"IEND":
            return
        pos = end + 4


def _text_chunk(
    kind: bytes, body: bytes, out: Extraction, limits: Limits, variants: tuple[Variant, ...]
) -> None:
    """tEXt: keyword NUL text; zTXt: keyword NUL method deflate; iTXt: keyword NUL flag method
    language NUL translated-keyword NUL text (PNG 3rd edition §11.3.3)."""
    chunk = kind.decode("latin-1")
    separator = body.find(b"\x00", 0, _MAX_KEYWORD + 1)
    if separator < 1:
        out.problem("corrupt", "text chunk without a 1-79 byte keyword", f"png:{chunk}")
        return
    keyword = body[:separator].decode("latin-1")
    where = f"png:{chunk}:{keyword}"
    rest = body[separator + 1 :]
    compressed = kind == b"zTXt"
    if kind == b"zTXt":
        rest = rest[1:]  # compression method 0
    elif kind == b"iTXt":
        if len(rest) < 2:
            out.problem("corrupt", "iTXt chunk cut after its keyword", where)
            return
        compressed = rest[0] == 1
        language_end = rest.find(b"\x00", 2)
        translated_end = rest.find(b"\x00", language_end + 1) if language_end >= 0 else -1
        if translated_end < 0:
            out.problem("corrupt", "iTXt chunk without its language and translated keyword", where)
            return
        rest = rest[translated_end + 1 :]
    value = _inflate(rest, out, limits, where) if compressed else rest
    if value is None:
        return
    if len(value) > limits.max_field_bytes:
        out.problem("limit_exceeded", f"text value of {len(value)} bytes; not read", where)
        return
    if keyword == XMP_KEYWORD:
        read_xmp(value, f"png:{chunk}:xmp", out, limits, variants=variants)
    elif is_aigc_key(keyword):
        # GB 45438-2025 Annex E a: the keyword contains AIGC; the guides spell it exactly "AIGC".
        extra: tuple[Variant, ...] = () if keyword == STANDARD_KEYWORD else ("nonstandard_location",)
        text = decode_text(value)
        out.add_label(parse_aigc_text(text, where, variants=(*variants, *extra)), limits)
    elif b"AIGC" in value or b"&quot;AIGC" in value:
        # A label under another keyword ("Description", "Comment"): nobody's placement, still a label.
        found = find_aigc_json(decode_text(value))
        if found is not None:
            label = parse_aigc_text(found, where, variants=(*variants, "nonstandard_location"))
            out.add_label(label, limits)


def _inflate(stream: bytes, out: Extraction, limits: Limits, where: str) -> bytes | None:
    """A zlib stream decompressed up to ``limits.max_inflated_bytes``; None (and a problem) if not."""
    inflater = zlib.decompressobj()
    try:
        value = inflater.decompress(stream, limits.max_inflated_bytes)
    except zlib.error as exc:
        out.problem("corrupt", f"compressed text does not inflate: {exc}", where)
        return None
    if inflater.unconsumed_tail:
        out.problem("limit_exceeded", f"text inflates past {limits.max_inflated_bytes} bytes", where)
        return None
    if not inflater.eof:
        out.problem("truncated", "compressed text ends early; the part read is used", where)
    return value


SPEC = register(ReaderSpec(format="png", mime_types=("image/png", "image/apng"), sniff=_sniff, read=read))
