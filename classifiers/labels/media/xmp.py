"""Reads an XMP packet (whatever container carried it) for the GB 45438 label and IPTC source types.

GB 45438 places the label in the property ``TC260:AIGC`` of namespace
``http://www.tc260.org.cn/ns/AIGC/1.0/`` as bare JSON text (labels.md §4.3); PicWish writes it as an
attribute, Doubao HTML-escapes it. IPTC's ``Iptc4xmpExt:DigitalSourceType`` says how the media was made
(labels.md §5.5). This module must not judge the label, and must not resolve entities or DTDs: a packet
with a DOCTYPE is refused, and depth and size are bounded.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Final

from classifiers.labels.media.base import (
    Extraction,
    Limits,
    SourceTypeClaim,
    Variant,
    decode_text,
    is_aigc_key,
    parse_aigc_text,
)

TC260_NS: Final = "http://www.tc260.org.cn/ns/AIGC/1.0/"
IPTC_EXT_NS: Final = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
RDF_NS: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_MAX_XMP_DEPTH: Final = 64

_START: Final = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:xmpmeta|RDF)\b")
# Fallback for packets that are not well-formed XML: the element and attribute forms of TC260:AIGC.
_LOOSE_ELEMENT: Final = re.compile(r"<([\w.-]+:)?AIGC\b[^>]*>(.*?)</(?:[\w.-]+:)?AIGC\s*>", re.S)
_LOOSE_ATTRIBUTE: Final = re.compile(r"\b([\w.-]+:)?AIGC\s*=\s*(\"([^\"]*)\"|'([^']*)')", re.S)


def _split(tag: str) -> tuple[str, str]:
    """'{uri}local' -> (uri, local)."""
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return "", tag


def read_xmp(
    packet: bytes, location: str, out: Extraction, limits: Limits, *, variants: tuple[Variant, ...] = ()
) -> None:
    """Adds the AIGC records and IPTC source types in ``packet`` to ``out``; ``location``: its carrier."""
    if len(packet) > limits.max_field_bytes:
        out.problem("limit_exceeded", f"XMP packet of {len(packet)} bytes; the first part read", location)
        packet = packet[: limits.max_field_bytes]
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        # XMP never needs a DTD; one can only be there to expand entities.
        out.problem("corrupt", "XMP packet with a DOCTYPE or ENTITY declaration refused", location)
        return
    start = _START.search(packet)
    body = packet[start.start() :] if start else packet
    for end_tag in (b"</x:xmpmeta>", b"</rdf:RDF>"):
        end = body.rfind(end_tag)
        if end >= 0:
            body = body[: end + len(end_tag)]
            break
    # typeshed's XMLPullParser event types are too narrow to unpack; the events are (name, Element).
    parser: Any = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    try:
        parser.feed(body)
        parser.close()
        elements: list[ET.Element] = []
        for event, element in parser.read_events():
            if event == "start":
                depth += 1
                if depth > _MAX_XMP_DEPTH:
                    out.problem("limit_exceeded", f"XMP nested deeper than {_MAX_XMP_DEPTH}", location)
                    return
            else:
                depth -= 1
                elements.append(element)
                if len(elements) > limits.max_structures:
                    out.problem("limit_exceeded", "too many XMP elements", location)
                    return
    except ET.ParseError as exc:
        out.problem("corrupt", f"XMP is not well-formed XML ({exc}); read loosely", location)
        _read_loosely(decode_text(body), location, out, limits, variants)
        return
    for element in elements:
        uri, local = _split(element.tag)
        where = f"{location}:{_prefix(uri)}{local}"
        if is_aigc_key(local):
            text = "".join(element.itertext()).strip()
            if text:
                extra: tuple[Variant, ...] = () if uri == TC260_NS else ("nonstandard_location",)
                if b"&quot;" in body and '"' in text:
                    extra = (*extra, "html_escaped")  # Doubao writes the JSON's quotes as entities
                out.add_label(parse_aigc_text(text, where, variants=(*variants, *extra)), limits)
        if uri == IPTC_EXT_NS and local == "DigitalSourceType":
            value = (element.text or "").strip() or element.attrib.get(f"{{{RDF_NS}}}resource", "")
            if value:
                out.source_types.append(SourceTypeClaim(where, value))
        for name, value in element.attrib.items():
            attr_uri, attr_local = _split(name)
            attr_where = f"{location}:{_prefix(attr_uri)}{attr_local}"
            if is_aigc_key(attr_local) and value.strip():
                extra = ("xmp_attribute",)
                if attr_uri != TC260_NS:
                    extra = ("xmp_attribute", "nonstandard_location")
                out.add_label(parse_aigc_text(value, attr_where, variants=(*variants, *extra)), limits)
            elif attr_uri == IPTC_EXT_NS and attr_local == "DigitalSourceType" and value.strip():
                out.source_types.append(SourceTypeClaim(attr_where, value.strip()))


def _prefix(uri: str) -> str:
    if uri == TC260_NS:
        return "TC260:"
    if uri == IPTC_EXT_NS:
        return "Iptc4xmpExt:"
    return ""


def _read_loosely(
    text: str, location: str, out: Extraction, limits: Limits, variants: tuple[Variant, ...]
) -> None:
    for match in _LOOSE_ELEMENT.finditer(text):
        out.add_label(parse_aigc_text(match.group(2), f"{location}:AIGC", variants=variants), limits)
    for match in _LOOSE_ATTRIBUTE.finditer(text):
        value = match.group(3) if match.group(3) is not None else match.group(4)
        out.add_label(
            parse_aigc_text(value, f"{location}:AIGC", variants=(*variants, "xmp_attribute")), limits
        )
