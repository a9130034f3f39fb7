"""The two verdicts (implicit label, explicit label) beside the overall status, and the notice a defective
or foreign label leads to (issue #18 item 1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from classifiers.labels.codes import FINDING_CODES
from classifiers.labels.compliance import LabelReport, check_event_labels
from tests.fixtures import c2pa as c2pa_signing
from tests.fixtures.labels import (
    PLATFORM_CODE,
    build_event,
    media_fields,
    png_with_text,
    valid_implicit_label,
)

LABEL_TEXT = "AI生成"
GOOD_IMAGE_LABEL = {"kind": "text", "position": "bottom_right", "text": LABEL_TEXT, "size_ratio": 0.08}


def aigc(**overrides: Any) -> str:
    return json.dumps({"AIGC": valid_implicit_label(**overrides)})


def image_report(data: bytes, mime: str = "image/png", **fields: Any) -> LabelReport:
    event = media_fields(data, mime)
    event["media"].update(width=800, height=600)
    return check_event_labels(build_event(**{**event, **fields}), platform_code=PLATFORM_CODE)


def test_every_label_finding_judges_one_label_or_the_platform() -> None:
    judged = {code: spec.judges for code, spec in FINDING_CODES.items()}
    assert judged["file_label_duplicate"] == "implicit" and judged["provenance_ai_claim"] == "implicit"
    assert judged["explicit_label_missing"] == "explicit" and judged["implicit_label_missing"] == "implicit"
    assert judged["propagator_code_unconfigured"] is None and judged["biometric_consent_unknown"] is None
    unjudged = {c for c, j in judged.items() if j is None and FINDING_CODES[c].category == "label"}
    assert unjudged == {"propagator_code_unconfigured"}


def test_a_perfect_file_label_is_compliant_though_the_visible_label_was_not_declared() -> None:
    result = image_report(png_with_text(("AIGC", aigc())))
    assert result.implicit_status == "compliant"
    assert result.explicit_status == "not_found"
    assert result.status == "noncompliant"  # the image needs its explicit label (Measures Art. 4(2))
    assert result.notice.level == "confirmed"


def test_both_labels_right_is_compliant_three_times() -> None:
    result = image_report(png_with_text(("AIGC", aigc())), explicit_label=GOOD_IMAGE_LABEL)
    assert (result.implicit_status, result.explicit_status, result.status) == ("compliant",) * 3


def test_a_broken_file_label_with_a_good_visible_label_is_told_apart() -> None:
    result = image_report(png_with_text(("AIGC", aigc(ProduceID=""))), explicit_label=GOOD_IMAGE_LABEL)
    assert result.implicit_status == "noncompliant"
    assert result.explicit_status == "compliant"
    assert result.status == "noncompliant"


def test_an_explicit_label_too_small_is_the_explicit_verdict_only() -> None:
    small = {**GOOD_IMAGE_LABEL, "size_ratio": 0.03}
    result = image_report(png_with_text(("AIGC", aigc())), explicit_label=small)
    assert (result.implicit_status, result.explicit_status) == ("compliant", "noncompliant")


def test_nothing_anywhere_is_not_found_twice() -> None:
    result = image_report(png_with_text(("Comment", "海边的灯塔")))
    assert (result.implicit_status, result.explicit_status, result.status) == ("not_found",) * 3
    assert result.notice.level == "possible"  # Art. 6(2): the producer's event declares it


def test_a_truncated_unlabelled_file_leaves_the_implicit_verdict_inconclusive() -> None:
    data = png_with_text(("Comment", "x"))
    result = image_report(data[: len(data) // 2])
    assert result.implicit_status == "inconclusive" and result.explicit_status == "not_found"


@pytest.mark.parametrize("declared", [None, True, False])
def test_ai_provenance_without_a_gb_label_is_noncompliant_and_suspected(declared: bool | None) -> None:
    credentials = c2pa_signing.make_credentials()
    image = c2pa_signing.pillow_image("PNG")
    signed = c2pa_signing.sign(
        image, "image/png", credentials, [c2pa_signing.created_action("trainedAlgorithmicMedia")]
    )
    fields = {} if declared is None else {"declared_ai_generated": declared}
    result = image_report(signed, **fields)
    assert result.implicit_status == "noncompliant"
    assert result.notice.level == "suspected"
    assert "C2PA / IPTC" in result.notice.basis
    assert result.propagator_metadata is not None and result.propagator_metadata["Label"] == "3"


def test_ai_provenance_beside_a_valid_gb_label_keeps_the_label_notice() -> None:
    credentials = c2pa_signing.make_credentials()
    image = png_with_text(("AIGC", aigc(Label="2")))
    signed = c2pa_signing.sign(
        image, "image/png", credentials, [c2pa_signing.created_action("trainedAlgorithmicMedia")]
    )
    result = image_report(signed)
    assert result.notice.level == "possible"  # Art. 6(1) from the file's Label 2
    assert result.implicit_status == "compliant"


@pytest.mark.parametrize(
    ("texts", "code"),
    [
        ((("AIGC", aigc()), ("AIGC", aigc(ProduceID="gen-2"))), "file_label_duplicate"),
        ((("AIGC", aigc(ContentProducer="")),), "implicit_label_missing_field"),
        ((("AIGC", aigc(Label="7")),), "implicit_label_invalid_value"),
        ((("AIGC", "Label=1;Producer=x"),), "file_label_unparseable"),
    ],
)
def test_a_malformed_or_duplicated_file_label_sets_the_notice_to_suspected(
    texts: tuple[tuple[str, str], ...], code: str
) -> None:
    result = image_report(png_with_text(*texts), declared_ai_generated=True)
    assert result.notice.level == "suspected"
    assert code in result.notice.basis and "Art. 6(3)" in result.notice.basis
    assert result.implicit_status == "noncompliant"


def test_a_label_that_differs_from_the_declared_one_is_not_relied_on() -> None:
    result = image_report(
        png_with_text(("AIGC", aigc(Label="1"))), implicit_label=valid_implicit_label(Label="2")
    )
    assert result.notice.level == "suspected" and "file_label_mismatch" in result.notice.basis


def test_warnings_on_a_valid_label_keep_the_label_notice() -> None:
    escaped = aigc(Label="2").replace('"', "&quot;")  # a non-standard form: a warning, still the label
    result = image_report(png_with_text(("AIGC", escaped)))
    assert result.notice.level == "possible" and "Art. 6(1)" in result.notice.basis
