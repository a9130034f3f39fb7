"""Offline mode: the same core as the worker, reading events from a JSONL file instead of Kafka.

Each non-empty line is one event, exactly as it would be on the content topic. Decisions go to one
stream as JSONL; every line that cannot be decided goes to the dead-letter stream with its line number,
reason code and original text, so nothing is dropped silently.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO

from stream.core.pipeline import ModerationContext, RawEvent, encode_outcome, moderate_raw


@dataclass(slots=True)
class OfflineSummary:
    decided: int = 0
    rejected: int = 0
    actions: Counter[str] = field(default_factory=Counter)

    def actions_text(self) -> str:
        return ", ".join(f"{n} {a}" for a, n in sorted(self.actions.items())) or "none"


def _batches(lines: Iterable[bytes], size: int) -> Iterable[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        batch.append((number, line))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def moderate_lines(
    lines: Iterable[bytes],
    decisions_out: IO[bytes],
    dead_letters_out: IO[str],
    context: ModerationContext,
    *,
    batch_size: int = 64,
) -> OfflineSummary:
    summary = OfflineSummary()
    for batch in _batches(lines, batch_size):
        now = context.clock()
        outcome = encode_outcome(
            moderate_raw([RawEvent(value=line, received_at=now) for _, line in batch], context)
        )
        for _, decision, payload in outcome.decisions:
            decisions_out.write(payload + b"\n")
            summary.decided += 1
            summary.actions[decision.action] += 1
        for index, rejected in outcome.rejections:
            number, line = batch[index]
            record = {
                "line": number,
                "reason": rejected.reason,
                "detail": rejected.detail,
                "event_id": rejected.event_id,
                "original": line.decode("utf-8", "replace"),
            }
            dead_letters_out.write(_json_line(record))
            summary.rejected += 1
    decisions_out.flush()
    dead_letters_out.flush()
    return summary


def _json_line(record: Mapping[str, object]) -> str:
    """One JSON line, readable where it can be; with ``\\u`` escapes where a string could not be written
    as UTF-8 (a dead letter's detail may quote what the event held)."""
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(record)
    return line + "\n"
