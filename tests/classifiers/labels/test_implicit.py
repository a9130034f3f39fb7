"""Implicit label: Deep Synthesis Provisions Art. 16, Labeling Measures Art. 5, GB 45438-2025 Annex E."""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.labels.implicit import ImplicitLabelCheck, check_implicit_label
from tests.fixtures.labels import (
    ABSENT,
    PRODUCER_CODE,
    build_event,
    codes,
    only,
    valid_implicit_label,
)


def check(label: dict[str, Any] | None, **fields: Any) -> ImplicitLabelCheck:
    return check_implicit_label(build_event(implicit_label=label if label is not None else ABSENT, **fields))


def test_implicit_label_missing() -> None:
    """Provisions Art. 16; Measures Art. 5: every generated content carries an implicit label."""
    result = check(None)
    assert codes(result.findings) == ["implicit_label_missing"]
    assert result.findings[0].severity == "violation"
    assert "Art. 16" in result.findings[0].article
    assert not result.declared and not result.valid and result.attribute is None


def test_implicit_label_present_when_valid() -> None:
    """Annex E: a complete first-write label is valid and reports only implicit_label_present."""
    result = check(valid_implicit_label())
    assert codes(result.findings) == ["implicit_label_present"]
    assert result.valid and result.attribute == "1"
    assert result.production_elements == {
        "ContentProducer": PRODUCER_CODE,
        "ProduceID": "gen-20250901-0001",
        "ReservedCode1": "",
    }


@pytest.mark.parametrize("value", ["4", "0", "AIGC", "１", " 1", 4, 1.5, True, ["1"], {"v": "1"}])
def test_implicit_label_invalid_value_of_label(value: Any) -> None:
    """Annex E c: Label is "1", "2" or "3"; anything else is a violation."""
    result = check(valid_implicit_label(Label=value))
    finding = only(result.findings, "implicit_label_invalid_value")
    assert finding.field == "Label" and finding.severity == "violation"
    assert "Annex E" in finding.article
    assert result.attribute is None and not result.valid


@pytest.mark.parametrize(("value", "attribute"), [(1, "1"), (2, "2"), (3, "3")])
def test_implicit_label_nonstandard_type_numeric_label(value: int, attribute: str) -> None:
    """Annex E c; labels.md §4.6: a numeric Label is accepted as its value with a warning."""
    result = check(valid_implicit_label(Label=value))
    assert codes(result.findings) == ["implicit_label_nonstandard_type", "implicit_label_present"]
    assert result.findings[0].severity == "warning"
    assert result.attribute == attribute and result.valid


@pytest.mark.parametrize("name", ["Label", "ContentProducer", "ProduceID"])
@pytest.mark.parametrize("value", [ABSENT, "", "   ", None])
def test_implicit_label_missing_field(name: str, value: Any) -> None:
    """Annex E c, d, e: Label, ContentProducer and ProduceID are mandatory and non-empty."""
    result = check(valid_implicit_label(**{name: value}))
    finding = only(result.findings, "implicit_label_missing_field")
    assert finding.field == name and finding.severity == "violation"
    assert not result.valid and result.production_elements == {}
    assert "implicit_label_invalid_value" not in codes(result.findings)


@pytest.mark.parametrize(
    ("name", "value"),
    [("ContentProducer", 12345), ("ProduceID", ["a"]), ("ReservedCode1", None), ("ReservedCode2", {"k": 1})],
)
def test_implicit_label_invalid_value_non_string_field(name: str, value: Any) -> None:
    """Annex E b: every element is a string; a present non-string value is a violation."""
    result = check(valid_implicit_label(**{name: value}))
    finding = only(result.findings, "implicit_label_invalid_value")
    assert finding.field == name and not result.valid


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ProduceID", "id with space"),
        ("ProduceID", "编号001"),
        ("ReservedCode1", 'a"b'),
        ("ProduceID", "a\\b"),
    ],
)
def test_implicit_label_nonprintable_value(name: str, value: str) -> None:
    """Annex E j: values should mainly be GB 18030 printable single-byte characters; a warning only."""
    result = check(valid_implicit_label(**{name: value}))
    finding = only(result.findings, "implicit_label_nonprintable_value")
    assert finding.field == name and finding.severity == "warning"
    assert result.valid


def test_implicit_label_printable_values_pass() -> None:
    """Annex E j: letters, digits and punctuation other than space, double quote and backslash are fine."""
    result = check(valid_implicit_label(ProduceID="a-b_c.d:e/f#1!", ReservedCode1="e862483430d978cb"))
    assert "implicit_label_nonprintable_value" not in codes(result.findings)


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("ReserveCode1", "ReservedCode1"), ("Propagator", "ContentPropagator"), ("PropatorID", "PropagateID")],
)
def test_implicit_label_unknown_field_misspelled(key: str, suggestion: str) -> None:
    """Annex E; labels.md §4.6: misspelled keys of a popular writer are reported with the likely name."""
    result = check({**valid_implicit_label(), key: "x"})
    finding = only(result.findings, "implicit_label_unknown_field")
    assert finding.field == key and finding.severity == "warning"
    assert suggestion in finding.message
    assert result.valid


def test_implicit_label_unknown_field_unrelated_key() -> None:
    """Annex E: a key unlike any element is still reported, without a suggestion."""
    finding = only(check({**valid_implicit_label(), "Time": "x"}).findings, "implicit_label_unknown_field")
    assert "did you mean" not in finding.message


@pytest.mark.parametrize(
    "producer",
    [
        "doubao",  # a bare name, seen in real files
        PRODUCER_CODE[:-1],  # 26 characters
        PRODUCER_CODE + "0",  # 28 characters
        "01" + PRODUCER_CODE[2:],  # wrong format prefix
        PRODUCER_CODE[:4] + "I" + PRODUCER_CODE[5:],  # I is not a credit-code character
        PRODUCER_CODE[:23] + "a7k2",  # lower-case app code
    ],
)
def test_provider_code_malformed(producer: str) -> None:
    """TC260-PG-20252A: a 27-character code; other producers are a warning, not a violation."""
    result = check(valid_implicit_label(ContentProducer=producer), producer={"provider_code": producer})
    finding = only(result.findings, "provider_code_malformed")
    assert finding.severity == "warning" and finding.field == "ContentProducer"
    assert result.valid


def test_provider_code_not_generation() -> None:
    """TC260-PG-20252A: service-type digit 2 is a distribution code, not a generation code."""
    distribution = PRODUCER_CODE[:22] + "2" + PRODUCER_CODE[23:]
    result = check(valid_implicit_label(ContentProducer=distribution))
    assert "provider_code_malformed" not in codes(result.findings)
    assert only(result.findings, "provider_code_not_generation").severity == "warning"


def test_provider_code_well_formed_passes() -> None:
    """TC260-PG-20252A: the test code is well formed and a generation code."""
    found = codes(check(valid_implicit_label()).findings)
    assert "provider_code_malformed" not in found and "provider_code_not_generation" not in found


def test_implicit_label_first_write_propagation_equal_to_production() -> None:
    """Annex E Note 1: at first write the propagation elements equal the production elements."""
    label = valid_implicit_label(ContentPropagator=PRODUCER_CODE, PropagateID="gen-20250901-0001")
    assert codes(check(label).findings) == ["implicit_label_present"]


@pytest.mark.parametrize("drop", [True, False])
def test_implicit_label_propagation_fields_absent_or_empty(drop: bool) -> None:
    """Annex E g, h: empty or absent propagation elements are fine before any propagation."""
    value = ABSENT if drop else ""
    label = valid_implicit_label(ContentPropagator=value, PropagateID=value)
    assert codes(check(label).findings) == ["implicit_label_present"]


def test_implicit_label_propagated() -> None:
    """Annex E g, h: propagation elements of another platform mean an upstream propagator (info)."""
    upstream = PRODUCER_CODE[:22] + "2UPST"
    label = valid_implicit_label(ContentPropagator=upstream, PropagateID="up-77")
    result = check(label)
    finding = only(result.findings, "implicit_label_propagated")
    assert finding.severity == "info" and finding.evidence == upstream
    assert result.valid


def test_implicit_label_producer_mismatch() -> None:
    """Provisions Art. 18; Measures Art. 10: a label naming another producer may be forged."""
    other = PRODUCER_CODE[:23] + "ZZZ9"
    result = check(valid_implicit_label(), producer={"provider_code": other})
    finding = only(result.findings, "implicit_label_producer_mismatch")
    assert finding.severity == "warning" and "Art. 18" in finding.article
    no_mismatch = check(valid_implicit_label(), producer={"provider_code": PRODUCER_CODE})
    assert "implicit_label_producer_mismatch" not in codes(no_mismatch.findings)


def test_implicit_label_wrapped_in_aigc_key() -> None:
    """Annex E b; labels.md §7.1: the {"AIGC": {...}} wrapper is accepted and its fields are checked."""
    result = check({"AIGC": valid_implicit_label()})
    assert codes(result.findings) == ["implicit_label_wrapped", "implicit_label_present"]
    assert result.attribute == "1"
