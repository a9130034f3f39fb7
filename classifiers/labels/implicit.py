"""Checks the implicit label (GB 45438-2025 Annex E AIGC metadata) the producer declared in the event.

The event carries the label as sent (``ContentEvent.implicit_label``, values of any JSON type); this
module judges it element by element and says whether it is valid, which AIGC attribute it states and
which production elements a propagator may copy. It must not read labels from media bytes (a metadata
reader does that), decide the notice or the label status (``notice.py``, ``compliance.py``), or change
the event.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from classifiers.content import AIGC_FIELDS, ContentEvent
from classifiers.labels.codes import finding
from classifiers.labels.findings import LabelFinding

# GB 45438-2025 Annex E c: 1 = is AIGC (属于), 2 = possibly (可能), 3 = suspected (疑似).
AigcAttribute = Literal["1", "2", "3"]
_ATTRIBUTES: Final[Mapping[str, AigcAttribute]] = {"1": "1", "2": "2", "3": "3"}

# GB 45438-2025 Annex E c, d, e: the production elements every label must carry.
REQUIRED_FIELDS: Final = ("Label", "ContentProducer", "ProduceID")
_OPTIONAL_FIELDS: Final = tuple(f for f in AIGC_FIELDS if f not in REQUIRED_FIELDS)

# GB 45438-2025 Annex E j: values should mainly be GB 18030 single-byte printable characters
# 0x21, 0x23-0x5B, 0x5D-0x7E (no space, no double quote, no backslash, nothing outside ASCII).
_PRINTABLE: Final = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]*")

# TC260-PG-20252A service provider code (labels.md §4.2): "00" + subject-type digit + binding digit
# + 18-character Unified Social Credit Code + service-type digit + 4-character model/app code.
PROVIDER_CODE: Final = re.compile(
    r"00(?P<subject>[0-9])(?P<binding>[0-9])(?P<uscc>[0-9A-HJ-NPQRTUWXY]{18})(?P<service>[0-9])(?P<app>[0-9A-Z]{4})"
)
PROVIDER_CODE_LENGTH: Final = 27
_GENERATION_SERVICE: Final = "1"  # TC260-PG-20252A: 1 = generation, 2 = distribution

_EVIDENCE_CHARS: Final = 80


@dataclass(frozen=True, slots=True)
class ImplicitLabelCheck:
    """What the declared implicit label says and what is wrong with it."""

    findings: tuple[LabelFinding, ...]
    declared: bool
    # The AIGC attribute (Annex E c) when Label is readable as 1, 2 or 3 (string or number).
    attribute: AigcAttribute | None = None
    # True when no violation was found.
    valid: bool = False
    # ContentProducer, ProduceID, ReservedCode1 of a valid label, for the propagator to copy.
    production_elements: Mapping[str, str] = field(default_factory=dict)
    evidence: str | None = None


def check_implicit_label(event: ContentEvent) -> ImplicitLabelCheck:
    """Judges ``event.implicit_label`` against GB 45438-2025 Annex E and TC260-PG-20252A."""
    if event.implicit_label is None:
        # Deep Synthesis Provisions Art. 16; Labeling Measures Art. 5: every generated content is labeled.
        missing = finding("implicit_label_missing", "no implicit label (AIGC metadata) was declared")
        return ImplicitLabelCheck(findings=(missing,), declared=False)
    label, findings = unwrap_label(event.implicit_label)
    return check_label_record(label, event_producer=event.producer.provider_code, findings=findings)


def check_label_record(
    label: Mapping[str, Any],
    *,
    event_producer: str | None,
    findings: list[LabelFinding] | None = None,
    where: str | None = None,
) -> ImplicitLabelCheck:
    """Judges one unwrapped seven-element record, declared in the event or read from a file (``where``).

    A record read from a file gets ``where`` (its location in the file) in front of every message.
    """
    findings = list(findings or [])
    attribute, label_findings = _check_attribute(label)
    findings += label_findings
    findings += _check_required_strings(label)
    findings += _check_optional_strings(label)
    findings += _check_printable(label)
    findings += _check_unknown_keys(label)
    findings += _check_provider_code(label.get("ContentProducer"))
    findings += _check_propagation(label)
    findings += _check_producer_match(label.get("ContentProducer"), event_producer)
    valid = not any(f.severity == "violation" for f in findings)
    evidence = _evidence(label)
    if valid and where is None:
        findings.append(
            finding("implicit_label_present", "a valid implicit label was declared", evidence=evidence)
        )
    if where is not None:
        findings = [replace(f, message=f"file label at {where}: {f.message}") for f in findings]
    return ImplicitLabelCheck(
        findings=tuple(findings),
        declared=True,
        attribute=attribute,
        valid=valid,
        production_elements=_production_elements(label) if valid else {},
        evidence=evidence,
    )


def unwrap_label(label: dict[str, Any]) -> tuple[dict[str, Any], list[LabelFinding]]:
    # GB 45438-2025 Annex E b shows {"AIGC": {...}}; practice guides store the bare object. Accept both
    # (labels.md §7.1).
    inner = label.get("AIGC")
    if len(label) == 1 and isinstance(inner, dict):
        note = finding("implicit_label_wrapped", 'the label was sent inside {"AIGC": {...}}', field="AIGC")
        return inner, [note]
    return label, []


def _check_attribute(label: Mapping[str, Any]) -> tuple[AigcAttribute | None, list[LabelFinding]]:
    value = label.get("Label")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, []  # reported by _check_required_strings
    if isinstance(value, str):
        if value in _ATTRIBUTES:
            return _ATTRIBUTES[value], []
        # GB 45438-2025 Annex E c: only "1", "2", "3" (e.g. "AIGC" or "4" are seen in the wild).
        return None, [_invalid("Label", value, 'Label must be "1", "2" or "3"')]
    if isinstance(value, int) and not isinstance(value, bool) and str(value) in _ATTRIBUTES:
        # labels.md §4.6: real writers emit Label as a number; accept its value, note the type.
        note = finding(
            "implicit_label_nonstandard_type",
            f'Label is the number {value}, not the string "{value}"',
            field="Label",
            evidence=_short(value),
        )
        return _ATTRIBUTES[str(value)], [note]
    return None, [_invalid("Label", value, 'Label must be the string "1", "2" or "3"')]


def _check_required_strings(label: Mapping[str, Any]) -> list[LabelFinding]:
    findings = []
    for name in REQUIRED_FIELDS:
        value = label.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            # GB 45438-2025 Annex E c, d, e: attribute, producer and content number are mandatory.
            findings.append(finding("implicit_label_missing_field", f"{name} is absent or empty", field=name))
        elif name != "Label" and not isinstance(value, str):
            findings.append(_invalid(name, value, f"{name} must be a string"))
    return findings


def _check_optional_strings(label: Mapping[str, Any]) -> list[LabelFinding]:
    # GB 45438-2025 Annex E f-i: optional, but a string when present (null included: it is not a string).
    return [
        _invalid(name, label[name], f"{name} must be a string")
        for name in _OPTIONAL_FIELDS
        if name in label and not isinstance(label[name], str)
    ]


def _check_printable(label: Mapping[str, Any]) -> list[LabelFinding]:
    # GB 45438-2025 Annex E j: "should mainly consist of" printable single-byte characters: a warning.
    return [
        finding(
            "implicit_label_nonprintable_value",
            f"{name} has characters outside GB 18030 single-byte printable 0x21, 0x23-0x5B, 0x5D-0x7E",
            field=name,
            evidence=_short(value),
        )
        for name in AIGC_FIELDS
        if isinstance(value := label.get(name), str) and not _PRINTABLE.fullmatch(value)
    ]


def _check_unknown_keys(label: Mapping[str, Any]) -> list[LabelFinding]:
    findings = []
    for key in label:
        if key in AIGC_FIELDS:
            continue
        # labels.md §4.6: misspellings such as ReserveCode1, Propagator, PropatorID occur in real writers.
        likely = _likely_element(str(key))
        hint = f"; did you mean {likely}?" if likely else ""
        findings.append(
            finding(
                "implicit_label_unknown_field",
                f"{key!r} is not one of the seven Annex E elements{hint}",
                field=str(key),
            )
        )
    return findings


def _likely_element(key: str) -> str | None:
    """The Annex E element a stray key likely means: same name in another case, part of one, near spelling."""
    folded = key.casefold()
    for name in AIGC_FIELDS:
        if folded == name.casefold():
            return name
    if len(folded) >= 4:
        for name in AIGC_FIELDS:
            if folded in name.casefold():
                return name
    close = difflib.get_close_matches(key, AIGC_FIELDS, n=1, cutoff=0.6)
    return close[0] if close else None


def _check_provider_code(producer: Any) -> list[LabelFinding]:
    if not isinstance(producer, str) or not producer.strip():
        return []
    match = PROVIDER_CODE.fullmatch(producer)
    if match is None:
        # GB 45438-2025 Annex E d allows a name or a code; TC260-PG-20252A defines the code. Bare names
        # ("doubao") occur in real files, so this is a warning.
        return [
            finding(
                "provider_code_malformed",
                f"ContentProducer is not a {PROVIDER_CODE_LENGTH}-character TC260-PG-20252A provider code "
                f"({len(producer)} characters)",
                field="ContentProducer",
                evidence=_short(producer),
            )
        ]
    if match["service"] != _GENERATION_SERVICE:
        return [
            finding(
                "provider_code_not_generation",
                f"ContentProducer's service-type digit is {match['service']}, not 1 (generation)",
                field="ContentProducer",
                evidence=producer,
            )
        ]
    return []


def _check_propagation(label: Mapping[str, Any]) -> list[LabelFinding]:
    propagator, propagate_id = label.get("ContentPropagator"), label.get("PropagateID")
    if not propagator and not propagate_id:
        return []  # GB 45438-2025 Annex E g, h: not yet propagated; empty is fine at first write
    if (propagator, propagate_id) == (label.get("ContentProducer"), label.get("ProduceID")):
        return []  # GB 45438-2025 Annex E Note 1: at first write they equal the production elements
    return [
        finding(
            "implicit_label_propagated",
            "the propagation elements differ from the production elements: an upstream platform relayed it",
            field="ContentPropagator",
            evidence=_short(propagator),
        )
    ]


def _check_producer_match(label_producer: Any, event_producer: str | None) -> list[LabelFinding]:
    if not event_producer or not isinstance(label_producer, str) or not label_producer.strip():
        return []
    if label_producer == event_producer:
        return []
    # Deep Synthesis Provisions Art. 18; Labeling Measures Art. 10: labels must not be forged or tampered.
    return [
        finding(
            "implicit_label_producer_mismatch",
            f"the label names producer {_short(label_producer)} but the event's producer is "
            f"{_short(event_producer)}",
            field="ContentProducer",
            evidence=_short(label_producer),
        )
    ]


def _production_elements(label: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: value if isinstance(value := label.get(name), str) else ""
        for name in ("ContentProducer", "ProduceID", "ReservedCode1")
    }


def _invalid(name: str, value: Any, message: str) -> LabelFinding:
    return finding(
        "implicit_label_invalid_value",
        f"{message}, got {type(value).__name__} {_short(json.dumps(value, ensure_ascii=False))}",
        field=name,
        evidence=_short(value),
    )


def _short(value: Any) -> str:
    """A value for evidence: strings as they are, anything else as JSON; cut to a bounded length."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _EVIDENCE_CHARS else text[: _EVIDENCE_CHARS - 1] + "…"


def _evidence(label: Mapping[str, Any]) -> str:
    shown = {name: label[name] for name in ("Label", "ContentProducer", "ProduceID") if name in label}
    return _short(shown)
