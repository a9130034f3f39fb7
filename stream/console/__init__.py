"""The trust-and-safety console (``huiyan console``): decisions, reviews and thresholds in a browser.

May import: ``stream.store`` (what it shows and records), ``stream.kafka`` (the policy and review topics),
``stream.settings``, ``stream.core``, ``classifiers``, aiohttp. May not import: ``stream.api``,
``stream.cli``, ``stream.tools``. It decides nothing; changes go through the store's audit trail and the
policy topic.
"""
