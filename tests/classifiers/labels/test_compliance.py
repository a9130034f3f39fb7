"""The combined report: label status, Labeling Measures Art. 6 notice and propagator metadata."""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.content import AIGC_FIELDS
from classifiers.labels.compliance import LabelReport, check_event_labels
from tests.fixtures.labels import PLATFORM_CODE, PRODUCER_CODE, build_event, codes, valid_implicit_label

TEXT = "夏夜的星空下，萤火虫在稻田上方闪烁，远处的村庄亮着几盏灯。"
IMAGE = {"mime_type": "image/jpeg", "width": 800, "height": 600}
GOOD_IMAGE_LABEL = {"kind": "text", "position": "bottom_right", "text": "AI生成", "size_ratio": 0.08}


def report(platform_code: str = PLATFORM_CODE, **fields: Any) -> LabelReport:
    return check_event_labels(build_event(**fields), platform_code=platform_code)


# --- status ------------------------------------------------------------------------------------------


def test_status_not_found_without_any_label() -> None:
    """Provisions Art. 16, 17: nothing declared or found is "not_found", never "compliant"."""
    result = report(text=TEXT)
    assert result.status == "not_found"
    assert {"implicit_label_missing", "explicit_label_missing"} <= set(codes(result.findings))


def test_status_not_found_for_art17_para2_without_labels() -> None:
    """Provisions Art. 16: no explicit label needed, yet, a missing implicit label is not compliance."""
    assert report(service_type="other", text=TEXT).status == "not_found"


@pytest.mark.parametrize(
    "fields",
    [
        {"text": f"【AI生成】{TEXT}", "implicit_label": valid_implicit_label()},
        {
            "text": f"{TEXT}\n本内容由人工智能生成",
            "implicit_label": valid_implicit_label(Label=1),
        },  # warning only
        {"service_type": "other", "implicit_label": valid_implicit_label()},
        {
            "service_type": "face_generation",
            "content_type": "image",
            "media": IMAGE,
            "explicit_label": GOOD_IMAGE_LABEL,
            "implicit_label": valid_implicit_label(),
        },
    ],
)
def test_status_compliant(fields: dict[str, Any]) -> None:
    """Provisions Art. 16, 17; Measures Art. 4, 5: required labels present and valid (warnings allowed)."""
    assert report(**fields).status == "compliant"


@pytest.mark.parametrize(
    "fields",
    [
        {"text": f"【AI生成】{TEXT}"},  # explicit found, implicit missing
        {"text": TEXT, "implicit_label": valid_implicit_label()},  # implicit only, explicit required
        {"text": f"【AI生成】{TEXT}", "implicit_label": valid_implicit_label(Label="4")},
        {
            "service_type": "face_generation",
            "content_type": "image",
            "media": IMAGE,
            "explicit_label": {**GOOD_IMAGE_LABEL, "size_ratio": 0.049},
            "implicit_label": valid_implicit_label(),
        },
    ],
)
def test_status_noncompliant(fields: dict[str, Any]) -> None:
    """Provisions Art. 16, 17; GB 45438-2025: a label was found and a label rule is violated."""
    assert report(**fields).status == "noncompliant"


def test_status_inconclusive_when_size_unknown() -> None:
    """GB 45438-2025 5.2: with no violation, an image label of unknown size cannot be judged."""
    label = {"kind": "text", "position": "bottom_right", "text": "AI生成"}
    result = report(
        service_type="face_generation",
        content_type="image",
        media=IMAGE,
        explicit_label=label,
        implicit_label=valid_implicit_label(),
    )
    assert result.status == "inconclusive"
    assert "explicit_label_size_unknown" in codes(result.findings)


def test_status_ignores_consent_findings() -> None:
    """Provisions Art. 14 findings are consent, not labels: they do not make the labels noncompliant."""
    result = report(
        service_type="face_swap",
        content_type="image",
        media=IMAGE,
        explicit_label=GOOD_IMAGE_LABEL,
        implicit_label=valid_implicit_label(),
        depicted_persons=[{"consent": False}],
    )
    assert "biometric_edit_without_consent" in codes(result.findings)
    assert result.status == "compliant"


# --- notice (Labeling Measures Art. 6) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "level", "text"),
    [
        ("1", "confirmed", "该内容由人工智能生成"),
        (1, "confirmed", "该内容由人工智能生成"),
        ("2", "possible", "该内容可能由人工智能生成"),
        ("3", "suspected", "该内容疑似由人工智能生成"),
    ],
)
def test_notice_from_implicit_label(label: Any, level: str, text: str) -> None:
    """Measures Art. 6(1): the implicit label's attribute decides; "2"/"3" carry the upstream judgement."""
    notice = report(
        text=TEXT, implicit_label=valid_implicit_label(Label=label), declared_ai_generated=False
    ).notice
    assert (notice.level, notice.text) == (level, text)
    assert "Art. 6(1)" in notice.basis


@pytest.mark.parametrize("declared", [True, None])
def test_notice_possible_from_declaration(declared: bool | None) -> None:
    """Measures Art. 6(2): no implicit label, declared (absent means true) -> may be AI-generated."""
    fields: dict[str, Any] = {"text": TEXT}
    if declared is not None:
        fields["declared_ai_generated"] = declared
    notice = report(**fields).notice
    assert (notice.level, notice.text) == ("possible", "该内容可能由人工智能生成")
    assert "Art. 6(2)" in notice.basis


def test_notice_suspected_when_label_value_invalid_though_declared() -> None:
    """Measures Art. 6(3), our reading: a malformed label is a generation trace, not an Art. 6(1) label."""
    notice = report(text=TEXT, implicit_label=valid_implicit_label(Label="4")).notice
    assert notice.level == "suspected"
    assert "implicit_label_invalid_value" in notice.basis


@pytest.mark.parametrize(
    "fields",
    [
        {"text": f"{TEXT}\n以上内容由AI生成"},
        {"service_type": "face_generation", "content_type": "image", "explicit_label": GOOD_IMAGE_LABEL},
        {"text": "由AI创作"},
    ],
)
def test_notice_suspected_from_explicit_label(fields: dict[str, Any]) -> None:
    """Measures Art. 6(3): not declared, but an explicit label or trace was detected -> suspected."""
    notice = report(declared_ai_generated=False, **fields).notice
    assert (notice.level, notice.text) == ("suspected", "该内容疑似由人工智能生成")
    assert "Art. 6(3)" in notice.basis


def test_notice_none() -> None:
    """Measures Art. 6: no label, no declaration, no trace -> no notice and no metadata."""
    result = report(text=TEXT, declared_ai_generated=False)
    assert (result.notice.level, result.notice.text) == ("none", None)
    assert result.propagator_metadata is None
    assert "propagator_code_unconfigured" not in codes(
        report("", text=TEXT, declared_ai_generated=False).findings
    )


# --- propagator metadata (Labeling Measures Art. 6 last paragraph) ------------------------------------


def test_propagator_metadata_copies_valid_implicit_label() -> None:
    """Measures Art. 6; GB 45438-2025 Annex E: production elements copied, the platform as propagator."""
    label = valid_implicit_label(Label=1, ReservedCode1="e862483430d978cbf828")
    metadata = report(text=TEXT, implicit_label=label).propagator_metadata
    assert metadata == {
        "Label": "1",
        "ContentProducer": PRODUCER_CODE,
        "ProduceID": "gen-20250901-0001",
        "ReservedCode1": "e862483430d978cbf828",
        "ContentPropagator": PLATFORM_CODE,
        "PropagateID": "content-42",
        "ReservedCode2": "",
    }
    assert tuple(metadata) == AIGC_FIELDS


def test_propagator_metadata_without_implicit_label() -> None:
    """Measures Art. 6(2): Label "2", the event's producer code, empty production number."""
    metadata = report(text=TEXT, producer={"provider_code": PRODUCER_CODE}).propagator_metadata
    assert metadata is not None
    assert (metadata["Label"], metadata["ContentProducer"], metadata["ProduceID"]) == ("2", PRODUCER_CODE, "")
    assert all(isinstance(v, str) for v in metadata.values()) and tuple(metadata) == AIGC_FIELDS


def test_propagator_metadata_suspected_label_3() -> None:
    """Measures Art. 6(3): a suspected notice is written as Label "3"."""
    metadata = report(text=f"【AI生成】{TEXT}", declared_ai_generated=False).propagator_metadata
    assert metadata is not None and metadata["Label"] == "3" and metadata["ContentProducer"] == ""


def test_propagator_metadata_ignores_invalid_implicit_label() -> None:
    """Annex E: the production elements of an invalid label are not copied, nor is its Label (Art. 6(3))."""
    label = valid_implicit_label(ProduceID="")
    metadata = report(text=TEXT, implicit_label=label, producer={"provider_name": "x"}).propagator_metadata
    assert metadata is not None and metadata["ContentProducer"] == "" and metadata["Label"] == "3"


def test_propagator_code_unconfigured() -> None:
    """Measures Art. 6 last paragraph: without the platform's code, ContentPropagator is empty (warning)."""
    result = report("", text=TEXT, implicit_label=valid_implicit_label())
    assert "propagator_code_unconfigured" in codes(result.findings)
    assert result.propagator_metadata is not None and result.propagator_metadata["ContentPropagator"] == ""
    assert result.propagator_metadata["ContentProducer"] == PRODUCER_CODE
