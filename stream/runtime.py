"""The core's context from settings: the model, the policy, the label-signing keys and the limits.

Every process that decides events builds its context here, once: the worker, ``huiyan moderate``,
``huiyan replay`` and the benchmark. The core itself reads no settings and loads nothing.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from stream.core.pipeline import EventLimits, ModerationContext, TextClassifier
from stream.core.policy import load_policy
from stream.settings import Settings

if TYPE_CHECKING:
    from stream.core.pixels import PixelRunner


def build_context(settings: Settings, *, offline: bool = False) -> ModerationContext:
    """The core's context from settings; shared by the worker and the offline mode.

    The classifier model is loaded here, once per process. ``offline`` (``huiyan moderate``) waits for
    every pixel read instead of bounding them: a file of events has no stream to keep up with.
    """
    classifiers: tuple[TextClassifier, ...] = ()
    if settings.classifiers_enabled and settings.classifier_factory:
        classifiers = load_classifiers(settings)
    elif settings.classifiers_enabled:
        from classifiers.text_model import TextRiskModel, served_model_dir

        model_dir = served_model_dir(settings.model_dir)
        classifiers = (TextRiskModel(model_dir, threads=settings.inference_threads),)
    return ModerationContext(
        policy=load_policy(settings.policy_file),
        limits=EventLimits(settings.max_event_bytes, settings.max_media_bytes),
        platform_code=settings.platform_code,
        classifiers=classifiers,
        signing_keys=load_signing_keys(settings.label_signing_keys),
        c2pa_trust_anchors=Path(settings.c2pa_trust_anchors).read_text("utf-8")
        if settings.c2pa_trust_anchors
        else None,
        classifier_timeout_s=settings.classifier_timeout_ms / 1000,
        pixel_runner=build_pixel_runner(settings, offline=offline),
    )


def build_pixel_runner(settings: Settings, *, offline: bool = False) -> PixelRunner | None:
    """The runner of pixel reads (OCR of the visible label); None when ``HUIYAN_PIXEL_CHECKS`` is off."""
    if not settings.pixel_checks:
        return None
    from classifiers.labels.pixels import read_visible_labels
    from stream.core.pixels import PixelRunner

    return PixelRunner(
        read_visible_labels,
        threads=settings.pixel_threads,
        max_pending=1 << 30 if offline else settings.pixel_queue,
        timeout_s=None if offline else settings.pixel_timeout_ms / 1000,
    )


def load_classifiers(settings: Settings) -> tuple[TextClassifier, ...]:
    """The classifiers ``HUIYAN_CLASSIFIER_FACTORY`` (``module:callable``) returns for ``settings``."""
    module_name, _, attribute = settings.classifier_factory.partition(":")
    if not module_name or not attribute:
        raise ValueError(
            f"HUIYAN_CLASSIFIER_FACTORY: expected module:callable, not {settings.classifier_factory!r}"
        )
    factory = getattr(importlib.import_module(module_name), attribute)
    built = factory(settings)
    found = tuple(built) if isinstance(built, list | tuple) else (built,)
    for classifier in found:
        needed = ("name", "version", "categories", "predict_detailed")
        missing = [a for a in needed if not hasattr(classifier, a)]
        if missing:
            raise ValueError(f"HUIYAN_CLASSIFIER_FACTORY: {classifier!r} has no {', '.join(missing)}")
    return found


def load_signing_keys(path: str) -> dict[str, str]:
    """``{"<producer code>": "<SM2 public key hex>", ...}`` from a JSON file; empty path: no keys."""
    if not path:
        return {}
    keys = json.loads(Path(path).read_text("utf-8"))
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise ValueError(f"{path}: expected a JSON object of producer code -> public key hex strings")
    return keys


def configure_logging(settings: Settings) -> None:
    """Log lines of the processes that are not Faust workers (API, console, store): time, level, logger."""
    import logging

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
