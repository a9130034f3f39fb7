"""The ``huiyan`` command: the worker, the offline mode, the demo and small Kafka tools.

Every command reads settings from ``HUIYAN_*`` variables (``huiyan settings`` lists them); options
override them. This module parses arguments and prints; the work happens in the modules it calls.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click

from stream import __version__
from stream.settings import Settings, markdown_table


class _LoginFailures(logging.Handler):
    """Keeps the Kafka clients' log lines that say a login or a TLS handshake failed. kafka-python logs
    a refused SCRAM login and keeps retrying, so the caller only sees "Unable to bootstrap" (measured on
    the secure development broker); these lines tell that apart from a broker that is down."""

    SIGNS = ("SaslAuthenticationFailed", "Authentication failed", "CERTIFICATE_VERIFY_FAILED", "SSLError")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a log call with bad arguments is not ours to fail on
            return
        if any(sign in message for sign in self.SIGNS) and len(self.seen) < 5:
            self.seen.append(message[:300])


class _CommandGroup(click.Group):
    """Turns an unreachable broker, a refused login or a missing permission into one clear line instead
    of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        import ssl

        from aiokafka import errors as aioerrors
        from kafka import errors as kafkaerrors

        from stream.kafka_auth import KafkaSecurityError
        from stream.kafka_io import EventTooLarge

        failures = _LoginFailures()
        for name in ("kafka", "aiokafka"):
            logging.getLogger(name).addHandler(failures)
        try:
            return super().invoke(ctx)
        except (
            kafkaerrors.KafkaTimeoutError,
            TimeoutError,
            kafkaerrors.SaslAuthenticationFailedError,
            kafkaerrors.IllegalSaslStateError,
            kafkaerrors.UnsupportedSaslMechanismError,
            aioerrors.KafkaConnectionError,
            aioerrors.AuthenticationFailedError,
            aioerrors.SaslAuthenticationFailed,
            aioerrors.UnsupportedSaslMechanismError,
            ssl.SSLError,
        ) as exc:
            settings = Settings.from_env()
            refused = isinstance(exc, ssl.SSLError) or "Authentication" in type(exc).__name__
            if failures.seen or refused:
                raise click.ClickException(
                    f"Kafka at {settings.broker} refused the login of "
                    f"{settings.sasl_username or '(no user)'} over {settings.security_protocol}: "
                    f"{failures.seen[0] if failures.seen else exc}. Check HUIYAN_KAFKA_USERNAME, "
                    "HUIYAN_KAFKA_PASSWORD_FILE, HUIYAN_KAFKA_SASL_MECHANISM and HUIYAN_KAFKA_CA_FILE."
                ) from exc
            raise click.ClickException(
                f"Kafka at {settings.broker} did not answer ({type(exc).__name__}: {exc}). Is the broker "
                "running (deploy/kafka/broker.sh status) and HUIYAN_BROKER right? Is "
                "HUIYAN_KAFKA_SECURITY_PROTOCOL the protocol of the broker's listener?"
            ) from exc
        except (KafkaSecurityError, EventTooLarge) as exc:
            raise click.ClickException(str(exc)) from exc
        except kafkaerrors.MessageSizeTooLargeError as exc:
            raise click.ClickException(
                f"Kafka refused a record as too large ({exc}); HUIYAN_MAX_EVENT_BYTES and "
                "HUIYAN_KAFKA_MAX_MESSAGE_BYTES set the limits (docs/security.md)"
            ) from exc
        except (
            kafkaerrors.AuthorizationError,
            aioerrors.TopicAuthorizationFailedError,
            aioerrors.GroupAuthorizationFailedError,
        ) as exc:
            settings = Settings.from_env()
            # kafka-python quotes the whole request and response; the error's name and start say enough.
            raise click.ClickException(
                f"Kafka refused {settings.sasl_username or 'this client'} an operation "
                f"({type(exc).__name__}: {str(exc)[:200]}). docs/security.md lists the ACLs of each role "
                "(huiyan acls)."
            ) from exc
        finally:
            for name in ("kafka", "aiokafka"):
                logging.getLogger(name).removeHandler(failures)


@click.group(cls=_CommandGroup)
@click.version_option(__version__, prog_name="huiyan")
def main() -> None:
    """Huiyan (慧眼): moderation of AI-generated content on Kafka."""


@main.command()
@click.option("--web-port", type=int, help="Port of /metrics (HUIYAN_WEB_PORT).")
@click.option("--data-dir", help="Worker state directory (HUIYAN_DATA_DIR).")
@click.option("--broker", help="Kafka URL, e.g. kafka://127.0.0.1:19092 (HUIYAN_BROKER).")
@click.option("--policy", "policy_file", help="Policy YAML (HUIYAN_POLICY_FILE).")
@click.option("--log-level", help="Log level (HUIYAN_LOG_LEVEL).")
def worker(
    web_port: int | None,
    data_dir: str | None,
    broker: str | None,
    policy_file: str | None,
    log_level: str | None,
) -> None:
    """Run a worker: consume content events, produce decisions and dead letters."""
    from stream.worker import run_worker

    settings = Settings.from_env(
        web_port=web_port, data_dir=data_dir, broker=broker, policy_file=policy_file, log_level=log_level
    )
    run_worker(settings)


@main.command()
@click.argument("events_file", type=click.File("rb"))
@click.option("-o", "--output", type=click.File("wb"), default="-", help="Decisions JSONL (default stdout).")
@click.option(
    "--dead-letters",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Rejected lines as JSONL (default stderr).",
)
@click.option("--policy", "policy_file", help="Policy YAML (HUIYAN_POLICY_FILE).")
@click.option("--batch-size", type=int, default=64, show_default=True)
def moderate(
    events_file: IO[bytes], output: IO[bytes], dead_letters: IO[str], policy_file: str | None, batch_size: int
) -> None:
    """Decide the events of a JSONL file without Kafka (one event per line)."""
    from stream.offline import moderate_lines
    from stream.worker import build_context

    context = build_context(Settings.from_env(policy_file=policy_file))
    # click opens "-" for writing as stdout; rejected lines belong on stderr beside the summary.
    sink = (
        sys.stderr
        if dead_letters is sys.stdout or getattr(dead_letters, "name", "") == "<stdout>"
        else dead_letters
    )
    summary = moderate_lines(events_file, output, sink, context, batch_size=batch_size)
    click.echo(
        f"huiyan moderate: {summary.decided} decided ({summary.actions_text()}), "
        f"{summary.rejected} rejected, policy {context.policy.version}",
        err=True,
    )


@main.command()
@click.argument("events_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--topic", help="Topic (default HUIYAN_CONTENT_TOPIC).")
def produce(events_file: Path, topic: str | None) -> None:
    """Produce each line of a JSONL file to the content topic, as is."""
    from stream.kafka_io import produce_events

    lines = [line.rstrip(b"\r\n") for line in events_file.read_bytes().splitlines() if line.strip()]
    count = produce_events(Settings.from_env(), lines, topic=topic)
    click.echo(f"produced {count} events", err=True)


@main.command()
@click.option("--from-beginning", is_flag=True, help="Start at the oldest decision instead of new ones.")
@click.option(
    "--idle-timeout", type=float, default=10.0, show_default=True, help="Stop after this many idle seconds."
)
@click.option("--max", "max_records", type=int, help="Stop after this many decisions.")
@click.option("--dead-letters", is_flag=True, help="Read the dead-letter topic instead.")
def decisions(from_beginning: bool, idle_timeout: float, max_records: int | None, dead_letters: bool) -> None:
    """Print decisions (or dead letters) from Kafka as JSON lines."""
    from stream.kafka_io import open_reader, read_records

    settings = Settings.from_env()
    topic = settings.dead_letter_topic if dead_letters else settings.decision_topic
    consumer = open_reader(settings, [topic], from_beginning=from_beginning)
    try:
        for record in read_records(consumer, idle_timeout_s=idle_timeout, max_records=max_records):
            if dead_letters:
                headers = {k: v.decode("utf-8", "replace") for k, v in record.headers.items()}
                click.echo(
                    json.dumps(
                        {"headers": headers, "value": record.value.decode("utf-8", "replace")},
                        ensure_ascii=False,
                    )
                )
            else:
                click.echo(record.value.decode("utf-8"))
    finally:
        consumer.close()


@main.command()
@click.option("--apply", "do_apply", is_flag=True, help="Create them (as an operator allowed to alter ACLs).")
@click.option("--worker", default="User:huiyan-worker", show_default=True, help="The workers' principal.")
@click.option("--admin", default="User:huiyan-admin", show_default=True, help="Policy administrators.")
@click.option("--producer", default="User:huiyan-producer", show_default=True, help="Content producers.")
def acls(do_apply: bool, worker: str, admin: str, producer: str) -> None:
    """List (or --apply) the Kafka ACLs of each role for this deployment's topics (docs/security.md)."""
    from stream.acls import apply, grants

    settings = Settings.from_env()
    planned = grants(settings, {"worker": worker, "admin": admin, "producer": producer})
    for grant in planned:
        click.echo(grant.describe())
    if do_apply:
        created = apply(settings, planned)
        click.echo(f"created {created} ACLs on {settings.broker}")


@main.command()
def topics() -> None:
    """Create the worker's topics if missing (content, decisions, dead letters, shadow, strikes, policy)."""
    from stream.kafka_io import create_topics

    created = create_topics(Settings.from_env())
    click.echo(f"created: {', '.join(created) or 'nothing (all exist)'}")


# Options that eval and tune share: labelled files are read the same way and scored by the same model.
_task_option = click.option(
    "--task",
    type=click.Choice(["rumor", "vulgar", "impersonation"]),
    help="Category of the files' `label` (default: from each row's source).",
)
_model_dir_option = click.option(
    "--model-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Model directory (default: the bundled model).",
)


@main.command(name="eval")
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled JSONL file (repeatable).",
)
@click.option("--dev", "use_dev", is_flag=True, help="Evaluate the dev splits of ../shared/datasets.")
@_task_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval-results"),
    show_default=True,
    help="Folder for results.md, results.json and the PNG plots.",
)
@_model_dir_option
@click.option(
    "--threshold",
    type=float,
    help="One threshold for every category (default: each category's flag threshold in the policy of "
    "HUIYAN_POLICY_FILE, the bundled default policy unless set).",
)
@click.option(
    "--baseline/--no-baseline",
    default=True,
    show_default=True,
    help="Train the character n-gram baseline on the training data now (a few minutes) and print it "
    "beside the served model, with the served transformer alone.",
)
def eval_command(
    data_files: tuple[Path, ...],
    use_dev: bool,
    task: str | None,
    out: Path,
    model_dir: Path | None,
    threshold: float | None,
    baseline: bool,
) -> None:
    """Measure the classifiers on labelled data: metrics per category, false-positive rates, plots,
    calibration, and the served model beside a baseline trained on the same data in the same run."""
    from classifiers.eval_run import BASELINE, Scorer, evaluate, load_rows, train_baseline, transformer_alone
    from classifiers.text_model import DEFAULT_MODEL_DIR, TextRiskModel
    from stream.policy import load_policy

    if not data_files and not use_dev:
        raise click.UsageError("give --data FILE (one or more) or --dev")
    rows = load_rows(data_files, task, use_dev)
    policy = load_policy(Settings.from_env().policy_file)
    points = {c: {"flag": t.flag, "block": t.block} for c, t in policy.categories.items()}
    model = TextRiskModel(model_dir or DEFAULT_MODEL_DIR, threads=2)
    others: dict[str, Scorer] = {}
    if baseline:
        click.echo("training the n-gram baseline on the training split ...", err=True)
        others[BASELINE] = train_baseline()
        if model.combine is not None:
            others["transformer alone"] = transformer_alone(model)
    flags = {c: policy.categories[c].flag if c in policy.categories else 0.5 for c in model.categories}
    at = threshold if threshold is not None else flags
    evaluate(model, rows, out, threshold=at, operating_points=points, others=others)
    click.echo((out / "results.md").read_text("utf-8"))
    click.echo(f"written to {out}/", err=True)


_SHARE = click.FloatRange(0.0, 1.0, min_open=True)


@main.command()
@click.option(
    "--data",
    "data_files",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled JSONL file, as for eval (repeatable); rows may carry precomputed `scores`.",
)
@_task_option
@click.option("--target-precision", type=_SHARE, help="Flag at the lowest threshold with this precision.")
@click.option("--target-recall", type=_SHARE, help="Flag at the highest threshold with this recall.")
@click.option("--block-precision", type=_SHARE, help="Also propose a block threshold with this precision.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval-results/tuning"),
    show_default=True,
    help="Folder for pr-<category>.png and hist-<category>.png.",
)
@click.option("--policy-snippet", is_flag=True, help="Also print a YAML `categories:` block for a policy.")
@click.option(
    "--policy", "policy_file", help="Policy whose thresholds the snippet keeps (HUIYAN_POLICY_FILE)."
)
@_model_dir_option
def tune(
    data_files: tuple[Path, ...],
    task: str | None,
    target_precision: float | None,
    target_recall: float | None,
    block_precision: float | None,
    out: Path,
    policy_snippet: bool,
    policy_file: str | None,
    model_dir: Path | None,
) -> None:
    """Propose flag (and block) thresholds per category for a target precision or recall."""
    from classifiers.eval_run import load_rows
    from classifiers.tuning import (
        Target,
        category_examples,
        plot_tuning,
        precomputed_scores,
        tune_category,
        tuning_markdown,
    )
    from classifiers.tuning import policy_snippet as render_snippet
    from stream.policy import load_policy

    if target_precision is not None and target_recall is None:
        target = Target("precision", target_precision)
    elif target_recall is not None and target_precision is None:
        target = Target("recall", target_recall)
    else:
        raise click.UsageError("give one of --target-precision and --target-recall")
    if target_precision is not None and block_precision is not None and block_precision < target_precision:
        raise click.UsageError("--block-precision must be at least --target-precision")
    try:
        # Only the snippet needs the policy: without it, a broken HUIYAN_POLICY_FILE stops nothing.
        policy = load_policy(policy_file or Settings.from_env().policy_file) if policy_snippet else None
        rows = load_rows(data_files, task, False)
        scored = precomputed_scores(data_files)
        scores_from = "the data files"
        if scored is None:
            from classifiers.text_model import DEFAULT_MODEL_DIR, TextRiskModel

            model = TextRiskModel(model_dir or DEFAULT_MODEL_DIR, threads=2)
            texts = sorted({row.text for row in rows})
            scored = dict(zip(texts, model.predict(texts), strict=True))
            scores_from = f"model {model.version}"
        examples = category_examples(rows, scored)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    tunings = []
    for category, (labels, scores) in examples.items():
        tuning = tune_category(category, labels, scores, target, block_precision=block_precision)
        plot_tuning(tuning, labels, scores, out)
        tunings.append(tuning)
    click.echo(f"Scores from {scores_from}; a score at or above a threshold counts as harmful.\n")
    click.echo(tuning_markdown(tunings))
    if policy is not None:
        click.echo("\n" + render_snippet(tunings, policy.categories, scores_from))
    click.echo(f"plots written to {out}/", err=True)


@main.command()
@click.option("--pretrain", is_flag=True, help="Also redo the masked-LM pre-training (about 35 minutes).")
@click.option("--epochs", type=float, help="Fine-tuning epochs (default: the recipe's).")
@click.option(
    "--ngram-only",
    is_flag=True,
    help="Keep the committed transformer; refit only the n-gram model and the combination (a few minutes).",
)
@click.option(
    "--distill",
    is_flag=True,
    help="Fine-tune a 4-layer teacher and distil the served 2 layers from it (the text-v3 route, about "
    "twice as long) instead of fine-tuning the 2 layers directly.",
)
def train(pretrain: bool, epochs: float | None, ngram_only: bool, distill: bool) -> None:
    """Rebuild the served scorer from the committed encoder: fine-tune its 2-layer transformer, export it
    for serving, then fit the n-gram model and the combination (train extra). Writes the bundled model
    directory; the model card gives the time and the tolerance a rebuild stays within."""
    import runpy

    from classifiers.text_model import DEFAULT_MODEL_DIR

    repo = Path(__file__).resolve().parents[1]
    served = str(DEFAULT_MODEL_DIR)
    steps: list[tuple[str, list[str]]] = [("classifiers.training.pretrain", [])] if pretrain else []
    tuning = ["--epochs", str(epochs)] if epochs else []
    if ngram_only:
        steps = []
    elif distill:
        teacher = str(repo / "build" / "teacher")
        steps += [
            ("classifiers.training.finetune", ["--output", teacher, *tuning]),
            ("classifiers.training.distill", ["--teacher", teacher, "--output", served]),
            ("classifiers.training.export", ["--model", served]),
        ]
    else:
        steps += [
            ("classifiers.training.finetune", ["--layers", "0,1", "--output", served, *tuning]),
            ("classifiers.training.export", ["--model", served]),
        ]
    steps.append(("classifiers.training.ensemble", ["--model", served]))
    for module, arguments in steps:
        click.echo(f"== {module} {' '.join(arguments)}", err=True)
        sys.argv = [module, *arguments]
        runpy.run_module(module, run_name="__main__")


@main.command()
@click.option("--texts", "count", type=int, default=3000, show_default=True, help="Events per run.")
@click.option("--workers", type=int, default=2, show_default=True, help="Worker processes.")
@click.option("--threads", type=int, default=1, show_default=True, help="Inference threads per worker.")
@click.option("--no-naive", is_flag=True, help="Skip the naive transformers-pipeline baseline.")
@click.option(
    "--no-pin",
    is_flag=True,
    help="Let the OS move workers between CPUs (by default each worker is pinned to its own CPU).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("benchmarks/results.jsonl"),
    show_default=True,
)
def bench(count: int, workers: int, threads: int, no_naive: bool, no_pin: bool, out: Path) -> None:
    """Benchmark the classifier and the stream end to end on the local broker (prints and records figures)."""
    from stream.bench import run_bench

    sys.exit(
        run_bench(
            Settings.from_env(),
            count=count,
            workers=workers,
            threads=threads,
            naive=not no_naive,
            pin=not no_pin,
            out=out,
        )
    )


@main.group()
def policy() -> None:
    """Push, show and list the policies workers apply (the compacted HUIYAN_POLICY_TOPIC)."""


@policy.command(name="check")
@click.argument("policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def policy_check(policy_file: Path) -> None:
    """Validate POLICY_FILE and summarise it, without pushing anything."""
    from stream.policy import PolicyError, load_policy

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
    from stream.kafka_auth import principal
    from stream.policy import PolicyError
    from stream.policy_store import new_record, push

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
    from stream.kafka_auth import principal
    from stream.policy_store import new_record, push

    settings = Settings.from_env()
    pushed = push(settings, new_record("shadow", None, pushed_by, principal=principal(settings)))
    click.echo(f"cleared the shadow policy (offset {pushed.offset})")


@policy.command(name="show")
@click.option("--shadow", is_flag=True, help="Show the shadow policy instead of the live one.")
@click.option("--yaml", "as_yaml", is_flag=True, help="Print the policy file itself.")
def policy_show(shadow: bool, as_yaml: bool) -> None:
    """The policy in force: version, when and by whom it was pushed (or the file workers start with)."""
    from stream.policy import load_policy
    from stream.policy_store import in_force, read_history

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
    from stream.policy import PolicyError
    from stream.policy_store import in_force, policy_of, read_history

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
    from stream.policy import PolicyError, load_policy
    from stream.replay import replay as run_replay
    from stream.worker import build_context

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
    from stream.kafka_io import open_reader, read_records
    from stream.policy_diff import DiffReport, pair_by_event

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


@main.command(name="settings")
@click.option("--markdown", is_flag=True, help="Print the README's configuration table.")
def settings_command(markdown: bool) -> None:
    """Show every setting with its environment variable and current value."""
    if markdown:
        click.echo(markdown_table())
        return
    current = Settings.from_env()
    from stream.settings import SETTINGS

    for setting in SETTINGS:
        click.echo(f"{setting.env}={getattr(current, setting.name)}")


@main.command()
@click.argument("which", type=click.Choice(["event", "decision"]))
def schema(which: str) -> None:
    """Print the JSON Schema of the event or decision contract."""
    from stream.records import load_schema

    name = "content-event.v1" if which == "event" else "decision.v1"
    click.echo(json.dumps(load_schema(name), ensure_ascii=False, indent=2))


@main.command()
@click.option("--keep-running", is_flag=True, help="Leave the broker and the worker running at the end.")
@click.option(
    "--events",
    "events_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Events to send (default: the bundled samples).",
)
def demo(keep_running: bool, events_file: Path | None) -> None:
    """Start the local broker and a worker, send sample events, print the decisions as they arrive."""
    from stream.demo import run_demo

    sys.exit(run_demo(Settings.from_env(), keep_running=keep_running, events_file=events_file))


if __name__ == "__main__":  # pragma: no cover
    main()
