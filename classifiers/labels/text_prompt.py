"""Finds an explicit text prompt (GB 45438-2025 5.1) inside a piece of text.

A text prompt must contain an AI element ("人工智能" or "AI") and a generation element ("生成" and/or
"合成") and sit at the start, the end or a suitable middle position of the text. This module answers,
lexically: does a short label-like span carry both elements, and where is it. It must not decide whether
a label is required or compliant (``explicit.py`` does), and it cannot tell a label from a prose
sentence that happens to mention AI generation; it narrows that risk by the rules below.

Our choices, not the standard's (it names no distances):

* A candidate span is a bracketed span, a sentence, or (for a sentence over the limit) one of its
  clauses, of at most :data:`MAX_SPAN_CHARS` characters.
* Its position is ``start`` or ``end`` when at most :data:`EDGE_WINDOW_CHARS` letters or digits stand
  before or after it (the nearer edge wins), else ``middle``. 64 matches AigcTotal's ``text_prompt_affix``
  window (labels.md §3) so results compare.
* A span in the middle counts only when bracketed or alone on its line: prose in the middle of an article
  that mentions AI generation is far likelier content than a label.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

MAX_SPAN_CHARS: Final = 40
EDGE_WINDOW_CHARS: Final = 64

# GB 45438-2025 5.1: the AI element. "AI" (any case, half- or full-width) counts only as a word of its own
# or as the acronym AIGC, never inside an English word such as "SAID" or "MAIL".
_LATIN: Final = "A-Za-zＡ-Ｚａ-ｚ"
AI_ELEMENT: Final = re.compile(
    rf"人工智能|(?<![{_LATIN}])[AaＡａ][IiＩｉ](?:[GgＧｇ][CcＣｃ])?(?![{_LATIN}])"
)
# GB 45438-2025 5.1: the generation element.
GENERATION_ELEMENT: Final = re.compile(r"生成|合成")

_OPENERS: Final = "【[（(「『〔《<"
_CLOSERS: Final = "】]）)」』〕》>"
_BRACKETED: Final = re.compile(
    rf"[{re.escape(_OPENERS)}][^{re.escape(_OPENERS + _CLOSERS)}\n]{{1,{MAX_SPAN_CHARS - 2}}}"
    rf"[{re.escape(_CLOSERS)}]"
)
_SENTENCE: Final = re.compile(r"[^。！？!?；;\n]+")
_CLAUSE: Final = re.compile(r"[^，,、：:]+")
_TERMINATORS: Final = " \t\r。！？!?；;"
# A span with one element is label-like only with a provenance cue ("由AI…", "AI创作") or in brackets.
_PROVENANCE_CUE: Final = re.compile(
    rf"由\s*(?:人工智能|[AaＡａ][IiＩｉ](?![{_LATIN}]))"
    r"|(?:人工智能|[AaＡａ][IiＩｉ])\s*(?:创作|制作|绘制|撰写|写作|编写|作画|作图|绘图|辅助|产出|出品|创建|生产)"
)

TextLabelPosition = Literal["start", "end", "middle"]


@dataclass(frozen=True, slots=True)
class TextLabelSpan:
    """A label-like span found in a text, with offsets into that text."""

    text: str
    start: int
    end: int
    position: TextLabelPosition
    # Both elements present (GB 45438-2025 5.1); False: only one, e.g. "由AI创作".
    complete: bool


def has_ai_element(text: str) -> bool:
    return AI_ELEMENT.search(text) is not None


def has_generation_element(text: str) -> bool:
    return GENERATION_ELEMENT.search(text) is not None


def missing_elements(text: str) -> tuple[str, ...]:
    """The GB 45438-2025 5.1 elements a prompt text lacks, named for a finding message."""
    missing = []
    if not has_ai_element(text):
        missing.append("AI element (人工智能/AI)")
    if not has_generation_element(text):
        missing.append("generation element (生成/合成)")
    return tuple(missing)


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    end: int
    bracketed: bool


def find_text_label(text: str) -> TextLabelSpan | None:
    """The first complete label-like span in ``text``, else the first incomplete one, else None."""
    if not has_ai_element(text) and not has_generation_element(text):
        return None  # the common case: nothing to look for
    substantive = _substantive_prefix_counts(text)
    incomplete: TextLabelSpan | None = None
    for candidate in _candidates(text):
        span_text = text[candidate.start : candidate.end]
        ai, generation = has_ai_element(span_text), has_generation_element(span_text)
        if not ai and not generation:
            continue
        position = _position(candidate, substantive)
        if position == "middle" and not (candidate.bracketed or _alone_on_line(text, candidate)):
            continue
        if ai and generation:
            return TextLabelSpan(span_text, candidate.start, candidate.end, position, complete=True)
        if incomplete is None and (candidate.bracketed or _PROVENANCE_CUE.search(span_text)):
            incomplete = TextLabelSpan(span_text, candidate.start, candidate.end, position, complete=False)
    return incomplete


def _candidates(text: str) -> Iterator[_Candidate]:
    """Bracketed spans, short sentences and clauses of long sentences, in text order, without repeats."""
    found: dict[tuple[int, int], _Candidate] = {}
    for match in _BRACKETED.finditer(text):
        found[match.span()] = _Candidate(match.start(), match.end(), bracketed=True)
    for sentence in _SENTENCE.finditer(text):
        if len(sentence.group().strip()) <= MAX_SPAN_CHARS:
            spans = [sentence.span()]
        else:  # a long sentence: its clauses may still hold a label ("……，本文由AI生成")
            base = sentence.start()
            spans = [(base + c.start(), base + c.end()) for c in _CLAUSE.finditer(sentence.group())]
        for raw_start, raw_end in spans:
            start, end = _strip(text, raw_start, raw_end)
            if 0 < end - start <= MAX_SPAN_CHARS:
                found.setdefault((start, end), _Candidate(start, end, bracketed=False))
    return iter(sorted(found.values(), key=lambda c: (c.start, c.end)))


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _substantive_prefix_counts(text: str) -> list[int]:
    """counts[i] = letters and digits in text[:i]; punctuation and spaces do not move a label off an edge."""
    flags = (1 if unicodedata.category(ch)[0] in "LN" else 0 for ch in text)
    return [0, *itertools.accumulate(flags)]


def _position(candidate: _Candidate, substantive: list[int]) -> TextLabelPosition:
    before = substantive[candidate.start]
    after = substantive[-1] - substantive[candidate.end]
    if min(before, after) > EDGE_WINDOW_CHARS:
        return "middle"
    return "start" if before <= after else "end"


def _alone_on_line(text: str, candidate: _Candidate) -> bool:
    line_start = text.rfind("\n", 0, candidate.start) + 1
    line_end = text.find("\n", candidate.end)
    line_end = len(text) if line_end == -1 else line_end
    before = text[line_start : candidate.start].strip(_TERMINATORS)
    after = text[candidate.end : line_end].strip(_TERMINATORS)
    return not before and not after
