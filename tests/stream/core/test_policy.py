"""Policy files: validation errors name the bad key, versions follow content, actions follow rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from classifiers.labels.findings import LabelFinding
from stream.core.policy import PolicyError, load_policy, parse_policy

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


OVERRIDES = (
    MINIMAL
    + """
categories:
  rumor: {flag: 0.5, block: 0.95}
  vulgar: {flag: 0.5, block: 0.95}
term_lists:
  - {name: 通用封禁, action: block, terms: [办证刻章]}
overrides:
  - scene: comment
    categories: {vulgar: {flag: 0.3, block: 0.9}}
  - tenant: kids
    categories: {vulgar: {flag: 0.2, block: 0.6}}
    classifier_failure: block
    term_lists:
      - {name: 少儿不宜, action: flag, category: vulgar, terms: [约会]}
  - tenant: kids
    scene: comment
    categories: {vulgar: {flag: 0.1, block: 0.5}}
    label_findings: {implicit_label_missing: block}
"""
)


def test_overrides_apply_from_least_to_most_specific() -> None:
    policy = parse_policy(OVERRIDES)
    assert policy.rules_for("shop", "post").scope == "base"
    assert policy.rules_for("shop", "post").categories["vulgar"].flag == 0.5
    assert policy.rules_for("shop", "comment").categories["vulgar"].flag == 0.3
    kids_post = policy.rules_for("kids", "post")
    assert kids_post.categories["vulgar"].flag == 0.2
    assert kids_post.classifier_failure_action == "block"
    kids_comment = policy.rules_for("kids", "comment")
    # scene-only, then tenant-only, then tenant+scene: the most specific one wins, the others still fill in.
    assert kids_comment.scope == "scene=comment + tenant=kids + tenant=kids,scene=comment"
    assert kids_comment.categories["vulgar"].flag == 0.1
    assert kids_comment.categories["rumor"].flag == 0.5
    assert kids_comment.classifier_failure_action == "block"
    missing = LabelFinding("implicit_label_missing", "violation", "", "")
    assert kids_comment.action_for_finding(missing) == "block"
    assert policy.rules_for("shop", "comment").action_for_finding(missing) == "flag"


def test_override_term_lists_add_to_the_base_lists() -> None:
    policy = parse_policy(OVERRIDES)
    text = "周末约会顺便办证刻章"
    assert [m.name for m in policy.rules_for("shop", "post").term_lists.match(text)] == ["通用封禁"]
    kids = [m.name for m in policy.rules_for("kids", "post").term_lists.match(text)]
    assert kids == ["通用封禁", "少儿不宜"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("overrides: {tenant: a}", "overrides: must be a list"),
        ("overrides: [{categories: {}}]", "overrides[0]: needs a tenant, a scene or both"),
        ("overrides: [{tenant: a, colour: red}]", "overrides[0]: unknown keys colour"),
        ("overrides: [{tenant: a}, {tenant: a}]", "overrides[1]: same tenant and scene as overrides[0]"),
        ("overrides: [{tenant: ''}]", "overrides[0].tenant: must be a non-empty string"),
        (
            "overrides: [{tenant: a, categories: {rumor: {flag: 0.9, block: 0.1}}}]",
            "overrides[0].categories.rumor: block threshold 0.1 is below flag threshold 0.9",
        ),
        ("overrides: [{tenant: a, categories: [1]}]", "overrides[0].categories: must be a mapping"),
        ("term_lists: [{name: x, action: block}]", "term_lists[0]"),
        ("term_lists: [{name: x, action: explode, terms: [a]}]", "term_lists[0].action"),
        (
            "term_lists: [{name: x, action: block, terms: [a]}]\n"
            "overrides: [{tenant: t, term_lists: [{name: x, action: flag, terms: [b]}]}]",
            "duplicate list name",
        ),
        ("categories: {rumor: {flag: 0.5, block: 0.9, severity: high}}", "categories.rumor: unknown keys"),
    ],
)
def test_invalid_overrides_and_lists_are_rejected_with_the_key_named(extra: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(MINIMAL + extra + "\n")
    assert message in str(caught.value)


def test_resolved_rules_are_cached_per_tenant_and_scene() -> None:
    policy = parse_policy(OVERRIDES)
    assert policy.rules_for("kids", "comment") is policy.rules_for("kids", "comment")


SCENE_TERMS = (
    MINIMAL
    + """
term_lists:
  - {name: 通用封禁, action: block, terms: [办证刻章]}
overrides:
  - scene: comment
    term_lists:
      - {name: 评论区引流, action: flag, terms: [加微信]}
  - tenant: kids
    categories: {vulgar: {flag: 0.2, block: 0.6}}
"""
)


def test_an_overrides_term_lists_compile_once_when_the_policy_is_built_and_never_while_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import stream.core.policy

    compiled: list[int] = []
    parse = stream.core.policy.parse_term_lists

    def counting(docs: Any, *where: Any) -> Any:
        compiled.append(len(docs))
        return parse(docs, *where)

    monkeypatch.setattr(stream.core.policy, "parse_term_lists", counting)
    policy = parse_policy(SCENE_TERMS)
    # The validation's compile of the base lists, then one automaton per combination of overrides with
    # term lists: the comment scene's, and the comment scene's under tenant kids.
    built = list(compiled)
    assert built[-2:] == [2, 2]
    text = "想要办证刻章的加微信"
    # Producers name tenants freely: reading the policy for any number of them compiles and keeps nothing.
    for index in range(10_050):
        rules = policy.rules_for(f"tenant-{index}", "comment")
        assert rules.scope == "scene=comment"
    assert sorted(m.name for m in rules.term_lists.match(text)) == ["评论区引流", "通用封禁"]
    kids = policy.rules_for("kids", "comment")
    assert kids.scope == "scene=comment + tenant=kids"
    assert kids.categories["vulgar"].flag == 0.2
    assert sorted(m.name for m in kids.term_lists.match(text)) == ["评论区引流", "通用封禁"]
    assert [m.name for m in policy.rules_for("tenant-1", "post").term_lists.match(text)] == ["通用封禁"]
    assert policy.rules_for("kids", "post").scope == "tenant=kids"
    assert compiled == built


def test_policy_check_command_summarises_a_good_file_and_names_the_bad_key(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from stream.cli import main

    good = tmp_path / "good.yaml"
    good.write_text(OVERRIDES + "strikes: {escalate: [{at: 3, action: flag}]}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["policy", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert parse_policy(good.read_text("utf-8")).version in result.output
    assert "term list 通用封禁: block, 1 terms, 0 rules" in result.output
    assert "override tenant=kids,scene=comment" in result.output
    assert "strikes within 168 h: 3 -> flag" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL + "overrides: [{tenant: a, colour: red}]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["policy", "check", str(bad)])
    assert result.exit_code == 1
    assert "overrides[0]: unknown keys colour" in result.output
