"""Custom term lists: validation names the bad key, matching finds every occurrence with original spans."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.scores import CATEGORIES
from stream.core import policy
from stream.core.terms import MAX_SPANS_PER_LIST, Span, TermListError, TermMatch, TermRule, parse_term_lists

FRAUD = {
    "name": "冒充公检法",
    "action": "block",
    "category": "impersonation",
    "terms": ["安全账户", "公检法", "通缉令"],
}
REFUND = {
    "name": "退款诈骗",
    "action": "review",
    "rules": [{"all": ["客服", "退款"], "any": ["链接", "点击"], "none": ["官方APP"]}],
}


def one(name: str = "测试", action: str = "block", **keys: Any) -> dict[str, Any]:
    return {"name": name, "action": action, **keys}


def test_known_answer_plain_terms_with_exact_spans() -> None:
    lists = parse_term_lists([FRAUD])
    text = "您好，我们是公检法专案组，请将资金转入安全账户。"
    assert lists.match(text) == (
        TermMatch(
            name="冒充公检法",
            action="block",
            category="impersonation",
            spans=(Span("公检法", 6, 9, "公检法"), Span("安全账户", 19, 23, "安全账户")),
            rule=None,
            term_rule=None,
        ),
    )
    assert text[6:9] == "公检法" and text[19:23] == "安全账户"


def test_every_occurrence_is_reported_in_text_order() -> None:
    (match,) = parse_term_lists([FRAUD]).match("通缉令？安全账户！又一个安全账户")
    assert [(s.term, s.start, s.end) for s in match.spans] == [
        ("通缉令", 0, 3),
        ("安全账户", 4, 8),
        ("安全账户", 12, 16),
    ]


def test_overlapping_terms_both_match() -> None:
    (match,) = parse_term_lists([one(terms=["公检法", "检法", "法"])]).match("自称公检法")
    assert [(s.term, s.start, s.end) for s in match.spans] == [
        ("公检法", 2, 5),
        ("检法", 3, 5),
        ("法", 4, 5),
    ]


def test_terms_shared_by_lists_fire_each_list_in_list_order() -> None:
    lists = parse_term_lists([one("乙", "flag", terms=["转账"]), one("甲", terms=["立即转账", "转账"])])
    matches = lists.match("请立即转账")
    assert [m.name for m in matches] == ["乙", "甲"]
    assert [(s.term, s.start, s.end) for s in matches[1].spans] == [("立即转账", 1, 5), ("转账", 3, 5)]


def test_no_match_and_no_lists_give_nothing() -> None:
    assert parse_term_lists([FRAUD]).match("今天天气很好，我们去公园散步。") == ()
    assert parse_term_lists([]).match("公检法") == ()
    assert parse_term_lists(None).match("公检法") == ()
    assert parse_term_lists([]).lists == ()


def test_and_rule_fires_only_when_every_all_term_occurs() -> None:
    lists = parse_term_lists([REFUND])
    assert lists.match("客服说请点击链接") == ()
    assert lists.match("退款请点击链接") == ()
    (match,) = lists.match("客服：退款请点击这个链接")
    assert match.rule == 0
    assert match.action == "flag"
    assert [(s.term, s.start, s.end) for s in match.spans] == [
        ("客服", 0, 2),
        ("退款", 3, 5),
        ("点击", 6, 8),
        ("链接", 10, 12),
    ]


def test_any_needs_one_of_its_terms() -> None:
    lists = parse_term_lists([one(rules=[{"any": ["兼职", "刷单"]}])])
    assert lists.match("正规工作") == ()
    (match,) = lists.match("在家刷单赚钱")
    assert [(s.term, s.start, s.end) for s in match.spans] == [("刷单", 2, 4)]
    assert parse_term_lists([REFUND]).match("客服同意退款") == ()  # all present, no any term


def test_none_suppresses_the_rule_and_never_appears_in_spans() -> None:
    lists = parse_term_lists([REFUND])
    assert lists.match("客服退款请点击官方APP内的链接") == ()
    assert lists.match("客服退款请点击官方ａｐｐ内的链接") == ()
    (match,) = lists.match("客服退款请点击官方网站链接")
    assert all(s.term != "官方APP" for s in match.spans)


def test_later_rule_reports_its_index_and_plain_terms_win() -> None:
    doc = one(
        "兼职诈骗",
        "flag",
        terms=["日结"],
        rules=[{"all": ["兼职", "押金"]}, {"all": ["兼职"], "any": ["刷单"], "none": ["正规"]}],
    )
    lists = parse_term_lists([doc])
    (match,) = lists.match("兼职刷单")
    assert match.rule == 1
    assert match.term_rule == TermRule(all=("兼职",), any=("刷单",), none=("正规",))
    assert match.describe() == (
        "term list 兼职诈骗 (flag), rules[1]: all [兼职], any [刷单], none [正规]: 兼职 at 0-2, 刷单 at 2-4"
    )
    (match,) = lists.match("兼职刷单日结")
    assert match.rule is None and match.term_rule is None
    assert [s.term for s in match.spans] == ["日结"]


def test_describe_is_short_and_names_the_list_action_and_spans() -> None:
    (match,) = parse_term_lists([FRAUD]).match("这里是公检法")
    assert match.describe() == "term list 冒充公检法 (block): 公检法 at 3-6"
    (match,) = parse_term_lists([one(terms=["钱"])]).match("钱钱钱钱钱")
    assert match.describe() == "term list 测试 (block): 钱 at 0-1, 钱 at 1-2, 钱 at 2-3 and 2 more"


def test_full_width_and_upper_case_match_with_spans_into_the_original() -> None:
    lists = parse_term_lists([one(terms=["vip会员", "ＱＱ号", "2024"])])
    text = "开通ＶＩＰ会员，加qq号，限时２０２４"
    (match,) = lists.match(text)
    assert [(s.term, s.start, s.end, s.text) for s in match.spans] == [
        ("vip会员", 2, 7, "ＶＩＰ会员"),
        ("ＱＱ号", 9, 12, "qq号"),
        ("2024", 15, 19, "２０２４"),
    ]


@pytest.mark.parametrize("zero_width", ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060"])
def test_zero_width_characters_do_not_hide_a_term(zero_width: str) -> None:
    text = f"请转入安{zero_width}全{zero_width}账户"
    (match,) = parse_term_lists([FRAUD]).match(text)
    assert match.spans == (Span("安全账户", 3, 9, f"安{zero_width}全{zero_width}账户"),)


def test_characters_that_expand_under_normalisation_map_back_to_one_character() -> None:
    lists = parse_term_lists([one(terms=["株", "(株)", "ss", "fi"])])
    text = "某㈱公司，Straße，ﬁnance"
    (match,) = lists.match(text)
    assert [(s.term, s.start, s.end, s.text) for s in match.spans] == [
        ("(株)", 1, 2, "㈱"),  # ㈱ gives "(株)": the longer term starts first
        ("株", 1, 2, "㈱"),
        ("ss", 9, 10, "ß"),
        ("fi", 12, 13, "ﬁ"),
    ]


def test_review_is_an_alias_of_flag_and_allow_lists_are_kept() -> None:
    lists = parse_term_lists([REFUND, one("白名单", "allow", terms=["官方客服"])])
    assert [(t.name, t.action) for t in lists.lists] == [("退款诈骗", "flag"), ("白名单", "allow")]
    (match,) = lists.match("官方客服")
    assert (match.name, match.action, match.category) == ("白名单", "allow", "terms")


def test_categories_are_the_policy_categories() -> None:
    assert CATEGORIES == policy.CATEGORIES


def test_duplicate_list_names_are_rejected_naming_both() -> None:
    with pytest.raises(
        TermListError, match=re.escape("term_lists[2].name: duplicate list name '冒充公检法'")
    ):
        parse_term_lists([FRAUD, REFUND, {**FRAUD, "action": "flag"}])
    with pytest.raises(TermListError, match=re.escape("(also term_lists[0])")):
        parse_term_lists([FRAUD, REFUND, FRAUD])


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"name": "x"}, "term_lists: must be a list of term lists"),
        ("安全账户", "term_lists: must be a list of term lists"),
        (["安全账户"], "term_lists[0]: must be a mapping"),
        ([one(terms=["a"], colour="red")], "term_lists[0]: unknown keys colour"),
        ([{"action": "block", "terms": ["a"]}], "term_lists[0].name: required"),
        ([one("", terms=["a"])], "term_lists[0].name: required"),
        ([one(action="delete", terms=["a"])], "term_lists[0].action: 'delete' is not one of"),
        ([{"name": "x", "terms": ["a"]}], "term_lists[0].action: None is not one of"),
        ([one(category="spam", terms=["a"])], "term_lists[0].category: 'spam' is not one of"),
        ([one()], "term_lists[0]: needs terms or rules"),
        ([one(terms=[])], "term_lists[0].terms: must be a non-empty list"),
        ([one(terms="安全账户")], "term_lists[0].terms: must be a non-empty list"),
        ([one(terms=["a", 12])], "term_lists[0].terms[1]: 12 is not a string"),
        ([one(terms=[""])], "term_lists[0].terms[0]: '' is empty once normalised"),
        ([one(terms=["\u200b\u2060"])], "term_lists[0].terms[0]: '\\u200b\\u2060' is empty once normalised"),
        ([one(terms=["长" * 101])], "term_lists[0].terms[0]: term longer than 100 characters"),
        ([one(rules=[])], "term_lists[0].rules: must be a non-empty list"),
        ([one(rules={"all": ["a"]})], "term_lists[0].rules: must be a non-empty list"),
        ([one(rules=["a"])], "term_lists[0].rules[0]: must be a mapping"),
        ([one(rules=[{"every": ["a"]}])], "term_lists[0].rules[0]: unknown keys every"),
        ([one(rules=[{"all": []}])], "term_lists[0].rules[0].all: must be a non-empty list"),
        ([one(rules=[{"all": ["a"]}, {"any": ["b", None]}])], "term_lists[0].rules[1].any[1]: None is not"),
        (
            [one(terms=["a"]), one("y", terms=["b"], rules=[{"all": ["c"], "none": [""]}])],
            "[1].rules[0].none[0]",
        ),
        (
            [FRAUD, REFUND, one(rules=[{"none": ["官方APP"]}])],
            "term_lists[2].rules[0]: none alone matches everything; add all or any",
        ),
    ],
)
def test_validation_errors_name_the_bad_key(doc: Any, message: str) -> None:
    with pytest.raises(TermListError, match=re.escape(message)):
        parse_term_lists(doc)


def test_the_where_prefix_is_used_in_messages() -> None:
    with pytest.raises(TermListError, match=re.escape("policy.term_lists[0].terms: must be")):
        parse_term_lists([one(terms=[])], where="policy.term_lists")


def test_more_than_50000_terms_in_all_lists_are_rejected() -> None:
    doc = [
        one("a", terms=[f"词{i}" for i in range(30_000)]),
        one("b", terms=[f"语{i}" for i in range(20_001)]),
    ]
    with pytest.raises(TermListError, match=re.escape("term_lists[1].terms[20000]: more than 50,000 terms")):
        parse_term_lists(doc)


def test_a_100000_character_text_matches_in_one_pass_with_capped_spans() -> None:
    filler = "今天天气很好，我们去公园散步，顺便买点水果。"
    text = filler * (100_000 // len(filler)) + "客服说退款请点击链接"
    assert len(text) >= 100_000
    lists = parse_term_lists([one("公园", "allow", terms=["公园"]), REFUND, FRAUD])
    park, refund = lists.match(text)
    assert park.name == "公园"
    assert len(park.spans) == MAX_SPANS_PER_LIST
    assert [s.start for s in park.spans[:2]] == [10, 10 + len(filler)]
    assert refund.name == "退款诈骗"
    assert refund.spans[0] == Span("客服", len(text) - 10, len(text) - 8, "客服")


# Property test: a small alphabet with a case pair, a full-width letter, a zero-width space and a
# character that expands (ß -> ss), against a brute-force search over a hand-written fold.
FOLD = {"a": "a", "A": "a", "b": "b", "Ｂ": "b", "s": "s", "ß": "ss", "甲": "甲", "\u200b": ""}
TEXTS = st.text(alphabet=list(FOLD), max_size=30)
TERMS = st.text(alphabet=[ch for ch in FOLD if ch != "\u200b"], min_size=1, max_size=3)


def brute_spans(term: str, text: str) -> list[tuple[int, int]]:
    folded, origin = "", []
    for index, ch in enumerate(text):
        folded += FOLD[ch]
        origin += [index] * len(FOLD[ch])
    needle = "".join(FOLD[ch] for ch in term)
    spans: list[tuple[int, int]] = []
    for start in range(len(folded) - len(needle) + 1):
        if folded.startswith(needle, start):
            span = (origin[start], origin[start + len(needle) - 1] + 1)
            if span not in spans:
                spans.append(span)
    return spans


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, terms=st.lists(TERMS, min_size=1, max_size=6))
def test_matches_equal_a_brute_force_search(text: str, terms: list[str]) -> None:
    lists = parse_term_lists([one(f"l{i}", terms=[term]) for i, term in enumerate(terms)])
    found = {m.name: m for m in lists.match(text)}
    for i, term in enumerate(terms):
        expected = brute_spans(term, text)[:MAX_SPANS_PER_LIST]
        match = found.get(f"l{i}")
        got = [] if match is None else [(s.start, s.end) for s in match.spans]
        assert got == expected
        if match is not None:
            assert all(s.text == text[s.start : s.end] and s.term == term for s in match.spans)


@settings(max_examples=200, deadline=None)
@given(
    text=TEXTS,
    all_terms=st.lists(TERMS, max_size=2),
    any_terms=st.lists(TERMS, max_size=2),
    none_terms=st.lists(TERMS, max_size=2),
)
def test_rules_fire_as_a_brute_force_search_says(
    text: str, all_terms: list[str], any_terms: list[str], none_terms: list[str]
) -> None:
    rule = {k: v for k, v in (("all", all_terms), ("any", any_terms), ("none", none_terms)) if v}
    if not all_terms and not any_terms:
        with pytest.raises(TermListError, match="none alone"):
            parse_term_lists([one(rules=[rule])])
        return
    matches = parse_term_lists([one(rules=[rule])]).match(text)

    def occurs(term: str) -> bool:
        return bool(brute_spans(term, text))

    fires = (
        all(map(occurs, all_terms))
        and (not any_terms or any(map(occurs, any_terms)))
        and not any(map(occurs, none_terms))
    )
    assert bool(matches) == fires
    if fires:
        (match,) = matches
        assert match.rule == 0
        fold = {term: "".join(FOLD[ch] for ch in term) for term in all_terms + any_terms}
        expected = {
            (fold[t], start, end) for t in all_terms + any_terms for start, end in brute_spans(t, text)
        }
        got = {("".join(FOLD[ch] for ch in s.term), s.start, s.end) for s in match.spans}
        assert got <= expected
        assert len(got) == len(match.spans) == min(MAX_SPANS_PER_LIST, len(expected))
