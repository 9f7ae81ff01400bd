"""Engine snapshots in a real SQLite store: taken as the worker would, loaded at start, refused when altered.

The state after loading a snapshot and replaying the events after it must be exactly the state of a
full replay of the log (``Core.dump_state``: engine, dossiers and lookups, in iteration order); a
snapshot whose body, digest or chain position was altered is ignored with a warning, and start-up falls
back to an older snapshot or to the whole log. ``motcua audit verify`` still walks the whole chain.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from queue_server import snapshots
from queue_server.core import Core, store_event
from queue_server.db import Store
from queue_server.engine import Changes, Event, Refused
from queue_server.reconcile import close_past_days
from queue_server.views import ticket_view
from siteconf import Site

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2027, 3, 1, 8, 0, tzinfo=TZ)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def run_batch(core: Core, requests: list[tuple[str, tuple[object, ...]]]) -> None:
    """One batch as the worker runs it: day close and snapshot first, then each command's events."""
    at, changes = core.now(), Changes()
    with core.store.transaction() as tx:
        close_past_days(core, tx, at, changes)
        for command, args in requests:
            try:
                events: list[Event] = getattr(core.engine, command)(*args)
            except Refused:
                continue
            for event in events:
                store_event(tx, event, None)
                changes.merge(core.apply(event))
        for ticket_id in changes.tickets:
            tx.put_ticket(core.engine.ticket_row(ticket_id))


def play_days(core: Core, clock: Clock, days: int, per_day: int = 12) -> None:
    """Tickets issued, called, finished and rated over several business days at two counters."""
    services = [s.code for s in core.site.services]
    counters = [c.number for c in core.site.counters][:2]
    tokens = iter(range(1_000_000))
    for day in range(days):
        clock.now = START + timedelta(days=day)
        run_batch(core, [("open_counter", (n, f"cb{n}", clock.now)) for n in counters])
        for i in range(per_day):
            clock.now += timedelta(minutes=3)
            service = services[i % len(services)]
            run_batch(core, [("issue", (service, clock.now, f"tok{next(tokens)}"))])
            if i % 3:
                counter = counters[i % len(counters)]
                run_batch(core, [("call_next", (counter, clock.now))])


@pytest.fixture
def played(tmp_path: Path, demo_site: Site) -> Iterator[tuple[Core, Clock, Path]]:
    path = tmp_path / "q.db"
    clock = Clock()
    store = Store.open(f"sqlite:///{path}")
    core = Core(demo_site, store, clock)
    play_days(core, clock, days=6)
    yield core, clock, path
    store.close()


def fresh_core(site: Site, path: Path, clock: Clock) -> Core:
    return Core(site, Store.open(f"sqlite:///{path}"), clock)


def full_replay(site: Site, path: Path, tmp_path: Path, clock: Clock) -> Core:
    """A core built from the whole log: a copy of the database without its snapshots."""
    copy = tmp_path / "full.db"
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # with what the WAL holds
        target.execute("DELETE FROM snapshots")
    return fresh_core(site, copy, clock)


def test_a_snapshot_is_stored_at_each_days_close_and_only_the_newest_are_kept(
    played: tuple[Core, Clock, Path],
) -> None:
    core, _, _ = played
    snapshots = core.store.snapshots()
    assert 1 <= len(snapshots) <= 3
    days = [s["day"] for s in snapshots]
    assert days == sorted(days, reverse=True) and len(set(days)) == len(days)
    for s in snapshots:
        assert core.store.event_hash(int(s["seq"])) == s["hash"]


def test_snapshot_and_tail_give_the_state_of_a_full_replay(
    played: tuple[Core, Clock, Path], demo_site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    core, clock, path = played
    caplog.set_level(logging.INFO, logger="queue_server.core")
    loaded = fresh_core(demo_site, path, clock)
    newest = core.store.snapshots()[0]["seq"]
    assert f"the snapshot of event {newest} and" in caplog.text
    assert loaded.store.head()[0] > newest, "the test needs events after the snapshot"
    full = full_replay(demo_site, path, tmp_path, clock)
    assert loaded.dump_state() == full.dump_state() == core.dump_state()
    # and the loaded server decides the same as the one that ran the days
    clock.now += timedelta(minutes=1)
    service = demo_site.services[0].code
    assert loaded.engine.issue(service, clock.now, "same") == core.engine.issue(service, clock.now, "same")


def test_finished_tickets_of_past_days_leave_memory_but_stay_in_the_database(
    played: tuple[Core, Clock, Path],
) -> None:
    core, _, _ = played
    days = {t.day for t in core.engine.tickets.values()}
    assert min(days) >= core.engine.forgotten_before > "2027-03-01"
    first = core.store.tickets("2027-03-01")
    assert first and all(t["id"] not in core.engine.tickets for t in first)
    assert not any(token in core.lookups.by_token for token in (t["token"] for t in first))
    view = ticket_view(core, first[0]["token"])  # a citizen looking up an old ticket: from the store
    assert view is not None and view.number == first[0]["code"] and view.status == first[0]["status"]
    assert ticket_view(core, "no-such-token") is None


@pytest.mark.parametrize(
    "case",
    [
        (
            "body",
            "UPDATE snapshots SET body = replace(body, '\"call_seq\":', '\"call_seq\":1') WHERE seq = ?",
        ),
        ("hash", "UPDATE snapshots SET hash = '00' || substr(hash, 3) WHERE seq = ?"),
        ("seq", "UPDATE snapshots SET seq = seq - 1 WHERE seq = ?"),
        ("format", "UPDATE snapshots SET format = 99 WHERE seq = ?"),
    ],
)
def test_an_altered_snapshot_is_refused_and_an_older_one_used(
    played: tuple[Core, Clock, Path],
    demo_site: Site,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    case: tuple[str, str],
) -> None:
    what, sql = case
    core, clock, path = played
    newest, older = (int(s["seq"]) for s in core.store.snapshots()[:2])
    with sqlite3.connect(path) as conn:
        assert conn.execute(sql, (newest,)).rowcount == 1
    caplog.set_level(logging.INFO)
    loaded = fresh_core(demo_site, path, clock)
    assert "ignored" in caplog.text, what
    assert f"the snapshot of event {older} and" in caplog.text
    assert loaded.dump_state() == full_replay(demo_site, path, tmp_path, clock).dump_state()


def test_with_every_snapshot_refused_the_whole_log_is_replayed(
    played: tuple[Core, Clock, Path], demo_site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    core, clock, path = played
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE snapshots SET digest = 'x'")
    caplog.set_level(logging.INFO)
    loaded = fresh_core(demo_site, path, clock)
    assert caplog.text.count("does not match its digest") == len(core.store.snapshots())
    assert "the start of the log" in caplog.text
    assert loaded.dump_state() == core.dump_state()
    assert loaded.store.verify().ok, "the chain itself was never touched"


def test_a_failed_batch_restores_from_the_checkpoint_not_the_whole_log(
    played: tuple[Core, Clock, Path], caplog: pytest.LogCaptureFixture
) -> None:
    core, clock, _ = played
    committed, checkpoint = core.dump_state(), core.checkpoint.seq
    clock.now += timedelta(minutes=1)
    with pytest.raises(RuntimeError), core.store.transaction() as tx:
        close_past_days(core, tx, clock.now, Changes())
        for event in core.engine.issue(core.site.services[0].code, clock.now, "lost"):
            store_event(tx, event, None)
            core.apply(event)
        raise RuntimeError("the disk is full")
    assert core.dump_state() != committed
    caplog.set_level(logging.INFO, logger="queue_server.core")
    core.restore()
    assert core.dump_state() == committed
    assert checkpoint > 0 and f"the snapshot of event {checkpoint} and" in caplog.text
    assert "the start of the log" not in caplog.text
    assert core.checkpoint.seq == core.store.head()[0], "the checkpoint moves on to the committed head"


def test_within_a_day_a_snapshot_follows_every_n_events(
    tmp_path: Path, demo_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "EVERY", 10)
    clock = Clock()
    with Store.open(f"sqlite:///{tmp_path / 'n.db'}") as store:
        core = Core(demo_site, store, clock)
        play_days(core, clock, days=1, per_day=30)
        seqs = sorted(int(s["seq"]) for s in store.snapshots())
        assert len(seqs) == snapshots.KEEP
        assert all(b - a >= 10 for a, b in itertools.pairwise(seqs))
        assert {s["day"] for s in store.snapshots()} == {"2027-03-01"}
        assert store.head()[0] - seqs[-1] < 10 + 2, "no more than N events (and one batch) unsnapshotted"
