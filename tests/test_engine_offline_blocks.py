"""Offline number blocks in the engine: taken from the top of the series (``offline_block_reserved``),
so the day's tickets start at ``first_number``; the first version still replays as it was decided."""

from __future__ import annotations

import json

import pytest
from engine_support import MONDAY, Tokens, make_engine, minutes
from test_engine import issue

from queue_server.engine import Engine, Event, Refused


@pytest.fixture
def tok() -> Tokens:
    return Tokens()


@pytest.fixture
def engine() -> Engine:
    e = make_engine()
    for n, officer in ((1, "cb-01"), (2, "cb-02"), (3, "cb-03")):
        e.execute(e.open_counter(n, officer, MONDAY))
    return e


def test_offline_blocks_come_from_the_top_and_leave_no_gap_in_the_day(engine: Engine, tok: Tokens) -> None:
    """A kiosk reserves its offline block before the first citizen: the first ticket is still A1001."""
    events = engine.reserve_block("kiosk-1", "land", 10, MONDAY)
    assert [e.type for e in events] == ["offline_block_reserved"]
    engine.execute(events)
    engine.execute(engine.reserve_block("kiosk-2", "land", 5, MONDAY))
    assert [engine.ticket_row(issue(engine, tok))["code"] for _ in range(2)] == ["A1001", "A1002"]
    assert [(b.device, b.first, b.last) for b in engine._blocks[("2026-11-23", "land")]] == [
        ("kiosk-1", 999_990, 999_999),
        ("kiosk-2", 999_985, 999_989),
    ]
    later = MONDAY + minutes(30)
    events = engine.register_offline_ticket(
        "kiosk-1", "land", 999_990, priority="elderly", token=tok(), issued_at=MONDAY + minutes(20), at=later
    )
    changes = engine.execute(events)
    row = engine.ticket_row("2026-11-23/land/999990")
    assert changes.tickets == {row["id"]} and row["data"]["offline"] is True and row["priority"] == "elderly"
    assert row["issued_at"] == "2026-11-23T08:20:00+07:00"
    again = engine.register_offline_ticket(
        "kiosk-1", "land", 999_990, priority=None, token=tok(), issued_at=MONDAY + minutes(20), at=later
    )
    assert again == []
    assert engine.ticket_row(issue(engine, tok))["code"] == "A1003"  # the offline ticket moved nothing
    for device, number in (("kiosk-1", 1003), ("kiosk-1", 999_989), ("kiosk-2", 999_990)):
        with pytest.raises(Refused, match=r"^not_allowed:.*not in a block"):
            engine.register_offline_ticket(
                device, "land", number, priority=None, token=tok(), issued_at=MONDAY, at=later
            )
    with pytest.raises(Refused, match=r"^bad_request:"):
        engine.reserve_block("kiosk-1", "land", 0, MONDAY)
    with pytest.raises(Refused, match=r"^sold_out:"):
        engine.reserve_block("kiosk-1", "civil", 6, MONDAY)


def test_online_and_offline_numbers_meet_but_never_overlap(engine: Engine, tok: Tokens) -> None:
    """civil runs B1..B5: a block of 2 takes B4-B5; online stops at B3; no further block fits."""
    engine.execute(engine.reserve_block("kiosk-1", "civil", 2, MONDAY))
    assert [engine.ticket_row(issue(engine, tok, "civil"))["code"] for _ in range(3)] == ["B1", "B2", "B3"]
    with pytest.raises(Refused, match=r"^sold_out:"):
        issue(engine, tok, "civil")
    with pytest.raises(Refused, match=r"^sold_out:"):
        engine.reserve_block("kiosk-2", "civil", 1, MONDAY)


def test_a_first_version_block_still_moves_the_counter_on_replay(tok: Tokens) -> None:
    """Logs written before ``offline_block_reserved`` replay as they were decided: no number twice."""
    old = Event(
        "block_reserved",
        {"device": "kiosk-1", "day": "2026-11-23", "service": "land", "series": "land", "first": 1001,
         "last": 1020},
        MONDAY,
    )  # fmt: skip
    replayed = Engine.replay(make_engine().rules, [old])
    assert replayed.ticket_row(issue(replayed, tok))["code"] == "A1021"
    top = Engine.replay(make_engine().rules, replayed.reserve_block("kiosk-1", "land", 3, MONDAY))
    assert top.snapshot()["offline_floor"] == [(("2026-11-23", "land"), 999_997)]
    assert "offline_floor" not in replayed.snapshot()  # a first-version state reads as it always did


def test_a_snapshot_keeps_where_the_offline_blocks_begin(engine: Engine, tok: Tokens) -> None:
    """Loaded from a snapshot, the engine still stops online numbers below the kiosks' blocks."""
    from queue_server.snapshot_format import dump_engine, load_engine

    engine.execute(engine.reserve_block("kiosk-1", "civil", 2, MONDAY))
    loaded = make_engine()
    load_engine(loaded, json.loads(json.dumps(dump_engine(engine))))
    assert loaded.snapshot() == engine.snapshot()
    assert [loaded.ticket_row(issue(loaded, tok, "civil"))["code"] for _ in range(3)] == ["B1", "B2", "B3"]
    with pytest.raises(Refused, match=r"^sold_out:"):
        issue(loaded, tok, "civil")
