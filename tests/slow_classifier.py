"""A text that times out, for the broker test of issue #12 (tests/integration/test_hostile.py).

Loaded by a worker with ``HUIYAN_CLASSIFIER_FACTORY=tests.slow_classifier:build``: the bundled model,
except that a call holding a text with ``MARKER`` first sleeps ``HUIYAN_TEST_HANG_S`` seconds (8 by
default). No text makes the real model that slow since it reads only a text's start, so the test needs
this one to check that the worker isolates such a text and scores its batch-mates.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from classifiers.text_model import TextRiskModel, served_model_dir
from stream.records import ClassifierOutput
from stream.settings import Settings

MARKER = "⏳HANG⏳"


class SlowOnMarker(TextRiskModel):
    def predict_detailed(self, texts: Sequence[str]) -> list[ClassifierOutput]:
        if any(MARKER in text for text in texts):
            time.sleep(float(os.environ.get("HUIYAN_TEST_HANG_S", "8")))
        return super().predict_detailed(texts)


def build(settings: Settings) -> SlowOnMarker:
    return SlowOnMarker(served_model_dir(settings.model_dir), threads=settings.inference_threads)
