"""Walks a TIFF structure (a TIFF file, or the EXIF payload of a JPEG APP1 segment or a WebP ``EXIF``
chunk) for AIGC records, the XMP packet of tag 700 and the C2PA manifest store of tag 52545.

Shared by the JPEG, WebP and TIFF readers; values in free text go through ``base.find_aigc_json``.
It must not raise on a malformed
structure: each fault becomes a problem and the walk keeps what it read. It reads no image data.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from classifiers.labels.media.base import (
    Extraction,
    Limits,
    Variant,
    decode_text,
    find_aigc_json,
    parse_aigc_text,
)
from classifiers.labels.media.xmp import read_xmp

# TIFF 6.0 §2 field types -> bytes per value (BigTIFF adds 16-18, the 8-byte integers and IFD8).
_TYPE_SIZES: Final = {
    1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8,
}  # fmt: skip
_ASCII: Final = 2

IMAGE_DESCRIPTION: Final = 0x010E
XMP_TAG: Final = 0x02BC  # XMP Specification Part 3 §1.1.4: TIFF tag 700, type BYTE or UNDEFINED
EXIF_IFD: Final = 0x8769
USER_COMMENT: Final = 0x9286
C2PA_TAG: Final = 0xCD41  # C2PA 2.x embedding annex: TIFF/DNG tag 52545 holds the manifest store
_XP_TAGS: Final = {0x9C9B: "XPTitle", 0x9C9C: "XPComment", 0x9C9D: "XPAuthor", 0x9C9E: "XPKeywords"}
_TAG_NAMES: Final = {
    IMAGE_DESCRIPTION: "ImageDescription",
    0x010F: "Make",
    0x0110: "Model",
    0x0131: "Software",
    0x013B: "Artist",
    0x8298: "Copyright",
    XMP_TAG: "XMP",
    USER_COMMENT: "UserComment",
    C2PA_TAG: "C2PA",
    0x9C9F: "XPSubject",
    **_XP_TAGS,
}
_TEXT_TAGS: Final = frozenset({USER_COMMENT, 0x9C9F, *_XP_TAGS})

# Exif 2.3 §4.6.5 table 9: the 8-byte character code in front of a UserComment.
_CHARSET_ASCII: Final = b"ASCII\x00\x00\x00"
_CHARSET_UNICODE: Final = b"UNICODE\x00"
_CHARSET_JIS: Final = b"JIS\x00\x00\x00\x00\x00"
_CHARSET_UNDEFINED: Final = b"\x00" * 8


def decode_user_comment(value: bytes, big_endian: bool) -> str:
    """An EXIF UserComment as text: the 8-byte character code, then ASCII, UCS-2 or undefined bytes."""
    code, body = value[:8], value[8:]
    if code == _CHARSET_UNICODE:
        return _decode_utf16(body, big_endian)
    if code in (_CHARSET_ASCII, _CHARSET_UNDEFINED, _CHARSET_JIS):
        return decode_text(body).rstrip("\x00 ")
    return decode_text(value).rstrip("\x00 ")  # no character code: written as plain text


def _decode_utf16(body: bytes, big_endian: bool) -> str:
    """UCS-2 text; the Exif byte order unless a BOM or the zero bytes of ASCII text say otherwise."""
    if body[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return body.decode("utf-16", errors="replace").rstrip("\x00 ")
    sample = body[:512]
    zeros_first = sample[0::2].count(0)
    zeros_second = sample[1::2].count(0)
    if zeros_first != zeros_second:
        big_endian = zeros_first > zeros_second  # ASCII in UTF-16BE puts the zero byte first
    encoding = "utf-16-be" if big_endian else "utf-16-le"
    return body[: len(body) & ~1].decode(encoding, errors="replace").rstrip("\x00 ")


@dataclass(frozen=True, slots=True)
class TiffLayout:
    """Byte order and classic or BigTIFF sizes, from the 8- or 16-byte header."""

    order: str  # "<" (II) or ">" (MM)
    big: bool  # BigTIFF: 8-byte entry counts, value counts and offsets; 20-byte entries
    first_ifd: int

    @property
    def entry_count_format(self) -> str:
        return self.order + ("Q" if self.big else "H")

    @property
    def offset_format(self) -> str:
        return self.order + ("Q" if self.big else "I")

    @property
    def entry_count_size(self) -> int:
        return 8 if self.big else 2

    @property
    def offset_size(self) -> int:
        return 8 if self.big else 4

    @property
    def entry_size(self) -> int:
        return 20 if self.big else 12


def parse_header(data: bytes) -> TiffLayout | None:
    """The layout of a TIFF header (``II*\\0``, ``MM\\0*`` or the BigTIFF ``+`` forms); None if not one."""
    if data[:2] == b"II":
        order = "<"
    elif data[:2] == b"MM":
        order = ">"
    else:
        return None
    if len(data) < 8:
        return None
    (magic,) = struct.unpack(order + "H", data[2:4])
    if magic == 42:
        return TiffLayout(order, False, struct.unpack(order + "I", data[4:8])[0])
    if magic == 43 and len(data) >= 16:
        offset_size, _reserved = struct.unpack(order + "HH", data[4:8])
        if offset_size == 8:
            return TiffLayout(order, True, struct.unpack(order + "Q", data[8:16])[0])
    return None


@dataclass
class _IfdWalk:
    data: bytes
    layout: TiffLayout
    location: str
    out: Extraction
    limits: Limits
    variants: tuple[Variant, ...]
    xmp_is_standard: bool
    visited: set[int] = field(default_factory=set)
    entries: int = 0
    stopped: bool = False

    def walk(self, offset: int) -> None:
        """Reads IFD0 and the chain of next IFDs (pages, the EXIF thumbnail), each once."""
        index = 0
        while offset and not self.stopped:
            next_offset = self.ifd(offset, f"IFD{index}", 0)
            if not next_offset:
                return
            offset, index = next_offset, index + 1

    def ifd(self, offset: int, name: str, depth: int) -> int | None:
        """Reads one IFD; returns the offset of the next IFD (0 for none) or None when unreadable."""
        layout, data, out = self.layout, self.data, self.out
        where = f"{self.location}:{name}"
        if depth > self.limits.max_depth:
            out.problem("limit_exceeded", f"IFDs nested deeper than {self.limits.max_depth}", where)
            return None
        if offset in self.visited:
            out.problem("corrupt", f"IFD at offset {offset} already read (a loop)", where)
            return None
        self.visited.add(offset)
        if len(self.visited) > self.limits.max_structures:
            out.problem("limit_exceeded", f"more than {self.limits.max_structures} IFDs", where)
            self.stopped = True
            return None
        if offset < 8 or offset + layout.entry_count_size > len(data):
            out.problem("corrupt", f"IFD offset {offset} outside the {len(data)}-byte structure", where)
            return None
        (declared,) = struct.unpack_from(layout.entry_count_format, data, offset)
        first = offset + layout.entry_count_size
        room = (len(data) - first) // layout.entry_size
        count = min(declared, room)
        if declared > room:
            out.problem("truncated", f"IFD declares {declared} entries, only {room} fit", where)
        for index in range(count):
            self.entries += 1
            if self.entries > self.limits.max_structures:
                out.problem("limit_exceeded", f"more than {self.limits.max_structures} IFD entries", where)
                self.stopped = True
                return None
            self.entry(first + index * layout.entry_size, name, depth)
            if self.stopped:
                return None
        if count < declared:
            return None  # the IFD is cut off: there is no next-IFD offset to trust
        next_at = first + count * layout.entry_size
        if next_at + layout.offset_size > len(data):
            return 0
        return int(struct.unpack_from(layout.offset_format, data, next_at)[0])

    def entry(self, at: int, ifd_name: str, depth: int) -> None:
        layout, data = self.layout, self.data
        tag, kind = struct.unpack_from(layout.order + "HH", data, at)
        wanted = (
            tag in (EXIF_IFD, XMP_TAG, C2PA_TAG, IMAGE_DESCRIPTION) or tag in _TEXT_TAGS or kind == _ASCII
        )
        if not wanted:
            return
        where = f"{self.location}:{ifd_name}:{_TAG_NAMES.get(tag, f'0x{tag:04X}')}"
        if tag == C2PA_TAG:
            self.out.c2pa_locations.append(where)
            return
        size = _TYPE_SIZES.get(kind)
        if size is None:
            return  # TIFF 6.0 §2: readers skip fields of an unknown type
        # The value count has the size of an offset (4 bytes, BigTIFF 8); the IFD's entry count does not.
        (count,) = struct.unpack_from(layout.offset_format, data, at + 4)
        value_field = at + 4 + layout.offset_size
        total = count * size
        if tag == EXIF_IFD:
            if kind in (4, 13, 16, 18) and count >= 1:
                pointer_format = layout.order + ("Q" if size == 8 else "I")
                if total > layout.offset_size:
                    self.out.problem("corrupt", "Exif IFD pointer with more than one value", where)
                    return
                (pointer,) = struct.unpack_from(pointer_format, data, value_field)
                self.ifd(pointer, "ExifIFD", depth + 1)
            return
        if total > self.limits.max_field_bytes:
            self.out.problem("limit_exceeded", f"tag value of {total} bytes; not read", where)
            return
        if total <= layout.offset_size:
            value = data[value_field : value_field + total]
        else:
            (start,) = struct.unpack_from(layout.offset_format, data, value_field)
            if start + total > len(data):
                self.out.problem(
                    "truncated", f"{total}-byte value at offset {start} runs past the end", where
                )
                return
            value = data[start : start + total]
        self.value(tag, kind, value, where)

    def value(self, tag: int, kind: int, value: bytes, where: str) -> None:
        if tag == XMP_TAG:
            extra: tuple[Variant, ...] = () if self.xmp_is_standard else ("nonstandard_location",)
            read_xmp(value, where, self.out, self.limits, variants=(*self.variants, *extra))
            return
        if tag == USER_COMMENT:
            text = decode_user_comment(value, self.layout.order == ">")
        elif tag in _TEXT_TAGS:
            text = value[: len(value) & ~1].decode("utf-16-le", errors="replace").rstrip("\x00")
        elif kind in (_ASCII, 1, 7):
            text = decode_text(value.split(b"\x00", 1)[0] if kind == _ASCII else value.rstrip(b"\x00"))
        else:
            return
        found = find_aigc_json(text)
        if found is None:
            return
        # PG-20259A Annex B: the wrapped JSON in UserComment; every other EXIF field is a stray place.
        extra = () if tag == USER_COMMENT else ("nonstandard_location",)
        self.out.add_label(parse_aigc_text(found, where, variants=(*self.variants, *extra)), self.limits)


def read_tiff_structure(
    data: bytes,
    location: str,
    out: Extraction,
    limits: Limits,
    *,
    variants: tuple[Variant, ...] = (),
    xmp_is_standard: bool = False,
) -> None:
    """Adds what the IFDs of ``data`` hold to ``out``; ``location`` names the carrier ("jpeg:APP1:exif").

    Follows IFD0's chain of next IFDs and the Exif IFD pointer, each IFD once (loops are corrupt),
    within ``limits``. ``xmp_is_standard``: tag 700 is the guide's place (TIFF files) rather than a
    stray one (an EXIF block inside another format).
    """
    layout = parse_header(data)
    if layout is None:
        out.problem("corrupt", "no TIFF header (II*/MM*)", location)
        return
    _IfdWalk(data, layout, location, out, limits, variants, xmp_is_standard).walk(layout.first_ifd)
