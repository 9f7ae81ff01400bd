"""What the hall board shows, without Qt: calls put in ``seq`` order, the latest call per counter,
the queues' waiting counts, and which calls are to be announced.

Calls come from the ``calls`` stream, each numbered by the server's per-site ``seq``. They are
*presented* (shown and announced) one by one in ``seq`` order, never merged: a call whose
predecessor has not arrived yet is held for up to ``gap_wait`` seconds so that calls published
close together but delivered out of order still come out in order; after that the gap is given
up (a lost call) and the held calls go out in order. A call at or below the last presented ``seq``
is a duplicate or a replay and is ignored.

After a (re)connect, the retained ``counter/N/state`` messages refresh each counter's tile (its
current number, open or closed) without presenting anything: nobody is called twice by a reconnect.
A call older than ``stale_after`` seconds is shown but never announced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bus import models as m

HISTORY = 40


@dataclass
class CounterTile:
    """One counter on the board: the number it serves now and how it is."""

    counter: int
    name: str
    number: str | None = None
    seq: int = -1
    status: m.CounterStatus = m.CounterStatus.OPEN


@dataclass
class HallModel:
    """The board's state; ``now`` is passed in (seconds on a monotonic clock) so tests control time."""

    gap_wait: float = 0.3
    stale_after: float = 60.0
    history: list[m.CallEvent] = field(default_factory=list)
    tiles: dict[int, CounterTile] = field(default_factory=dict)
    queues: dict[str, m.QueueState] = field(default_factory=dict)
    last_seq: int | None = None
    gaps_skipped: int = 0
    _held: dict[int, tuple[m.CallEvent, float]] = field(default_factory=dict)

    def receive_call(self, call: m.CallEvent, now: float) -> list[m.CallEvent]:
        """Take one call from the stream; return the calls presented now, in ``seq`` order."""
        seq = call.seq
        if seq is None:
            return self._present([call])
        if (self.last_seq is not None and seq <= self.last_seq) or seq in self._held:
            return []
        self._held[seq] = (call, now)
        return self._release(now)

    def due(self, now: float) -> list[m.CallEvent]:
        """Calls whose wait for a missing predecessor is over, presented now in ``seq`` order."""
        return self._release(now)

    @property
    def waiting_for_gap(self) -> bool:
        return bool(self._held)

    def _release(self, now: float) -> list[m.CallEvent]:
        out: list[m.CallEvent] = []
        while self._held:
            first = min(self._held)
            call, since = self._held[first]
            in_order = self.last_seq is None or first == self.last_seq + 1
            if not in_order and now - since < self.gap_wait:
                break
            if not in_order:
                self.gaps_skipped += 1
            del self._held[first]
            self.last_seq = first
            out.append(call)
        return self._present(out)

    def _present(self, calls: list[m.CallEvent]) -> list[m.CallEvent]:
        for call in calls:
            self.history.insert(0, call)
            tile = self.tiles.get(call.counter)
            if tile is None or (call.seq or 0) >= tile.seq:
                status = tile.status if tile else m.CounterStatus.OPEN
                self.tiles[call.counter] = CounterTile(
                    call.counter, call.counter_name, call.number, call.seq or 0, status
                )
        del self.history[HISTORY:]
        return calls

    def receive_counter_state(self, state: m.CounterState) -> None:
        """A counter's retained state: refresh its tile, present nothing."""
        tile = self.tiles.get(state.counter)
        seq = state.call_seq if state.call_seq is not None else -1
        if tile is None or seq >= tile.seq:
            self.tiles[state.counter] = CounterTile(
                state.counter, state.name, state.current, seq, state.status
            )
        else:
            tile.status = state.status

    def receive_queue_state(self, state: m.QueueState) -> None:
        self.queues[state.service] = state

    def newest(self) -> m.CallEvent | None:
        return self.history[0] if self.history else None

    def fresh(self, call: m.CallEvent, at: datetime | None = None) -> bool:
        """Whether ``call`` is recent enough to be announced."""
        return ((at or m.now()) - call.ts).total_seconds() <= self.stale_after
