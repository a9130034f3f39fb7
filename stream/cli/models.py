"""The classifiers: evaluation beside the n-gram baseline, threshold tuning, training, the benchmark."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from classifiers.scores import CATEGORIES
from stream.cli.base import main
from stream.settings import Settings

# Options that eval and tune share: labelled files are read the same way and scored by the same model.
_task_option = click.option(
    "--task",
    type=click.Choice(CATEGORIES),
    help="Category of the files' `label` (default: from each row's source).",
)
_data_root_option = click.option(
    "--data-root",
    type=click.Path(file_okay=False, path_type=Path),
    help="The shared training datasets (default: ../shared/datasets beside the checkout).",
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
@click.option("--dev", "use_dev", is_flag=True, help="Evaluate the dev splits of the shared datasets.")
@_data_root_option
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
    data_root: Path | None,
    task: str | None,
    out: Path,
    model_dir: Path | None,
    threshold: float | None,
    baseline: bool,
) -> None:
    """Measure the classifiers on labelled data: metrics per category, false-positive rates, plots,
    calibration, and the served model beside a baseline trained on the same data in the same run."""
    from classifiers.data import DEFAULT_ROOT
    from classifiers.eval_run import BASELINE, Scorer, evaluate, load_rows, train_baseline, transformer_alone
    from classifiers.text_model import DEFAULT_MODEL_DIR, TextRiskModel
    from stream.core.policy import load_policy

    if not data_files and not use_dev:
        raise click.UsageError("give --data FILE (one or more) or --dev")
    needed_by = "huiyan eval --dev" if use_dev else "huiyan eval's n-gram baseline (--no-baseline skips it)"
    root = _datasets(data_root, needed_by) if use_dev or baseline else data_root or DEFAULT_ROOT
    rows = load_rows(data_files, task, use_dev, root)
    policy = load_policy(Settings.from_env().policy_file)
    points = {c: {"flag": t.flag, "block": t.block} for c, t in policy.categories.items()}
    model = TextRiskModel(model_dir or DEFAULT_MODEL_DIR, threads=2)
    others: dict[str, Scorer] = {}
    if baseline:
        click.echo("training the n-gram baseline on the training split ...", err=True)
        others[BASELINE] = train_baseline(root)
        if model.combine is not None:
            others["transformer alone"] = transformer_alone(model)
    flags = {c: policy.categories[c].flag if c in policy.categories else 0.5 for c in model.categories}
    at = threshold if threshold is not None else flags
    evaluate(model, rows, out, threshold=at, operating_points=points, others=others)
    click.echo((out / "results.md").read_text("utf-8"))
    click.echo(f"written to {out}/", err=True)


def _tune_from_reviews(
    target: Any,
    block_precision: float | None,
    tenant: str | None,
    policy_file: str | None,
    save_to: Path | None,
    out: Path,
) -> None:
    """``huiyan tune --from-reviews``: thresholds from reviewers' verdicts, and a candidate policy."""
    from classifiers.tuning import OperatingPoint, plot_tuning, tune_category, tuning_markdown
    from stream.core.policy import parse_policy, policy_text
    from stream.store.db import open_store
    from stream.store.reviews import candidate_policy, review_examples

    settings = Settings.from_env()
    store = open_store(settings.store_url)
    try:
        examples = review_examples(store, tenant)
    finally:
        store.close()
    if not examples:
        raise click.ClickException("no final verdicts in the store yet: review flagged decisions first")
    text = policy_text(policy_file or settings.policy_file)  # read once: thresholds and candidate alike
    policy = parse_policy(text)
    source = f"{sum(len(labels) for labels, _ in examples.values())} reviews"
    source += f" of tenant {tenant}" if tenant else ""
    tunings, thresholds = [], {}
    for category, (labels, scores) in examples.items():
        tuning = tune_category(category, labels, scores, target, block_precision=block_precision)
        plot_tuning(tuning, labels, scores, out)
        tunings.append(tuning)
        current = policy.categories.get(category)
        if isinstance(tuning.flag, OperatingPoint):
            block = current.block if current else 1.0
            if isinstance(tuning.block, OperatingPoint):
                block = tuning.block.threshold
            thresholds[category] = (tuning.flag.threshold, block)
    click.echo(f"Scores of reviewed decisions ({source}); all were flagged, so thresholds can only rise.\n")
    click.echo(tuning_markdown(tunings))
    if save_to is not None:
        save_to.write_text(candidate_policy(text, thresholds, source), "utf-8")
        click.echo(
            f"\ncandidate policy written to {save_to}. Next: huiyan policy check {save_to}; "
            f"huiyan policy push {save_to} --shadow --by NAME; huiyan shadow report; then promote it with "
            f"huiyan policy push {save_to} --by NAME (each push records who made it)."
        )


def _datasets(data_root: Path | None, needed_by: str) -> Path:
    """The datasets folder a command reads, or one clear line saying it is missing."""
    from classifiers.data import DEFAULT_ROOT, DatasetsMissing, require_datasets

    try:
        return require_datasets(data_root or DEFAULT_ROOT, needed_by)
    except DatasetsMissing as exc:
        raise click.ClickException(str(exc)) from exc


_SHARE = click.FloatRange(0.0, 1.0, min_open=True)


@main.command()
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled JSONL file, as for eval (repeatable); rows may carry precomputed `scores`.",
)
@click.option(
    "--from-reviews",
    is_flag=True,
    help="Learn from reviewers' verdicts in the store (HUIYAN_STORE_URL) instead of data files.",
)
@click.option("--tenant", help="With --from-reviews: one tenant's reviews only.")
@click.option(
    "--save",
    "save_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the policy (--policy) with the proposed thresholds as a candidate policy file.",
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
    from_reviews: bool,
    tenant: str | None,
    save_to: Path | None,
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
    from stream.core.policy import load_policy

    if target_precision is not None and target_recall is None:
        target = Target("precision", target_precision)
    elif target_recall is not None and target_precision is None:
        target = Target("recall", target_recall)
    else:
        raise click.UsageError("give one of --target-precision and --target-recall")
    if target_precision is not None and block_precision is not None and block_precision < target_precision:
        raise click.UsageError("--block-precision must be at least --target-precision")
    if bool(data_files) == from_reviews:
        raise click.UsageError("give --data FILE (one or more) or --from-reviews")
    policy_snippet = policy_snippet or save_to is not None
    if from_reviews:
        _tune_from_reviews(target, block_precision, tenant, policy_file, save_to, out)
        return
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
@_data_root_option
def train(
    pretrain: bool, epochs: float | None, ngram_only: bool, distill: bool, data_root: Path | None
) -> None:
    """Rebuild the served scorer from the committed encoder: fine-tune its 2-layer transformer, export it
    for serving, then fit the n-gram model and the combination (train extra). Writes the bundled model
    directory; the model card gives the time and the tolerance a rebuild stays within."""
    import runpy

    from classifiers.text_model import DEFAULT_MODEL_DIR

    _datasets(data_root, "huiyan train")
    repo = Path(__file__).resolve().parents[2]
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
    if data_root is not None:  # every step that reads the shared datasets takes --data-root
        reading = (
            "classifiers.training.finetune",
            "classifiers.training.distill",
            "classifiers.training.ensemble",
        )
        steps = [(m, [*a, "--data-root", str(data_root)] if m in reading else a) for m, a in steps]
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
@click.option(
    "--api",
    is_flag=True,
    help="Also measure huiyan serve in the same run: maximum requests/s, and p50/p99 at 50, 100 and 200 "
    "requests/s with 16 concurrent clients.",
)
@click.option(
    "--image-share",
    type=click.FloatRange(0, 1),
    default=0.02,
    show_default=True,
    help="Also decide the backlog with this share of image events (OCR of the visible label), and time one "
    "pixel read per image size and of a video; 0 skips both.",
)
def bench(
    count: int,
    workers: int,
    threads: int,
    no_naive: bool,
    no_pin: bool,
    out: Path,
    api: bool,
    image_share: float,
) -> None:
    """Benchmark the classifier and the stream end to end on the local broker (prints and records figures)."""
    from stream.tools.bench import run_bench

    sys.exit(
        run_bench(
            Settings.from_env(),
            count=count,
            workers=workers,
            threads=threads,
            naive=not no_naive,
            pin=not no_pin,
            out=out,
            api=api,
            image_share=image_share,
        )
    )
