"""What the hall board shows, without Qt: calls put in ``seq`` order, the latest call per counter,
the queues' waiting counts, and which calls are to be announced.

Calls come from the ``calls`` stream, each numbered by the server's per-site ``seq``. They are
*presented* (shown and announced) one by one in ``seq`` order, never merged: a call whose
predecessor has not arrived yet is held for up to ``gap_wait`` seconds so that calls published
close together but delivered out of order still come out in order; after that the gap is given
up and the held calls go out in order. A call that turns up after its gap was given up is still
presented (late, but never dropped); a ``seq`` already presented is a duplicate or a replay and is
ignored.

After a (re)connect, the retained ``counter/N/state`` messages refresh each counter's tile (its
current number, open or closed) without presenting anything: nobody is called twice by a reconnect.
A call older than ``stale_after`` seconds is shown but never announced. Until the first call, the
board does not know which ``seq`` comes next: the retained states tell it (the newest ``call_seq``),
and on a site with no call yet the first call waits ``gap_wait`` for a possible predecessor.

Gaps are also *fetched*: :meth:`HallModel.behind` names the ``seq`` after which calls are missing
(a call held for its predecessor, or a retained counter state whose ``call_seq`` is newer than any
call seen — the live message of that call was lost), and the board asks ``calls_since`` for them.
:meth:`HallModel.rebuild` takes the calls fetched at start: listed, never headlined or announced.

The headline (the big line) shows each presented call for at least ``headline_min_s`` seconds: in
a burst the calls wait their turn in :attr:`HallModel.headlines`, never skipped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from bus import models as m

HISTORY = 40
REMEMBERED_SEQS = 5000


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
    headline_min_s: float = 4.0
    history: list[m.CallEvent] = field(default_factory=list)
    tiles: dict[int, CounterTile] = field(default_factory=dict)
    queues: dict[str, m.QueueState] = field(default_factory=dict)
    last_seq: int | None = None
    gaps_skipped: int = 0
    late_calls: int = 0
    synced_seq: int | None = None
    """The newest ``call_seq`` in the retained counter states read before the first call arrived."""
    known_seq: int | None = None
    """The newest ``call_seq`` any retained counter state has shown (calls may be missing up to it)."""
    headlines: deque[m.CallEvent] = field(default_factory=deque)
    """Calls waiting for their turn in the headline, oldest first."""
    headline: m.CallEvent | None = None
    _headline_since: float = float("-inf")
    _held: dict[int, tuple[m.CallEvent, float]] = field(default_factory=dict)
    _presented: dict[int, None] = field(default_factory=dict)

    def receive_call(self, call: m.CallEvent, now: float) -> list[m.CallEvent]:
        """Take one call from the stream; return the calls presented now, in ``seq`` order."""
        seq = call.seq
        if seq is None:
            return self._present([call])
        if seq in self._presented or seq in self._held:
            return []
        newest = self.last_seq if self.last_seq is not None else self.synced_seq
        if newest is not None and seq <= newest:
            self.late_calls += 1  # its gap was given up already: show it now rather than never
            self._remember(seq)
            return self._present([call])
        self._held[seq] = (call, now)
        return self._release(now)

    def _remember(self, seq: int) -> None:
        self._presented[seq] = None
        while len(self._presented) > REMEMBERED_SEQS:
            del self._presented[next(iter(self._presented))]

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
            call = self._held[first][0]
            since = min(t for _, t in self._held.values())  # nothing waits longer than gap_wait
            newest = self.last_seq if self.last_seq is not None else self.synced_seq
            in_order = newest is not None and first == newest + 1
            if not in_order and now - since < self.gap_wait:
                break
            if not in_order:
                self.gaps_skipped += 1
            del self._held[first]
            self.last_seq = first
            self._remember(first)
            out.append(call)
        return self._present(out)

    def _present(self, calls: list[m.CallEvent], headline: bool = True) -> list[m.CallEvent]:
        for call in calls:
            self.history.insert(0, call)
            if headline:
                self.headlines.append(call)
            tile = self.tiles.get(call.counter)
            if tile is None or (call.seq or 0) >= tile.seq:
                status = tile.status if tile else m.CounterStatus.OPEN
                self.tiles[call.counter] = CounterTile(
                    call.counter, call.counter_name, call.number, call.seq or 0, status
                )
        del self.history[HISTORY:]
        return calls

    def rebuild(self, calls: list[m.CallEvent]) -> list[m.CallEvent]:
        """Calls fetched at start (``calls_since``): listed in ``seq`` order, not headlined, not
        announced (they were, before the restart); return those that were new to the board."""
        new = sorted((c for c in calls if c.seq is not None and c.seq not in self._presented), key=_seq)
        for call in new:
            self._remember(_seq(call))
            self.last_seq = max(self.last_seq or 0, _seq(call))
        self._present(new, headline=False)
        self.history.sort(key=_seq, reverse=True)
        return new

    def behind(self) -> int | None:
        """The ``seq`` after which calls are known to be missing, or ``None`` if none are."""
        newest = self.last_seq if self.last_seq is not None else self.synced_seq
        if newest is None:
            return None
        if self._held and min(self._held) > newest + 1:
            return newest
        if self.known_seq is not None and self.known_seq > newest:
            return newest
        return None

    def current_headline(self, now: float) -> m.CallEvent | None:
        """The call in the headline at ``now``: the next one waits until the current one has been up
        for ``headline_min_s``."""
        if self.headlines and (self.headline is None or now - self._headline_since >= self.headline_min_s):
            self.headline = self.headlines.popleft()
            self._headline_since = now
        return self.headline

    def receive_counter_state(self, state: m.CounterState) -> None:
        """A counter's retained state: refresh its tile, present nothing. Before the first call, it
        also tells which ``seq`` comes next, so the first call need not wait for a predecessor."""
        if state.call_seq is not None:
            self.known_seq = max(self.known_seq or 0, state.call_seq)
        if self.last_seq is None and state.call_seq is not None:
            self.synced_seq = max(self.synced_seq or 0, state.call_seq)
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


def _seq(call: m.CallEvent) -> int:
    return call.seq if call.seq is not None else -1
