"""Separate consent to face or voice editing: Deep Synthesis Provisions Art. 14."""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.labels.consent import check_consent
from tests.fixtures.labels import build_event, codes

EDITING_SERVICES = ["voice_cloning", "face_swap", "face_pose_manipulation"]


def consent_codes(service_type: str, persons: list[dict[str, Any]] | None) -> list[str]:
    fields: dict[str, Any] = {"service_type": service_type, "content_type": "video"}
    if persons is not None:
        fields["depicted_persons"] = persons
    return codes(check_consent(build_event(**fields)))


@pytest.mark.parametrize("service_type", EDITING_SERVICES)
def test_biometric_edit_without_consent(service_type: str) -> None:
    """Provisions Art. 14: an edited person who refused consent is a violation."""
    persons = [{"person_ref": "p-1", "consent": True}, {"person_ref": "p-2", "consent": False}]
    findings = check_consent(build_event(service_type=service_type, depicted_persons=persons))
    assert codes(findings) == ["biometric_edit_without_consent"]
    assert findings[0].severity == "violation" and findings[0].evidence == "p-2"
    assert findings[0].article == "Deep Synthesis Provisions Art. 14"


@pytest.mark.parametrize("service_type", EDITING_SERVICES)
@pytest.mark.parametrize("persons", [None, [], [{"consent": None}], [{"consent": True}, {"consent": None}]])
def test_biometric_consent_unknown(service_type: str, persons: Any) -> None:
    """Provisions Art. 14: no declared person, or a person with unknown consent, is a warning."""
    assert consent_codes(service_type, persons) == ["biometric_consent_unknown"]


@pytest.mark.parametrize("service_type", EDITING_SERVICES)
def test_biometric_consent_recorded(service_type: str) -> None:
    """Provisions Art. 14: everyone's consent recorded is reported as info."""
    persons: list[dict[str, Any]] = [{"person_ref": "p-1", "consent": True}, {"consent": True}]
    assert consent_codes(service_type, persons) == ["biometric_consent_recorded"]


@pytest.mark.parametrize(
    "service_type", ["face_generation", "voice_synthesis", "image_video_generation", "other"]
)
def test_biometric_consent_not_checked_without_editing_of_a_person(service_type: str) -> None:
    """Provisions Art. 14 covers editing a real person's face or voice, not generating new ones."""
    assert consent_codes(service_type, [{"consent": False}]) == []
