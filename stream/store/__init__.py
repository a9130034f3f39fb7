"""The decision store (``huiyan store``): the decision, shadow-decision and dead-letter topics kept in a
database for the audit trail the Labeling Measures and the Cybersecurity Law require (at least 180
days), and for the review queue and console that read it.

May import: ``stream.kafka`` (clients, auth, topic headers), ``stream.settings``, ``stream.metrics``,
``stream.core``, ``classifiers``, the database drivers. May not import: ``stream.api``, ``stream.cli``,
``stream.tools``. It stores what the doors decided; it decides nothing.
"""
