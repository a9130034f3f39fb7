"""Policies: check, push, show and history; shadow reports; replay of past events under a candidate."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import click

from stream.cli.base import main
from stream.settings import Settings


@main.group()
def policy() -> None:
    """Push, show and list the policies workers apply (the compacted HUIYAN_POLICY_TOPIC)."""


@policy.command(name="check")
@click.argument("policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def policy_check(policy_file: Path) -> None:
    """Validate POLICY_FILE and summarise it, without pushing anything."""
    from stream.core.policy import PolicyError, load_policy

    try:
        checked = load_policy(policy_file)
    except PolicyError as exc:
        raise click.ClickException(f"{policy_file}: {exc}") from exc
    click.echo(f"valid: {checked.version}")
    for name, rule in sorted(checked.categories.items()):
        state = f"flag >= {rule.flag}, block >= {rule.block}" if rule.enabled else "off"
        click.echo(f"  {name}: {state}")
    for term_list in checked.base.term_lists.lists:
        size = f"{len(term_list.terms)} terms, {len(term_list.rules)} rules"
        click.echo(f"  term list {term_list.name}: {term_list.action}, {size}")
    for override in checked.overrides:
        click.echo(f"  override {override.label}")
    if checked.strikes:
        steps = ", ".join(f"{at} -> {action}" for at, action in checked.strikes.escalate)
        click.echo(f"  strikes within {checked.strikes.window_s / 3600:g} h: {steps}")


@policy.command(name="push")
@click.argument("policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--shadow", is_flag=True, help="Run it as the shadow policy (decisions to the shadow topic only)."
)
@click.option("--by", "pushed_by", default=lambda: os.environ.get("USER", "unknown"), help="Who pushes it.")
def policy_push(policy_file: Path, shadow: bool, pushed_by: str) -> None:
    """Validate POLICY_FILE and push it; every worker applies it within seconds."""
    from stream.core.policy import PolicyError
    from stream.kafka.auth import principal
    from stream.kafka.policy_store import new_record, push

    settings = Settings.from_env()
    try:
        record = new_record(
            "shadow" if shadow else "live",
            policy_file.read_text("utf-8"),
            pushed_by,
            principal=principal(settings),
        )
    except PolicyError as exc:
        raise click.ClickException(f"{policy_file}: {exc} (nothing was pushed)") from exc
    pushed = push(settings, record)
    click.echo(f"pushed {pushed.slot} policy {pushed.version} as {pushed.pusher} (offset {pushed.offset})")


@policy.command(name="clear-shadow")
@click.option("--by", "pushed_by", default=lambda: os.environ.get("USER", "unknown"), help="Who clears it.")
def policy_clear_shadow(pushed_by: str) -> None:
    """Stop the shadow policy: workers decide under the live policy only."""
    from stream.kafka.auth import principal
    from stream.kafka.policy_store import new_record, push

    settings = Settings.from_env()
    pushed = push(settings, new_record("shadow", None, pushed_by, principal=principal(settings)))
    click.echo(f"cleared the shadow policy (offset {pushed.offset})")


@policy.command(name="show")
@click.option("--shadow", is_flag=True, help="Show the shadow policy instead of the live one.")
@click.option("--yaml", "as_yaml", is_flag=True, help="Print the policy file itself.")
def policy_show(shadow: bool, as_yaml: bool) -> None:
    """The policy in force: version, when and by whom it was pushed (or the file workers start with)."""
    from stream.core.policy import load_policy
    from stream.kafka.policy_store import in_force, read_history

    settings = Settings.from_env()
    records, _ = read_history(settings)
    current = in_force(records)["shadow" if shadow else "live"]
    if current is None or current.yaml is None:
        if shadow:
            click.echo("no shadow policy" + (f" (cleared at {current.pushed_at})" if current else ""))
            return
        fallback = load_policy(settings.policy_file)
        source = settings.policy_file or "the bundled default policy"
        click.echo(f"live policy {fallback.version}: nothing pushed, workers use {source}")
        return
    click.echo(
        f"{current.slot} policy {current.version}, pushed {current.pushed_at} by {current.pusher} "
        f"(offset {current.offset})"
    )
    if as_yaml:
        click.echo(current.yaml)


@policy.command(name="history")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per push (without the YAML).")
def policy_history(as_json: bool) -> None:
    """Every push the topic holds, oldest first (compaction keeps the newest push of each version)."""
    from stream.core.policy import PolicyError
    from stream.kafka.policy_store import in_force, policy_of, read_history

    records, problems = read_history(Settings.from_env())
    current = {r.offset for r in in_force(records).values() if r is not None}
    for record in records:
        valid = True
        try:
            policy_of(record)
        except PolicyError:
            valid = False
        state = "in force" if record.offset in current else ("rejected" if not valid else "")
        if as_json:
            doc = {
                "offset": record.offset,
                "slot": record.slot,
                "version": record.version,
                "pushed_at": record.pushed_at,
                "pushed_by": record.pushed_by,
                "principal": record.principal,
                "state": state or "replaced",
            }
            click.echo(json.dumps(doc, ensure_ascii=False))
        else:
            version = record.version or "(shadow cleared)"
            click.echo(
                f"{record.offset:>6}  {record.pushed_at:<24}  {record.slot:<6}  {version}  "
                f"{record.pusher}  {state}".rstrip()
            )
    for problem in problems:
        click.echo(f"unreadable record: {problem}", err=True)


@main.command()
@click.option(
    "--policy", "policy_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--from-offset", type=click.IntRange(min=0), help="Start at this offset of every partition.")
@click.option(
    "--from-time",
    type=click.DateTime(
        formats=[
            "%Y-%m-%d",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S%z",
            "%Y-%m-%dT%H:%M:%S.%f%z",
        ]
    ),
    help="Start at the first event at or after this time (UTC unless it has an offset, e.g. +08:00).",
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Compare with this policy instead of the live one.",
)
@click.option("--max-events", type=click.IntRange(min=1), help="Stop after this many records.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def replay(
    policy_file: Path,
    from_offset: int | None,
    from_time: datetime | None,
    baseline_file: Path | None,
    max_events: int | None,
    as_json: bool,
) -> None:
    """Re-decide past events under a candidate policy and report what would change; produces nothing."""
    from stream.core.policy import PolicyError, load_policy
    from stream.kafka.replay import replay as run_replay
    from stream.runtime import build_context

    if (from_offset is None) == (from_time is None):
        raise click.UsageError("give exactly one of --from-offset and --from-time")
    try:
        candidate = load_policy(policy_file)
        baseline = load_policy(baseline_file) if baseline_file else None
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    settings = Settings.from_env()
    result = run_replay(
        settings,
        build_context(settings),
        candidate,
        baseline=baseline,
        from_offset=from_offset,
        from_time=None
        if from_time is None
        else from_time
        if from_time.tzinfo
        else from_time.replace(tzinfo=UTC),
        max_events=max_events,
    )
    if as_json:
        doc = {
            "read": result.read,
            "rejected": dict(result.rejected),
            "partitions": {str(p): {"from": a, "to": b} for p, (a, b) in sorted(result.partitions.items())},
            **result.report.to_dict(),
        }
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    ranges = ", ".join(f"{p}: {a}-{b}" for p, (a, b) in sorted(result.partitions.items()))
    click.echo(f"replayed {result.read} records of {settings.content_topic} (partition: offsets {ranges})")
    if result.rejected:
        click.echo(
            "not valid events (left out): " + ", ".join(f"{k} {n}" for k, n in result.rejected.items())
        )
    click.echo(result.report.render("baseline (live)" if baseline is None else "baseline", "candidate"))


@main.group()
def shadow() -> None:
    """The shadow policy's decisions, compared with the live ones."""


@shadow.command(name="report")
@click.option(
    "--idle-timeout", type=float, default=3.0, show_default=True, help="Stop reading after this idle time."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def shadow_report(idle_timeout: float, as_json: bool) -> None:
    """How often and where the shadow policy disagrees with the live one, on the events both decided."""
    from stream.core.policy_diff import DiffReport, pair_by_event
    from stream.kafka.clients import open_reader, read_records

    settings = Settings.from_env()

    def values(topic: str) -> list[bytes]:
        consumer = open_reader(settings, [topic], from_beginning=True)
        try:
            return [r.value for r in read_records(consumer, idle_timeout_s=idle_timeout)]
        finally:
            consumer.close()

    pairs, live_only, shadow_only = pair_by_event(
        values(settings.decision_topic), values(settings.shadow_decision_topic)
    )
    report = DiffReport()
    for live, candidate in pairs:
        report.add(live, candidate)
    if as_json:
        click.echo(
            json.dumps(
                {**report.to_dict(), "live_only": live_only, "shadow_only": shadow_only},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(report.render("live", "shadow"))
    click.echo(f"\n{live_only} live decisions without a shadow one (decided while no shadow policy ran)")
    if shadow_only:
        click.echo(f"{shadow_only} shadow decisions without a live one (not yet read, or compacted away)")
