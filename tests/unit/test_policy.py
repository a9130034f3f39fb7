"""Policy files: validation errors name the bad key, versions follow content, actions follow rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.policy import PolicyError, load_policy, parse_policy
from stream.records import LabelFinding

MINIMAL = """
name: test
label_severity: {violation: flag, warning: allow, info: allow}
"""


def test_bundled_default_policy_loads_and_is_versioned_by_content() -> None:
    policy = load_policy()
    assert policy.name == "default"
    assert policy.version.startswith("default@sha256:")
    assert (
        policy.action_for_finding(LabelFinding("biometric_edit_without_consent", "violation", "", ""))
        == "block"
    )
    assert policy.classifier_failure_action == "flag"


def test_version_changes_with_content_and_not_otherwise() -> None:
    assert parse_policy(MINIMAL).version == parse_policy(MINIMAL).version
    assert parse_policy(MINIMAL).version != parse_policy(MINIMAL + "\n# comment\n").version


def test_finding_code_rule_wins_over_severity_rule() -> None:
    policy = parse_policy(MINIMAL + "label_findings: {implicit_label_missing: block}\n")
    assert policy.action_for_finding(LabelFinding("implicit_label_missing", "violation", "", "")) == "block"
    assert policy.action_for_finding(LabelFinding("explicit_label_missing", "violation", "", "")) == "flag"
    assert policy.action_for_finding(LabelFinding("implicit_label_present", "info", "", "")) == "allow"


def test_score_thresholds_are_inclusive_and_block_wins() -> None:
    policy = parse_policy(MINIMAL + "categories: {rumor: {flag: 0.5, block: 0.9}}\n")
    assert policy.action_for_score("rumor", 0.49) == ("allow", None)
    assert policy.action_for_score("rumor", 0.5) == ("flag", 0.5)
    assert policy.action_for_score("rumor", 0.9) == ("block", 0.9)
    assert policy.action_for_score("vulgar", 0.99) == ("allow", None)  # category not configured


def test_disabled_category_never_acts() -> None:
    policy = parse_policy(MINIMAL + "categories: {vulgar: {flag: 0.1, block: 0.2, enabled: false}}\n")
    assert policy.action_for_score("vulgar", 1.0) == ("allow", None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("label_findings: {no_such_code: flag}", "label_findings.no_such_code: unknown finding code"),
        ("label_findings: {implicit_label_missing: delete}", "is not one of allow, flag, block"),
        ("categories: {rumor: {flag: 0.9, block: 0.5}}", "block threshold 0.5 is below flag threshold 0.9"),
        (
            "categories: {rumor: {flag: 1.5, block: 2}}",
            "categories.rumor.flag: 1.5 is not a number between 0 and 1",
        ),
        ("categories: {spam: {flag: 0.5, block: 0.9}}", "categories.spam: unknown category"),
        ("classifier_failure: ignore", "classifier_failure: 'ignore' is not one of"),
        ("thresholds: {}", "unknown top-level keys: thresholds"),
    ],
)
def test_invalid_policies_are_rejected_with_the_key_named(extra: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_policy(MINIMAL + extra + "\n")


def test_missing_severity_and_name_are_errors() -> None:
    with pytest.raises(PolicyError, match="label_severity: missing info"):
        parse_policy("name: x\nlabel_severity: {violation: flag, warning: allow}\n")
    with pytest.raises(PolicyError, match="name: required"):
        parse_policy("label_severity: {violation: flag, warning: allow, info: allow}\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy("name: [unclosed\n")


def test_unreadable_policy_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "missing.yaml")
