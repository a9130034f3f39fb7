"""The decision's vocabularies, each declared once as a ``Literal`` with its tuple derived from it.

The classifiers' categories and the label checks' severities live with them
(``classifiers/scores.py``, ``classifiers/labels/findings.py``); these are the stream's own.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from classifiers.scores import Category

# Actions from the mildest to the strongest; a decision takes its reasons' strongest action.
Action = Literal["allow", "flag", "block"]
ACTIONS: Final = get_args(Action)
ACTION_RANK: Final[dict[str, int]] = {action: rank for rank, action in enumerate(ACTIONS)}
# A reason's category: a classifier's category, or where else the reason came from.
ReasonCategory = Literal[Category, "label", "consent", "processing", "terms", "account"]
REASON_CATEGORIES: Final = get_args(ReasonCategory)

# Why an event could not be processed. A closed set: it is a metric label and a dead-letter header.
RejectReason = Literal[
    "oversize",
    "invalid_encoding",
    "invalid_json",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "invalid_value",
    "unsupported_version",
    "invalid_media",
    "internal_error",
]
REJECT_REASONS: Final = get_args(RejectReason)

# How one classifier call ended: scored, raised, overran its timeout, or refused at once because the
# classifier counts as hung (too many abandoned calls still running). A metric label.
CallOutcome = Literal["ok", "failed", "timed_out", "refused_hung"]
CALL_OUTCOMES: Final = get_args(CallOutcome)

# How a look at an image's or a video's pixels for the visible label ended (stream.core.pixels). A metric
# label. read: the pixels were decoded and searched; unreadable: they could not be decoded; busy: too many
# reads were pending, so this one was never started; timed_out: the batch stopped waiting; failed: a bug.
PixelOutcome = Literal["read", "unreadable", "busy", "timed_out", "failed"]
PIXEL_OUTCOMES: Final = get_args(PixelOutcome)

# A note on a decision (something the platform should know that is not a reason). A metric label.
NoteCode = Literal["text_truncated", "text_normalised", "classifier_unscored"]
NOTE_CODES: Final = get_args(NoteCode)
