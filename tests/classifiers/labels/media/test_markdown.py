"""Markdown reader: labels.md §4.3 (YAML front matter ``AIGC:``), §4.6 (MiniMax ``Label: AIGC``, numbers).

Front matter is written by PyYAML's ``safe_dump``; one sample reproduces, byte for byte in form, the
front matter seen in real AI-written files on GitHub (labels.md §4.3, find_string "ReservedCode2").
"""

from __future__ import annotations

import json
import time
from typing import Any

import yaml

from classifiers.labels.file_labels import check_file_labels
from classifiers.labels.media import markdown
from classifiers.labels.media.base import Extraction, Limits
from classifiers.labels.media.registry import read_media, spec_for
from tests.fixtures.labels import build_event, media_fields, only
from tests.fixtures.media import LABEL

WHERE = "markdown:front_matter:AIGC"
BODY = "\n# 部署说明\n\n正文。\n\n---\n\nAIGC: not front matter\n"
REAL_WORLD = """---
AIGC:
  ContentProducer: '001191110102MAD55U9H0F10002'
  ContentPropagator: '001191110102MAD55U9H0F10002'
  Label: '1'
  ProduceID: '451a9016-6fb6-4ead-9fb6-5f11bc291af5'
  PropagateID: '451a9016-6fb6-4ead-9fb6-5f11bc291af5'
  ReservedCode1: '884aa96e-d684-443c-ada2-3e1e20dd8048'
  ReservedCode2: '884aa96e-d684-443c-ada2-3e1e20dd8048'
---

# ppt-master 设计方法论
"""


def document(front_matter: dict[str, Any] | None, body: str = BODY) -> bytes:
    if front_matter is None:
        return body.encode()
    return f"---\n{yaml.safe_dump(front_matter, allow_unicode=True, sort_keys=False)}---\n{body}".encode()


def _read(data: bytes, limits: Limits | None = None) -> Extraction:
    out = Extraction(format="markdown")
    markdown.read(data, out, limits or Limits())
    return out


def _summary(out: Extraction) -> list[tuple[str, Any, tuple[str, ...]]]:
    return [(label.location, label.record, label.variants) for label in out.labels]


def test_front_matter_mapping() -> None:
    out = read_media(document({"title": "说明", "AIGC": LABEL}), "text/markdown")
    assert out.format == "markdown" and not out.problems
    assert _summary(out) == [(WHERE, LABEL, ("yaml",))]


def test_real_world_front_matter() -> None:
    [label] = read_media(REAL_WORLD.encode(), "text/x-markdown").labels
    assert label.location == WHERE and label.variants == ("yaml",)
    assert label.record is not None and label.record["Label"] == "1"
    assert label.record["ProduceID"] == "451a9016-6fb6-4ead-9fb6-5f11bc291af5"


def test_minimax_label_comes_back_as_written() -> None:
    minimax = {**LABEL, "ContentProducer": "Minimax Agent AI", "Label": "AIGC", "ProduceID": "0" * 32}
    [label] = _read(document({"AIGC": minimax})).labels
    assert label.record == minimax and label.variants == ("yaml",)


def test_numeric_label_wrapped_mapping_and_dates() -> None:
    [numeric] = _read(document({"AIGC": {**LABEL, "Label": 1}})).labels
    assert numeric.variants == ("yaml", "numeric_label") and numeric.record == {**LABEL, "Label": 1}
    [wrapped] = _read(document({"AIGC": {"AIGC": LABEL}})).labels
    assert wrapped.variants == ("yaml", "wrapped") and wrapped.record == LABEL
    dated = _read(b"---\nAIGC:\n  Label: '1'\n  ProduceID: 2025-09-01\n---\n").labels[0]
    assert dated.record == {"Label": "1", "ProduceID": "2025-09-01"}
    json.dumps(dated.record)  # the record stays JSON-like


def test_json_string_value() -> None:
    wrapped = json.dumps({"AIGC": LABEL})
    assert _summary(_read(document({"AIGC": wrapped}))) == [(WHERE, LABEL, ("wrapped",))]
    [broken] = _read(document({"AIGC": "yes"})).labels
    assert broken.record is None and broken.error


def test_two_keys_both_come_back() -> None:
    out = _read(document({"AIGC": LABEL, "aigc_copy": {**LABEL, "ProduceID": "hy-0002"}}))
    assert [(label.location, label.record["ProduceID"]) for label in out.labels if label.record] == [
        (WHERE, "hy-0001"),
        ("markdown:front_matter:aigc_copy", "hy-0002"),
    ]


def test_crlf_and_byte_order_mark() -> None:
    data = "\ufeff" + document({"AIGC": LABEL}).decode().replace("\n", "\r\n")
    assert [label.record for label in _read(data.encode()).labels] == [LABEL]


def test_unlabelled_documents() -> None:
    for data in (document(None), document({"title": "x", "tags": ["a"]}), ("\n" + REAL_WORLD).encode()):
        out = read_media(data, "text/markdown")
        assert out.labels == [] and out.problems == []


def test_yaml_bomb_is_refused_quickly() -> None:
    lines = ["---", 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 30)]
    lines += ["AIGC: *a29", "---", ""]
    started = time.perf_counter()
    out = _read("\n".join(lines).encode())
    assert time.perf_counter() - started < 1
    assert out.labels == [] and [problem.code for problem in out.problems] == ["corrupt"]
    deep = _read(("---\nAIGC: " + "[" * 100 + "]" * 100 + "\n---\n").encode())
    assert deep.labels == [] and [problem.code for problem in deep.problems] == ["corrupt"]


def test_unclosed_oversized_and_invalid_front_matter() -> None:
    unclosed = _read(b"---\nAIGC:\n  Label: '1'\n")
    assert unclosed.labels == [] and [problem.code for problem in unclosed.problems] == ["truncated"]
    big = document({"AIGC": LABEL, "notes": "x" * 5000})
    oversized = _read(big, Limits(max_field_bytes=1000))
    assert oversized.labels == [] and [problem.code for problem in oversized.problems] == ["limit_exceeded"]
    invalid = _read(b"---\nAIGC: [unclosed\n---\n")
    assert invalid.labels == [] and [problem.code for problem in invalid.problems] == ["corrupt"]


def test_registry_chooses_markdown_by_mime_type_only() -> None:
    data = document({"AIGC": LABEL})
    for mime in ("text/markdown", "text/x-markdown", "text/markdown; charset=utf-8"):
        assert spec_for(data, mime) == (markdown.SPEC, False)
    # no magic number: undeclared or plain-text content is never taken for Markdown
    assert spec_for(data, None)[0] is not markdown.SPEC
    assert spec_for(data, "text/plain")[0] is not markdown.SPEC


def test_a_repeated_aigc_key_comes_back_twice() -> None:
    """A YAML loader keeps the last of two ``AIGC:`` keys; GB 45438-2025 6.1 c needs to see both."""
    second = {**LABEL, "ProduceID": "hy-0002"}
    first_block = yaml.safe_dump({"AIGC": LABEL}, sort_keys=False)
    second_block = yaml.safe_dump({"AIGC": second}, sort_keys=False)
    text = f"---\ntitle: 两个标识\n{first_block}{second_block}date: 2025-09-01\n---\n{BODY}"
    assert yaml.safe_load(text.split("---\n")[1])["AIGC"] == second  # what a loader alone would see
    out = read_media(text.encode(), "text/markdown")
    assert not out.problems
    assert _summary(out) == [(WHERE, LABEL, ("yaml",)), (WHERE, second, ("yaml",))]


def test_a_repeated_aigc_key_is_a_duplicate_file_label() -> None:
    text = f"---\nAIGC: '{json.dumps(LABEL)}'\nAIGC:\n  Label: '1'\n---\n{BODY}"
    check = check_file_labels(build_event(**media_fields(text.encode(), "text/markdown")))
    assert check is not None and len(check.extraction.labels) == 2
    duplicate = only(check.findings, "file_label_duplicate")
    assert "2 implicit labels" in duplicate.message
