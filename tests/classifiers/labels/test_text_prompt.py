"""Finding a text prompt in text: GB 45438-2025 5.1 (AI + generation element at start, end or middle)."""

from __future__ import annotations

import pytest

from classifiers.labels.text_prompt import (
    EDGE_WINDOW_CHARS,
    MAX_SPAN_CHARS,
    find_text_label,
    has_ai_element,
    missing_elements,
)

BODY = "城市公园的樱花在三月下旬进入盛花期，游客可以沿着湖边步道慢慢欣赏。"  # 33 letters, no elements


@pytest.mark.parametrize(
    "prompt",
    [
        "本内容由人工智能生成",
        "AI生成",
        "【AI合成】",
        "以上内容由AI生成，仅供参考",
        "本回答由ai辅助生成",
        "（内容由ＡＩ合成）",  # full-width letters
        "本文为AIGC生成内容",
    ],
)
def test_text_label_complete_prompts(prompt: str) -> None:
    """GB 45438-2025 5.1: prompts with both elements are complete labels."""
    span = find_text_label(prompt)
    assert span is not None and span.complete
    assert span.text == prompt


@pytest.mark.parametrize(
    "text",
    [
        "He SAID the MAIL was 生成 quickly.",  # "AI" inside English words
        "The TRAIN合成 schedule",
        "Aiming high: 生成 nothing",
        "这是一篇关于城市规划的文章。",
    ],
)
def test_text_label_ai_inside_english_word_does_not_count(text: str) -> None:
    """GB 45438-2025 5.1: "AI" inside an English word is not the AI element."""
    assert find_text_label(text) is None


def test_ai_element_word_boundaries() -> None:
    """GB 45438-2025 5.1: "AI" counts as its own word, next to Chinese, or as AIGC."""
    assert has_ai_element("由AI写")
    assert has_ai_element("AI")
    assert has_ai_element("aigc")
    assert not has_ai_element("SAID")
    assert not has_ai_element("MAIL")
    assert not has_ai_element("AIDS")


@pytest.mark.parametrize(("prompt", "missing"), [("由AI创作", "generation"), ("【合成图】", "AI")])
def test_text_label_incomplete(prompt: str, missing: str) -> None:
    """GB 45438-2025 5.1: a label-like span with only one element is incomplete."""
    span = find_text_label(f"{prompt}。{BODY}")
    assert span is not None and not span.complete and span.text == prompt
    assert any(missing in element for element in missing_elements(span.text))


def test_text_label_one_element_in_prose_is_not_a_label() -> None:
    """GB 45438-2025 5.1: a sentence that only mentions AI, with no provenance cue, is not a label."""
    assert find_text_label(f"我们讨论了AI的发展。{BODY}") is None
    assert find_text_label("本邮件由系统自动生成，请勿回复。") is None


def test_text_label_position_start() -> None:
    """GB 45438-2025 5.1: a prompt before the content is at the start."""
    span = find_text_label(f"【AI生成】{BODY * 4}")
    assert span is not None and span.position == "start" and span.start == 0


def test_text_label_position_end() -> None:
    """GB 45438-2025 5.1: a prompt after the content is at the end."""
    text = f"{BODY * 4}\n以上内容由AI生成，仅供参考。"
    span = find_text_label(text)
    assert span is not None and span.position == "end"
    assert span.text == "以上内容由AI生成，仅供参考"


def test_text_label_position_middle_needs_brackets_or_own_line() -> None:
    """GB 45438-2025 5.1: a middle prompt counts when bracketed or alone on its line, not as prose."""
    padding = BODY * 3  # more than the edge window on either side
    assert len(padding) > EDGE_WINDOW_CHARS
    bracketed = find_text_label(f"{padding}【本段由人工智能生成】{padding}")
    assert bracketed is not None and bracketed.position == "middle"
    own_line = find_text_label(f"{padding}\n本段由人工智能生成\n{padding}")
    assert own_line is not None and own_line.position == "middle"
    assert find_text_label(f"{padding}人工智能可以生成图片。{padding}") is None


def test_text_label_span_length_limit() -> None:
    """Our choice: a label is a short span; a long sentence with both elements is not one."""
    long_sentence = "这段关于人工智能的长句子" + "很长" * MAX_SPAN_CHARS + "提到了生成"
    assert find_text_label(long_sentence) is None


def test_text_label_clause_of_long_sentence() -> None:
    """Our choice: a long sentence is searched clause by clause ("……，本文由AI生成")."""
    text = "这篇文章介绍了" + "很多" * 30 + "，本文由AI生成"
    span = find_text_label(text)
    assert span is not None and span.complete and span.text == "本文由AI生成" and span.position == "end"
