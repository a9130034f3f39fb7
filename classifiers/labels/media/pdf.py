"""Reads PDF files for the AIGC label in the document information dictionary.

TC260-PG-20258A via implementers (labels.md §4.3): a PDF carries the label as the Info dictionary entry
``/AIGC`` whose string value is the JSON (a literal string with escapes, or a hex string, possibly
UTF-16BE with a byte order mark). The Info dictionary is found the way a PDF reader finds it: through
the ``/Info`` reference of the trailer (classic ``trailer`` dictionaries and ``/Type /XRef`` stream
dictionaries), then the object ``N G obj`` it names, or the object inside a compressed object stream.
An incrementally updated file has a trailer per revision: the latest one that names an Info dictionary
is the document's; an earlier Info dictionary whose label was removed or whose production elements were
changed by a later revision is reported as a problem (Deep Synthesis Provisions Art. 18; a propagator
adding its own elements is not); a label that the original revision (up to its ``%%EOF``) did not carry
and an appended revision added is reported as ``after_media_data``, as PNG, WAV and MP4 report a label
behind their media data. The catalog's ``/Metadata`` stream is an XMP packet and is read by
:mod:`xmp` (``TC260:AIGC``, IPTC DigitalSourceType). A C2PA manifest store is an embedded file that the
catalog's ``/AF`` array names with ``/AFRelationship /C2PA_Manifest`` (C2PA 2.x, embedding in PDF);
its presence is reported, reading it is :mod:`c2pa_manifest`'s job. All scanning is by plain
substring search and a small hand-written tokenizer with bounded depth and size. This module must not
render the document, decrypt it, or judge the label.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Final, NamedTuple

from classifiers.labels.media.base import (
    Extraction,
    FoundLabel,
    LimitExceeded,
    Limits,
    ProblemCode,
    Variant,
    is_aigc_key,
    parse_aigc_text,
)
from classifiers.labels.media.registry import ReaderSpec, register
from classifiers.labels.media.xmp import read_xmp

_WHITESPACE: Final = b"\x00\t\n\x0c\r "
_DELIMITERS: Final = b"()<>[]{}/%"
_WINDOW: Final = 4096  # how far before "/XRef" or "/ObjStm" the "N G obj" header is looked for
_ESCAPES: Final = {
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("("): b"(",
    ord(")"): b")",
    ord("\\"): b"\\",
}
# Whitespace and "%" comments; possessive quantifiers never backtrack, so matching is linear.
_SPACE: Final = re.compile(rb"(?:[\x00\t\n\x0c\r ]++|%[^\r\n]*+)*+")
_LITERAL_SPECIAL: Final = re.compile(rb"[()\\\r]")
# GB 45438-2025 Annex E c-f: the elements the producer writes; a propagator may only add its own.
_PRODUCTION: Final = ("Label", "ContentProducer", "ProduceID", "ReservedCode1")
_NUMBER: Final = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_EOF: Final = b"%%EOF"
C2PA_RELATIONSHIP: Final = "C2PA_Manifest"
C2PA_SUBTYPE: Final = "application/c2pa"
# The relationship written directly (possibly with #xx escapes: a name is compared after decoding).
_C2PA_RELATIONSHIP_BYTES: Final = re.compile(rb"/AFRelationship[\x00\t\n\x0c\r ]*+/C2PA_Manifest\b")


class Ref(NamedTuple):
    """An indirect reference ``N G R``."""

    number: int
    generation: int


class Name(str):
    """A PDF name (``/Info``), kept apart from text strings, which are ``bytes``."""


class Keyword(str):
    """A bare keyword (``obj``, ``stream``, ``endobj``)."""


PdfValue = int | float | bool | None | bytes | Name | Keyword | Ref | list["PdfValue"] | dict[str, "PdfValue"]


class Malformed(Exception):
    """The bytes are not the PDF object the reader expected."""


@dataclass(frozen=True, slots=True)
class PdfDictionary:
    """A parsed dictionary: its entries in order (duplicates kept) and where it ends."""

    entries: tuple[tuple[str, PdfValue], ...]
    end: int

    def get(self, key: str) -> PdfValue:
        return next((value for name, value in self.entries if name == key), None)


class Tokenizer:
    """Parses PDF objects from ``data`` with bounded nesting, size and count."""

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.data = data
        self.limits = limits
        self.tokens = 0

    def skip_space(self, position: int) -> int:
        """The offset after any whitespace and comments at ``position``."""
        match = _SPACE.match(self.data, max(position, 0))
        return match.end() if match else position

    def dictionary_at(self, position: int) -> PdfDictionary:
        position = self.skip_space(position)
        if not self.data.startswith(b"<<", position):
            raise Malformed(f"no dictionary at offset {position}")
        entries, end = self._dictionary(position + 2, 0)
        return PdfDictionary(tuple(entries), end)

    def value_at(self, position: int, depth: int = 0) -> tuple[PdfValue, int]:
        """The object at ``position`` and the offset after it; ``N G R`` becomes a :class:`Ref`."""
        self.tokens += 1
        if self.tokens > self.limits.max_structures * 10:
            raise LimitExceeded("too many PDF tokens")
        if depth > self.limits.max_depth:
            raise LimitExceeded(f"PDF objects nested deeper than {self.limits.max_depth}")
        data = self.data
        position = self.skip_space(position)
        if position >= len(data):
            raise Malformed("the file ends inside an object")
        byte = data[position]
        if data.startswith(b"<<", position):
            entries, end = self._dictionary(position + 2, depth + 1)
            return dict(entries), end
        if byte == 0x3C:  # "<"
            return self._hex_string(position + 1)
        if byte == 0x28:  # "("
            return self._literal_string(position + 1)
        if byte == 0x2F:  # "/"
            return self._name(position + 1)
        if byte == 0x5B:  # "["
            return self._array(position + 1, depth + 1)
        number = _NUMBER.match(data, position, min(len(data), position + 64))
        if number:
            return self._number_or_ref(number.group(), number.end())
        word_end = self._regular_end(position)
        if word_end == position:
            raise Malformed(f"unexpected byte {bytes([byte])!r} at offset {position}")
        word = data[position:word_end].decode("latin-1")
        constants: dict[str, PdfValue] = {"true": True, "false": False, "null": None}
        return (constants[word] if word in constants else Keyword(word)), word_end

    def _regular_end(self, position: int) -> int:
        data = self.data
        limit = min(len(data), position + 256)
        while position < limit and data[position] not in _WHITESPACE and data[position] not in _DELIMITERS:
            position += 1
        return position

    def _number_or_ref(self, text: bytes, end: int) -> tuple[PdfValue, int]:
        if b"." in text:
            return float(text), end
        value = int(text)
        # "N G R": two non-negative integers and the keyword R.
        after = self.skip_space(end)
        generation = _NUMBER.match(self.data, after, min(len(self.data), after + 16))
        if value >= 0 and generation and generation.group().isdigit():
            keyword_at = self.skip_space(generation.end())
            if self.data.startswith(b"R", keyword_at) and self._regular_end(keyword_at) == keyword_at + 1:
                return Ref(value, int(generation.group())), keyword_at + 1
        return value, end

    def _dictionary(self, position: int, depth: int) -> tuple[list[tuple[str, PdfValue]], int]:
        entries: list[tuple[str, PdfValue]] = []
        while True:
            position = self.skip_space(position)
            if self.data.startswith(b">>", position):
                return entries, position + 2
            key, position = self.value_at(position, depth)
            if not isinstance(key, Name):
                raise Malformed(f"dictionary key {key!r} is not a name")
            value, position = self.value_at(position, depth)
            entries.append((str(key), value))
            if len(entries) > self.limits.max_structures:
                raise LimitExceeded("a PDF dictionary with too many entries")

    def _array(self, position: int, depth: int) -> tuple[PdfValue, int]:
        items: list[PdfValue] = []
        while True:
            position = self.skip_space(position)
            if self.data.startswith(b"]", position):
                return items, position + 1
            item, position = self.value_at(position, depth)
            items.append(item)

    def _name(self, position: int) -> tuple[PdfValue, int]:
        end = self._regular_end(position)
        raw = self.data[position:end]
        # "#xx" escapes a byte in a name (PDF 1.2+).
        name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
        return Name(name.decode("latin-1")), end

    def _hex_string(self, position: int) -> tuple[PdfValue, int]:
        end = self.data.find(b">", position, position + 2 * self.limits.max_field_bytes + 1024)
        if end < 0:
            raise Malformed("unterminated or over-long hex string")
        digits = self.data[position:end].translate(None, _WHITESPACE)
        if digits.strip(b"0123456789abcdefABCDEF"):
            raise Malformed("a hex string with a non-hex character")
        if len(digits) % 2:
            digits += b"0"  # PDF 32000-1 7.3.4.3: a missing final digit is 0
        return bytes.fromhex(digits.decode("ascii")), end + 1

    def _literal_string(self, position: int) -> tuple[PdfValue, int]:
        """``(...)``: balanced parentheses, backslash escapes, end-of-line normalised to LF."""
        data = self.data
        out = bytearray()
        nesting = 1
        while True:
            special = _LITERAL_SPECIAL.search(data, position)
            if special is None:
                raise Malformed("unterminated literal string")
            out += data[position : special.start()]
            if len(out) > self.limits.max_field_bytes:
                raise LimitExceeded("a PDF string over the field limit")
            byte = data[special.start()]
            position = special.end()
            if byte == 0x5C:  # backslash
                position = self._escape(position, out)
            elif byte == 0x28:  # "("
                nesting += 1
                out.append(byte)
            elif byte == 0x29:  # ")"
                nesting -= 1
                if nesting == 0:
                    return bytes(out), position
                out.append(byte)
            else:  # CR or CR LF -> LF
                if data[position : position + 1] == b"\n":
                    position += 1
                out.append(0x0A)

    def _escape(self, position: int, out: bytearray) -> int:
        data = self.data
        if position >= len(data):
            raise Malformed("unterminated literal string")
        byte = data[position]
        if byte in _ESCAPES:
            out += _ESCAPES[byte]
            return position + 1
        if 0x30 <= byte <= 0x37:  # up to three octal digits
            end = position
            while end < min(len(data), position + 3) and 0x30 <= data[end] <= 0x37:
                end += 1
            out.append(int(data[position:end], 8) & 0xFF)
            return end
        if byte == 0x0D:  # backslash + end of line: the line continues
            return position + 2 if data[position + 1 : position + 2] == b"\n" else position + 1
        if byte == 0x0A:
            return position + 1
        out.append(byte)  # an unknown escape: the backslash is ignored
        return position + 1


@dataclass
class _Document:
    data: bytes
    out: Extraction
    limits: Limits
    tokenizer: Tokenizer
    inflated: int = 0  # bytes inflated from object streams so far (budget over the whole file)


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    """The AIGC entries of the document's Info dictionary (the latest revision's) and XMP metadata."""
    variants: tuple[Variant, ...] = ()
    original_end = _original_revision_end(data)
    if original_end is not None:
        # The original revision is a PDF of its own: read it alone to see whether it was labelled.
        prefix = data[:original_end]
        original = Extraction(format="pdf")
        try:
            _read_document(_Document(prefix, original, limits, Tokenizer(prefix, limits)))
        except LimitExceeded:
            original.labels.append(FoundLabel("pdf", "", None))  # unknown: claim nothing about it
        if not original.labels:
            variants = ("after_media_data",)
    _read_document(_Document(data, out, limits, Tokenizer(data, limits)), variants)


def _original_revision_end(data: bytes) -> int | None:
    """Where the first revision ends when revisions were appended to it; None for a single revision.

    A linearized file has an ``%%EOF`` after its first-page section as well: its first revision ends
    at the second one.
    """
    first = data.find(_EOF, data.find(_EOF) + 1) if b"/Linearized" in data[:1024] else data.find(_EOF)
    if first < 0:
        return None
    end = first + len(_EOF)
    return end if data[end:].strip(_WHITESPACE) else None


def _read_document(doc: _Document, variants: tuple[Variant, ...] = ()) -> None:
    data, out = doc.data, doc.out
    trailers = _trailers(doc)
    if not trailers:
        # Every PDF ends with a trailer or a cross-reference stream; a cut file loses it first.
        code: ProblemCode = "corrupt" if b"%%EOF" in data[-1024:] else "truncated"
        out.problem(code, "no trailer or cross-reference stream: the Info dictionary cannot be found", "pdf")
        return
    if any(trailer.get("Encrypt") is not None for _, trailer in trailers):
        out.problem("unsupported", "an encrypted PDF: its Info strings cannot be read", "pdf:trailer")
        return
    _read_info(doc, trailers, variants)
    _read_catalog(doc, trailers, variants)


def _read_info(
    doc: _Document, trailers: list[tuple[int, PdfDictionary]], variants: tuple[Variant, ...]
) -> None:
    data, out, limits = doc.data, doc.out, doc.limits
    infos = [(position, trailer.get("Info")) for position, trailer in trailers if trailer.get("Info")]
    if not infos:
        return
    revisions: list[tuple[str, list[tuple[str, str]]]] = []
    for index, (position, reference) in enumerate(infos):
        # The latest revision sees every object in the file; an earlier one only those before its
        # trailer (falling back to the whole file: a linearized file's first trailer comes first).
        before = position if index < len(infos) - 1 else len(data)
        info = _resolve_dictionary(doc, reference, before=before)
        if info is None and before < len(data):
            info = _resolve_dictionary(doc, reference, before=len(data))
        where = (
            f"pdf:Info {reference.number} {reference.generation} R"
            if isinstance(reference, Ref)
            else "pdf:Info"
        )
        revisions.append((where, _aigc_entries(doc, info, where) if info is not None else []))
    _, current = revisions[-1]
    labels = [parse_aigc_text(text, f"pdf:Info:{key}", variants=variants) for key, text in current]
    for label in labels:
        out.add_label(label, limits)
    for earlier_where, earlier in revisions[:-1]:
        for key, text in earlier:
            if not _kept(parse_aigc_text(text, key), labels):
                out.problem(
                    "label_changed",
                    f"an earlier revision's Info ({earlier_where}) has {key} = {text[:120]!r}; an "
                    "incremental update changed its production elements or removed it",
                    f"pdf:Info:{key}",
                )


def _read_catalog(
    doc: _Document, trailers: list[tuple[int, PdfDictionary]], variants: tuple[Variant, ...]
) -> None:
    """The XMP packet of the catalog's ``/Metadata`` stream and the C2PA manifest in its ``/AF`` files."""
    root = next((trailer.get("Root") for _, trailer in reversed(trailers) if trailer.get("Root")), None)
    catalog = _resolve_dictionary(doc, root, before=len(doc.data)) if root is not None else None
    if catalog is not None:
        metadata = catalog.get("Metadata")
        stream = _stream_object(doc, metadata) if isinstance(metadata, Ref) else None
        packet = _stream_content(doc, stream, "pdf:Metadata") if stream is not None else None
        if packet is not None:
            read_xmp(packet, "pdf:Metadata:xmp", doc.out, doc.limits, variants=variants)
        files = catalog.get("AF")
        if isinstance(files, Ref):
            files = _resolve_value(doc, files)
        for index, reference in enumerate(files if isinstance(files, list) else []):
            if index >= doc.limits.max_structures:
                raise LimitExceeded("an /AF array with too many entries")
            spec = _resolve_dictionary(doc, reference, before=len(doc.data))
            if spec is None:
                continue
            relationship, subtype = spec.get("AFRelationship"), spec.get("Subtype")
            if relationship == C2PA_RELATIONSHIP or subtype == C2PA_SUBTYPE:
                name = f"{reference.number} {reference.generation} R" if isinstance(reference, Ref) else index
                doc.out.c2pa_locations.append(f"pdf:AF {name}:{C2PA_RELATIONSHIP}")
    if not doc.out.c2pa_locations and _C2PA_RELATIONSHIP_BYTES.search(doc.data):
        # A manifest file spec the catalog does not name (a damaged or hand-edited file): still seen.
        doc.out.c2pa_locations.append(f"pdf:{C2PA_RELATIONSHIP}")


def _stream_object(doc: _Document, ref: Ref) -> PdfDictionary | None:
    """The dictionary of stream object ``ref`` (streams are never inside object streams)."""
    start = _object_start(doc, ref, len(doc.data))
    if start is None:
        return None
    try:
        return doc.tokenizer.dictionary_at(start)
    except Malformed as exc:
        doc.out.problem("corrupt", f"stream object {ref.number} is unreadable: {exc}", "pdf:Metadata")
        return None


def _resolve_value(doc: _Document, ref: Ref) -> PdfValue:
    start = _object_start(doc, ref, len(doc.data))
    if start is None:
        return None
    try:
        return doc.tokenizer.value_at(start)[0]
    except Malformed:
        return None


def _kept(earlier: FoundLabel, current: list[FoundLabel]) -> bool:
    """Whether a later revision still carries ``earlier``'s production elements.

    A propagator that adds ContentPropagator/PropagateID by an incremental update does what the
    Labeling Measures ask; a changed Label, producer, ProduceID or ReservedCode1, or a removed label,
    is what Deep Synthesis Provisions Art. 18 forbids.
    """
    if earlier.record is None:
        return any(label.raw == earlier.raw for label in current)
    return any(
        label.record is not None and all(label.record.get(k) == earlier.record.get(k) for k in _PRODUCTION)
        for label in current
    )


def _trailers(doc: _Document) -> list[tuple[int, PdfDictionary]]:
    """Every trailer dictionary (classic and cross-reference stream) in file order."""
    found: dict[int, PdfDictionary] = {}
    for position in _occurrences(doc, b"trailer"):
        start = doc.tokenizer.skip_space(position + len(b"trailer"))
        if not doc.data.startswith(b"<<", start):
            continue  # the word in some text, not the keyword
        try:
            found[position] = doc.tokenizer.dictionary_at(start)
        except Malformed:
            doc.out.problem("corrupt", f"an unreadable trailer at offset {position}", "pdf:trailer")
    for position in _occurrences(doc, b"/XRef"):
        stream = _enclosing_object_dictionary(doc, position)
        if stream is not None and stream[1].get("Type") == "XRef":
            found[stream[0]] = stream[1]
    return sorted(found.items())


def _occurrences(doc: _Document, needle: bytes) -> list[int]:
    positions: list[int] = []
    position = doc.data.find(needle)
    while position >= 0:
        positions.append(position)
        if len(positions) > doc.limits.max_structures:
            raise LimitExceeded(f"more than {doc.limits.max_structures} occurrences of {needle!r}")
        position = doc.data.find(needle, position + len(needle))
    return positions


def _enclosing_object_dictionary(doc: _Document, position: int) -> tuple[int, PdfDictionary] | None:
    """The dictionary right after the ``obj`` keyword before ``position``, if it spans ``position``."""
    header = doc.data.rfind(b"obj", max(0, position - _WINDOW), position)
    if header < 0:
        return None
    try:
        dictionary = doc.tokenizer.dictionary_at(header + 3)
    except Malformed:
        return None
    return (header, dictionary) if dictionary.end > position else None


def _resolve_dictionary(doc: _Document, value: PdfValue, *, before: int) -> PdfDictionary | None:
    if isinstance(value, dict):  # a direct Info dictionary (not allowed, but seen)
        return PdfDictionary(tuple(value.items()), 0)
    if not isinstance(value, Ref):
        return None
    start = _object_start(doc, value, before)
    try:
        if start is not None:
            return doc.tokenizer.dictionary_at(start)
        return _dictionary_in_object_stream(doc, value.number, before)
    except Malformed as exc:
        doc.out.problem("corrupt", f"Info object {value.number} is unreadable: {exc}", "pdf:Info")
        return None


def _object_start(doc: _Document, ref: Ref, before: int) -> int | None:
    """The offset after the last ``N G obj`` header for ``ref`` before ``before``."""
    pattern = re.compile(
        rb"(?<![0-9])%d[\x00\t\n\x0c\r ]++%d[\x00\t\n\x0c\r ]++obj\b" % (ref.number, ref.generation)
    )
    start = None
    for count, match in enumerate(pattern.finditer(doc.data, 0, before)):
        if count > doc.limits.max_structures:
            raise LimitExceeded(f"object {ref.number} defined more than {doc.limits.max_structures} times")
        start = match.end()
    return start


def _dictionary_in_object_stream(doc: _Document, number: int, before: int) -> PdfDictionary | None:
    """Object ``number`` from the last object stream (``/Type /ObjStm``) before ``before`` holding it.

    The streams are tried from the last one back, so the latest definition is found first and the
    inflating stops there.
    """
    for position in reversed([p for p in _occurrences(doc, b"/ObjStm") if p < before]):
        stream = _enclosing_object_dictionary(doc, position)
        if stream is None or stream[1].get("Type") != "ObjStm":
            continue
        content = _stream_content(doc, stream[1])
        if content is not None:
            found = _object_in_stream(doc, content, stream[1], number)
            if found is not None:
                return found
    return None


def _stream_content(doc: _Document, dictionary: PdfDictionary, where: str = "pdf:ObjStm") -> bytes | None:
    """The decoded data of a stream whose dictionary ends at ``dictionary.end`` (FlateDecode or none)."""
    data = doc.data
    start = doc.tokenizer.skip_space(dictionary.end)
    if not data.startswith(b"stream", start):
        return None
    start += len(b"stream")
    start += 2 if data.startswith(b"\r\n", start) else 1
    length = dictionary.get("Length")
    if isinstance(length, Ref):
        length = _resolve_integer(doc, length)
    if not isinstance(length, int) or length < 0 or start + length > len(data):
        end = data.find(b"endstream", start)
        if end < 0:
            return None
        length = end - start
    raw = data[start : start + length]
    filters = dictionary.get("Filter")
    names = filters if isinstance(filters, list) else [filters] if filters is not None else []
    if not names:
        return raw
    if names != ["FlateDecode"] or dictionary.get("DecodeParms") is not None:
        doc.out.problem("corrupt", f"a stream with filters {names} not read", where)
        return None
    budget = 4 * doc.limits.max_inflated_bytes - doc.inflated
    if budget <= 0:
        raise LimitExceeded("PDF streams inflate past the limit")
    inflater = zlib.decompressobj()
    try:
        content = inflater.decompress(raw, min(budget, doc.limits.max_inflated_bytes))
    except zlib.error as exc:
        doc.out.problem("corrupt", f"a stream does not inflate: {exc}", where)
        return None
    doc.inflated += len(content)
    if inflater.unconsumed_tail:
        doc.out.problem("limit_exceeded", "a stream inflates past the limit", where)
        return None
    return content


def _resolve_integer(doc: _Document, ref: Ref) -> int | None:
    start = _object_start(doc, ref, len(doc.data))
    if start is None:
        return None
    try:
        value, _ = doc.tokenizer.value_at(start)
    except Malformed:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _object_in_stream(
    doc: _Document, content: bytes, stream: PdfDictionary, number: int
) -> PdfDictionary | None:
    count, first = stream.get("N"), stream.get("First")
    if not isinstance(count, int) or not isinstance(first, int) or not 0 <= first <= len(content):
        return None
    if count > doc.limits.max_structures:
        raise LimitExceeded(f"an object stream declares {count} objects")
    header = Tokenizer(content[:first], doc.limits)
    position = 0
    for _ in range(count):
        try:
            object_number, position = header.value_at(position)
            offset, position = header.value_at(position)
        except Malformed:
            return None
        if object_number == number and isinstance(offset, int) and offset >= 0:
            try:
                return Tokenizer(content, doc.limits).dictionary_at(first + offset)
            except Malformed:
                return None
    return None


def _aigc_entries(doc: _Document, info: PdfDictionary, where: str) -> list[tuple[str, str]]:
    """(key, text) for every Info entry whose key contains AIGC; an indirect string is followed once."""
    entries: list[tuple[str, str]] = []
    for key, value in info.entries:
        if not is_aigc_key(key):
            continue
        if isinstance(value, Ref):
            start = _object_start(doc, value, len(doc.data))
            try:
                value = doc.tokenizer.value_at(start)[0] if start is not None else None
            except Malformed:
                value = None
        if isinstance(value, bytes):
            entries.append((key, pdf_text(value)))
        else:
            doc.out.problem("unparseable_label", f"/{key} is not a string", f"{where}:{key}")
    return entries


def pdf_text(value: bytes) -> str:
    """A PDF text string: UTF-16 with a byte order mark, UTF-8 with one (PDF 2.0), else PDFDocEncoding."""
    if value.startswith(b"\xfe\xff"):
        return value[2:].decode("utf-16-be", errors="replace")
    if value.startswith(b"\xff\xfe"):
        return value[2:].decode("utf-16-le", errors="replace")
    if value.startswith(b"\xef\xbb\xbf"):
        return value[3:].decode("utf-8", errors="replace")
    try:
        return value.decode("utf-8")  # writers that skip the encoding rules write UTF-8 bare
    except UnicodeDecodeError:
        return value.decode("latin-1")  # PDFDocEncoding agrees with Latin-1 on printable text


def _sniff(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


SPEC = register(
    ReaderSpec(format="pdf", mime_types=("application/pdf", "application/x-pdf"), sniff=_sniff, read=read)
)
