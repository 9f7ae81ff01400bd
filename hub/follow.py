"""Following one centre's hash chain at the hub (pure, no I/O).

The hub accepts a centre's event only if it extends the chain it has verified so far: its seq is the
next one, its hash matches its content and its ``prev_hash`` is the hash of the event before. Events
that arrive early wait (bounded) until the gap before them is filled by a backfill; an event that fails
the check is kept aside with the reason, and the chain stops there (later events are kept aside too)
until a copy of that event that does verify arrives. Nothing is thrown away.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hub import HubError
from queue_server.chain import GENESIS_HASH, event_hash

MAX_PENDING = 50_000
"""Early events held in memory per centre; beyond that the newest are dropped (backfill brings them)."""

_FIELDS = ("seq", "at", "type", "data", "request_id", "prev_hash", "hash")


class EventFormatError(HubError):
    """A shipped event is not an object with the fields the chain needs."""


@dataclass(frozen=True, slots=True)
class ShippedEvent:
    """One event as the centre stored it; ``data`` is the stored JSON text, byte for byte.

    ``parsed`` keeps ``data`` decoded once the chain check has read it, so nothing parses it twice.
    """

    seq: int
    at: str
    type: str
    data: str
    request_id: str | None
    prev_hash: str
    hash: str
    parsed: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_json(cls, value: Any) -> ShippedEvent:
        try:
            seq, at, type_, data = value["seq"], value["at"], value["type"], value["data"]
            request_id, prev_hash, digest = value["request_id"], value["prev_hash"], value["hash"]
        except (TypeError, KeyError, IndexError):
            raise EventFormatError(_format_problem(value)) from None
        if type(seq) is not int or seq < 1:
            raise EventFormatError(f"event seq must be a whole number >= 1, got {seq!r}")
        texts = (at, type_, data, prev_hash, digest)
        if not all(type(t) is str for t in texts) or not (request_id is None or type(request_id) is str):
            raise EventFormatError(
                f"event {seq}: at, type, data, prev_hash, hash must be text, request_id text or null"
            )
        if len(digest) != 64 or len(prev_hash) != 64:
            raise EventFormatError(f"event {seq}: hash and prev_hash must be 64 hex digits")
        return cls(seq, at, type_, data, request_id, prev_hash, digest)

    def to_json(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in _FIELDS}

    def decoded(self) -> Any:
        """``data`` as JSON (parsed once)."""
        if self.parsed is None:
            object.__setattr__(self, "parsed", json.loads(self.data))
        return self.parsed


def _format_problem(value: Any) -> str:
    if not isinstance(value, dict):
        return f"an event must be a JSON object, got {type(value).__name__}"
    return f"event lacks {', '.join(f for f in _FIELDS if f not in value)}"


def check_link(event: ShippedEvent, head_seq: int, head_hash: str) -> str | None:
    """Why ``event`` does not extend the chain ending at (head_seq, head_hash), or ``None`` if it does."""
    try:
        data = event.decoded()
    except ValueError:
        return f"event {event.seq}: its data is not valid JSON"
    try:
        digest = event_hash(
            event.prev_hash,
            seq=event.seq,
            at=event.at,
            type=event.type,
            data=data,
            request_id=event.request_id,
        )
    except ValueError:
        return f"event {event.seq}: its data holds a value the chain cannot encode"
    if digest != event.hash:
        return f"event {event.seq}: hash does not match its content (altered)"
    if event.prev_hash != head_hash:
        what = "the genesis hash" if head_seq == 0 else f"event {head_seq} as the hub holds it"
        return f"event {event.seq}: does not link to {what} (chain break)"
    return None


@dataclass
class Offered:
    """What one offer did: events to store, copies of stored events to compare, events kept aside."""

    accepted: list[ShippedEvent] = field(default_factory=list)
    duplicates: list[ShippedEvent] = field(default_factory=list)
    held: list[tuple[ShippedEvent, str]] = field(default_factory=list)
    recovered: bool = False


class ChainFollower:
    """The hub's view of one centre's chain: the verified head, early arrivals and a break if any."""

    def __init__(
        self,
        site: str,
        head_seq: int = 0,
        head_hash: str = GENESIS_HASH,
        broken: tuple[int, str] | None = None,
    ) -> None:
        self.site = site
        self.head_seq = head_seq
        self.head_hash = head_hash
        self.broken = broken
        self.pending: dict[int, ShippedEvent] = {}
        self.centre_seq = head_seq

    def offer(self, events: list[ShippedEvent]) -> Offered:
        """Take events in any order; accept those that extend the chain, in seq order."""
        out = Offered()
        for event in sorted(events, key=lambda e: e.seq):
            self.centre_seq = max(self.centre_seq, event.seq)
            if event.seq <= self.head_seq:
                out.duplicates.append(event)
            elif self.broken is not None and event.seq != self.broken[0]:
                out.held.append((event, f"after the break at event {self.broken[0]}"))
            elif event.seq not in self.pending:
                self.pending[event.seq] = event
        if self.broken is not None:
            self._retry_break(out)
        self._drain(out)
        self._bound_pending()
        return out

    def _retry_break(self, out: Offered) -> None:
        assert self.broken is not None
        event = self.pending.pop(self.broken[0], None)
        if event is None:
            return
        problem = check_link(event, self.head_seq, self.head_hash)
        if problem is not None:
            out.held.append((event, problem))
            return
        self.broken = None
        out.recovered = True
        self.pending[event.seq] = event

    def _drain(self, out: Offered) -> None:
        while self.broken is None and self.head_seq + 1 in self.pending:
            event = self.pending.pop(self.head_seq + 1)
            problem = check_link(event, self.head_seq, self.head_hash)
            if problem is not None:
                out.held.append((event, problem))
                self.broken = (event.seq, problem)
                out.held.extend((e, f"after the break at event {event.seq}") for e in self._pending_sorted())
                self.pending.clear()
                return
            out.accepted.append(event)
            self.head_seq, self.head_hash = event.seq, event.hash

    def _pending_sorted(self) -> list[ShippedEvent]:
        return [self.pending[s] for s in sorted(self.pending)]

    def _bound_pending(self) -> None:
        if len(self.pending) > MAX_PENDING:
            for seq in sorted(self.pending)[MAX_PENDING:]:
                del self.pending[seq]

    def note_centre_head(self, seq: int) -> None:
        """The centre says its newest event is ``seq`` (from its heartbeat)."""
        self.centre_seq = max(self.centre_seq, seq)

    def missing(self, limit: int) -> tuple[int, int] | None:
        """The next range of seqs to ask the centre for (at most ``limit``), or ``None``."""
        if self.broken is not None:
            return (self.broken[0], self.broken[0])
        first = self.head_seq + 1
        last = (min(self.pending) - 1) if self.pending else self.centre_seq
        if last < first:
            return None
        return first, min(last, first + limit - 1)
