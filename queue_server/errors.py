"""The exception tree of ``queue_server``: every error this package raises is a :class:`QueueServerError`.

A caller that must not stop (the MQTT handlers, the HTTP API, the CLI) catches the root; the branches
say which part refused. Errors from SQLAlchemy, Alembic and the calendar data are converted where they
enter (``raise StoreError(...) from err``), with a message naming what was wrong and what to do.
"""

from __future__ import annotations


class QueueServerError(Exception):
    """Base of every error raised by ``queue_server``."""


class StoreError(QueueServerError):
    """The database cannot be used as asked; the message names the database and the problem."""


class StoreConflictError(StoreError):
    """The database refused a row that would break one of its rules (a duplicate number, token or id)."""


class CalendarError(QueueServerError, ValueError):
    """A calendar question that cannot be answered: bad date, bad duration, year out of range, bad data."""


class LunarDateError(QueueServerError, ValueError):
    """A lunar date that does not exist, or a year outside the supported range."""
