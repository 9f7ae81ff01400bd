"""Writes ``events_v1.jsonl`` and ``events_v1_state.json``: a stored event log with every engine event kind.

The committed files were produced by the engine as it was before the typed events (commit 2262068,
``Event(type, data, at)``); ``tests/test_engine_events.py`` replays them through today's code. Do not
regenerate them to make that test pass: they are the record of what older servers wrote.

    .venv/bin/python tests/golden/events_v1_make.py   # only to make a new fixture version

Each line is one row of the ``events`` table (``data`` is the stored JSON text, ``hash`` the chain).
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE.parent))

from engine_support import MONDAY, Tokens, make_engine  # noqa: E402

from queue_server.chain import GENESIS_HASH, canonical_json, event_hash  # noqa: E402
from queue_server.engine import Engine, Event  # noqa: E402


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def day_one(engine: Engine, tok: Tokens) -> list[tuple[Event, str | None]]:
    """Commands that between them decide every event kind; each with the request id it came in."""
    log: list[tuple[Event, str | None]] = []

    def run(events: list[Event], request_id: str | None = None) -> None:
        engine.execute(events)
        log.extend((e, request_id) for e in events)

    at = MONDAY
    run(engine.open_counter(1, "cb-01", at), "r-open-1")
    run(engine.open_counter(2, "cb-02", at), "r-open-2")
    run(engine.open_counter(3, "cb-03", at), "r-open-3")
    run(engine.reserve_block("kiosk-1", "civil", 2, at), "r-block")
    a1 = engine.issue("land", at + minutes(1), tok(), device="kiosk-1")
    run(a1, "r-issue-1")
    run(engine.issue("land", at + minutes(2), tok(), priority="elderly", device="kiosk-1"), "r-issue-2")
    run(engine.issue("land", at + minutes(3), tok()), "r-issue-3")
    run(engine.issue("tax", at + minutes(4), tok(), device="kiosk-2"), "r-issue-4")
    run(engine.issue("land", at + minutes(4.5), tok()), "r-issue-5")
    offline = engine.register_offline_ticket(
        "kiosk-1", "civil", 1, priority=None, token=tok(), issued_at=at + minutes(4), at=at + minutes(5)
    )
    run(offline, "r-offline")
    run(engine.call_next(1, at + minutes(6)), "r-call-1")  # the priority ticket, with credits
    run(engine.recall(1, at + minutes(7)), "r-recall")
    run(engine.call_next(1, at + minutes(9)), "r-call-2")  # finishes, calls the next
    run(engine.no_show(1, at + minutes(11)))  # a keypad press: no request id
    run(engine.reinstate(_status(engine, "no_show"), at + minutes(12)), "r-reinstate")
    run(engine.call_ticket(2, _status(engine, "waiting"), at + minutes(13)), "r-specific")
    run(engine.transfer(2, at + minutes(15), to_service="land", front=True), "r-transfer-service")
    run(engine.call_next(3, at + minutes(16)), "r-call-3")
    run(engine.transfer(3, at + minutes(17), to_counter=1), "r-transfer-counter")
    run(engine.call_next(1, at + minutes(18)), "r-call-4")
    run(engine.park(1, at + minutes(19)), "r-park")
    run(engine.resume(1, _status(engine, "parked"), at + minutes(21)), "r-resume")
    run(engine.finish(1, at + minutes(25)), "r-finish")
    served = _status(engine, "done")
    answers = {"thái_độ": "Rất hài lòng", "điểm": [4, 5], "ghi_chú": None, "nhanh": True}
    run(engine.rate(served, 4, 5, answers, at + minutes(26)), "r-rate")
    run(engine.pause_counter(3, at + minutes(27)), "r-pause")
    run(engine.cancel(_status(engine, "waiting"), at + minutes(28)), "r-cancel")
    run(engine.close_counter(3, at + minutes(29)), "r-close")
    run(engine.close_day("2026-11-23", MONDAY + timedelta(days=1, hours=1)))
    return log


def _status(engine: Engine, status: str) -> str:
    """The first ticket (in issue order) with ``status``."""
    return next(t.id for t in engine.tickets.values() if str(t.status) == status)


def main() -> None:
    engine, tok = make_engine(), Tokens()
    log = day_one(engine, tok)
    prev, lines = GENESIS_HASH, []
    for seq, (event, request_id) in enumerate(log, start=1):
        at = event.at.isoformat()
        etype, data = event.type, json.loads(canonical_json(event.data))
        digest = event_hash(prev, seq=seq, at=at, type=etype, data=data, request_id=request_id)
        row = {
            "seq": seq,
            "at": at,
            "type": etype,
            "data": canonical_json(data),
            "request_id": request_id,
            "prev_hash": prev,
            "hash": digest,
        }
        lines.append(json.dumps(row, ensure_ascii=False, sort_keys=True))
        prev = digest
    kinds = {json.loads(line)["type"] for line in lines}
    (HERE / "events_v1.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    state = json.dumps(engine.snapshot(), ensure_ascii=False, sort_keys=True, indent=1)
    (HERE / "events_v1_state.json").write_text(state + "\n", encoding="utf-8")
    print(f"{len(lines)} events, {len(kinds)} kinds: {sorted(kinds)}")


if __name__ == "__main__":
    main()
