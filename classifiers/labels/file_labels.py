"""Checks the labels carried by the content's own bytes: GB 45438 metadata, its signature, C2PA and IPTC.

Labeling Measures Art. 6 makes the distributing platform check the implicit label in the file it
distributes, and Deep Synthesis Provisions Art. 18 forbids stripping or forging it; what the event
declares is only the producer's word. This module reads the media bytes an event carries
(``classifiers.labels.media``), judges the label found there with the same rules as a declared one
(``implicit.check_label_record``), compares the two, checks the SM2 signature and the C2PA / IPTC
provenance claims, and returns findings. It must not choose actions (the policy does), decide the
notice (``notice.py``) or raise on hostile files (the readers return problems instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from classifiers.content import ContentEvent
from classifiers.labels.codes import finding
from classifiers.labels.findings import LabelFinding
from classifiers.labels.implicit import ImplicitLabelCheck, check_label_record, unwrap_label
from classifiers.labels.media import read_media
from classifiers.labels.media.base import DEFAULT_LIMITS, Extraction, FoundLabel, Limits
from classifiers.labels.media.c2pa_manifest import C2paReport, read_c2pa
from classifiers.labels.security_data import check_security_data

# Forms that are the standard's own (wrapped is the Annex E sample, bare is the XMP/ilst form) or that
# the record rules already report (a numeric Label).
# Markdown front matter (a YAML mapping) is the text guide's own form (labels.md §4.3).
_STANDARD_FORMS: Final = frozenset({"wrapped", "bare", "numeric_label", "yaml"})
_COMPARED: Final = ("Label", "ContentProducer", "ProduceID")


@dataclass(frozen=True, slots=True)
class FileLabelCheck:
    """What the content's bytes say about its labels."""

    findings: tuple[LabelFinding, ...]
    extraction: Extraction
    # The first readable AIGC record in the file, judged; None when the file carries none.
    record: ImplicitLabelCheck | None
    found: bool  # the file carries at least one AIGC field (readable or not)
    complete: bool  # the whole file was read: "no label" is then a fact, not a guess
    ai_claim: bool  # C2PA or IPTC metadata says generative AI made it
    c2pa: C2paReport | None = None


def check_file_labels(
    event: ContentEvent,
    *,
    signing_keys: Mapping[str, str] | None = None,
    c2pa_trust_anchors: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> FileLabelCheck | None:
    """Reads and judges the labels in ``event.media.data``; None when the event carries no media bytes."""
    media = event.media
    if media is None or media.data is None:
        return None
    extraction = read_media(media.data, media.mime_type, limits)
    c2pa = None
    if extraction.c2pa_locations:
        c2pa = read_c2pa(media.data, media.mime_type, trust_anchors_pem=c2pa_trust_anchors, limits=limits)
    findings: list[LabelFinding] = []
    complete = True
    for problem in extraction.problems:
        if problem.code == "unparseable_label":
            continue  # reported per record below
        if problem.code == "mime_mismatch":
            continue  # the bytes were read as what they are; the format is in the evidence
        if problem.code == "label_changed":
            # Deep Synthesis Provisions Art. 18: an earlier revision of the file had another label.
            findings.append(finding("file_label_altered", problem.detail, evidence=problem.location))
            continue
        complete = False
        findings.append(
            finding(
                "media_unreadable",
                f"{extraction.format} reader: {problem.code}: {problem.detail}",
                evidence=problem.location,
            )
        )

    records = extraction.labels
    for label in records:
        if label.record is None:
            findings.append(
                finding(
                    "file_label_unparseable",
                    f"the AIGC field at {label.location} is not a JSON object ({label.error})",
                    evidence=label.raw[:80],
                )
            )
        if odd := [v for v in label.variants if v not in _STANDARD_FORMS]:
            findings.append(
                finding(
                    "file_label_nonstandard_form",
                    f"the label at {label.location} is in a non-standard form: {', '.join(odd)}",
                    evidence=label.location,
                )
            )
    if len(records) > 1:
        # GB 45438-2025 6.1 c: a file carries one file-metadata implicit label.
        places = ", ".join(label.location for label in records[:8])
        findings.append(
            finding("file_label_duplicate", f"{len(records)} implicit labels in the file: {places}")
        )

    readable = [label for label in records if label.record is not None]
    judged: ImplicitLabelCheck | None = None
    if readable:
        first = readable[0]
        assert first.record is not None
        judged = check_label_record(
            first.record, event_producer=event.producer.provider_code, where=first.location
        )
        findings.append(
            finding(
                "file_label_present",
                f"the file carries an implicit label at {first.location}",
                evidence=judged.evidence,
            )
        )
        findings += judged.findings
        findings += _mismatch(event, first)
        findings += _signature(first.record, signing_keys or {})

    ai_sources = [s.term for s in extraction.source_types if s.is_ai]
    if c2pa is not None:
        findings += _c2pa_findings(c2pa)
        if c2pa.ai_generated:
            ai_sources += [s.term for s in c2pa.source_types if s.is_ai]
    if ai_sources:
        terms = ", ".join(sorted(set(ai_sources)))
        findings.append(finding("provenance_ai_claim", f"provenance metadata says generative AI: {terms}"))
        if not records:
            findings.append(
                finding(
                    "provenance_ai_without_implicit_label",
                    f"C2PA/IPTC metadata claims {terms}, but the file has no GB 45438 implicit label",
                )
            )
    if not records and complete:
        # Deep Synthesis Provisions Art. 16, GB 45438-2025 6.1: the file metadata carries the label.
        findings.append(
            finding("file_label_missing", f"the {extraction.format} file carries no AIGC metadata label")
        )
    return FileLabelCheck(
        findings=tuple(findings),
        extraction=extraction,
        record=judged,
        found=bool(records),
        complete=complete,
        ai_claim=bool(ai_sources),
        c2pa=c2pa,
    )


def _mismatch(event: ContentEvent, found: FoundLabel) -> list[LabelFinding]:
    """Deep Synthesis Provisions Art. 18: the file's label must be the one the producer declares."""
    declared = event.implicit_label
    if declared is None or found.record is None:
        return []
    declared, _ = unwrap_label(declared)
    differing = [name for name in _COMPARED if _normal(declared.get(name)) != _normal(found.record.get(name))]
    if not differing:
        return []
    shown = "; ".join(
        f"{name}: event {_normal(declared.get(name))!r}, file {_normal(found.record.get(name))!r}"
        for name in differing
    )
    return [
        finding(
            "file_label_mismatch",
            f"the label at {found.location} differs from the declared label ({shown})"[:400],
            field=differing[0],
        )
    ]


def _normal(value: Any) -> str:
    # A numeric Label 1 and the string "1" state the same attribute (the record rules flag the type).
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    return str(value).strip()


def _signature(record: Mapping[str, Any], signing_keys: Mapping[str, str]) -> list[LabelFinding]:
    check = check_security_data(record, signing_keys=signing_keys)
    if check is None:
        return []
    if check.status == "verified":
        return [finding("file_label_signature_verified", check.detail, field="ReservedCode1")]
    if check.status in ("failed", "malformed"):
        return [finding("file_label_signature_invalid", check.detail, field="ReservedCode1")]
    return [finding("file_label_signature_unverified", check.detail, field="ReservedCode1")]


def _c2pa_findings(report: C2paReport) -> list[LabelFinding]:
    if report.error is not None:
        return [finding("media_unreadable", f"C2PA manifest could not be checked: {report.error}")]
    if not report.intact:
        codes = ", ".join(report.failure_codes[:5])
        return [finding("c2pa_manifest_invalid", f"the C2PA manifest does not validate: {codes}")]
    return []
