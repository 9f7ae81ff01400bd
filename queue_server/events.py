"""The queue engine's events: one frozen model per kind, and their stored form (pure, no I/O).

The event log stores an event as a ``type`` tag and a JSON object ``data`` (the ``events`` table and
its hash chain, ``queue_server.chain``). ``Event`` is that stored form; every engine kind below is a
frozen subclass of it with typed fields, so a misspelt key is a ``mypy --strict`` error where the event is
built or read, while ``.type``/``.data``/``.at`` keep working for the store and other registries
(the dossier registry still writes plain ``Event``). ``data`` is computed on first use and kept, and holds
exactly the keys older servers wrote, so a log written before these models replays and
re-serialises to the same bytes and hashes (``tests/golden/events_v1.jsonl``).

``parse_event`` turns a stored event back into its model (the tag selects the class, as the
``type`` discriminator does for the bus messages in ``bus/models.py``); a value of the wrong type or a
missing key raises ``EventDataError`` naming the event kind and the key.

Kinds and their keys: see each class. ``ticket_called`` carries ``credits`` and
``normals_since_priority`` only when ``call_next`` chose the ticket (absent, not null, otherwise).
"""

from __future__ import annotations

import operator
import typing
from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from datetime import datetime
from functools import cached_property
from types import NoneType, UnionType
from typing import Any, ClassVar

from queue_server.errors import QueueServerError

JSON = Any  # a value made of dict, list, str, int, float, bool and None


class EventDataError(QueueServerError, ValueError):
    """A stored event whose type is unknown or whose data does not fit its kind."""


class Event:
    """An event as the log stores it: ``type`` names the kind, ``data`` is its JSON object.

    Read-only, like the typed kinds below, which are its subclasses.
    """

    __hash__ = None  # type: ignore[assignment]  # data is a dict

    at: datetime
    _type: str
    _data: dict[str, JSON]

    def __init__(self, type: str, data: dict[str, JSON], at: datetime) -> None:
        object.__setattr__(self, "_type", type)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "at", at)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}: events are read-only")

    @property
    def type(self) -> str:
        return self._type

    @property
    def data(self) -> dict[str, JSON]:
        return self._data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (self.type, self.data, self.at) == (other.type, other.data, other.at)

    def __repr__(self) -> str:
        return f"Event({self.type!r}, {self.data!r}, {self.at!r})"


@dataclass(frozen=True, kw_only=True)
class EngineEvent(Event):
    """Base of the engine's kinds: ``type`` is the class's ``KIND``, ``data`` follows from the fields.

    ``data`` is made on first use and kept (the engine alone never needs it; the store does).
    """

    KIND: ClassVar[str] = ""
    #: keys left out of ``data`` when their value is None (older servers did not write them).
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset()
    at: datetime

    @property
    def type(self) -> str:
        return self.KIND

    @cached_property
    def data(self) -> dict[str, JSON]:
        return self.to_data()

    def to_data(self) -> dict[str, JSON]:
        """The JSON object stored in the ``data`` column (a new dict each call)."""
        names, values = _PAYLOAD[type(self)]
        out = dict(zip(names, values(self), strict=True))
        for name in self.OMIT_NONE:
            if out[name] is None:
                del out[name]
        return out


@dataclass(frozen=True, kw_only=True)
class TicketIssued(EngineEvent):
    """A ticket was issued: by the server (``offline`` false) or by a kiosk from its block."""

    KIND = "ticket_issued"
    ticket_id: str
    day: str
    service: str
    series: str
    number: int
    code: str
    token: str
    priority: str | None
    rules_version: str
    issued_at: str
    estimate_s: int | None
    device: str | None = None
    offline: bool = False


@dataclass(frozen=True, kw_only=True)
class BlockReserved(EngineEvent):
    """Numbers ``first``..``last`` of a series kept for kiosk ``device`` to issue offline."""

    KIND = "block_reserved"
    device: str
    day: str
    service: str
    series: str
    first: int
    last: int


@dataclass(frozen=True, kw_only=True)
class OfflineBlockReserved(BlockReserved):
    """The second version of ``block_reserved``: numbers taken from the top of the series, downwards.

    The series' counter does not move, so the day's first ticket is still ``first_number`` and an
    unused block never shows as a gap; the server stops issuing below the lowest such block. The old
    kind keeps its meaning on replay (its numbers came from the counter, which then went past them).
    """

    KIND = "offline_block_reserved"


@dataclass(frozen=True, kw_only=True)
class TicketCalled(EngineEvent):
    """A ticket called to a counter; ``seq`` numbers the site's calls."""

    KIND = "ticket_called"
    OMIT_NONE = frozenset({"credits", "normals_since_priority"})
    ticket_id: str
    counter: int
    officer: str | None
    seq: int
    specific: bool = False
    resumed: bool = False
    credits: dict[str, int] | None = None
    normals_since_priority: int | None = None


@dataclass(frozen=True, kw_only=True)
class TicketRecalled(EngineEvent):
    KIND = "ticket_recalled"
    ticket_id: str
    counter: int
    seq: int


@dataclass(frozen=True, kw_only=True)
class TicketFinished(EngineEvent):
    KIND = "ticket_finished"
    ticket_id: str
    counter: int
    service_s: int


@dataclass(frozen=True, kw_only=True)
class TicketNoShow(EngineEvent):
    KIND = "ticket_no_show"
    ticket_id: str
    counter: int


@dataclass(frozen=True, kw_only=True)
class TicketReinstated(EngineEvent):
    KIND = "ticket_reinstated"
    ticket_id: str
    front: bool


@dataclass(frozen=True, kw_only=True)
class TicketTransferred(EngineEvent):
    """Sent to ``service``'s queue, and to one ``counter`` when that is not null."""

    KIND = "ticket_transferred"
    ticket_id: str
    from_counter: int
    service: str
    counter: int | None
    front: bool


@dataclass(frozen=True, kw_only=True)
class TicketParked(EngineEvent):
    KIND = "ticket_parked"
    ticket_id: str
    counter: int


@dataclass(frozen=True, kw_only=True)
class TicketCancelled(EngineEvent):
    KIND = "ticket_cancelled"
    ticket_id: str


@dataclass(frozen=True, kw_only=True)
class TicketRated(EngineEvent):
    KIND = "ticket_rated"
    ticket_id: str
    counter: int
    officer: str | None
    score: int
    scale: int
    answers: dict[str, JSON]


@dataclass(frozen=True, kw_only=True)
class DayClosed(EngineEvent):
    """After business day ``day``: its waiting, parked and no-show tickets expire."""

    KIND = "day_closed"
    day: str


@dataclass(frozen=True, kw_only=True)
class CounterOpened(EngineEvent):
    KIND = "counter_opened"
    counter: int
    officer: str


@dataclass(frozen=True, kw_only=True)
class CounterPaused(EngineEvent):
    KIND = "counter_paused"
    counter: int


@dataclass(frozen=True, kw_only=True)
class CounterClosed(EngineEvent):
    KIND = "counter_closed"
    counter: int


AnyEngineEvent = (
    TicketIssued
    | BlockReserved
    | OfflineBlockReserved
    | TicketCalled
    | TicketRecalled
    | TicketFinished
    | TicketNoShow
    | TicketReinstated
    | TicketTransferred
    | TicketParked
    | TicketCancelled
    | TicketRated
    | DayClosed
    | CounterOpened
    | CounterPaused
    | CounterClosed
)
"""The discriminated union of the engine's kinds (``type`` is the tag)."""

KINDS: dict[str, type[EngineEvent]] = {cls.KIND: cls for cls in typing.get_args(AnyEngineEvent)}
EVENT_TYPES = frozenset(KINDS)

_BASE_FIELDS = frozenset({"at"})


def _one(name: str) -> Callable[[object], tuple[JSON, ...]]:
    """``attrgetter`` of one name returns the value itself; the payload wants a 1-tuple."""
    get = operator.attrgetter(name)
    return lambda obj: (get(obj),)


_NAMES = {cls: tuple(f.name for f in fields(cls) if f.name not in _BASE_FIELDS) for cls in KINDS.values()}
#: per kind: its keys, and a getter of their values as a tuple (faster than one getattr per key).
_PAYLOAD: dict[type[EngineEvent], tuple[tuple[str, ...], Callable[[object], tuple[JSON, ...]]]] = {
    cls: (names, operator.attrgetter(*names) if len(names) > 1 else _one(names[0]))
    for cls, names in _NAMES.items()
}


# --- reading the stored form back ---------------------------------------------------------------

Check = Callable[[object], bool]


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check(tp: object) -> tuple[Check, str]:
    """A test for a JSON value against a field's type, and the type's name for error messages."""
    if isinstance(tp, UnionType):
        parts = [_check(a) for a in typing.get_args(tp) if a is not NoneType]
        [(inner, name)] = parts
        return (lambda v: v is None or inner(v)), f"{name} or null"
    origin = typing.get_origin(tp) or tp
    if origin is dict:
        value_type = typing.get_args(tp)[1]
        ints = value_type is int
        return (
            lambda v: (
                isinstance(v, dict)
                and all(isinstance(k, str) for k in v)
                and (not ints or all(_is_int(x) for x in v.values()))
            )
        ), "an object of integers" if ints else "an object"
    simple: dict[object, tuple[Check, str]] = {
        str: (lambda v: isinstance(v, str), "text"),
        int: (_is_int, "an integer"),
        bool: (lambda v: isinstance(v, bool), "true or false"),
    }
    return simple[origin]


def _specs(cls: type[EngineEvent]) -> list[tuple[str, Check, str, bool]]:
    hints = typing.get_type_hints(cls)
    by_name = {f.name: f for f in fields(cls)}
    out = []
    for name in _NAMES[cls]:
        check, what = _check(hints[name])
        required = by_name[name].default is MISSING and by_name[name].default_factory is MISSING
        out.append((name, check, what, required))
    return out


_SPECS = {cls: _specs(cls) for cls in KINDS.values()}


def parse_event(event: Event) -> AnyEngineEvent:
    """The typed model of a stored engine event; ``EventDataError`` says which key does not fit."""
    if isinstance(event, EngineEvent):
        return typing.cast(AnyEngineEvent, event)
    cls = KINDS.get(event.type)
    if cls is None:
        raise EventDataError(f"unknown event type {event.type!r}")
    if not isinstance(event.data, dict):
        raise EventDataError(f"event {event.type}: data must be an object, got {type(event.data).__name__}")
    values: dict[str, JSON] = {}
    for name, check, what, required in _SPECS[cls]:
        if name not in event.data:
            if required:
                raise EventDataError(f"event {event.type}: {name!r} is missing")
            continue
        value = event.data[name]
        if not check(value):
            raise EventDataError(f"event {event.type}: {name!r} must be {what}, got {value!r}")
        values[name] = value
    return typing.cast(AnyEngineEvent, cls(at=event.at, **values))
