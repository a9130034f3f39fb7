"""Checks the separate consent of people whose face or voice was edited (Deep Synthesis Provisions Art. 14).

Which service types edit a real person's face or voice comes from the rule table
(``service_types.py``); the consent itself is what the producer declared per depicted person. This
module must not guess who is depicted from the media, and its findings never decide the label status
(they are reported under the consent category).
"""

from __future__ import annotations

from classifiers.content import ContentEvent
from classifiers.labels.codes import finding
from classifiers.labels.findings import LabelFinding
from classifiers.labels.service_types import SERVICE_RULES, needs_separate_consent


def check_consent(event: ContentEvent) -> tuple[LabelFinding, ...]:
    """Findings on the depicted persons' separate consent; empty when the service edits no one."""
    if not needs_separate_consent(event.service_type):
        return ()
    service = SERVICE_RULES[event.service_type].summary
    persons = event.depicted_persons
    if not persons:
        # Deep Synthesis Provisions Art. 14: consent cannot be shown when no person is declared.
        return (
            finding(
                "biometric_consent_unknown",
                f"{service}: no depicted person and no consent declared",
                field="depicted_persons",
            ),
        )
    findings = []
    for index, person in enumerate(persons):
        who = person.person_ref or f"depicted_persons[{index}]"
        if person.consent is False:
            # Deep Synthesis Provisions Art. 14: the edited person's separate consent (单独同意) is required.
            findings.append(
                finding(
                    "biometric_edit_without_consent",
                    f"{service}: {who} has not consented to the editing",
                    field=f"depicted_persons[{index}].consent",
                    evidence=who,
                )
            )
        elif person.consent is None:
            findings.append(
                finding(
                    "biometric_consent_unknown",
                    f"{service}: consent of {who} is unknown",
                    field=f"depicted_persons[{index}].consent",
                    evidence=who,
                )
            )
    if not findings:
        findings.append(
            finding(
                "biometric_consent_recorded",
                f"{service}: separate consent recorded for {len(persons)} depicted person(s)",
                field="depicted_persons",
            )
        )
    return tuple(findings)
