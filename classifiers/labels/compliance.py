"""The label-compliance verdicts on one content event: findings, the implicit and the explicit label's own
verdicts and the overall status, notice, propagation elements.

``check_event_labels`` runs the rules on what the event declares (implicit label, explicit label,
biometric consent), on what its media bytes carry (``file_labels``: GB 45438 metadata, signature,
C2PA, IPTC) and on what its pixels show (``pixels.check_visible_label``, when they were read). It
derives each label's verdict from the findings that judge it (``FindingCode.judges``) and the overall
status from all of them, and the Labeling Measures Art. 6 notice and propagator metadata from what was
found. A label read from the file outranks the declared one for the notice: the file is what the
platform distributes. It must not parse bytes or pixels itself (the readers do), choose actions (the
policy does) or know about Kafka.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from classifiers.content import ContentEvent
from classifiers.labels.codes import FINDING_CODES, finding
from classifiers.labels.consent import check_consent
from classifiers.labels.explicit import check_explicit_label
from classifiers.labels.file_labels import check_file_labels
from classifiers.labels.findings import LabelFinding, LabelStatus, Notice
from classifiers.labels.implicit import check_implicit_label
from classifiers.labels.notice import decide_notice, propagator_metadata

if TYPE_CHECKING:  # the OCR engine loads only when pixels were read
    from classifiers.labels.pixels import PixelReading


@dataclass(frozen=True, slots=True)
class LabelReport:
    """Everything the label checks say about one event: each label's own verdict and the overall one."""

    findings: tuple[LabelFinding, ...]
    # The implicit label's verdict: the AIGC metadata declared in the event or read from the file, and
    # the C2PA / IPTC provenance beside it.
    implicit_status: LabelStatus
    # The explicit label's verdict: the prompt a person sees or hears (declared, in the text, in pixels).
    explicit_status: LabelStatus
    # Both labels and the platform's own duties together (consent findings do not count).
    status: LabelStatus
    notice: Notice
    # The seven AIGC fields the platform writes as propagator; None when the notice level is "none".
    propagator_metadata: dict[str, str] | None


# Findings that say the implicit label is there but cannot be relied on for the notice: it is malformed
# (an Annex E element missing or invalid), duplicated, unreadable, or altered or forged (Deep Synthesis
# Provisions Art. 18). A valid label's warnings (a numeric Label, a bare provider name) do not count.
_UNRELIABLE: Final = frozenset(
    {
        "implicit_label_missing_field",
        "implicit_label_invalid_value",
        "file_label_unparseable",
        "file_label_duplicate",
        "file_label_mismatch",
        "file_label_altered",
        "file_label_signature_invalid",
    }
)


# Findings of the declaration that a label seen in the pixels settles: it is there, and its size,
# position and duration were measured.
_MEASURED_WHEN_SEEN: Final = frozenset(
    {
        "explicit_label_missing",
        "explicit_label_size_unknown",
        "explicit_label_position_unknown",
        "explicit_label_duration_unknown",
    }
)


def check_event_labels(
    event: ContentEvent,
    *,
    platform_code: str,
    signing_keys: Mapping[str, str] | None = None,
    c2pa_trust_anchors: str | None = None,
    seen: PixelReading | None = None,
) -> LabelReport:
    """Checks one event's labels; ``platform_code`` is the distributing platform's own provider code.

    ``signing_keys`` maps producer codes to their SM2 public keys (label signatures are verified against
    these only); ``c2pa_trust_anchors`` is PEM text of the C2PA signers to trust. ``seen`` is what the
    pixels of an image or video show (``classifiers.labels.pixels``); None when they were not looked at.
    """
    implicit = check_implicit_label(event)
    explicit = check_explicit_label(event)
    explicit_findings = list(explicit.findings)
    seen_label = None
    if seen is not None:
        from classifiers.labels.pixels import check_visible_label

        seen_findings = check_visible_label(event, seen)
        complete = [label for label in seen.labels if label.complete]
        if complete:
            seen_label = complete[0].text
            # The label is on the content, whatever the event declared; what the pixels measured
            # replaces the facts the declaration lacked.
            explicit_findings = [f for f in explicit_findings if f.code not in _MEASURED_WHEN_SEEN]
        elif seen.problem is not None:
            # Pixels not read: a label on them is not ruled out, as for a file read in part.
            explicit_findings = [f for f in explicit_findings if f.code != "explicit_label_missing"]
        explicit_findings += seen_findings
    consent = check_consent(event)
    in_file = check_file_labels(event, signing_keys=signing_keys, c2pa_trust_anchors=c2pa_trust_anchors)
    implicit_findings = list(implicit.findings)
    effective = implicit
    found_in_file = in_file is not None and in_file.found
    if in_file is not None and in_file.found:
        if not implicit.declared:
            # The file carries the label the event did not repeat: the label exists (GB 45438-2025 6.1).
            implicit_findings = [f for f in implicit_findings if f.code != "implicit_label_missing"]
        if in_file.record is not None and in_file.record.attribute is not None:
            effective = in_file.record
    file_findings = in_file.findings if in_file is not None else ()
    findings = [*implicit_findings, *file_findings, *explicit_findings, *consent]
    unreliable = [f for f in findings if f.code in _UNRELIABLE]
    ai_claim = in_file is not None and in_file.ai_claim
    notice = decide_notice(
        event,
        effective,
        explicit,
        unreliable=unreliable[0] if unreliable else None,
        ai_provenance=ai_claim and not found_in_file and not implicit.declared,
        seen_label=seen_label,
    )
    metadata = propagator_metadata(event, notice, effective, platform_code)
    if metadata is not None and not platform_code:
        # Labeling Measures Art. 6 last paragraph: the propagator writes its own name or code.
        findings.append(
            finding(
                "propagator_code_unconfigured",
                "the platform's provider code is not configured; ContentPropagator is written empty",
                field="ContentPropagator",
            )
        )
    # AI provenance without a GB label is a label that is there and wrong, not no label at all.
    implicit_found = implicit.declared or found_in_file or ai_claim
    file_incomplete = in_file is not None and not in_file.complete
    implicit_status = label_status(
        [f for f in findings if FINDING_CODES[f.code].judges == "implicit"],
        label_found=implicit_found,
        unread_part=file_incomplete,
    )
    explicit_found = explicit.found or bool(seen is not None and seen.labels)
    # Pixels that could not be read leave a label on them possible: "inconclusive", as for an unread file.
    pixels_unread = seen is not None and seen.problem is not None
    explicit_status = label_status(
        [f for f in findings if FINDING_CODES[f.code].judges == "explicit"],
        label_found=explicit_found,
        unread_part=pixels_unread,
    )
    status = label_status(
        findings, label_found=implicit_found or explicit_found, unread_part=file_incomplete or pixels_unread
    )
    return LabelReport(
        findings=tuple(findings),
        implicit_status=implicit_status,
        explicit_status=explicit_status,
        status=status,
        notice=notice,
        propagator_metadata=metadata,
    )


def label_status(
    findings: Sequence[LabelFinding], *, label_found: bool, unread_part: bool = False
) -> LabelStatus:
    """The label status from the label findings; consent findings do not count.

    "not_found" is not "compliant": with no label declared or found there is nothing to approve. With
    part of the file unread (``unread_part``) a label there is not ruled out: "inconclusive" instead.
    """
    if not label_found:
        return "inconclusive" if unread_part else "not_found"
    label_findings = [f for f in findings if FINDING_CODES[f.code].category == "label"]
    if any(f.severity == "violation" for f in label_findings):
        return "noncompliant"
    if any(FINDING_CODES[f.code].undecided for f in label_findings):
        return "inconclusive"
    return "compliant"
