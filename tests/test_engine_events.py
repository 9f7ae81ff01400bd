"""The typed engine events against a log written before they existed (``tests/golden/events_v1.jsonl``).

The fixture was written by the engine of commit 2262068 (``Event(type, data, at)`` with hand-built
dicts) and holds every event kind with its hash chain, plus the state replaying it gave then. Today's
code must replay it to the same state, re-serialise every event to the same JSON and hashes, write the
same rows through the real store, and decide the same events from the same commands.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import FrozenInstanceError
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from engine_support import MONDAY, Tokens, make_engine

from queue_server import events as ev
from queue_server.chain import ChainRow, ChainVerifier, canonical_json, event_hash
from queue_server.db import Store
from queue_server.engine import Changes, Engine, Event, Refused
from queue_server.rules import RuleBook

GOLDEN = Path(__file__).resolve().parent / "golden"
#: kinds that came after the fixture was written (``offline_block_reserved``: blocks from the top).
NEWER_KINDS = frozenset({"offline_block_reserved"})
ROWS: list[dict[str, Any]] = [
    json.loads(line) for line in (GOLDEN / "events_v1.jsonl").read_text(encoding="utf-8").splitlines()
]


def stored(row: dict[str, Any]) -> Event:
    """The event as the store hands it back (``Store.events``): JSON data, the time parsed."""
    return Event(row["type"], json.loads(row["data"]), datetime.fromisoformat(row["at"]))


def normal(value: object) -> object:
    """A snapshot as JSON values (tuples become lists, counter numbers become keys in text)."""
    return json.loads(json.dumps(value, sort_keys=True))


def load_maker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("events_v1_make", GOLDEN / "events_v1_make.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fixture_holds_every_kind_and_an_intact_chain() -> None:
    assert {row["type"] for row in ROWS} == ev.EVENT_TYPES - NEWER_KINDS
    verifier = ChainVerifier()
    fields = ("seq", "at", "type", "data", "request_id", "prev_hash", "hash")
    assert verifier.feed(ChainRow(*(row[f] for f in fields)) for row in ROWS)
    assert verifier.report().events_checked == len(ROWS)


def test_replaying_the_old_log_gives_the_state_it_gave_then() -> None:
    engine = Engine.replay(make_engine().rules, (stored(row) for row in ROWS))
    expected = json.loads((GOLDEN / "events_v1_state.json").read_text(encoding="utf-8"))
    assert normal(engine.snapshot()) == expected
    assert {t["status"] for t in expected["tickets"].values()} >= {"done", "expired", "cancelled"}


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['seq']}-{r['type']}" for r in ROWS])
def test_each_old_event_parses_to_its_model_and_serialises_to_the_same_bytes(row: dict[str, Any]) -> None:
    typed = ev.parse_event(stored(row))
    assert type(typed) is ev.KINDS[row["type"]] and typed.type == row["type"]
    assert canonical_json(typed.data) == canonical_json(typed.to_data()) == row["data"]
    digest = event_hash(
        row["prev_hash"],
        seq=row["seq"],
        at=typed.at.isoformat(),
        type=typed.type,
        data=typed.data,
        request_id=row["request_id"],
    )
    assert digest == row["hash"]


class _Recording(Engine):
    """An engine that keeps every event it executed, in order."""

    def __init__(self, rules: RuleBook) -> None:
        super().__init__(rules)
        self.log: list[Event] = []

    def execute(self, events: Sequence[Event]) -> Changes:
        self.log.extend(events)
        return super().execute(events)


def test_the_same_commands_decide_the_same_rows_today() -> None:
    """The fixture's scenario run through today's engine writes the fixture's rows, byte for byte, except
    its block reservation: that is now the second version (``offline_block_reserved``, numbers from the
    top of the series), so the scenario's offline ticket B1 no longer fits the kiosk's block, B4-B5."""
    engine = _Recording(make_engine().rules)
    with pytest.raises(Refused, match="B1 is not in a block"):
        load_maker().day_one(engine, Tokens())
    block = next(i for i, row in enumerate(ROWS) if row["type"] == "block_reserved")
    assert engine.log[block].type == "offline_block_reserved"
    assert (engine.log[block].data["first"], engine.log[block].data["last"]) == (4, 5)
    assert len(engine.log) > block + 1
    for event, row in zip(engine.log, ROWS, strict=False):
        if event is not engine.log[block]:
            assert isinstance(event, ev.EngineEvent)
            assert (event.type, canonical_json(event.data), event.at.isoformat()) == (
                row["type"],
                row["data"],
                row["at"],
            )


def test_typed_events_through_the_real_store_keep_the_chain(tmp_path: Path) -> None:
    """Appended to SQLite as the server does (``type``, ``data``, ``at``): the same rows and hashes."""
    typed = [ev.parse_event(stored(row)) for row in ROWS]
    with Store.open(f"sqlite:///{tmp_path / 'queue.db'}") as store:
        with store.transaction() as tx:
            for event, row in zip(typed, ROWS, strict=True):
                tx.append(event.type, event.data, event.at, row["request_id"])
        back = list(store.events())
        assert store.verify().ok
    assert [(e.seq, e.type, e.data, e.hash) for e in back] == [
        (r["seq"], r["type"], json.loads(r["data"]), r["hash"]) for r in ROWS
    ]
    replayed = Engine.replay(make_engine().rules, (Event(e.type, e.data, e.at) for e in back))
    assert replayed.snapshot() == Engine.replay(make_engine().rules, typed).snapshot()


def test_a_ticket_called_by_call_next_keeps_its_credits_and_others_leave_them_out() -> None:
    tid = "2026-11-23/land/1001"
    chosen = ev.TicketCalled(
        at=MONDAY,
        ticket_id=tid,
        counter=1,
        officer="cb-01",
        seq=1,
        credits={"land": 0},
        normals_since_priority=2,
    )
    specific = ev.TicketCalled(at=MONDAY, ticket_id=tid, counter=1, officer="cb-01", seq=1, specific=True)
    assert chosen.data["credits"] == {"land": 0} and chosen.data["normals_since_priority"] == 2
    assert "credits" not in specific.data and "normals_since_priority" not in specific.data
    assert ev.parse_event(Event(specific.type, specific.data, MONDAY)) == specific


def test_events_are_frozen() -> None:
    event = ev.CounterOpened(at=MONDAY, counter=1, officer="cb-01")
    with pytest.raises(FrozenInstanceError):
        event.counter = 2  # type: ignore[misc]
    assert (event.type, event.data) == ("counter_opened", {"counter": 1, "officer": "cb-01"})
    raw = Event("counter_opened", {"counter": 1, "officer": "cb-01"}, MONDAY)
    with pytest.raises(FrozenInstanceError):
        raw.at = MONDAY
    assert ev.parse_event(raw) == event and raw == Event(event.type, event.data, event.at)


@pytest.mark.parametrize(
    ("type_", "data", "message"),
    [
        ("ticket_teleported", {"ticket_id": "x"}, "unknown event type 'ticket_teleported'"),
        ("counter_opened", {"counter": "1", "officer": "cb-01"}, "'counter' must be an integer, got '1'"),
        ("counter_opened", {"counter": True, "officer": "cb-01"}, "'counter' must be an integer, got True"),
        ("counter_opened", {"counter": 1}, "counter_opened: 'officer' is missing"),
        ("ticket_reinstated", {"ticket_id": "x", "front": 1}, "'front' must be true or false, got 1"),
        ("ticket_transferred", {**dict.fromkeys(("ticket_id", "service"), "x"), "from_counter": 1,
         "counter": "2", "front": False}, "'counter' must be an integer or null, got '2'"),
        ("ticket_called", {"ticket_id": "x", "counter": 1, "officer": None, "seq": 1,
         "credits": {"land": "0"}}, "'credits' must be an object of integers"),
        ("ticket_rated", {"ticket_id": "x", "counter": 1, "officer": None, "score": 1, "scale": 5,
         "answers": [1]}, "'answers' must be an object, got [1]"),
    ],
)  # fmt: skip
def test_a_stored_event_that_does_not_fit_its_kind_is_named(type_: str, data: Any, message: str) -> None:
    engine = make_engine()
    before = engine.snapshot()
    with pytest.raises(ev.EventDataError, match=message.replace("(", r"\(").replace("[", r"\[")):
        engine.apply(Event(type_, data, MONDAY))
    assert engine.snapshot() == before


def test_an_old_ticket_issued_without_device_and_offline_reads_as_a_server_ticket() -> None:
    """Logs older than offline blocks have no ``device``/``offline`` keys; the old code defaulted them."""
    row = next(r for r in ROWS if r["type"] == "ticket_issued" and not json.loads(r["data"])["offline"])
    data = {k: v for k, v in json.loads(row["data"]).items() if k not in {"device", "offline"}}
    issued = ev.parse_event(Event("ticket_issued", data, MONDAY))
    assert isinstance(issued, ev.TicketIssued)
    assert (issued.device, issued.offline) == (None, False)


def test_a_malformed_second_version_block_is_refused_naming_kind_and_key() -> None:
    data = {"device": "kiosk-1", "day": "2026-11-23", "service": "land", "series": "land", "first": 9}
    with pytest.raises(ev.EventDataError, match=r"offline_block_reserved: 'last' is missing"):
        ev.parse_event(Event("offline_block_reserved", data, MONDAY))
    with pytest.raises(ev.EventDataError, match=r"offline_block_reserved: 'first' must be an integer"):
        ev.parse_event(Event("offline_block_reserved", {**data, "first": "9", "last": 10}, MONDAY))
    typed = ev.parse_event(Event("offline_block_reserved", {**data, "last": 10}, MONDAY))
    assert type(typed) is ev.OfflineBlockReserved and typed.data == {**data, "last": 10}
