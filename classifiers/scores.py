"""What a text classifier returns: a calibrated score per category and the spans that drove it.
``stream/`` builds decision reasons from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal, get_args

# The risk categories every text classifier scores, in the order of the model's heads.
Category = Literal["rumor", "vulgar", "impersonation"]
CATEGORIES: Final = get_args(Category)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Characters ``text[start:end]`` of the event's text (end exclusive) that raised a category's score;
    ``weight`` is their share of the score's logit, for ranking spans against each other."""

    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True, slots=True)
class ClassifierOutput:
    """What a text classifier returns for one text: a score in [0, 1] per category, and whether the
    text was cut to the model's maximum length (``tokens`` counts the text, or a long text's start).
    ``evidence`` gives, per category, the spans that drove its score (strongest first), where the
    classifier can tell."""

    scores: dict[str, float]
    truncated: bool = False
    tokens: int = 0
    evidence: dict[str, tuple[Evidence, ...]] = field(default_factory=dict)
