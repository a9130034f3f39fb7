"""The runbooks (docs/runbooks/) and the alerts that link them: every alert's runbook_url names a page
that exists, every page is some alert's, each has the sections an SRE looks for, and every command,
metric and setting a page names exists (a runbook with an invented step is worse than none)."""

from __future__ import annotations

import re
from pathlib import Path

from stream.cli import main
from stream.settings import SETTINGS
from tests.fixtures.prometheus import alerts, known_metric_names

REPO = Path(__file__).resolve().parents[2]
RUNBOOKS = REPO / "docs" / "runbooks"
SECTIONS = ("What it means", "How to confirm", "What to do", "Rolling back a policy", "When it clears")


def _pages() -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in sorted(RUNBOOKS.glob("*.md")) if p.name != "README.md"}


def test_every_alert_links_a_page_that_exists_and_every_page_is_linked() -> None:
    linked = set()
    for alert in alerts():
        url = alert["annotations"]["runbook_url"]  # type: ignore[index]
        assert re.fullmatch(r"docs/runbooks/\w+\.md", url), url
        assert (REPO / url).is_file(), f"{alert['alert']}: {url} does not exist"
        linked.add(Path(url).name)
    assert set(_pages()) == linked


def test_every_page_has_the_sections_and_the_index_lists_it() -> None:
    index = (RUNBOOKS / "README.md").read_text("utf-8")
    assert "## Rolling back a policy" in index
    for name, text in _pages().items():
        headings = re.findall(r"^## (.+)$", text, re.M)
        assert [h for h in headings if h in SECTIONS] == list(SECTIONS), (name, headings)
        assert f"({name})" in index, f"the index does not list {name}"
        assert "README.md#rolling-back-a-policy" in text, f"{name} does not link the rollback section"


def test_every_command_a_runbook_names_exists() -> None:
    commands = set(main.commands)  # type: ignore[attr-defined]
    texts = [*_pages().values(), (RUNBOOKS / "README.md").read_text("utf-8")]
    named = {m for text in texts for m in re.findall(r"\bhuiyan ([a-z][a-z-]*)", text)}
    assert {"lag", "policy"} <= named, "the runbooks name neither huiyan lag nor huiyan policy"
    assert named <= commands, f"not commands: {sorted(named - commands)}"


def test_every_metric_and_setting_a_runbook_names_exists() -> None:
    known = known_metric_names()
    settings = {s.env for s in SETTINGS}
    for name, text in _pages().items():
        for metric in re.findall(r"\bhuiyan[_:][a-z0-9_:<>]+", text):
            metric = metric.rstrip("_:")
            if "<w>" in metric:  # a recorded series written for every window
                assert any(k.startswith(metric.split("<w>")[0]) for k in known), (name, metric)
                continue
            assert metric in known or any(k.startswith(metric) for k in known), (name, metric)
        for setting in re.findall(r"\bHUIYAN_[A-Z0-9_]+", text):
            assert setting in settings, (name, setting)
