"""The tables whose waits and service times are sorted and grouped with numpy (``arrays``) are, cell for
cell and bit for bit, the tables Python's own sorts and groups give; a column numpy cannot hold
exactly (a NaN) makes the tables take the Python path."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.reports import arrays, figures, staff
from queue_server.reports.columns import Tally, Tickets
from queue_server.reports.facts import Facts

DAYS = ("2026-11-23", "2026-11-24", "2026-11-25")
# Waits are never negative (``max(0.0, ...)``); service times and estimates come as whole seconds
# from the engine, or as any number from elsewhere.
waits = st.one_of(st.none(), st.floats(0, 5000, allow_nan=False), st.sampled_from([0.0, 60.0, 120.0]))
numbers = st.one_of(
    st.none(), st.integers(0, 5000), st.floats(0, 5000, allow_nan=False), st.sampled_from([0.0, 60.0])
)
call = st.tuples(st.integers(1, 3), st.sampled_from(["cb-1", "cb-2", None]), numbers)
ticket = st.tuples(
    st.sampled_from(DAYS),
    st.sampled_from(["land", "civil", "tax"]),
    waits,
    numbers,
    st.lists(call, max_size=3),
)


def make(rows: list[tuple[Any, ...]]) -> Tickets:
    """Tickets as columns from (day, service, wait, estimate, calls) per ticket, in day order."""
    rows = sorted(rows, key=lambda r: r[0])
    day = [r[0] for r in rows]
    service = [r[1] for r in rows]
    calls = [(i, c) for i, r in enumerate(rows) for c in r[4]]
    tally = Tally(Counter(service), Counter(service), Counter(), Counter(day), Counter(day), {})
    return Tickets(
        [""] * len(rows), day, [f"A{i}" for i in range(len(rows))], service,
        [1_795_000_000.0 + 60 * i for i in range(len(rows))], [r[3] for r in rows], [r[2] for r in rows],
        tally, [i for i, _ in calls], [c[0] for _, c in calls], [c[1] for _, c in calls],
        [c[2] for _, c in calls], {}, [],
    )  # fmt: skip


def tables(tickets: Tickets) -> str:
    """Every table that sorts or groups waits or service times, as text (``repr`` tells every bit)."""
    working = {date.fromisoformat(d): True for d in DAYS}
    wait_s, service_s = figures.sorted_waits(tickets), figures.sorted_services(tickets)
    made = [
        figures.time_stats(wait_s, service_s, 600),
        figures.bins(wait_s, service_s),
        figures.estimate_error(tickets, 300),
        figures.by_service(tickets, {}),
        figures.daily(tickets, working),
        staff.officers(tickets, Facts(), None),
        staff.counters(tickets),
    ]
    return repr([t.rows for t in made])


def in_python(tickets: Tickets) -> Tickets:
    """The same tickets, with the arrays declined: every table takes its Python path."""
    tickets.__dict__.update(waited_array=None, service_array=None)
    return tickets


@settings(max_examples=300, deadline=None)
@given(st.lists(ticket, max_size=40))
def test_numpy_tables_are_pythons_bit_for_bit(rows: list[tuple[Any, ...]]) -> None:
    numpy_made = make(rows)
    assert (numpy_made.waited_array is None) == (numpy_made.service_array is None) is False
    assert tables(numpy_made) == tables(in_python(make(rows)))


def test_a_nan_sends_the_tables_to_python() -> None:
    rows = [(DAYS[0], "land", 60.0, 120, [(1, "cb-1", 300)]), (DAYS[1], "land", math.nan, 60, [])]
    tickets = make(rows)
    assert tickets.waited_array is None and tickets.service_array is not None
    assert tables(tickets) == tables(in_python(make(rows)))


def test_groups_keep_python_order_and_leave_out_empty_keys() -> None:
    import numpy as np

    distinct, ids = arrays.key_ids(["b", "a", "b", "c", "a"])
    assert distinct == ["b", "a", "c"] and ids.tolist() == [0, 1, 0, 2, 1]
    values = np.array([3.0, 2.0, 1.0, math.nan, 2.5])
    assert arrays.sorted_by(distinct, ids, values) == {"b": [1.0, 3.0], "a": [2.0, 2.5]}
    assert arrays.grouped(ids, distinct, values) == {"b": [3.0, 1.0], "a": [2.0, 2.5]}
    assert arrays.sorted_present(values) == [1.0, 2.0, 2.5, 3.0]
    runs = np.array([3.0, 1.0, math.nan, 2.0, math.nan])
    assert arrays.sorted_runs(["a", "a", "b", "c", "d"], runs) == {"a": [1.0, 3.0], "c": [2.0]}
    mixed = arrays.floats([1, None, 2.5])
    assert mixed is not None and mixed.tolist()[::2] == [1.0, 2.5]
    assert arrays.floats([1.0, math.nan]) is None
