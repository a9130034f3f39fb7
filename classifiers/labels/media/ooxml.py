"""Reads Office Open XML documents (DOCX, XLSX, PPTX) for the AIGC label.

TC260-PG-20258A via implementers (labels.md §4.3): the label is a custom document property whose name
is ``AIGC``, stored in ``docProps/custom.xml`` as ``<property name="AIGC"><vt:lpwstr>{json}</vt:lpwstr>``.
Only that part is read. A DOCX is a zip archive a sender controls, so the central directory is counted
before ``zipfile`` reads it, the part's declared size is checked before it is inflated and the inflating
is bounded (zip bombs), and the XML may not declare a DOCTYPE or entities. A C2PA manifest store is the
part ``META-INF/content_credential.c2pa`` (C2PA 2.x, embedding in ZIP-based formats); its presence is
reported, reading it is :mod:`c2pa_manifest`'s job. This module must not read the document body or
judge the label.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Final
from xml.parsers import expat

from classifiers.labels.media.base import (
    Extraction,
    LimitExceeded,
    Limits,
    is_aigc_key,
    parse_aigc_text,
)
from classifiers.labels.media.registry import ReaderSpec, register

CUSTOM_PROPERTIES: Final = "docProps/custom.xml"
C2PA_PART: Final = "META-INF/content_credential.c2pa"
_WHERE: Final = "ooxml:docProps/custom.xml"
_END_OF_DIRECTORY: Final = b"PK\x05\x06"
_ZIP64_LOCATOR: Final = b"PK\x06\x07"
_ZIP64_END: Final = b"PK\x06\x06"
_DIRECTORY_ENTRY: Final = b"PK\x01\x02"
_MAX_COMMENT: Final = 0xFFFF
_READ_CHUNK: Final = 64 * 1024


class _Refused(Exception):
    """The XML declares a DTD or entities, or nests too deeply."""


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    """The AIGC records among the custom properties of an OOXML package."""
    if not _directory_within_limits(data, out, limits):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if C2PA_PART in archive.NameToInfo:
                out.c2pa_locations.append(f"ooxml:{C2PA_PART}")
            xml = _read_part(archive, out, limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error) as exc:
        out.problem("corrupt", f"the zip archive is damaged: {type(exc).__name__}: {exc}", "ooxml")
        return
    except (NotImplementedError, RuntimeError) as exc:  # unknown compression method, encryption
        out.problem("corrupt", f"{CUSTOM_PROPERTIES} cannot be read: {exc}", _WHERE)
        return
    if xml is not None:
        _read_custom_properties(xml, out, limits)


def _directory_within_limits(data: bytes, out: Extraction, limits: Limits) -> bool:
    """Counts the central directory entries (bounded) before zipfile parses every one of them."""
    search_from = max(0, len(data) - 22 - _MAX_COMMENT)
    end = data.rfind(_END_OF_DIRECTORY, search_from)
    if end < 0 or len(data) - end < 22:
        out.problem("corrupt", "no zip end-of-central-directory record", "ooxml")
        return False
    size, offset = struct.unpack_from("<II", data, end + 12)
    start = end - size
    locator = end - 20
    if locator >= 0 and data[locator : locator + 4] == _ZIP64_LOCATOR:
        zip64_end = int.from_bytes(data[locator + 8 : locator + 16], "little")
        if data[zip64_end : zip64_end + 4] == _ZIP64_END and zip64_end + 56 <= len(data):
            size = int.from_bytes(data[zip64_end + 40 : zip64_end + 48], "little")
            start = zip64_end - size
    if size > len(data) or start < 0:
        out.problem("corrupt", f"the central directory declares {size} bytes at offset {offset}", "ooxml")
        return False
    position, entries = start, 0
    while position < start + size:
        if data[position : position + 4] != _DIRECTORY_ENTRY or position + 46 > len(data):
            out.problem("corrupt", f"no central directory entry at offset {position}", "ooxml")
            return False
        entries += 1
        if entries > limits.max_structures:
            raise LimitExceeded(f"more than {limits.max_structures} zip entries")
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        position += 46 + name_length + extra_length + comment_length
    return True


def _read_part(archive: zipfile.ZipFile, out: Extraction, limits: Limits) -> bytes | None:
    try:
        info = archive.getinfo(CUSTOM_PROPERTIES)
    except KeyError:
        return None  # no custom properties: no label
    if info.file_size > limits.max_inflated_bytes:
        out.problem("limit_exceeded", f"{CUSTOM_PROPERTIES} declares {info.file_size} bytes", _WHERE)
        return None
    if info.flag_bits & 0x1:
        out.problem("corrupt", f"{CUSTOM_PROPERTIES} is encrypted", _WHERE)
        return None
    chunks: list[bytes] = []
    total = 0
    # zipfile stops at the declared size and inflates in bounded steps; the loop bounds it once more.
    with archive.open(info) as part:
        while chunk := part.read(_READ_CHUNK):
            total += len(chunk)
            if total > limits.max_inflated_bytes:
                out.problem("limit_exceeded", f"{CUSTOM_PROPERTIES} inflates past the limit", _WHERE)
                return None
            chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class _Properties:
    """Expat callbacks collecting the text of every custom property whose name contains AIGC."""

    limits: Limits
    depth: int = 0
    elements: int = 0
    property_depth: int = 0  # the depth of the open AIGC property, 0 when none is open
    name: str = ""
    text: list[str] = field(default_factory=list)
    text_length: int = 0
    found: list[tuple[str, str]] = field(default_factory=list)
    overlong: list[str] = field(default_factory=list)

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > self.limits.max_depth or self.elements > self.limits.max_structures:
            raise _Refused("the XML nests too deeply or has too many elements")
        if tag.rpartition(" ")[2] == "property" and not self.property_depth:
            name = attributes.get("name", "")
            if is_aigc_key(name):
                self.property_depth, self.name = self.depth, name
                self.text, self.text_length = [], 0

    def end(self, tag: str) -> None:
        if self.property_depth and self.depth == self.property_depth:
            if self.text_length > self.limits.max_field_bytes:
                self.overlong.append(self.name)
            else:
                self.found.append((self.name, "".join(self.text)))
            self.property_depth = 0
        self.depth -= 1

    def characters(self, text: str) -> None:
        # The value is the text of the vt: element inside the property (lpwstr, lpstr, bstr, ...).
        if self.property_depth and self.depth > self.property_depth:
            self.text_length += len(text)
            if self.text_length <= self.limits.max_field_bytes:
                self.text.append(text)


def _refuse(*_: object) -> None:
    raise _Refused("DOCTYPE or ENTITY declaration refused")


def _read_custom_properties(xml: bytes, out: Extraction, limits: Limits) -> None:
    properties = _Properties(limits)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.StartElementHandler = properties.start
    parser.EndElementHandler = properties.end
    parser.CharacterDataHandler = properties.characters
    try:
        parser.Parse(xml, True)
    except _Refused as exc:
        out.problem("corrupt", str(exc), _WHERE)
    except expat.ExpatError as exc:
        out.problem("corrupt", f"{CUSTOM_PROPERTIES} is not well-formed XML: {exc}", _WHERE)
    for name in properties.overlong:
        out.problem(
            "limit_exceeded", "an AIGC property value over the field limit skipped", f"{_WHERE}:{name}"
        )
    for name, text in properties.found:
        if text.strip():
            out.add_label(parse_aigc_text(text, f"{_WHERE}:{name}"), limits)


def _sniff(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    # [Content_Types].xml marks an OPC package; its name is in the first local header or the directory.
    marker = b"[Content_Types].xml"
    return marker in data[:4096] or marker in data[-(22 + _MAX_COMMENT + 65536) :]


SPEC = register(
    ReaderSpec(
        format="ooxml",
        mime_types=(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
            "application/vnd.openxmlformats-officedocument.presentationml.template",
            "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
            "application/vnd.ms-word.document.macroenabled.12",
            "application/vnd.ms-excel.sheet.macroenabled.12",
            "application/vnd.ms-powerpoint.presentation.macroenabled.12",
        ),
        sniff=_sniff,
        read=read,
    )
)
