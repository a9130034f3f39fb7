"""Tools beside the service: the end-to-end benchmark, its naive baseline and the demo.

May import: every layer below (``stream.api``, ``stream.kafka``, ``stream.runtime``, ``stream.settings``,
``stream.core``, ``classifiers``). May not import: ``stream.cli``. Nothing in the service imports these.
"""
