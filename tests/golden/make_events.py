"""Writes ``tests/golden/events.jsonl``: the events whose decisions are recorded before a refactor.

Run from the repository root (``.venv/bin/python -m tests.golden.make_events``). The events are the
packaged samples, 300 generated from a fixed seed (texts from the committed register dev files, which
we wrote ourselves; every content and service type; implicit labels right, wrong and absent; explicit
labels of every kind; declared and undeclared AI; depicted persons with and without consent; PNG files
with and without an AIGC chunk) and 60 lines of the hostile traffic of issue #12. ``record.py`` turns
them into the committed decisions; ``tests/test_golden.py`` proves the code still decides them the same.
"""

from __future__ import annotations

import base64
import io
import json
import random
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

from classifiers.content import CONTENT_TYPES, SERVICE_TYPES
from tests.fixtures import REPO
from tests.fixtures.hostile import CODE, mixed_traffic

ROOT = REPO
OUT = Path(__file__).with_name("events.jsonl")
SEED = 20261204

LABEL_KINDS = ("text", "graphic", "voice", "rhythm", "interface")
POSITIONS = ("start", "end", "middle", "top_left", "bottom_right")
DISCLOSURES = ("（本内容由人工智能生成）", "【AI生成】", "", "", "本文由AI辅助创作。")


def register_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted((ROOT / "classifiers/training/register/dev").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def png(label: str | None, rng: random.Random) -> bytes:
    info = PngImagePlugin.PngInfo()
    if label is not None:
        info.add_itxt("AIGC", label)
    buffer = io.BytesIO()
    Image.new("RGB", (8 + rng.randrange(8), 8), (rng.randrange(256), 0, 0)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def implicit(n: int, rng: random.Random) -> dict[str, Any] | None:
    choice = rng.randrange(5)
    if choice == 0:
        return None
    label: dict[str, Any] = {
        "Label": rng.choice(["1", "1", "2", "3", "yes"]),
        "ContentProducer": rng.choice([CODE, CODE, "bad-code"]),
        "ProduceID": f"p-{n}",
        "ReservedCode1": "",
        "ContentPropagator": rng.choice([CODE, "", None]),
        "PropagateID": f"g-{n}",
        "ReservedCode2": "",
    }
    if choice == 1:
        del label["ProduceID"]
    return {k: v for k, v in label.items() if v is not None}


def generated(count: int, rng: random.Random) -> list[dict[str, Any]]:
    texts = register_texts()
    events: list[dict[str, Any]] = []
    for n in range(count):
        content_type = CONTENT_TYPES[n % len(CONTENT_TYPES)] if n % 3 else "text"
        doc: dict[str, Any] = {
            "schema_version": 1,
            "event_id": f"golden-{n:04d}",
            "tenant": rng.choice(["demo", "t1", "t2"]),
            "scene": rng.choice(["chat", "post", "comment", "live"]),
            "content_id": f"gc-{n:04d}",
            "content_type": content_type,
            "service_type": rng.choice(SERVICE_TYPES),
            "producer": {"provider_code": CODE, "provider_name": "示例", "user_id": f"u-{n % 11}"},
            "created_at": f"2026-12-0{1 + n % 3}T1{n % 10}:00:00+08:00",
        }
        if content_type == "text" or rng.random() < 0.6:
            doc["text"] = rng.choice(DISCLOSURES[:2]) * (n % 2) + rng.choice(texts) + rng.choice(DISCLOSURES)
        label = implicit(n, rng)
        if label is not None:
            doc["implicit_label"] = label
        if rng.random() < 0.5:
            explicit: dict[str, Any] = {"kind": rng.choice(LABEL_KINDS), "position": rng.choice(POSITIONS)}
            if rng.random() < 0.7:
                explicit["text"] = rng.choice(["AI生成", "人工智能生成", "由AI合成", "广告"])
            if rng.random() < 0.5:
                explicit["size_ratio"] = rng.choice([0.01, 0.05, 0.2])
            doc["explicit_label"] = explicit
        if rng.random() < 0.4:
            doc["declared_ai_generated"] = rng.random() < 0.7
        if content_type != "text" and rng.random() < 0.5:
            doc["depicted_persons"] = [{"consent": rng.choice([True, False, None]), "person_ref": f"r-{n}"}]
        if content_type == "image" and rng.random() < 0.7:
            file_label = json.dumps({"Label": "1", "ContentProducer": CODE, "ProduceID": f"p-{n}"})
            data = png(file_label if rng.random() < 0.6 else None, rng)
            doc["media"] = {
                "mime_type": "image/png",
                "data_base64": base64.b64encode(data).decode(),
                "width": 8,
            }
        events.append(doc)
    return events


def main() -> None:
    rng = random.Random(SEED)
    lines = [
        line for line in (ROOT / "stream/samples/events.jsonl").read_bytes().splitlines() if line.strip()
    ]
    lines += [json.dumps(doc, ensure_ascii=False).encode("utf-8") for doc in generated(300, rng)]
    # Hostile lines go in as their bytes; a line break inside one would split it, so those are left out.
    hostile = [sent.value for sent in mixed_traffic(80, seed=SEED, hostile_share=0.5)]
    keep = [value for value in hostile if b"\n" not in value and b"\r" not in value and value.strip()]
    lines += [value for value in keep if len(value) < 40_000][:60]
    OUT.write_bytes(b"\n".join(lines) + b"\n")
    print(f"wrote {len(lines)} events to {OUT}")


if __name__ == "__main__":
    main()
