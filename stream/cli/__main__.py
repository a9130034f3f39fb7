"""``python -m stream.cli``: the ``huiyan`` command (the worker processes of the demo and the tests)."""

from stream.cli import main

main()
