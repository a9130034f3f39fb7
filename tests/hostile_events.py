"""Builders of hostile content events, shared by the unit, property-based and broker tests of issue #12.

An event is written as JSON text with one field's value replaced by a raw JSON fragment, so that values
Python's own ``json.dumps`` cannot produce (5,000-digit numbers, NaN, lone-surrogate escapes, nesting a
thousand deep) reach the parser exactly as a hostile producer would send them. Every event carries a
unique ``event_id`` unless the field under attack is the id itself; ``account`` matches each Kafka
record or offline line to what was sent by position, so nothing can be lost unseen.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

CODE = "001191110108MA01ABCD2X1HY01"
NORMAL_TEXTS = (
    "今天天气很好，适合出门散步。",
    "这款手机的续航表现不错，充电半小时能用一天。",
    "周末和朋友去公园野餐，拍了很多照片。",
    "请问这道菜的做法是先炒还是先炖？",
    "明天上午十点在三楼会议室开项目例会。",
)

# Where a hostile value goes: a path of keys into the event document.
FIELDS: tuple[tuple[str, ...], ...] = (
    ("event_id",),
    ("tenant",),
    ("scene",),
    ("content_id",),
    ("content_type",),
    ("service_type",),
    ("text",),
    ("created_at",),
    ("producer", "user_id"),
    ("producer", "provider_code"),
    ("producer", "provider_name"),
    ("implicit_label", "Label"),
    ("implicit_label", "ContentProducer"),
    ("implicit_label", "ProduceID"),
    ("explicit_label", "text"),
    ("depicted_persons", "0", "person_ref"),
    ("extra_field",),
)

# Raw JSON fragments no well-behaved producer sends.
FRAGMENTS: tuple[str, ...] = (
    "1" * 5000,  # past Python's 4,300-digit integer limit
    "-" + "9" * 4400,
    "1" * 41,
    "1e999",
    "-1e999",
    "1.5e308",
    "NaN",
    "Infinity",
    "-Infinity",
    '"\\udfff"',
    '"\\ud800abc"',
    '"abc\\udbff"',
    '"\\ud83d\\ude00"',  # a valid pair: one emoji
    '"\\u0000\\u0001\\u001f"',
    '"\\u202e\\u2066rtl\\u2069\\u200f"',
    '"\\ufeff\\ufffe\\uffff"',
    "[" * 1200 + "]" * 1200,
    '{"a":' * 200 + "1" + "}" * 200,
    "[" * 40 + "]" * 40,
    "true",
    "null",
    '""',
    "{}",
    "[]",
)


def base_doc(n: int, text: str | None = None) -> dict[str, Any]:
    """A valid, compliant event (implicit and explicit AI labels), number ``n``."""
    return {
        "event_id": f"hostile-{n}",
        "tenant": "t1",
        "scene": "post",
        "content_id": f"c-{n}",
        "content_type": "text",
        "service_type": "person_simulating_text",
        "text": (text or NORMAL_TEXTS[n % len(NORMAL_TEXTS)]) + "（本内容由人工智能生成）",
        "created_at": "2026-12-03T10:00:00+08:00",
        "implicit_label": {"Label": "1", "ContentProducer": CODE, "ProduceID": f"p-{n}"},
        "producer": {"provider_code": CODE, "provider_name": "示例", "user_id": f"u-{n % 7}"},
        "depicted_persons": [{"consent": True, "person_ref": "r-1"}],
    }


def with_fragment(doc: dict[str, Any], path: tuple[str, ...], fragment: str) -> bytes:
    """``doc`` as JSON with the value at ``path`` replaced by the raw ``fragment``."""
    marker = "\u0001HOSTILE\u0001"
    doc = json.loads(json.dumps(doc))
    target: Any = doc
    for key in path[:-1]:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    target[path[-1]] = marker
    return json.dumps(doc, ensure_ascii=False).replace(json.dumps(marker), fragment).encode("utf-8")


def odd_encodings(n: int) -> list[bytes]:
    """One event in encodings that are not UTF-8 JSON, or not whole."""
    text = json.dumps(base_doc(n), ensure_ascii=False)
    return [
        text.encode("utf-16"),
        text.encode("gb18030"),
        b"\xef\xbb\xbf" + text.encode("utf-8"),  # a UTF-8 byte-order mark
        text.encode("utf-8")[:-7],
        text.encode("utf-8") + b"\x00",
        b"\xff" * 10,
        b"",
    ]


def hostile_texts(n: int) -> list[bytes]:
    """Valid events (numbers ``n`` to ``n + 4``) whose text is what hurts a classifier: a poison pill for
    the tokenizer, a megabyte, control and bidirectional characters, an emoji flood, a whitespace flood."""
    return [
        with_fragment(base_doc(n), ("text",), '"poison \\udfff pill"'),
        json.dumps(base_doc(n + 1, "长" * 300_000), ensure_ascii=False).encode(),
        json.dumps(base_doc(n + 2, "\u202e\u2066" * 2000 + "\x00\x07\x1b[31m" * 500)).encode(),
        json.dumps(base_doc(n + 3, "😀🔥💯" * 30_000), ensure_ascii=False).encode(),
        json.dumps(base_doc(n + 4, " " * 200_000 + "尾"), ensure_ascii=False).encode(),
    ]


@dataclass(frozen=True, slots=True)
class Sent:
    """One record as sent: its bytes, and the event id it carries if Python's reader can tell."""

    value: bytes
    normal: bool

    @property
    def event_id(self) -> str | None:
        try:
            doc = json.loads(self.value)
        except (ValueError, RecursionError):
            return None
        found = doc.get("event_id") if isinstance(doc, dict) else None
        return found if isinstance(found, str) else None


def mixed_traffic(count: int, *, seed: int, hostile_share: float = 0.3) -> Iterator[Sent]:
    """``count`` records, about ``hostile_share`` of them hostile, the rest normal events."""
    rng = random.Random(seed)
    for n in range(count):
        if rng.random() >= hostile_share:
            yield Sent(json.dumps(base_doc(n), ensure_ascii=False).encode(), True)
            continue
        kind = rng.random()
        if kind < 0.7:
            value = with_fragment(base_doc(n), rng.choice(FIELDS), rng.choice(FRAGMENTS))
        elif kind < 0.85:
            value = hostile_texts(100_000 + 5 * n)[rng.randrange(5)]  # ids no normal event has
        else:
            value = rng.choice(odd_encodings(n))
        yield Sent(value, False)
