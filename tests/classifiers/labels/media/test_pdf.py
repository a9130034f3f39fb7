"""PDF reader: labels.md §4.3 (Info dictionary /AIGC), §4.6 (variants), incremental updates, hostile input.

Fixtures are written by pypdf (PdfWriter.add_metadata; incremental updates with
``PdfWriter(..., incremental=True)``). pypdf writes no object streams, so the compressed-Info case is an
incremental update appended to a pypdf file that moves pypdf's own Info object into an object stream;
pypdf's reader is asked to read every transformed file back, so the fixtures are valid PDF. XMP packets
go into the catalog's /Metadata stream through pypdf's ``PdfWriter.xmp_metadata``; C2PA manifests are
signed into pypdf files by c2pa-python's Builder with the test CA (tests/fixtures/c2pa.py).
"""

from __future__ import annotations

import io
import json
import struct
import time
import zlib
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from classifiers.labels.file_labels import check_file_labels
from classifiers.labels.media import pdf
from classifiers.labels.media.base import Extraction, Limits
from classifiers.labels.media.c2pa_manifest import read_c2pa
from classifiers.labels.media.registry import read_media, spec_for
from tests.fixtures.c2pa import IPTC, created_action, make_credentials, sign
from tests.fixtures.labels import build_event, codes, media_fields
from tests.fixtures.media import LABEL
from tests.fixtures.pdfs import update, write

WRAPPED = json.dumps({"AIGC": LABEL}, separators=(",", ":"))
WHERE = "pdf:Info:AIGC"


def pypdf_metadata(data: bytes) -> dict[str, Any]:
    metadata = PdfReader(io.BytesIO(data)).metadata
    return dict(metadata) if metadata is not None else {}


def _read(data: bytes, limits: Limits | None = None) -> Extraction:
    out = Extraction(format="pdf")
    pdf.read(data, out, limits or Limits())
    return out


def _summary(out: Extraction) -> list[tuple[str, Any, tuple[str, ...]]]:
    return [(label.location, label.record, label.variants) for label in out.labels]


@pytest.mark.parametrize("compress", [False, True])
def test_pypdf_info_entry(compress: bool) -> None:
    data = write({"/AIGC": WRAPPED}, compress=compress)
    out = read_media(data, "application/pdf")
    assert out.format == "pdf" and not out.problems
    assert _summary(out) == [(WHERE, LABEL, ("wrapped",))]


def test_escapes_utf16_and_numeric_label() -> None:
    """pypdf writes JSON quotes and braces as octal escapes and non-Latin text as UTF-16BE with a BOM."""
    record = {**LABEL, "Label": 1, "ContentProducer": "豆包(Doubao)", "ReservedCode1": "a\\b"}
    data = write({"/AIGC": json.dumps(record, ensure_ascii=False)})
    assert b"\\376\\377" in data  # the UTF-16BE byte order mark, escaped
    assert _summary(_read(data)) == [(WHERE, record, ("bare", "numeric_label"))]


def test_hex_string() -> None:
    """The literal string rewritten as a hex string (pypdf only writes literals; it reads both)."""
    data = write({"/AIGC": WRAPPED})
    start = data.index(b"/AIGC (") + len(b"/AIGC ")
    end = data.index(b")\n", start) + 1
    hexed = (
        data[:start] + b"<" + (b"\xfe\xff" + WRAPPED.encode("utf-16-be")).hex().encode() + b">" + data[end:]
    )
    assert pypdf_metadata(hexed)["/AIGC"] == WRAPPED
    assert _summary(_read(hexed)) == [(WHERE, LABEL, ("wrapped",))]


def test_two_aigc_entries_both_come_back() -> None:
    second = json.dumps({"AIGC": {**LABEL, "ProduceID": "hy-0002"}})
    out = _read(write({"/AIGC": WRAPPED, "/AIGC2": second}))
    assert [(label.location, label.record["ProduceID"]) for label in out.labels if label.record] == [
        (WHERE, "hy-0001"),
        ("pdf:Info:AIGC2", "hy-0002"),
    ]


def test_unlabelled() -> None:
    for data in (write(None), write({"/Title": WRAPPED})):
        out = read_media(data, "application/pdf")
        assert out.labels == [] and out.problems == []


def test_incremental_update_that_leaves_info_alone() -> None:
    data = update(write({"/AIGC": WRAPPED}))
    assert data.count(b"startxref") == 2
    out = _read(data)
    assert _summary(out) == [(WHERE, LABEL, ("wrapped",))] and not out.problems


def test_incremental_update_that_changes_the_label() -> None:
    """The latest revision is the document's label; the changed one is reported (Provisions Art. 18)."""
    changed = json.dumps({"AIGC": {**LABEL, "Label": "3"}})
    data = update(write({"/AIGC": WRAPPED}), {"/AIGC": changed})
    assert pypdf_metadata(data)["/AIGC"] == changed
    out = _read(data)
    assert [label.record["Label"] for label in out.labels if label.record] == ["3"]
    [problem] = out.problems
    assert problem.location == WHERE and "earlier revision" in problem.detail


def test_incremental_update_by_a_propagator_is_not_reported() -> None:
    """Labeling Measures: a propagator adds its own elements; the producer's stay as they were."""
    propagated = json.dumps(
        {"AIGC": {**LABEL, "ContentPropagator": "001191110102MACQD9K64010000", "PropagateID": "p-9"}}
    )
    data = update(write({"/AIGC": WRAPPED}), {"/AIGC": propagated})
    out = _read(data)
    assert [label.record["PropagateID"] for label in out.labels if label.record] == ["p-9"]
    assert out.problems == []


def test_incremental_update_that_removes_the_label() -> None:
    data = update(write({"/AIGC": WRAPPED}), {"/Producer": "editor"}, replace=True)
    assert "/AIGC" not in pypdf_metadata(data)
    out = _read(data)
    assert out.labels == []
    assert [problem.code for problem in out.problems] == ["label_changed"]


def _object_stream_update(data: bytes, info: bytes) -> bytes:
    """Appends an update whose Info (object 7) sits in a FlateDecode object stream (object 8),
    indexed by a cross-reference stream (object 9)."""
    previous = int(data.rsplit(b"startxref", 1)[1].split()[0])
    header = b"7 0 "
    compressed = zlib.compress(header + info)
    stream_at = len(data)
    stream = (
        b"8 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(header), len(compressed))
        + compressed
        + b"\nendstream\nendobj\n"
    )
    xref_at = stream_at + len(stream)
    rows = zlib.compress(
        struct.pack(">BIB", 2, 8, 0)
        + struct.pack(">BIB", 1, stream_at, 0)
        + struct.pack(">BIB", 1, xref_at, 0)
    )
    xref = (
        b"9 0 obj\n<< /Type /XRef /Size 10 /Index [ 7 3 ] /W [ 1 4 1 ] /Root 3 0 R /Info 7 0 R /Prev %d "
        b"/Filter /FlateDecode /Length %d >>\nstream\n"
        % (previous, len(rows))
        + rows
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    )
    return data + stream + xref


def _info_object(data: bytes) -> bytes:
    """pypdf's own serialisation of the Info dictionary (object 1)."""
    start = data.index(b"1 0 obj\n") + len(b"1 0 obj\n")
    return data[start : data.index(b"endobj", start)]


def test_info_in_a_compressed_object_stream() -> None:
    changed = json.dumps({"AIGC": {**LABEL, "ProduceID": "hy-objstm"}})
    info = _info_object(write({"/AIGC": changed}))
    data = _object_stream_update(write(None), info)
    assert b"hy-objstm" not in data  # only inside the compressed stream
    assert json.loads(pypdf_metadata(data)["/AIGC"])["AIGC"]["ProduceID"] == "hy-objstm"
    out = _read(data)
    assert [label.record for label in out.labels] == [{**LABEL, "ProduceID": "hy-objstm"}]
    assert not out.problems
    limited = _read(data, Limits(max_inflated_bytes=10))
    assert limited.labels == [] and "limit_exceeded" in {problem.code for problem in limited.problems}


def test_truncated_and_damaged_files() -> None:
    data = write({"/AIGC": WRAPPED})
    cut = read_media(data[: data.index(b"ContentProducer")], "application/pdf")
    assert cut.labels == [] and [problem.code for problem in cut.problems] == ["truncated"]
    unterminated = data.replace(b"\\175\\175)", b"\\175\\175", 1)
    broken = read_media(unterminated, "application/pdf")
    assert broken.labels == [] and "corrupt" in {problem.code for problem in broken.problems}
    dangling = read_media(data.replace(b"/Info 1 0 R", b"/Info 9 0 R"), "application/pdf")
    assert dangling.labels == [] and dangling.problems == []


def test_hostile_nesting_counts_and_backtracking() -> None:
    data = write({"/AIGC": WRAPPED})
    deep = data.replace(b"/Producer (pypdf)", b"/Producer " + b"[" * 200 + b"]" * 200, 1)
    out = read_media(deep, "application/pdf")
    assert out.labels == [] and [problem.code for problem in out.problems] == ["limit_exceeded"]
    many = read_media(data + b"trailer " * 50, "application/pdf", Limits(max_structures=20))
    assert "limit_exceeded" in {problem.code for problem in many.problems}
    # "1" then megabytes of whitespace: the object-header search must not backtrack quadratically
    padded = data.replace(b"1 0 obj", b"1" + b" " * 3_000_000 + b"x 0 obj", 1)
    started = time.perf_counter()
    assert read_media(padded, "application/pdf").labels == []
    assert time.perf_counter() - started < 2


def test_encrypted_pdf_is_reported_not_guessed() -> None:
    writer = PdfWriter()
    writer.add_blank_page(72, 72)
    writer.add_metadata({"/AIGC": WRAPPED})
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    out = read_media(buffer.getvalue(), "application/pdf")
    assert out.labels == [] and [problem.code for problem in out.problems] == ["unsupported"]


def test_registry_picks_the_pdf_reader() -> None:
    data = write({"/AIGC": WRAPPED})
    assert spec_for(data, "application/pdf") == (pdf.SPEC, False)
    assert read_media(data, None).format == "pdf"
    mismatch = read_media(data, "image/png")
    assert mismatch.format == "pdf" and "mime_mismatch" in {problem.code for problem in mismatch.problems}


XMP_WHERE = "pdf:Metadata:xmp:TC260:AIGC"


def xmp_packet(record: dict[str, Any], source_type: str = "trainedAlgorithmicMedia") -> bytes:
    """An XMP packet in the TC260 element form (labels.md §4.4) with an IPTC DigitalSourceType."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"<TC260:AIGC>{json.dumps(record).replace('&', '&amp;').replace('<', '&lt;')}</TC260:AIGC>"
        f"<Iptc4xmpExt:DigitalSourceType>{IPTC}{source_type}</Iptc4xmpExt:DigitalSourceType>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def write_xmp(packet: bytes, info: dict[str, Any] | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(72, 72)
    if info:
        writer.add_metadata(info)
    writer.xmp_metadata = packet
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_xmp_metadata_stream_written_by_pypdf() -> None:
    data = write_xmp(xmp_packet(LABEL))
    assert PdfReader(io.BytesIO(data)).xmp_metadata is not None
    out = read_media(data, "application/pdf")
    assert not out.problems
    assert _summary(out) == [(XMP_WHERE, LABEL, ("bare",))]
    [claim] = out.source_types
    assert claim.location == "pdf:Metadata:xmp:Iptc4xmpExt:DigitalSourceType" and claim.is_ai


def test_xmp_and_info_labels_are_two_records() -> None:
    """GB 45438-2025 6.1 c: one label per file; Info and XMP both come back so the duplicate shows."""
    data = write_xmp(xmp_packet({**LABEL, "ProduceID": "hy-xmp"}), {"/AIGC": WRAPPED})
    out = _read(data)
    assert [(label.location, label.record["ProduceID"]) for label in out.labels if label.record] == [
        (WHERE, "hy-0001"),
        (XMP_WHERE, "hy-xmp"),
    ]


def test_compressed_xmp_stream() -> None:
    """The /Metadata stream FlateDecode-compressed (pypdf's own flate_encode of the stream it wrote)."""
    writer = PdfWriter()
    writer.add_blank_page(72, 72)
    writer.xmp_metadata = xmp_packet(LABEL)
    reference = writer.root_object.raw_get("/Metadata")
    encoded = reference.get_object().flate_encode()
    writer._objects[reference.idnum - 1] = encoded
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    assert b"/FlateDecode" in data and b"TC260" not in data
    out = _read(data)
    assert _summary(out) == [(XMP_WHERE, LABEL, ("bare",))] and not out.problems
    limited = _read(data, Limits(max_inflated_bytes=10))
    assert limited.labels == [] and "limit_exceeded" in {problem.code for problem in limited.problems}


def test_label_added_by_an_incremental_update_is_after_media_data() -> None:
    """The original revision (up to its %%EOF) had no label; an appended revision added one."""
    data = update(write(None), {"/AIGC": WRAPPED})
    assert data.count(b"%%EOF") == 2 and data.index(b"ContentProducer") > data.index(b"%%EOF")
    out = _read(data)
    assert _summary(out) == [(WHERE, LABEL, ("after_media_data", "wrapped"))] and not out.problems
    check = check_file_labels(build_event(**media_fields(data, "application/pdf")))
    assert check is not None and "file_label_nonstandard_form" in codes(check.findings)


def test_xmp_added_by_an_incremental_update_is_after_media_data() -> None:
    writer = PdfWriter(io.BytesIO(write(None)), incremental=True)
    writer.xmp_metadata = xmp_packet(LABEL)
    buffer = io.BytesIO()
    writer.write(buffer)
    out = _read(buffer.getvalue())
    assert _summary(out) == [(XMP_WHERE, LABEL, ("after_media_data", "bare"))] and not out.problems


def test_a_labelled_original_with_a_later_update_is_not_after_media_data() -> None:
    data = update(update(write({"/AIGC": WRAPPED})))
    assert data.count(b"%%EOF") == 3
    assert _summary(_read(data)) == [(WHERE, LABEL, ("wrapped",))]


@pytest.fixture(scope="module")
def signed_pdf() -> bytes:
    return sign(
        write({"/AIGC": WRAPPED}),
        "application/pdf",
        make_credentials(),
        [created_action("trainedAlgorithmicMedia")],
    )


def test_c2pa_manifest_signed_by_c2pa_python_is_reported_and_validates(signed_pdf: bytes) -> None:
    """c2pa-python stores the store as an embedded file named in the catalog's /AF with
    /AFRelationship /C2PA_Manifest (C2PA 2.x, embedding in PDF)."""
    assert b"/AFRelationship/C2PA_Manifest" in signed_pdf
    out = read_media(signed_pdf, "application/pdf")
    [location] = out.c2pa_locations
    assert location.startswith("pdf:AF ") and location.endswith(":C2PA_Manifest")
    assert _summary(out) == [(WHERE, LABEL, ("wrapped",))] and not out.problems
    report = read_c2pa(signed_pdf, "application/x-pdf")
    assert report is not None and report.error is None and report.intact and report.ai_generated


def test_pdf_changed_after_signing_is_invalid(signed_pdf: bytes) -> None:
    tampered = signed_pdf.replace(b"hy-0001", b"hy-0666", 1)
    assert len(tampered) == len(signed_pdf)
    check = check_file_labels(build_event(**media_fields(tampered, "application/pdf")))
    assert check is not None and check.c2pa is not None and not check.c2pa.intact
    assert "c2pa_manifest_invalid" in codes(check.findings)


def test_manifest_the_catalog_no_longer_names_is_seen_but_not_validated(signed_pdf: bytes) -> None:
    start = signed_pdf.index(b"/AF[")
    end = signed_pdf.index(b"]", start) + 1
    unnamed = signed_pdf[:start] + b" " * (end - start) + signed_pdf[end:]
    out = read_media(unnamed, "application/pdf")
    assert out.c2pa_locations == ["pdf:C2PA_Manifest"]
    report = read_c2pa(unnamed, "application/pdf")
    assert report is not None and report.error is not None and "does not find" in report.error
    check = check_file_labels(build_event(**media_fields(unnamed, "application/pdf")))
    assert check is not None and "media_unreadable" in codes(check.findings)
