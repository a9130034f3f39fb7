"""Huiyan's stream processor: the decision core and the doors to it, in one-way layers.

- :mod:`stream.core`: the pure decision logic (contracts, policies, term lists, strikes, ``moderate``).
- :mod:`stream.kafka`: the Faust worker and everything else that talks to the broker.
- :mod:`stream.api`: the HTTP door (``huiyan serve``), around the same core.
- :mod:`stream.store`: the decision store, the audit trail and the review queue (``huiyan store``);
  :mod:`stream.console`: the trust-and-safety console on top of it (``huiyan console``).
- :mod:`stream.cli`: the ``huiyan`` commands; :mod:`stream.tools`: benchmark, naive baseline, demo.
- :mod:`stream.settings` (every setting, declared once), :mod:`stream.metrics` (the Prometheus metrics)
  and :mod:`stream.runtime` (the core's context built from settings): leaves the doors share.

Arrows point down only: cli -> tools -> console -> api, store -> kafka -> runtime, settings, metrics ->
core -> classifiers.
``tests/test_layers.py`` checks it from the imports. See docs/architecture.md.
"""

__version__ = "0.1.0"
