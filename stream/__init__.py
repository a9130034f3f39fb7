"""Huiyan's stream processor: event and decision contracts, the pure moderation core and its adapters."""

__version__ = "0.1.0"
