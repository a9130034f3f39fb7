"""The label-compliance verdict on one content event: findings, status, notice, propagation elements.

``check_event_labels`` runs the rules on what the event declares (implicit label, explicit label,
biometric consent) and on what its media bytes carry (``file_labels``: GB 45438 metadata, signature,
C2PA, IPTC), derives the label status from the label findings, and the Labeling Measures Art. 6 notice
and propagator metadata from what was found. A label read from the file outranks the declared one for
the notice: the file is what the platform distributes. It must not parse bytes itself (the readers do),
choose actions (the policy does) or know about Kafka.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from classifiers.content import ContentEvent
from classifiers.labels.codes import FINDING_CODES, finding
from classifiers.labels.consent import check_consent
from classifiers.labels.explicit import check_explicit_label
from classifiers.labels.file_labels import check_file_labels
from classifiers.labels.findings import LabelFinding, LabelStatus, Notice
from classifiers.labels.implicit import check_implicit_label
from classifiers.labels.notice import decide_notice, propagator_metadata


@dataclass(frozen=True, slots=True)
class LabelReport:
    """Everything the label checks say about one event."""

    findings: tuple[LabelFinding, ...]
    status: LabelStatus
    notice: Notice
    # The seven AIGC fields the platform writes as propagator; None when the notice level is "none".
    propagator_metadata: dict[str, str] | None


def check_event_labels(
    event: ContentEvent,
    *,
    platform_code: str,
    signing_keys: Mapping[str, str] | None = None,
    c2pa_trust_anchors: str | None = None,
) -> LabelReport:
    """Checks one event's labels; ``platform_code`` is the distributing platform's own provider code.

    ``signing_keys`` maps producer codes to their SM2 public keys (label signatures are verified against
    these only); ``c2pa_trust_anchors`` is PEM text of the C2PA signers to trust.
    """
    implicit = check_implicit_label(event)
    explicit = check_explicit_label(event)
    consent = check_consent(event)
    in_file = check_file_labels(event, signing_keys=signing_keys, c2pa_trust_anchors=c2pa_trust_anchors)
    implicit_findings = list(implicit.findings)
    effective = implicit
    if in_file is not None and in_file.found:
        if not implicit.declared:
            # The file carries the label the event did not repeat: the label exists (GB 45438-2025 6.1).
            implicit_findings = [f for f in implicit_findings if f.code != "implicit_label_missing"]
        if in_file.record is not None and in_file.record.attribute is not None:
            effective = in_file.record
    notice = decide_notice(event, effective, explicit)
    metadata = propagator_metadata(event, notice, effective, platform_code)
    file_findings = in_file.findings if in_file is not None else ()
    findings = [*implicit_findings, *file_findings, *explicit.findings, *consent]
    if metadata is not None and not platform_code:
        # Labeling Measures Art. 6 last paragraph: the propagator writes its own name or code.
        findings.append(
            finding(
                "propagator_code_unconfigured",
                "the platform's provider code is not configured; ContentPropagator is written empty",
                field="ContentPropagator",
            )
        )
    found_in_file = in_file is not None and in_file.found
    status = label_status(findings, label_found=implicit.declared or explicit.found or found_in_file)
    if status == "not_found" and in_file is not None and not in_file.complete:
        status = "inconclusive"  # part of the file could not be read: a label there is not ruled out
    return LabelReport(findings=tuple(findings), status=status, notice=notice, propagator_metadata=metadata)


def label_status(findings: Sequence[LabelFinding], *, label_found: bool) -> LabelStatus:
    """The label status from the label findings; consent findings do not count.

    "not_found" is not "compliant": with no label declared or found there is nothing to approve.
    """
    if not label_found:
        return "not_found"
    label_findings = [f for f in findings if FINDING_CODES[f.code].category == "label"]
    if any(f.severity == "violation" for f in label_findings):
        return "noncompliant"
    if any(FINDING_CODES[f.code].undecided for f in label_findings):
        return "inconclusive"
    return "compliant"
