"""The ``huiyan`` command, in groups: running (``run``), the broker (``broker``), policies
(``policies``), the classifiers (``models``) and reference output (``reference``).

Every command reads settings from ``HUIYAN_*`` variables (``huiyan settings`` lists them); options
override them. The commands parse arguments and print; the work happens in the layers below. May import
every other layer; nothing imports it.
"""

from stream.cli import api, broker, console, models, policies, reference, run, store
from stream.cli.base import main

__all__ = ["api", "broker", "console", "main", "models", "policies", "reference", "run", "store"]
