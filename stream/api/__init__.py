"""The HTTP door (``huiyan serve``): the publish path's synchronous check, around the same core.

May import: ``stream.kafka`` (the producer's options, the policy and strike followers, the policy
store), ``stream.runtime``, ``stream.settings``, ``stream.metrics``, ``stream.core``, ``classifiers``,
aiohttp and aiokafka. May not import: ``stream.cli``, ``stream.tools``. Decisions are made by the core
only; this layer authenticates, limits, batches requests into the model, answers, and records every
decision on the decisions topic (spooling to disk while the broker is away).
"""
