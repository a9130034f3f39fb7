"""The label-compliance verdict on one content event: findings, status, notice, propagation elements.

``check_event_labels`` runs the rules that need only the event (implicit label, explicit label,
biometric consent), derives the label status from the label findings, and the Labeling Measures Art. 6
notice and propagator metadata from what was found. It must not parse media bytes (a later metadata
reader adds its findings), choose actions (the policy does) or know about Kafka.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.labels.codes import FINDING_CODES, finding
from classifiers.labels.consent import check_consent
from classifiers.labels.explicit import check_explicit_label
from classifiers.labels.implicit import check_implicit_label
from classifiers.labels.notice import decide_notice, propagator_metadata
from stream.records import ContentEvent, LabelFinding, LabelStatus, Notice


@dataclass(frozen=True, slots=True)
class LabelReport:
    """Everything the label checks say about one event."""

    findings: tuple[LabelFinding, ...]
    status: LabelStatus
    notice: Notice
    # The seven AIGC fields the platform writes as propagator; None when the notice level is "none".
    propagator_metadata: dict[str, str] | None


def check_event_labels(event: ContentEvent, *, platform_code: str) -> LabelReport:
    """Checks one event's labels; ``platform_code`` is the distributing platform's own provider code."""
    implicit = check_implicit_label(event)
    explicit = check_explicit_label(event)
    consent = check_consent(event)
    notice = decide_notice(event, implicit, explicit)
    metadata = propagator_metadata(event, notice, implicit, platform_code)
    findings = [*implicit.findings, *explicit.findings, *consent]
    if metadata is not None and not platform_code:
        # Labeling Measures Art. 6 last paragraph: the propagator writes its own name or code.
        findings.append(
            finding(
                "propagator_code_unconfigured",
                "the platform's provider code is not configured; ContentPropagator is written empty",
                field="ContentPropagator",
            )
        )
    status = label_status(findings, label_found=implicit.declared or explicit.found)
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
