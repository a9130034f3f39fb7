"""Reads the labels a GIF file carries in its extension blocks, and where its C2PA store is.

GB 45438 image guide (labels.md §4.3): the XMP packet in the Application Extension ``XMP DataXMP``,
stored the XMP Specification Part 3 §1.1.2 way: the packet bytes as they are, ended by a 258-byte
"magic trailer" that lets a GIF decoder skip them as if they were sub-blocks. Comment extensions
holding AIGC JSON are read too (a place no guide names). C2PA stores its manifest in the Application
Extension ``C2PA_GIF`` (§5.3). The reader walks the blocks to the trailer and never decodes images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from classifiers.labels.media.base import (
    Extraction,
    LimitExceeded,
    Limits,
    Truncated,
    Variant,
    decode_text,
    find_aigc_json,
    is_aigc_key,
    parse_aigc_text,
)
from classifiers.labels.media.registry import ReaderSpec, register
from classifiers.labels.media.xmp import read_xmp

XMP_APPLICATION: Final = b"XMP DataXMP"  # identifier "XMP Data" + authentication code "XMP"
C2PA_APPLICATION: Final = b"C2PA_GIF"
# XMP Part 3 §1.1.2: 0x01, then 0xFF down to 0x00, then the block terminator 0x00.
MAGIC_TRAILER: Final = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"

_EXTENSION: Final = 0x21
_IMAGE: Final = 0x2C
_TRAILER: Final = 0x3B
_APPLICATION: Final = 0xFF
_COMMENT: Final = 0xFE
_SUB_BLOCKS_PER_STRUCTURE: Final = 100  # 1,000,000 sub-blocks at the default limits: 255 MB of image data


def _sniff(data: bytes) -> bool:
    return data[:6] in (b"GIF87a", b"GIF89a")


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    if not _sniff(data):
        out.problem("corrupt", "no GIF signature", "gif")
        return
    try:
        _GifWalk(data, out, limits).walk()
    except Truncated as exc:
        out.problem("truncated", str(exc), "gif")


def _color_table_size(flags: int) -> int:
    """GIF89a §18, §20: a color table follows when bit 7 is set, 3 * 2^(size + 1) bytes."""
    return 3 * (2 ** ((flags & 0x07) + 1)) if flags & 0x80 else 0


@dataclass
class _GifWalk:
    data: bytes
    out: Extraction
    limits: Limits
    sub_blocks: int = 0
    trailer_search: tuple[int, int] = (-1, -1)  # (searched from, found at): no search yet

    def walk(self) -> None:
        data = self.data
        if len(data) < 13:
            raise Truncated("the file ends inside the logical screen descriptor")
        pos = 13 + _color_table_size(data[10])
        after_image = False
        blocks = 0
        while True:
            if pos >= len(data):
                raise Truncated("the file ends before the trailer")
            blocks += 1
            if blocks > self.limits.max_structures:
                raise LimitExceeded(f"more than {self.limits.max_structures} GIF blocks")
            introducer = data[pos]
            if introducer == _TRAILER:
                return
            variants: tuple[Variant, ...] = ("after_media_data",) if after_image else ()
            if introducer == _IMAGE:
                if pos + 10 > len(data):
                    raise Truncated("the file ends inside an image descriptor")
                pos += 10 + _color_table_size(data[pos + 9]) + 1  # descriptor, local table, LZW code size
                pos = self.skip_sub_blocks(pos)
                after_image = True
            elif introducer == _EXTENSION:
                if pos + 2 > len(data):
                    raise Truncated("the file ends inside an extension introducer")
                pos = self.extension(pos + 2, data[pos + 1], variants)
            else:
                self.out.problem("corrupt", f"unknown block 0x{introducer:02X} at offset {pos}", "gif")
                return

    def extension(self, pos: int, label: int, variants: tuple[Variant, ...]) -> int:
        """Reads the extension whose sub-blocks start at ``pos``; returns the offset after it."""
        data, out, limits = self.data, self.out, self.limits
        if label == _APPLICATION:
            if pos + 12 > len(data) or data[pos] != 11:
                return self.skip_sub_blocks(pos)  # not a well-formed application header: skip it
            identifier = data[pos + 1 : pos + 12]
            where = f"gif:{identifier[:8].decode('latin-1').strip()}"  # without the authentication code
            body = pos + 12
            if identifier == XMP_APPLICATION:
                return self.xmp(body, variants)
            if identifier.startswith(C2PA_APPLICATION):
                out.c2pa_locations.append(where)
                return self.skip_sub_blocks(body)
            if is_aigc_key(identifier[:8].decode("latin-1")):
                value, end = self.join_sub_blocks(body, where)
                if value is not None:
                    extra = (*variants, "nonstandard_location")
                    out.add_label(parse_aigc_text(decode_text(value), where, variants=extra), limits)
                return end
            return self.skip_sub_blocks(body)
        if label == _COMMENT:
            where = "gif:comment"
            value, end = self.join_sub_blocks(pos, where)
            if value is not None and (b"AIGC" in value or b"ContentProducer" in value):
                found = find_aigc_json(decode_text(value))
                if found is not None:
                    extra = (*variants, "nonstandard_location")
                    out.add_label(parse_aigc_text(found, where, variants=extra), limits)
            return end
        return self.skip_sub_blocks(pos)  # graphic control, plain text

    def xmp(self, pos: int, variants: tuple[Variant, ...]) -> int:
        """The XMP packet from ``pos`` to the magic trailer; sub-blocks if a writer used them instead."""
        where = "gif:XMP"
        trailer = self.trailer_after(pos)
        if 0 <= trailer - pos <= self.limits.max_field_bytes:
            read_xmp(self.data[pos:trailer], where, self.out, self.limits, variants=variants)
            return trailer + len(MAGIC_TRAILER)
        # No trailer within the field limit: an over-long packet, or XMP written as ordinary sub-blocks.
        value, end = self.join_sub_blocks(pos, where)
        if value is not None:
            ramp = value.find(MAGIC_TRAILER[:4])
            read_xmp(value[:ramp] if ramp >= 0 else value, where, self.out, self.limits, variants=variants)
        return end

    def trailer_after(self, pos: int) -> int:
        """The offset of the first magic trailer at or after ``pos``, -1 if none; each byte is searched
        once, however many XMP extensions a hostile file repeats."""
        searched_from, found = self.trailer_search
        if not (0 <= searched_from <= pos and (found < 0 or found >= pos)):
            found = self.data.find(MAGIC_TRAILER, pos)
            self.trailer_search = (pos, found)
        return found

    def count_sub_block(self) -> None:
        # Encoders write 255-byte sub-blocks; a file of 1-byte ones would make a 64 MB walk take seconds.
        self.sub_blocks += 1
        if self.sub_blocks > self.limits.max_structures * _SUB_BLOCKS_PER_STRUCTURE:
            raise LimitExceeded(f"more than {self.sub_blocks - 1} GIF data sub-blocks")

    def skip_sub_blocks(self, pos: int) -> int:
        """The offset after the block terminator of the sub-blocks starting at ``pos``."""
        data = self.data
        while True:
            if pos >= len(data):
                raise Truncated("the file ends inside data sub-blocks")
            size = data[pos]
            pos += 1 + size
            if size == 0:
                return pos
            self.count_sub_block()

    def join_sub_blocks(self, pos: int, where: str) -> tuple[bytes | None, int]:
        """The data of the sub-blocks at ``pos`` joined, or None past ``limits.max_field_bytes``."""
        data = self.data
        parts: list[bytes] = []
        total = 0
        while True:
            if pos >= len(data):
                raise Truncated("the file ends inside data sub-blocks")
            size = data[pos]
            if size == 0:
                return b"".join(parts), pos + 1
            if pos + 1 + size > len(data):
                raise Truncated("the file ends inside a data sub-block")
            self.count_sub_block()
            total += size
            if total > self.limits.max_field_bytes:
                limit = self.limits.max_field_bytes
                self.out.problem("limit_exceeded", f"block data past {limit} bytes; not read", where)
                return None, self.skip_sub_blocks(pos)
            parts.append(data[pos + 1 : pos + 1 + size])
            pos += 1 + size


SPEC = register(ReaderSpec(format="gif", mime_types=("image/gif",), sniff=_sniff, read=read))
