"""The audit chain of the event log: canonical encoding, hashing and verification (pure, no I/O).

Each event row carries ``prev_hash`` (the previous row's ``hash``; 64 zeros for the first event) and

    hash = hex(sha256(UTF-8(prev_hash + canonical_json([seq, at, type, data, request_id]))))

where ``canonical_json`` sorts keys, uses the separators ``,`` and ``:``, keeps non-ASCII characters as
they are (``ensure_ascii=False``) and refuses NaN and infinities; ``at`` is the ISO 8601 text exactly as
stored. Seq numbers start at 1 and have no gaps, so a deleted row shows as a jump, an edited row as a
hash that no longer matches its content, and a rewritten row as a successor that links to another hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value`` that the chain hashes (and the store writes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(prev_hash: str, *, seq: int, at: str, type: str, data: Any, request_id: str | None) -> str:
    """The hash of one event given its predecessor's hash."""
    body = canonical_json([seq, at, type, data, request_id])
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainRow:
    """One stored event as the verifier sees it: ``data`` is the JSON text from the database."""

    seq: int
    at: str
    type: str
    data: str
    request_id: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of checking the chain: ``problem`` names the first bad event when ``ok`` is false."""

    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int = 0
    head_hash: str = GENESIS_HASH


class ChainVerifier:
    """Walks the rows in seq order, stopping at the first one that breaks the chain.

    The chain alone cannot show that its last events were removed or rewritten; an ``anchor`` — the seq and
    hash of an event recorded elsewhere earlier (printed by ``motcua audit verify``) — can.
    """

    def __init__(self, anchor: tuple[int, str] | None = None) -> None:
        self.anchor = anchor
        self.checked = 0
        self._last_seq = 0
        self._last_hash = GENESIS_HASH
        self._failure: tuple[int, str] | None = None

    def feed(self, rows: Iterable[ChainRow]) -> bool:
        """Check more rows; returns false as soon as one is bad (the rest are ignored)."""
        for row in rows:
            if self._failure is not None:
                return False
            self._failure = self._check(row)
            if self._failure is not None and self._failure[0] == self._last_seq:
                self.checked -= 1  # the predecessor, counted as good, turned out rewritten
            elif self._failure is None:
                self.checked += 1
                self._last_seq, self._last_hash = row.seq, row.hash
        return self._failure is None

    def report(self) -> VerifyReport:
        if self._failure is None and self.anchor is not None and self._last_seq < self.anchor[0]:
            seq, first = self.anchor[0], self._last_seq + 1
            missing = f"event {seq} is" if first == seq else f"events {first}–{seq} are"
            self._failure = (first, f"{missing} missing (the chain ends at {self._last_seq})")
        if self._failure is None:
            return VerifyReport(True, self.checked, head_seq=self._last_seq, head_hash=self._last_hash)
        seq, problem = self._failure
        return VerifyReport(False, self.checked, seq, problem, self._last_seq, self._last_hash)

    def _check(self, row: ChainRow) -> tuple[int, str] | None:
        expected = self._last_seq + 1
        if row.seq != expected:
            if row.seq > expected:
                missing = (
                    f"event {expected}" if row.seq == expected + 1 else f"events {expected}–{row.seq - 1}"
                )
                where = "starts at" if self._last_seq == 0 else f"jumps from {self._last_seq} to"
                verb = "is" if row.seq == expected + 1 else "are"
                return expected, f"{missing} {verb} missing (the chain {where} {row.seq})"
            return row.seq, f"event {row.seq}: out of order after event {self._last_seq}"
        try:
            data = json.loads(row.data)
        except ValueError:
            return row.seq, f"event {row.seq}: its data is not valid JSON"
        digest = event_hash(
            row.prev_hash, seq=row.seq, at=row.at, type=row.type, data=data, request_id=row.request_id
        )
        if digest != row.hash:
            return row.seq, f"event {row.seq}: hash does not match its content"
        if row.prev_hash != self._last_hash:
            # This row is consistent in itself but links to another predecessor: the predecessor was
            # rewritten together with its hash (the original it replaced is what this row links to).
            if self._last_seq == 0:
                return row.seq, f"event {row.seq}: the first event does not start from the genesis hash"
            return (
                self._last_seq,
                f"event {self._last_seq}: rewritten (event {row.seq} links to a different hash)",
            )
        if self.anchor is not None and row.seq == self.anchor[0] and row.hash != self.anchor[1]:
            return row.seq, f"event {row.seq}: hash differs from the one recorded ({self.anchor[1][:16]}…)"
        return None
