"""DOCX/XLSX/PPTX reader: labels.md §4.3 (docProps/custom.xml property AIGC), hostile archives (issue #4 §6).

The packages are written with Python's zipfile (no python-docx here) holding a minimal
``[Content_Types].xml`` and a ``docProps/custom.xml`` built with ElementTree; the zip bomb is a highly
compressible part, once declaring its real size and once lying about it. C2PA manifests are signed into
the packages by c2pa-python's Builder with the test CA (tests/fixtures/c2pa.py).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from xml.etree import ElementTree as ET

import c2pa  # type: ignore[import-untyped]
import pytest

from classifiers.labels.file_labels import check_file_labels
from classifiers.labels.media import ooxml
from classifiers.labels.media.base import Extraction, Limits
from classifiers.labels.media.c2pa_manifest import read_c2pa
from classifiers.labels.media.registry import read_media, spec_for
from tests.fixtures.c2pa import created_action, make_credentials, sign
from tests.fixtures.labels import build_event, codes, media_fields
from tests.fixtures.media import LABEL

WRAPPED = json.dumps({"AIGC": LABEL}, separators=(",", ":"))
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
MAIN_PART = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}
WHERE = "ooxml:docProps/custom.xml:AIGC"


def custom_xml(*properties: tuple[str, str, str], encoding: str = "utf-8") -> bytes:
    """docProps/custom.xml with (name, vt type, value) properties, serialised by ElementTree."""
    ET.register_namespace("", CUSTOM_NS)
    ET.register_namespace("vt", VT_NS)
    root = ET.Element(f"{{{CUSTOM_NS}}}Properties")
    for pid, (name, kind, value) in enumerate(properties, start=2):
        attributes = {"fmtid": "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}", "pid": str(pid), "name": name}
        prop = ET.SubElement(root, f"{{{CUSTOM_NS}}}property", attributes)
        ET.SubElement(prop, f"{{{VT_NS}}}{kind}").text = value
    serialised: bytes = ET.tostring(root, encoding=encoding, xml_declaration=True)
    return serialised


def package(
    kind: str, custom: bytes | None, *, extra: int = 0, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    main, _ = MAIN_PART[kind]
    ET.register_namespace("", CONTENT_TYPES_NS)
    types = ET.Element(f"{{{CONTENT_TYPES_NS}}}Types")
    ET.SubElement(
        types, f"{{{CONTENT_TYPES_NS}}}Default", {"Extension": "xml", "ContentType": "application/xml"}
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", ET.tostring(types, xml_declaration=True, encoding="utf-8"))
        archive.writestr(main, b"<?xml version='1.0'?><root/>")
        for index in range(extra):
            archive.writestr(f"media/item{index}.xml", b"<x/>")
        if custom is not None:
            archive.writestr(ooxml.CUSTOM_PROPERTIES, custom)
    return buffer.getvalue()


def _read(data: bytes, limits: Limits | None = None) -> Extraction:
    out = Extraction(format="ooxml")
    ooxml.read(data, out, limits or Limits())
    return out


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx"])
def test_custom_property_in_each_package(kind: str) -> None:
    data = package(kind, custom_xml(("Company", "lpwstr", "x"), ("AIGC", "lpwstr", WRAPPED)))
    out = read_media(data, MAIN_PART[kind][1])
    assert out.format == "ooxml" and not out.problems
    assert [(label.location, label.record, label.variants) for label in out.labels] == [
        (WHERE, LABEL, ("wrapped",))
    ]


@pytest.mark.parametrize("value_type", ["lpstr", "bstr"])
def test_other_text_types_and_bare_numeric_json(value_type: str) -> None:
    bare = json.dumps({**LABEL, "Label": 1})
    [label] = _read(package("docx", custom_xml(("AIGC", value_type, bare)))).labels
    assert label.record == {**LABEL, "Label": 1} and label.variants == ("bare", "numeric_label")


def test_utf16_part() -> None:
    data = package("docx", custom_xml(("AIGC", "lpwstr", WRAPPED), encoding="utf-16"))
    assert [label.record for label in _read(data).labels] == [LABEL]


def test_two_properties_both_come_back() -> None:
    second = json.dumps({"AIGC": {**LABEL, "ProduceID": "hy-0002"}})
    data = package("xlsx", custom_xml(("AIGC", "lpwstr", WRAPPED), ("AIGC_copy", "lpwstr", second)))
    out = _read(data)
    assert [(label.location, label.record["ProduceID"]) for label in out.labels if label.record] == [
        (WHERE, "hy-0001"),
        (WHERE + "_copy", "hy-0002"),
    ]


def test_non_json_value_is_an_unparseable_label() -> None:
    [label] = _read(package("docx", custom_xml(("AIGC", "i4", "1")))).labels
    assert label.record is None and label.error


def test_unlabelled_packages() -> None:
    for data in (package("docx", None), package("pptx", custom_xml(("Company", "lpwstr", WRAPPED)))):
        out = read_media(data, MAIN_PART["docx"][1])
        assert out.labels == [] and out.problems == []


def test_doctype_and_entities_are_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    custom = laughs + custom_xml(("AIGC", "lpwstr", "&lol2;"))[custom_xml().index(b"<Properties") :]
    out = _read(package("docx", custom))
    assert out.labels == [] and [problem.code for problem in out.problems] == ["corrupt"]
    assert "DOCTYPE" in out.problems[0].detail


def test_deep_xml_is_refused() -> None:
    custom = b"<Properties>" + b"<a>" * 100 + b"</a>" * 100 + b"</Properties>"
    out = _read(package("docx", custom))
    assert out.labels == [] and [problem.code for problem in out.problems] == ["corrupt"]


def test_zip_bomb_declaring_its_size_is_refused_before_inflating() -> None:
    bomb = b"<Properties>" + b" " * 20_000_000 + b"</Properties>"
    data = package("docx", bomb)
    assert len(data) < 100_000
    started = time.perf_counter()
    out = _read(data)
    assert time.perf_counter() - started < 0.5
    assert out.labels == [] and [problem.code for problem in out.problems] == ["limit_exceeded"]


def test_zip_bomb_lying_about_its_size_stops_at_the_declared_size() -> None:
    bomb = custom_xml(("AIGC", "lpwstr", WRAPPED)) + b" " * 20_000_000
    data = bytearray(package("docx", bomb))
    # Declare 1,000 bytes in the central directory entry (the name's last occurrence is in the
    # directory, 46 bytes after the entry's start) and in the local header.
    central = data.rfind(ooxml.CUSTOM_PROPERTIES.encode()) - 46
    local = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(ooxml.CUSTOM_PROPERTIES).header_offset
    assert data[central : central + 4] == b"PK\x01\x02" and data[local : local + 4] == b"PK\x03\x04"
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    data[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    started = time.perf_counter()
    out = _read(bytes(data))
    assert time.perf_counter() - started < 0.5
    assert out.labels == [] and [problem.code for problem in out.problems] == ["corrupt"]


def test_entry_count_is_checked_before_zipfile_reads_the_directory() -> None:
    data = package("docx", custom_xml(("AIGC", "lpwstr", WRAPPED)), extra=30)
    out = read_media(data, MAIN_PART["docx"][1], Limits(max_structures=10))
    assert out.labels == [] and [problem.code for problem in out.problems] == ["limit_exceeded"]
    assert [label.record for label in read_media(data, MAIN_PART["docx"][1]).labels] == [LABEL]


def test_truncated_and_lying_directory() -> None:
    data = package("docx", custom_xml(("AIGC", "lpwstr", WRAPPED)))
    cut = _read(data[: len(data) // 2])
    assert cut.labels == [] and [problem.code for problem in cut.problems] == ["corrupt"]
    end = data.rfind(b"PK\x05\x06")
    lying = data[: end + 12] + (len(data) * 4).to_bytes(4, "little") + data[end + 16 :]
    out = _read(lying)
    assert out.labels == [] and [problem.code for problem in out.problems] == ["corrupt"]


def test_registry_picks_the_ooxml_reader() -> None:
    data = package("pptx", custom_xml(("AIGC", "lpwstr", WRAPPED)))
    for _, mime in MAIN_PART.values():
        assert spec_for(data, mime) == (ooxml.SPEC, False)
    assert read_media(data, None).format == "ooxml"
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("readme.txt", "not a package")
    assert not ooxml.SPEC.sniff(plain_zip.getvalue())


DOCX = MAIN_PART["docx"][1]


@pytest.fixture(scope="module")
def signed_docx() -> bytes:
    """A labelled DOCX signed by c2pa-python; its zip handler signs only stored (uncompressed) entries."""
    data = package("docx", custom_xml(("AIGC", "lpwstr", WRAPPED)), compression=zipfile.ZIP_STORED)
    return sign(data, DOCX, make_credentials(), [created_action("trainedAlgorithmicMedia")])


def test_c2pa_manifest_part_is_reported_and_validates(signed_docx: bytes) -> None:
    assert ooxml.C2PA_PART in zipfile.ZipFile(io.BytesIO(signed_docx)).namelist()
    out = read_media(signed_docx, DOCX)
    assert out.c2pa_locations == [f"ooxml:{ooxml.C2PA_PART}"] and not out.problems
    assert [label.location for label in out.labels] == [WHERE]
    report = read_c2pa(signed_docx, DOCX)
    assert report is not None and report.error is None
    assert report.intact and report.ai_generated
    check = check_file_labels(build_event(**media_fields(signed_docx, DOCX)))
    assert check is not None and check.c2pa is not None and check.c2pa.intact
    assert "c2pa_manifest_invalid" not in codes(check.findings)


def test_c2pa_manifest_of_a_template_is_read_as_its_document_type(signed_docx: bytes) -> None:
    report = read_c2pa(signed_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.template")
    assert report is not None and report.error is None and report.intact


def test_document_changed_after_signing_is_invalid(signed_docx: bytes) -> None:
    archive = zipfile.ZipFile(io.BytesIO(signed_docx))
    main, _ = MAIN_PART["docx"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as changed:
        for info in archive.infolist():
            body = archive.read(info)
            changed.writestr(
                info, b"<?xml version='1.0'?><root>edited</root>" if info.filename == main else body
            )
    out = read_media(buffer.getvalue(), DOCX)
    assert out.c2pa_locations == [f"ooxml:{ooxml.C2PA_PART}"]
    report = read_c2pa(buffer.getvalue(), DOCX)
    assert report is not None and not report.intact
    assert "assertion.collectionHash.mismatch" in report.failure_codes


def _recompressed(signed: bytes, *, manifest: int) -> bytes:
    """The signed package rewritten by zipfile with deflated parts, the manifest part as ``manifest``."""
    archive = zipfile.ZipFile(io.BytesIO(signed))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as recompressed:
        for info in archive.infolist():
            method = manifest if info.filename == ooxml.C2PA_PART else zipfile.ZIP_DEFLATED
            recompressed.writestr(info.filename, archive.read(info), compress_type=method)
    return buffer.getvalue()


def test_deflated_package_cannot_be_signed_by_c2pa_python() -> None:
    """c2pa-python 0.38.1 cannot sign a package with deflated entries, which is what Word writes."""
    deflated = package("docx", custom_xml(("AIGC", "lpwstr", WRAPPED)))
    with pytest.raises(c2pa.C2paError, match="compression method not supported"):
        sign(deflated, DOCX, make_credentials(), [created_action("trainedAlgorithmicMedia")])


def test_recompressed_package_with_stored_manifest_is_invalid(signed_docx: bytes) -> None:
    data = _recompressed(signed_docx, manifest=zipfile.ZIP_STORED)
    out = read_media(data, DOCX)
    assert out.c2pa_locations == [f"ooxml:{ooxml.C2PA_PART}"] and [lb.location for lb in out.labels] == [
        WHERE
    ]
    check = check_file_labels(build_event(**media_fields(data, DOCX)))
    assert check is not None and check.c2pa is not None and not check.c2pa.intact
    assert "assertion.collectionHash.mismatch" in check.c2pa.failure_codes
    assert "c2pa_manifest_invalid" in codes(check.findings)


def test_deflated_manifest_is_seen_but_cannot_be_validated(signed_docx: bytes) -> None:
    """c2pa-python cannot read a deflated manifest part: reported as unchecked, never as absent."""
    data = _recompressed(signed_docx, manifest=zipfile.ZIP_DEFLATED)
    out = read_media(data, DOCX)
    assert out.c2pa_locations == [f"ooxml:{ooxml.C2PA_PART}"]
    check = check_file_labels(build_event(**media_fields(data, DOCX)))
    assert check is not None and check.c2pa is not None
    assert check.c2pa.error is not None and "compression method not supported" in check.c2pa.error
    assert [f.message for f in check.findings if f.code == "media_unreadable"] == [
        f"C2PA manifest could not be checked: {check.c2pa.error}"
    ]
