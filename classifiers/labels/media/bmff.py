"""Reads ISO base media files (MP4, MOV, M4A) for the AIGC label, XMP and the C2PA manifest store.

TC260-PG-20257A via implementers (labels.md §4.3): the label is the ``moov/udta/meta`` item keyed
``AIGC`` (QuickTime ``keys`` entry ``mdta`` + ``AIGC``, value in the matching ``ilst`` item's ``data``
atom), as ``ffmpeg -metadata AIGC=... -movflags use_metadata_tags`` writes it; mutagen writes it as an
iTunes freeform item (``----`` with ``mean``/``name``/``data``). XMP comes in a ``udta/XMP_`` box or the
XMP ``uuid`` box; the C2PA store in the ``uuid`` box d8fec3d6-... (labels.md §5.3). Boxes are skipped
by their declared size, never scanned. A label in a ``moov`` after the top-level ``mdat`` (the layout of
a file written without ``+faststart``, and where mutagen leaves it) is reported as ``after_media_data``,
as PNG, GIF and WAV report a label behind their media data (labels.md §4.6). A box of size 0 extends to
the end of its container (ISO/IEC 14496-12 4.2), which only the file's last box may do: one that is
not last would hide the boxes after it, so the reader looks for the next box header and reads on from
there, reporting the damage. This module must not parse sample data, the C2PA store, or judge the label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from classifiers.labels.media.base import (
    Extraction,
    LimitExceeded,
    Limits,
    Variant,
    decode_text,
    is_aigc_key,
    parse_aigc_text,
)
from classifiers.labels.media.registry import ReaderSpec, register
from classifiers.labels.media.xmp import read_xmp

C2PA_UUID: Final = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
XMP_UUID: Final = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
# Boxes whose children can hold metadata; everything else (mdat, mdia, stbl, ...) is skipped by its size.
_CONTAINERS: Final = frozenset({b"moov", b"trak", b"udta", b"meta"})
# ftyp brands of still-image files (HEIF, AVIF): an image reader's, not this one's.
_IMAGE_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis", b"avci"}
)
_FIRST_BOXES: Final = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
# Boxes a size-0 box can hide that the reader looks for after it (its own children look alike, so
# containers are walked instead, see ``_box_at``).
_RESYNC: Final = re.compile(rb"moov|mdat|free|skip|wide|udta|meta|trak|uuid|moof|mfra|XMP_|ilst|keys|hdlr")
_DATA_UTF16: Final = 2  # 'data' atom well-known type: UTF-16 big-endian (1 is UTF-8)


@dataclass(frozen=True, slots=True)
class _Box:
    kind: bytes
    start: int  # the first byte of the box
    body: int  # the first byte after the header (after the usertype of a uuid box)
    end: int  # one past the last byte, clipped to the enclosing box
    usertype: bytes = b""
    clipped: bool = False  # the declared size runs past the enclosing box or the file


@dataclass
class _Walk:
    limits: Limits
    out: Extraction
    boxes: int = 0
    after_mdat: bool = False  # a top-level mdat was passed

    @property
    def variants(self) -> tuple[Variant, ...]:
        return ("after_media_data",) if self.after_mdat else ()

    def count(self) -> None:
        self.boxes += 1
        if self.boxes > self.limits.max_structures:
            raise LimitExceeded(f"more than {self.limits.max_structures} boxes")


@dataclass
class _Item:
    """One ilst entry: its key (fourcc, keys index or freeform name) and its data atoms."""

    kind: bytes
    mean: str = ""
    name: str = ""
    values: list[str] = field(default_factory=list)


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    """Every AIGC record in moov's metadata, every XMP packet and C2PA uuid box of the file."""
    _walk(data, 0, len(data), "", 0, _Walk(limits, out))


def _walk(data: bytes, start: int, end: int, path: str, depth: int, walk: _Walk) -> None:
    if _too_deep(depth, path, walk):
        return
    position = start
    while position < end:
        box = _box_at(data, position, end, path, walk)
        if box is None:
            return
        walk.count()
        _visit(data, box, path, depth, walk)
        if box.kind == b"mdat" and not path:
            walk.after_mdat = True
        position = box.end


def _too_deep(depth: int, path: str, walk: _Walk) -> bool:
    if depth <= walk.limits.max_depth:
        return False
    walk.out.problem("limit_exceeded", f"boxes nested deeper than {walk.limits.max_depth}", f"mp4:{path}")
    return True


def _box_at(data: bytes, position: int, end: int, path: str, walk: _Walk) -> _Box | None:
    """The box header at ``position``; None (with a problem recorded) when it cannot be one."""
    out = walk.out
    where = f"mp4:{path or 'file'}"
    if end - position < 8:
        if data[position:end].strip(b"\x00"):
            out.problem("truncated", f"{end - position} bytes after the last box", where)
        return None
    size = int.from_bytes(data[position : position + 4], "big")
    kind = data[position + 4 : position + 8]
    header = 8
    if size == 1:  # 64-bit largesize follows the type
        if end - position < 16:
            out.problem("truncated", "the file ends inside a 64-bit box header", where)
            return None
        size = int.from_bytes(data[position + 8 : position + 16], "big")
        header = 16
    usertype = b""
    if kind == b"uuid":
        usertype = data[position + header : position + header + 16]
        header += 16
    if size == 0:  # the box extends to the end of its container (the end of the file at the top)
        size = _size_zero_end(data, position, header, end, kind, path, walk) - position
    if size < header:
        out.problem("corrupt", f"box {kind!r} declares {size} bytes, less than its header", where)
        return None
    box_end = position + size
    if box_end <= end:
        return _Box(kind, position, position + header, box_end, usertype)
    # The enclosing boxes of a cut box are cut too: one problem says it.
    if not any(problem.code == "truncated" for problem in out.problems):
        out.problem("truncated", f"box {_name(kind)} declares {size} bytes, {end - position} left", where)
    if position + header > end:
        return None
    return _Box(kind, position, position + header, end, usertype, clipped=True)


def _size_zero_end(
    data: bytes, position: int, header: int, end: int, kind: bytes, path: str, walk: _Walk
) -> int:
    """Where a size-0 box really ends. ISO/IEC 14496-12 4.2: size 0 means "to the end of the file" and
    only the last box may use it. A top-level mdat or container (moov) is taken at its word; inside a
    container a size-0 box is damage, and a box the reader does not walk (free, skip, a placeholder)
    ends at the next box header found after it, so that a label behind it is still read."""
    where = f"mp4:{path or 'file'}"
    if kind == b"mdat" and not path:
        return end
    if kind in _CONTAINERS:
        if path:
            walk.out.problem(
                "corrupt", f"box {_name(kind)} has size 0 inside {path}; read to the end of {path}", where
            )
        return end
    body = position + header
    for attempt, match in enumerate(_RESYNC.finditer(data, body + 4, end)):
        if attempt >= walk.limits.max_structures:
            raise LimitExceeded("too many candidate boxes after a size-0 box")
        candidate = match.start() - 4
        size = int.from_bytes(data[candidate : candidate + 4], "big")
        if 8 <= size <= end - candidate:
            walk.out.problem(
                "corrupt",
                f"box {_name(kind)} has size 0 but is not the last box; read on from the "
                f"{_name(match.group())} box at offset {candidate}",
                where,
            )
            return candidate
    if path:
        walk.out.problem("corrupt", f"box {_name(kind)} has size 0 inside {path}", where)
    return end


def _visit(data: bytes, box: _Box, path: str, depth: int, walk: _Walk) -> None:
    here = f"{path}/{_name(box.kind)}" if path else _name(box.kind)
    if box.kind == b"uuid":
        if box.usertype == C2PA_UUID:
            walk.out.c2pa_locations.append(f"mp4:{here}:c2pa")
        elif box.usertype == XMP_UUID:
            _read_xmp(data[box.body : box.end], f"mp4:{here}:xmp", walk)
    elif box.kind == b"XMP_" and path.endswith("udta"):
        _read_xmp(data[box.body : box.end], f"mp4:{here}", walk)
    elif box.kind == b"meta":
        _read_meta(data, box, here, depth, walk)
    elif box.kind in _CONTAINERS:
        _walk(data, box.body, box.end, here, depth + 1, walk)


def _read_xmp(packet: bytes, location: str, walk: _Walk) -> None:
    read_xmp(packet, location, walk.out, walk.limits, variants=walk.variants)


def _read_meta(data: bytes, box: _Box, here: str, depth: int, walk: _Walk) -> None:
    """A meta box: ISO's is a FullBox (4 bytes of version and flags first), QuickTime's is not."""
    if _too_deep(depth, here, walk):
        return
    body = box.body
    if not _starts_with_box(data, body, box.end):
        body += 4
    keys: list[str] = []
    items: list[_Item] = []
    position = body
    while position < box.end:
        child = _box_at(data, position, box.end, here, walk)
        if child is None:
            break
        walk.count()
        if child.kind == b"keys":
            keys = _read_keys(data, child, here, walk)
        elif child.kind == b"ilst":
            items = _read_ilst(data, child, f"{here}/ilst", walk)
        else:
            _visit(data, child, here, depth + 1, walk)
        position = child.end
    # labels.md §4.3 names moov/udta/meta; moov/meta is QuickTime's own place for the same items.
    extra: tuple[Variant, ...] = () if here in ("moov/udta/meta", "moov/meta") else ("nonstandard_location",)
    for item in items:
        key = _item_key(item, keys)
        if key is None or not is_aigc_key(key):
            continue
        for value in item.values:
            if value.strip():
                label = parse_aigc_text(value, f"mp4:{here}/ilst:{key}", variants=(*walk.variants, *extra))
                walk.out.add_label(label, walk.limits)


def _starts_with_box(data: bytes, position: int, end: int) -> bool:
    """Whether a child box header (size >= 8, printable type) starts right at ``position``."""
    if end - position < 8:
        return False
    size = int.from_bytes(data[position : position + 4], "big")
    kind = data[position + 4 : position + 8]
    return 8 <= size <= end - position and all(0x20 <= byte < 0x7F or byte == 0xA9 for byte in kind)


def _read_keys(data: bytes, box: _Box, here: str, walk: _Walk) -> list[str]:
    """QuickTime 'keys': version/flags, a count, then (size, namespace, name) entries, 1-based."""
    where = f"mp4:{here}/keys"
    if box.end - box.body < 8:
        walk.out.problem("corrupt", "keys box too short", where)
        return []
    count = int.from_bytes(data[box.body + 4 : box.body + 8], "big")
    if count > walk.limits.max_structures:
        raise LimitExceeded(f"keys box declares {count} entries")
    keys: list[str] = []
    position = box.body + 8
    for _ in range(count):
        if box.end - position < 8:
            walk.out.problem("truncated", f"keys box ends after {len(keys)} of {count} entries", where)
            break
        size = int.from_bytes(data[position : position + 4], "big")
        if size < 8 or position + size > box.end:
            walk.out.problem("corrupt", f"keys entry {len(keys) + 1} declares {size} bytes", where)
            break
        keys.append(decode_text(data[position + 8 : position + size]))
        position += size
    return keys


def _read_ilst(data: bytes, box: _Box, here: str, walk: _Walk) -> list[_Item]:
    items: list[_Item] = []
    position = box.body
    while position < box.end:
        entry = _box_at(data, position, box.end, here, walk)
        if entry is None:
            break
        walk.count()
        items.append(_read_item(data, entry, here, walk))
        position = entry.end
    return items


def _read_item(data: bytes, entry: _Box, here: str, walk: _Walk) -> _Item:
    item = _Item(entry.kind)
    position = entry.body
    while position < entry.end:
        atom = _box_at(data, position, entry.end, here, walk)
        if atom is None:
            break
        walk.count()
        # data: 4 bytes of type indicator and 4 of locale; mean and name: 4 bytes of version and flags.
        if atom.kind == b"data" and atom.end - atom.body >= 8 and not atom.clipped:
            value = data[atom.body + 8 : atom.end]
            if len(value) > walk.limits.max_field_bytes:
                walk.out.problem("limit_exceeded", f"an ilst value of {len(value)} bytes skipped", here)
            else:
                well_known = int.from_bytes(data[atom.body + 1 : atom.body + 4], "big")
                utf16 = well_known == _DATA_UTF16
                item.values.append(value.decode("utf-16-be", "replace") if utf16 else decode_text(value))
        elif atom.kind == b"mean":
            item.mean = decode_text(data[atom.body + 4 : atom.end])
        elif atom.kind == b"name":
            item.name = decode_text(data[atom.body + 4 : atom.end])
        position = atom.end
    return item


def _item_key(item: _Item, keys: list[str]) -> str | None:
    """The item's name: a keys entry (its type is a 1-based index), a freeform name, or its fourcc."""
    if item.kind == b"----":
        return f"----:{item.mean}:{item.name}" if item.name else None
    index = int.from_bytes(item.kind, "big")
    if keys and 1 <= index <= len(keys):
        return keys[index - 1]
    return item.kind.decode("latin-1")


def _name(kind: bytes) -> str:
    return kind.decode("latin-1")


def _sniff(data: bytes) -> bool:
    kind = data[4:8]
    if kind == b"ftyp":
        return data[8:12] not in _IMAGE_BRANDS
    # QuickTime files from before ftyp start with one of these; the size must be a plausible box.
    size = int.from_bytes(data[:4], "big")
    return kind in _FIRST_BOXES and (size in (0, 1) or size >= 8)


SPEC = register(
    ReaderSpec(
        format="mp4",
        mime_types=(
            "video/mp4",
            "video/quicktime",
            "audio/mp4",
            "audio/x-m4a",
            "audio/m4a",
            "video/x-m4v",
            "video/3gpp",
            "audio/3gpp",
        ),
        sniff=_sniff,
        read=read,
    )
)
