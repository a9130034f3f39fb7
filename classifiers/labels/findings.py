"""What a label check returns: findings citing the clause they implement, the label status they add
up to, and the notice the platform must show. ``stream/`` builds decisions from these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

Severity = Literal["violation", "warning", "info"]
SEVERITIES: Final = get_args(Severity)
LabelStatus = Literal["compliant", "noncompliant", "not_found", "inconclusive"]
LABEL_STATUSES: Final = get_args(LabelStatus)
NoticeLevel = Literal["confirmed", "possible", "suspected", "none"]
NOTICE_LEVELS: Final = get_args(NoticeLevel)


@dataclass(frozen=True, slots=True)
class LabelFinding:
    """One result of a label-compliance rule, citing the clause it implements."""

    code: str
    severity: Severity
    article: str
    message: str
    field: str | None = None
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """The prompt the platform must show around the content (Labeling Measures Art. 6)."""

    level: NoticeLevel
    text: str | None
    basis: str
