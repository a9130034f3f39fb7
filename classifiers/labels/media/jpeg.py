"""Reads the labels a JPEG file carries in its marker segments, and where its C2PA store is.

GB 45438 image guide and real files (labels.md §4.3, §4.6): XMP in APP1
(``http://ns.adobe.com/xap/1.0/``, plus Extended XMP split over several APP1 segments), EXIF
UserComment with the wrapped JSON (PG-20259A Annex B), EXIF ImageDescription, and a bare
``AIGC{...}`` in some other APPn or COM segment. C2PA stores its manifest in APP11 JUMBF segments
(§5.3). The reader walks the segments to EOI, skipping entropy-coded data without decoding it, and
reports segments found after the first scan as after the image data.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Final

from classifiers.labels.media.base import (
    Extraction,
    LimitExceeded,
    Limits,
    Variant,
    decode_text,
    find_aigc_json,
    parse_aigc_text,
)
from classifiers.labels.media.exif import read_tiff_structure
from classifiers.labels.media.registry import ReaderSpec, register
from classifiers.labels.media.xmp import read_xmp

XMP_HEADER: Final = b"http://ns.adobe.com/xap/1.0/\x00"
# XMP Specification Part 3 §1.1.3.1: this header, a 32-character GUID, the full length and the
# offset of this part (both 4-byte big-endian), then the part.
EXTENDED_XMP_HEADER: Final = b"http://ns.adobe.com/xmp/extension/\x00"
EXIF_HEADER: Final = b"Exif\x00"

_SOI: Final = 0xD8
_EOI: Final = 0xD9
_SOS: Final = 0xDA
_COM: Final = 0xFE
_APP1: Final = 0xE1
_APP11: Final = 0xEB
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field
# The next marker after entropy-coded data: 0xFF not followed by a stuffed 0x00, an RSTn or fill.
_NEXT_MARKER: Final = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])")


def _sniff(data: bytes) -> bool:
    return data[:3] == b"\xff\xd8\xff"


@dataclass
class _ExtendedXmp:
    length: int
    parts: dict[int, bytes] = field(default_factory=dict)


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    if data[:2] != b"\xff\xd8":
        out.problem("corrupt", "no JPEG SOI marker", "jpeg")
        return
    pos = 2
    after_scan = False
    segments = 0
    extended: dict[bytes, _ExtendedXmp] = {}
    try:
        while True:
            if pos >= len(data):
                out.problem("truncated", "the file ends before EOI", "jpeg")
                return
            if data[pos] != 0xFF:
                out.problem("corrupt", f"no marker at offset {pos}", "jpeg")
                return
            while pos < len(data) and data[pos] == 0xFF:
                pos += 1  # ITU T.81 B.1.1.2: any number of 0xFF fill bytes may precede a marker
            if pos >= len(data):
                out.problem("truncated", "the file ends inside a marker", "jpeg")
                return
            marker = data[pos]
            pos += 1
            if marker == _EOI:
                _after_eoi(data[pos:], out, limits)
                return
            if marker in _STANDALONE or marker == _SOI:
                continue
            segments += 1
            if segments > limits.max_structures:
                raise LimitExceeded(f"more than {limits.max_structures} JPEG segments")
            where = _segment_name(marker)
            if pos + 2 > len(data):
                out.problem("truncated", "the file ends inside a segment length", where)
                return
            (length,) = struct.unpack_from(">H", data, pos)
            if length < 2:
                out.problem("corrupt", f"segment length {length} below 2", where)
                return
            end = pos + length
            if end > len(data):
                out.problem("truncated", f"segment declares {length} bytes, {len(data) - pos} left", where)
                return
            variants: tuple[Variant, ...] = ("after_media_data",) if after_scan else ()
            _segment(marker, data[pos + 2 : end], where, out, limits, variants, extended)
            pos = end
            if marker == _SOS:
                after_scan = True
                found = _NEXT_MARKER.search(data, pos)
                pos = found.start() if found else len(data)
    finally:
        _read_extended_xmp(extended, out, limits)


def _segment_name(marker: int) -> str:
    if 0xE0 <= marker <= 0xEF:
        return f"jpeg:APP{marker - 0xE0}"
    if marker == _COM:
        return "jpeg:COM"
    return f"jpeg:0x{marker:02X}"


def _segment(
    marker: int,
    payload: bytes,
    where: str,
    out: Extraction,
    limits: Limits,
    variants: tuple[Variant, ...],
    extended: dict[bytes, _ExtendedXmp],
) -> None:
    if not (0xE0 <= marker <= 0xEF or marker == _COM):
        return  # tables, frame and scan headers
    if marker == _APP1 and payload.startswith(EXIF_HEADER):
        read_tiff_structure(payload[6:], f"{where}:exif", out, limits, variants=variants)
    elif marker == _APP1 and payload.startswith(XMP_HEADER):
        read_xmp(payload[len(XMP_HEADER) :], f"{where}:xmp", out, limits, variants=variants)
    elif marker == _APP1 and payload.startswith(EXTENDED_XMP_HEADER):
        _collect_extended_xmp(payload[len(EXTENDED_XMP_HEADER) :], out, where, extended)
    elif marker == _APP11 and payload[:2] == b"JP":
        # ISO/IEC 19566-5 JUMBF in JPEG XT boxes: "JP", box instance, sequence number, then the jumb
        # superbox whose description box labels a C2PA store "c2pa" (C2PA embedding annex).
        location = f"{where}:jumbf"
        if b"c2pa" in payload[:128] and location not in out.c2pa_locations:
            out.c2pa_locations.append(location)
    elif b"AIGC" in payload or b"ContentProducer" in payload:
        # Some writers put the JSON, or AIGC{...}, in an APPn or COM segment of their own.
        found = find_aigc_json(decode_text(payload))
        if found is not None:
            label = parse_aigc_text(found, where, variants=(*variants, "nonstandard_location"))
            out.add_label(label, limits)


def _collect_extended_xmp(
    payload: bytes, out: Extraction, where: str, extended: dict[bytes, _ExtendedXmp]
) -> None:
    if len(payload) < 40:
        out.problem("corrupt", "Extended XMP segment shorter than its header", where)
        return
    guid = payload[:32]
    length, offset = struct.unpack_from(">II", payload, 32)
    part = extended.setdefault(guid, _ExtendedXmp(length))
    if length != part.length:
        out.problem("corrupt", "Extended XMP parts disagree on the full length", where)
        return
    part.parts[offset] = payload[40:]


def _read_extended_xmp(extended: dict[bytes, _ExtendedXmp], out: Extraction, limits: Limits) -> None:
    """Reassembles each Extended XMP packet from its parts (by offset) and reads it."""
    where = "jpeg:APP1:xmp-extension"
    for packet in extended.values():
        if packet.length > limits.max_field_bytes:
            out.problem("limit_exceeded", f"Extended XMP of {packet.length} bytes; not read", where)
            continue
        buffer = bytearray(packet.length)
        filled = 0
        for offset, part in sorted(packet.parts.items()):
            if offset + len(part) > packet.length:
                out.problem("corrupt", "Extended XMP part past the declared length", where)
                part = part[: max(0, packet.length - offset)]
            buffer[offset : offset + len(part)] = part
            filled += len(part)
        if filled < packet.length:
            out.problem("truncated", "Extended XMP parts missing; the rest read loosely", where)
        read_xmp(bytes(buffer), where, out, limits)


def _after_eoi(trailer: bytes, out: Extraction, limits: Limits) -> None:
    """A label appended after EOI (labels.md §4.6: labels placed after the image data)."""
    window = trailer[: limits.max_field_bytes]
    if b"AIGC" not in window:
        return
    found = find_aigc_json(decode_text(window))
    if found is not None:
        label = parse_aigc_text(
            found, "jpeg:after-EOI", variants=("after_media_data", "nonstandard_location")
        )
        out.add_label(label, limits)


SPEC = register(
    ReaderSpec(format="jpeg", mime_types=("image/jpeg", "image/jpg", "image/pjpeg"), sniff=_sniff, read=read)
)
