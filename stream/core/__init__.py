"""The pure decision core: what a decision is, and how one is made from an event and a policy.

May import: the standard library, ``classifiers`` (the judges and the types they return), and the pure
parsers it needs (fastjsonschema, PyYAML, pyahocorasick). May not import: ``stream.kafka``,
``stream.cli``, ``stream.tools``, ``stream.settings``, ``stream.metrics``, ``stream.runtime``, Kafka or
Prometheus clients, click. It opens no connection, reads no environment variable and keeps no clock,
thread pool or global state of its own: what a decision depends on comes in through its arguments
(:class:`stream.core.pipeline.ModerationContext`). It reads only the files packaged with it (schemas,
the default policy).
"""
