"""Snapshots of the decided state, so that start-up and recovery do not replay years of events.

- **Taking** (``take_if_due``): at the start of a batch, before anything of the batch is decided, when
  the business day changed since the last stored snapshot (the close of the previous day) or
  ``EVERY`` events were appended since it. The state in memory is then exactly the committed state
  after the chain's head, so the snapshot names that event's ``seq`` and ``hash``. It is written in
  the batch's transaction (``snapshots`` table, ``KEEP`` newest kept) and becomes the in-memory
  *checkpoint* at once: even if the batch then fails, the checkpoint describes committed events.
- **Loading** (``load_latest``): the newest stored snapshot that passes every check — its format is
  this server's; event ``seq`` exists in the chain with the very ``hash`` it names; the SHA-256 of its
  body is the recorded digest; its body's header repeats seq and hash — is read, and only the events
  after it are replayed. A snapshot that fails is ignored with a warning naming the reason, and the
  next older one is tried, then the whole log.
- **Restoring** after a failed batch (``Core.restore``): the in-memory checkpoint plus the committed
  events after it, read from the store (at most about ``EVERY`` plus one day's events).

The chain stays the authority: ``motcua audit verify`` checks every event from the first, and a
snapshot is only ever a shortcut to a state the chain also gives. The digest catches a body edited
or damaged on its own; someone able to rewrite the body *and* its digest could also rewrite the
current-state tables, which the snapshot does not make worse (the events stay untouched and checked).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from queue_server.chain import canonical_json
from queue_server.db import Store, Tx
from queue_server.errors import StoreError
from queue_server.snapshot_format import FORMAT, SnapshotFormatError, check_header

if TYPE_CHECKING:
    from queue_server.core import Core

log = logging.getLogger(__name__)

EVERY = 5000  # events between two snapshots within a business day (≈ 2 provincial days at most)
KEEP = 3  # stored snapshots kept; older ones are deleted when a new one is written


@dataclass(frozen=True)
class Checkpoint:
    """A state known to match the committed chain up to event ``seq``; ``body`` is its snapshot JSON."""

    seq: int
    hash: str
    day: str
    body: str


def make_checkpoint(core: Core, seq: int, hash_: str, day: str) -> Checkpoint:
    """The snapshot of the state in memory, which covers events up to ``seq`` (hash ``hash_``)."""
    body = canonical_json({"format": FORMAT, "seq": seq, "hash": hash_, "day": day, **core.dump_state()})
    return Checkpoint(seq, hash_, day, body)


def take_if_due(core: Core, tx: Tx, at: datetime) -> None:
    """At the start of a batch: store a snapshot when the day changed or ``EVERY`` events passed."""
    seq, hash_ = tx.head()
    day = core.rules.business_day(at).isoformat()
    stored = core.stored_snapshot
    if seq == 0 or (stored is not None and stored[0] == seq):
        return
    if stored is not None and stored[1] >= day and seq - stored[0] < EVERY:
        return
    checkpoint = make_checkpoint(core, seq, hash_, day)
    tx.put_snapshot(seq, hash_, FORMAT, day, checkpoint.body, keep=KEEP)
    core.checkpoint = checkpoint
    core.stored_snapshot = (seq, day)
    log.info("snapshot of the state after event %d (%d bytes)", seq, len(checkpoint.body))


def load_latest(store: Store) -> tuple[Checkpoint, dict[str, object]] | None:
    """The newest stored snapshot that checks out against the chain, with its parsed body; or None."""
    for header in store.snapshots():
        seq = int(header["seq"])
        try:
            body = _checked_body(store, header)
        except (SnapshotFormatError, StoreError, ValueError) as err:
            log.warning("snapshot of event %d ignored: %s", seq, err)
            continue
        checkpoint = Checkpoint(seq, str(header["hash"]), str(header["day"]), body[1])
        return checkpoint, body[0]
    return None


def _checked_body(store: Store, header: dict[str, object]) -> tuple[dict[str, object], str]:
    seq, hash_ = int(str(header["seq"])), str(header["hash"])
    if header["format"] != FORMAT:
        raise SnapshotFormatError(f"format {header['format']!r}, this server reads format {FORMAT}")
    chained = store.event_hash(seq)
    if chained is None:
        raise SnapshotFormatError(f"the chain has no event {seq}")
    if chained != hash_:
        raise SnapshotFormatError(f"event {seq} has hash {chained[:16]}… in the chain, not {hash_[:16]}…")
    text = store.snapshot_body(seq) or ""
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != header["digest"]:
        raise SnapshotFormatError("its body does not match its digest (altered or damaged)")
    body = json.loads(text)
    check_header(body, seq, hash_)
    return body, text
