"""Custom term lists of a policy: block, review and allow lists with AND/NOT rules, matched with spans.

Trust-and-safety teams keep their own term lists (like the custom libraries of Alibaba Cloud's content
moderation). A policy file holds them under ``term_lists:``; this module validates the already-loaded
YAML data, compiles every term of every list into one Aho-Corasick automaton, and matches a text in a
single pass, reporting which lists fired and where, in offsets of the original text.

Terms and texts are normalised the same way, one character at a time: NFKC, then casefold, so that
full-width Latin and digits match half-width and upper case matches lower case; zero-width characters
are dropped from both, so that "安\u200b全账户" still matches 安全账户.

This module neither reads files nor decides actions: ``stream.core.policy`` imports it, wraps
:class:`TermListError` in its own error and weighs the matches against the other findings.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import ahocorasick

from classifiers.scores import CATEGORIES
from stream.core.vocab import Action

DEFAULT_CATEGORY: Final = "terms"
# "review" is what other moderation services call a list whose hits go to a human: our flag.
ACTION_ALIASES: Final[Mapping[str, Action]] = {
    "block": "block",
    "flag": "flag",
    "allow": "allow",
    "review": "flag",
}
# Zero-width characters inserted between the characters of a term are a common evasion.
ZERO_WIDTH: Final = frozenset("\u200b\u200c\u200d\ufeff\u2060")
MAX_TERM_CHARS: Final = 100
MAX_TERMS: Final = 50_000
# A term such as 的 can occur thousands of times in a long text; the decision only needs a few.
MAX_SPANS_PER_LIST: Final = 20

_LIST_KEYS: Final = frozenset({"name", "action", "category", "terms", "rules"})
_RULE_KEYS: Final = ("all", "any", "none")


class TermListError(ValueError):
    """Term lists that cannot be used; the message says which key is wrong and why."""


@dataclass(frozen=True, slots=True)
class Span:
    """One occurrence of ``term`` at ``text[start:end]`` of the original (not normalised) text."""

    term: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class TermRule:
    """An AND/NOT rule: fires when every ``all`` term, one ``any`` term and no ``none`` term occurs."""

    all: tuple[str, ...]
    any: tuple[str, ...]
    none: tuple[str, ...]

    def describe(self) -> str:
        parts = [f"{key} [{', '.join(terms)}]" for key, terms in self._groups() if terms]
        return ", ".join(parts)

    def _groups(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return (("all", self.all), ("any", self.any), ("none", self.none))


@dataclass(frozen=True, slots=True)
class TermList:
    """One list as the policy wrote it, terms spelled as written (normalisation is for matching only)."""

    name: str
    action: Action
    category: str
    terms: tuple[str, ...]
    rules: tuple[TermRule, ...]


@dataclass(frozen=True, slots=True)
class TermMatch:
    """A list that fired on a text, and the spans that made it fire.

    ``rule`` is the index of the rule that fired (as in ``rules[i]``), or None when plain terms did;
    when both did, the plain terms are reported, as the simpler explanation.
    """

    name: str
    action: Action
    category: str
    spans: tuple[Span, ...]
    rule: int | None
    term_rule: TermRule | None

    def describe(self) -> str:
        """A short English explanation for a decision, e.g. ``term list X (block): 公检法 at 12-15``."""
        head = f"term list {self.name} ({self.action})"
        if self.term_rule is not None:
            head += f", rules[{self.rule}]: {self.term_rule.describe()}"
        shown = ", ".join(f"{s.term} at {s.start}-{s.end}" for s in self.spans[:3])
        more = f" and {len(self.spans) - 3} more" if len(self.spans) > 3 else ""
        return f"{head}: {shown}{more}"


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    all: tuple[int, ...]
    any: tuple[int, ...]
    none: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _CompiledList:
    terms: tuple[int, ...]
    rules: tuple[_CompiledRule, ...]
    # Term id -> the term as this list spells it, for spans.
    spelling: Mapping[int, str]


@dataclass(frozen=True, slots=True, eq=False)
class TermLists:
    """The compiled term lists of one policy. Built once by :func:`parse_term_lists`.

    Nothing is changed after the build: a match keeps its state in local variables and in the
    automaton's own iterator object, so one instance can serve a worker's texts one after another.
    """

    lists: tuple[TermList, ...]
    _compiled: tuple[_CompiledList, ...]
    _automaton: Any  # ahocorasick.Automaton, None when there are no lists
    _term_lengths: tuple[int, ...]  # normalised length of each term id

    def match(self, text: str) -> tuple[TermMatch, ...]:
        """The lists that fire on ``text``, in list order; one pass over the text whatever the lists."""
        if self._automaton is None:
            return ()
        normalised, origin = normalise(text)
        found: dict[int, list[tuple[int, int]]] = {}
        for last, term_id in self._automaton.iter(normalised):
            found.setdefault(term_id, []).append((last - self._term_lengths[term_id] + 1, last + 1))
        if not found:
            return ()
        matches = []
        for term_list, compiled in zip(self.lists, self._compiled, strict=True):
            fired = _fire(compiled, found)
            if fired is None:
                continue
            rule, term_ids = fired
            spans = _spans(term_ids, compiled.spelling, found, text, origin)
            matches.append(
                TermMatch(
                    name=term_list.name,
                    action=term_list.action,
                    category=term_list.category,
                    spans=spans,
                    rule=rule,
                    term_rule=None if rule is None else term_list.rules[rule],
                )
            )
        return tuple(matches)


def normalise(text: str) -> tuple[str, list[int]]:
    """The text as matched, and for each of its characters the index of the original character.

    One original character may give several (㈱ gives "(株)") or none (zero-width characters), so the
    map is what turns a match back into a span of the original text.
    """
    folded = {ch: _fold(ch) for ch in set(text)}
    pieces: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        piece = folded[ch]
        pieces.append(piece)
        if len(piece) == 1:
            origin.append(index)
        elif piece:
            origin.extend([index] * len(piece))
    return "".join(pieces), origin


def _fold(ch: str) -> str:
    if ch in ZERO_WIDTH:
        return ""
    return "".join(c for c in unicodedata.normalize("NFKC", ch).casefold() if c not in ZERO_WIDTH)


def _fire(compiled: _CompiledList, found: Mapping[int, object]) -> tuple[int | None, list[int]] | None:
    """Which part of a list fired (None for plain terms, else the rule index) and its terms that occurred."""
    if hits := [t for t in compiled.terms if t in found]:
        return None, hits
    for index, rule in enumerate(compiled.rules):
        if not all(t in found for t in rule.all):
            continue
        anys = [t for t in rule.any if t in found]
        if rule.any and not anys:
            continue
        if any(t in found for t in rule.none):
            continue
        return index, [*rule.all, *anys]
    return None


def _spans(
    term_ids: Sequence[int],
    spelling: Mapping[int, str],
    found: Mapping[int, list[tuple[int, int]]],
    text: str,
    origin: Sequence[int],
) -> tuple[Span, ...]:
    """The first spans in text order, mapped back to the original text, at most MAX_SPANS_PER_LIST."""
    hits = sorted((start, end, spelling[t]) for t in term_ids for start, end in found[t])
    spans: dict[tuple[str, int, int], Span] = {}
    for start, end, term in hits:
        # Two matches inside one expanded character (ß gives "ss") are one span of the original.
        first, last = origin[start], origin[end - 1] + 1
        spans.setdefault((term, first, last), Span(term, first, last, text[first:last]))
        if len(spans) == MAX_SPANS_PER_LIST:
            break
    return tuple(spans.values())


class _Compiler:
    """Validates lists one by one and gives every distinct normalised term one id in the automaton."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.count = 0

    def term(self, value: Any, where: str, spelling: dict[int, str]) -> int:
        self.count += 1
        if self.count > MAX_TERMS:
            raise TermListError(f"{where}: more than {MAX_TERMS:,} terms in all term lists")
        if not isinstance(value, str):
            raise TermListError(f"{where}: {value!r} is not a string")
        if len(value) > MAX_TERM_CHARS:
            raise TermListError(f"{where}: term longer than {MAX_TERM_CHARS} characters")
        key, _ = normalise(value)
        if not key:
            raise TermListError(f"{where}: {value!r} is empty once normalised")
        term_id = self.ids.setdefault(key, len(self.ids))
        spelling.setdefault(term_id, value)
        return term_id

    def terms(
        self, value: Any, where: str, spelling: dict[int, str]
    ) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """The terms as written and their ids, duplicates (after normalisation) dropped."""
        if not isinstance(value, list | tuple) or not value:
            raise TermListError(f"{where}: must be a non-empty list of terms")
        ids = [self.term(v, f"{where}[{i}]", spelling) for i, v in enumerate(value)]
        unique = tuple(dict.fromkeys(ids))
        return tuple(spelling[t] for t in unique), unique

    def rule(self, value: Any, where: str, spelling: dict[int, str]) -> tuple[TermRule, _CompiledRule]:
        if not isinstance(value, Mapping):
            raise TermListError(f"{where}: must be a mapping with all, any and/or none")
        if unknown := sorted(map(str, set(value) - set(_RULE_KEYS))):
            raise TermListError(
                f"{where}: unknown keys {', '.join(unknown)} (known: {', '.join(_RULE_KEYS)})"
            )
        if "all" not in value and "any" not in value:
            raise TermListError(f"{where}: none alone matches everything; add all or any")
        written: dict[str, tuple[str, ...]] = {}
        ids: dict[str, tuple[int, ...]] = {}
        for key in _RULE_KEYS:
            if key in value:
                written[key], ids[key] = self.terms(value[key], f"{where}.{key}", spelling)
        shown = TermRule(written.get("all", ()), written.get("any", ()), written.get("none", ()))
        compiled = _CompiledRule(ids.get("all", ()), ids.get("any", ()), ids.get("none", ()))
        return shown, compiled

    def term_list(self, value: Any, where: str) -> tuple[TermList, _CompiledList]:
        if not isinstance(value, Mapping):
            raise TermListError(f"{where}: must be a mapping with name, action and terms or rules")
        if unknown := sorted(map(str, set(value) - _LIST_KEYS)):
            raise TermListError(f"{where}: unknown keys {', '.join(unknown)}")
        name = value.get("name")
        if not isinstance(name, str) or not name.strip():
            raise TermListError(f"{where}.name: required, a non-empty string")
        action = value.get("action")
        if not isinstance(action, str) or action not in ACTION_ALIASES:
            raise TermListError(f"{where}.action: {action!r} is not one of {', '.join(ACTION_ALIASES)}")
        category = value.get("category", DEFAULT_CATEGORY)
        if category != DEFAULT_CATEGORY and category not in CATEGORIES:
            raise TermListError(f"{where}.category: {category!r} is not one of {', '.join(CATEGORIES)}")
        if "terms" not in value and "rules" not in value:
            raise TermListError(f"{where}: needs terms or rules (or both)")
        spelling: dict[int, str] = {}
        terms: tuple[str, ...] = ()
        term_ids: tuple[int, ...] = ()
        if "terms" in value:
            terms, term_ids = self.terms(value["terms"], f"{where}.terms", spelling)
        rules: list[tuple[TermRule, _CompiledRule]] = []
        if "rules" in value:
            rules_doc = value["rules"]
            if not isinstance(rules_doc, list | tuple) or not rules_doc:
                raise TermListError(f"{where}.rules: must be a non-empty list of rules")
            rules = [self.rule(r, f"{where}.rules[{i}]", spelling) for i, r in enumerate(rules_doc)]
        shown = TermList(name, ACTION_ALIASES[action], category, terms, tuple(r for r, _ in rules))
        compiled = _CompiledList(term_ids, tuple(c for _, c in rules), spelling)
        return shown, compiled


def parse_term_lists(doc: Any, where: str = "term_lists") -> TermLists:
    """Validates the ``term_lists`` data of a policy and compiles it; raises :class:`TermListError`.

    ``doc`` is the loaded YAML (a list of mappings); None, as YAML gives for an empty key, means no lists.
    """
    if doc is None:
        doc = []
    if not isinstance(doc, list | tuple):
        raise TermListError(f"{where}: must be a list of term lists")
    compiler = _Compiler()
    lists: list[TermList] = []
    compiled: list[_CompiledList] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(doc):
        item_where = f"{where}[{index}]"
        shown, compiled_list = compiler.term_list(item, item_where)
        if (first := first_index.get(shown.name)) is not None:
            raise TermListError(
                f"{item_where}.name: duplicate list name {shown.name!r} (also {where}[{first}])"
            )
        first_index[shown.name] = index
        lists.append(shown)
        compiled.append(compiled_list)
    lengths = [0] * len(compiler.ids)
    automaton = None
    if compiler.ids:
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for key, term_id in compiler.ids.items():
            automaton.add_word(key, term_id)
            lengths[term_id] = len(key)
        automaton.make_automaton()
    return TermLists(tuple(lists), tuple(compiled), automaton, tuple(lengths))
