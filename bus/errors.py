"""The errors ``bus`` raises, under one root (``BusError``), in a module of their own.

Why here and not in ``client.py``: ``topics.py`` raises ``TopicError`` and ``client.py`` imports
``topics``; both import this module, which imports nothing.
"""

from __future__ import annotations


class BusError(Exception):
    """Base of the errors raised by ``bus``."""


class TopicError(BusError, ValueError):
    """A topic, topic level or ``reply_to`` that motcua will not publish to, with the reason."""


class PayloadTooLargeError(BusError, ValueError):
    """A message over ``MAX_PAYLOAD_BYTES``: refused before it reaches the broker."""
