"""Labels read from the content's bytes, judged and merged with what the event declares.

Fixtures are real files written by Pillow (PNG text chunks, JPEG EXIF) and c2pa-python; the label JSON
values are ours.
"""

from __future__ import annotations

import json
from typing import Any

from classifiers.labels.compliance import check_event_labels
from classifiers.labels.file_labels import check_file_labels
from tests.fixtures import c2pa as c2pa_signing
from tests.fixtures.labels import (
    PLATFORM_CODE,
    PRODUCER_CODE,
    build_event,
    codes,
    media_fields,
    only,
    png_with_text,
    valid_implicit_label,
)

png = png_with_text


def aigc(**overrides: Any) -> str:
    return json.dumps({"AIGC": valid_implicit_label(**overrides)})


def image_event(data: bytes, mime: str = "image/png", **fields: Any) -> Any:
    return build_event(**media_fields(data, mime), **fields)


def test_a_valid_label_in_the_file_is_found_and_judged() -> None:
    check = check_file_labels(image_event(png(("AIGC", aigc()))))
    assert check is not None and check.found and check.complete
    assert check.record is not None and check.record.valid and check.record.attribute == "1"
    present = only(check.findings, "file_label_present")
    assert "png" in present.message
    assert "file_label_missing" not in codes(check.findings)
    assert not [f for f in check.findings if f.severity == "violation"]


def test_an_unlabelled_file_is_a_violation_and_the_status_not_found() -> None:
    event = image_event(png(("Comment", "海边的灯塔")))
    check = check_file_labels(event)
    assert check is not None and not check.found
    assert only(check.findings, "file_label_missing").severity == "violation"
    report = check_event_labels(event, platform_code=PLATFORM_CODE)
    assert report.status == "not_found"  # nothing declared, nothing in the file: not "compliant"


def test_the_file_label_counts_when_the_event_declares_none() -> None:
    report = check_event_labels(image_event(png(("AIGC", aigc(Label="2")))), platform_code=PLATFORM_CODE)
    assert "implicit_label_missing" not in codes(report.findings)
    assert report.notice.level == "possible"  # Art. 6(1) from the file's Label 2
    assert report.propagator_metadata is not None
    assert report.propagator_metadata["ContentProducer"] == PRODUCER_CODE
    assert report.propagator_metadata["ContentPropagator"] == PLATFORM_CODE


def test_a_file_label_that_differs_from_the_declared_one_is_tampering() -> None:
    event = image_event(png(("AIGC", aigc(ProduceID="gen-OTHER"))), implicit_label=valid_implicit_label())
    report = check_event_labels(event, platform_code=PLATFORM_CODE)
    mismatch = only(report.findings, "file_label_mismatch")
    assert mismatch.field == "ProduceID" and "gen-OTHER" in mismatch.message
    assert report.status == "noncompliant"


def test_a_declared_label_missing_from_the_file_is_noncompliant() -> None:
    event = image_event(png(), implicit_label=valid_implicit_label())
    report = check_event_labels(event, platform_code=PLATFORM_CODE)
    assert "file_label_missing" in codes(report.findings)
    assert report.status == "noncompliant"


def test_two_labels_in_one_file_violate_6_1_c() -> None:
    check = check_file_labels(image_event(png(("AIGC", aigc()), ("AIGC", aigc(ProduceID="gen-2")))))
    assert check is not None
    assert "2 implicit labels" in only(check.findings, "file_label_duplicate").message


def test_an_invalid_file_label_is_judged_by_the_record_rules() -> None:
    check = check_file_labels(image_event(png(("AIGC", aigc(Label="4", ProduceID="")))))
    assert check is not None
    found = codes(check.findings)
    assert "implicit_label_invalid_value" in found and "implicit_label_missing_field" in found
    assert all(f.message.startswith("file label at") for f in check.findings if f.code.startswith("implicit"))


def test_an_unparseable_file_label_and_a_nonstandard_form() -> None:
    check = check_file_labels(image_event(png(("AIGC", "Label=1;Producer=x"))))
    assert check is not None and check.found and check.record is None
    assert only(check.findings, "file_label_unparseable").severity == "violation"
    escaped = aigc().replace('"', "&quot;")
    check = check_file_labels(image_event(png(("AIGC", escaped))))
    assert check is not None and check.record is not None
    assert "html_escaped" in only(check.findings, "file_label_nonstandard_form").message


def test_a_truncated_file_is_inconclusive_not_not_found() -> None:
    data = png(("Comment", "x"))
    event = image_event(data[: len(data) // 2])
    check = check_file_labels(event)
    assert check is not None and not check.complete
    assert "media_unreadable" in codes(check.findings)
    assert "file_label_missing" not in codes(check.findings)
    assert check_event_labels(event, platform_code=PLATFORM_CODE).status == "inconclusive"


def test_an_unsupported_format_is_inconclusive() -> None:
    event = image_event(b"BM" + bytes(64), mime="image/bmp")
    assert check_event_labels(event, platform_code=PLATFORM_CODE).status == "inconclusive"


def test_a_c2pa_ai_claim_without_a_gb_label_is_a_finding() -> None:
    credentials = c2pa_signing.make_credentials()
    image = c2pa_signing.pillow_image("PNG")
    signed = c2pa_signing.sign(
        image, "image/png", credentials, [c2pa_signing.created_action("trainedAlgorithmicMedia")]
    )
    check = check_file_labels(image_event(signed))
    assert check is not None and check.ai_claim
    assert "trainedAlgorithmicMedia" in only(check.findings, "provenance_ai_claim").message
    assert only(check.findings, "provenance_ai_without_implicit_label").severity == "violation"
    assert "c2pa_manifest_invalid" not in codes(check.findings)  # intact, only its signer is untrusted
    tampered = bytearray(signed)
    tampered[-40] ^= 0xFF  # inside the image data, after signing
    check = check_file_labels(image_event(bytes(tampered)))
    assert check is not None and "c2pa_manifest_invalid" in codes(check.findings)


def test_no_event_media_means_no_file_check() -> None:
    assert check_file_labels(build_event(text="一段文字")) is None
