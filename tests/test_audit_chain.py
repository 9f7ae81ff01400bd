"""The pure chain verifier: any chain built by the rules verifies; any single change to a row is named."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from queue_server.chain import GENESIS_HASH, ChainRow, ChainVerifier, canonical_json, event_hash

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
events = st.lists(
    st.tuples(
        st.sampled_from(["ticket_issued", "ticket_called", "counter_opened"]),
        st.dictionaries(st.text(max_size=6), json_values, max_size=4),
        st.none() | st.text(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=12,
)


def build(specs: list[tuple[str, dict[str, object], str | None]]) -> list[ChainRow]:
    rows, prev = [], GENESIS_HASH
    for seq, (type_, data, request_id) in enumerate(specs, start=1):
        at = f"2026-11-23T08:{seq % 60:02d}:00+07:00"
        digest = event_hash(prev, seq=seq, at=at, type=type_, data=data, request_id=request_id)
        rows.append(ChainRow(seq, at, type_, canonical_json(data), request_id, prev, digest))
        prev = digest
    return rows


def verify(rows: list[ChainRow]) -> tuple[bool, int | None, str | None, int]:
    verifier = ChainVerifier()
    verifier.feed(rows)
    report = verifier.report()
    return report.ok, report.first_bad_seq, report.problem, report.events_checked


@given(events)
def test_a_chain_built_by_the_rules_verifies(specs: list[tuple[str, dict[str, object], str | None]]) -> None:
    rows = build(specs)
    assert verify(rows) == (True, None, None, len(rows))


@given(events, st.data())
def test_any_changed_content_is_named(
    specs: list[tuple[str, dict[str, object], str | None]], data: st.DataObject
) -> None:
    rows = build(specs)
    index = data.draw(st.integers(0, len(rows) - 1))
    field = data.draw(st.sampled_from(["at", "type", "data", "request_id", "hash", "prev_hash"]))
    row = rows[index]
    changed = {
        "at": "2026-11-23T07:00:00+07:00",
        "type": row.type + "!",
        "data": canonical_json({**json.loads(row.data), "tampered": True}),
        "request_id": (row.request_id or "") + "x",
        "hash": "f" * 64 if row.hash != "f" * 64 else "e" * 64,
        "prev_hash": "f" * 64,
    }[field]
    if getattr(row, field) == changed:
        return
    change: dict[str, Any] = {field: changed}
    rows[index] = dataclasses.replace(row, **change)
    ok, seq, problem, checked = verify(rows)
    assert not ok
    assert (seq, problem) == (row.seq, f"event {row.seq}: hash does not match its content")
    assert checked == row.seq - 1


@given(events, st.data())
def test_a_removed_row_is_named(
    specs: list[tuple[str, dict[str, object], str | None]], data: st.DataObject
) -> None:
    rows = build(specs)
    index = data.draw(st.integers(0, len(rows) - 1))
    del rows[index]
    ok, seq, problem, _ = verify(rows)
    if index == len(rows):  # the last one: only an anchor can tell (see test_audit.py)
        assert ok
        return
    assert not ok and seq == index + 1
    assert problem is not None and problem.startswith(f"event {index + 1} is missing")
