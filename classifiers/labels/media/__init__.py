"""Metadata readers: the labels a file carries, read from its bytes (issue #4).

One module per container format, each registered in :mod:`classifiers.labels.media.registry`;
:func:`read_media` picks the reader by the bytes and never raises.
"""
