"""``huiyan moderate FILE``: the same core without Kafka, decisions to stdout, rejected lines to stderr."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from click.testing import CliRunner

from stream.cli import main

SAMPLES = resources.files("stream.samples").joinpath("events.jsonl")


def test_moderate_writes_one_decision_per_valid_line_and_reports_the_rest(tmp_path: Path) -> None:
    out, dead = tmp_path / "decisions.jsonl", tmp_path / "dead.jsonl"
    result = CliRunner().invoke(main, ["moderate", str(SAMPLES), "-o", str(out), "--dead-letters", str(dead)])
    assert result.exit_code == 0, result.output
    decisions = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    rejected = [json.loads(line) for line in dead.read_text("utf-8").splitlines()]
    assert len(decisions) == 14
    assert [(r["line"], r["reason"]) for r in rejected] == [
        (12, "invalid_json"),
        (13, "missing_field"),
        (14, "invalid_value"),
    ]
    assert rejected[1]["event_id"] == "evt-0013" and rejected[1]["original"].startswith("{")
    assert {d["content_id"]: d["action"] for d in decisions}["vid-0006"] == "block"
    assert "14 decided" in result.output and "3 rejected" in result.output
    # Labels read from the media bytes (samples evt-0015 to evt-0017, deploy/dev/media_samples.py).
    by_id = {d["content_id"]: d for d in decisions}
    file_codes = {
        cid: sorted(f["code"] for f in by_id[cid]["label_findings"] if f["code"].startswith("file_label"))
        for cid in ("img-0015", "img-0016", "img-0017")
    }
    assert file_codes == {
        "img-0015": ["file_label_present"],
        "img-0016": ["file_label_mismatch", "file_label_present"],
        "img-0017": ["file_label_missing"],
    }
    assert by_id["img-0016"]["label_status"] == "noncompliant"


def test_moderate_uses_the_given_policy(tmp_path: Path) -> None:
    policy = tmp_path / "strict.yaml"
    policy.write_text("name: strict\nlabel_severity: {violation: block, warning: flag, info: allow}\n")
    out = tmp_path / "d.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "moderate",
            str(SAMPLES),
            "-o",
            str(out),
            "--policy",
            str(policy),
            "--dead-letters",
            str(tmp_path / "dead.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    decisions = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert {d["content_id"]: d["action"] for d in decisions}["chat-0002"] == "block"
    assert all(d["provenance"]["policy_version"].startswith("strict@sha256:") for d in decisions)
