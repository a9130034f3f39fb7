"""The Kafka door: the Faust app and agents, the worker, topics, clients, ACLs and the followers of the
policy and strike topics; replay of past events.

May import: ``stream.core``, ``stream.runtime``, ``stream.settings``, ``stream.metrics``, ``classifiers``,
faust, aiokafka, kafka-python. May not import: ``stream.cli``, ``stream.tools``, ``stream.api``.
Decisions are made by the core only; this layer moves bytes in and out and acknowledges what was
delivered.
"""
