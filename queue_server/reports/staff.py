"""The officers' and the counters' tables: services, calls, time open and paused, no-shows.

Service times are those of ``queue_server.reports.figures`` (a call to its finish), grouped here by the
officer or the counter that made the call.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from queue_server.reports import figures
from queue_server.reports.columns import Tickets
from queue_server.reports.facts import Facts
from queue_server.reports.tables import Column, Table, Value, mean


def officers(tickets: Tickets, facts: Facts, names: dict[str, str] | None) -> Table:
    groups = figures.services_by(tickets, tickets.ep_officer)
    served: dict[str, list[float]] = defaultdict(list, {k: v for k, v in groups.items() if k is not None})
    missed: Counter[str] = Counter()
    last = tickets.last_officer
    for i, n in tickets.tally.no_shows.items():
        officer = last.get(i)
        if officer is not None:
            missed[officer] += n
    rows: list[list[Value]] = []
    for officer in sorted(set(served) | set(missed) | set(facts.officer_time)):
        spent = facts.officer_time.get(officer)
        label = officer if names is None else f"{officer} — {names.get(officer, '')}".rstrip(" —")
        rows.append(
            [
                label,
                len(served[officer]),
                mean(served[officer]),
                spent.open_s if spent else 0.0,
                spent.paused_s if spent else 0.0,
                missed[officer],
            ]
        )
    cols = [
        Column("officer", "Cán bộ", "Officer", "text"),
        Column("served", "Lượt phục vụ", "Services"),
        Column("mean_service", "Phục vụ TB (phút)", "Mean service (min)", "minutes"),
        Column("open", "Giờ mở quầy", "Hours open", "hours"),
        Column("paused", "Giờ tạm dừng", "Hours paused", "hours"),
        Column("no_show", "Vắng mặt", "No-shows"),
    ]
    return Table(
        "officers",
        "Cán bộ",
        "Officers",
        "Lượt phục vụ xong theo cán bộ gọi số; giờ mở / tạm dừng quầy trong kỳ, cắt ở cuối ngày làm việc; "
        "vắng mặt tính cho cán bộ của lần gọi cuối.",
        "Finished services by the officer who called; time a counter was open or paused under the officer, "
        "cut at the end of each business day; no-shows count for the officer of the last call.",
        cols,
        rows,
    )


def counters(tickets: Tickets) -> Table:
    served: dict[int, list[float]] = defaultdict(list, figures.services_by(tickets, tickets.ep_counter))
    calls = Counter(tickets.ep_counter)
    rows: list[list[Value]] = [[n, calls[n], len(served[n]), mean(served[n])] for n in sorted(calls)]
    cols = [
        Column("counter", "Quầy", "Counter", "id"),
        Column("calls", "Lượt gọi", "Calls"),
        Column("served", "Lượt phục vụ", "Services"),
        Column("mean_service", "Phục vụ TB (phút)", "Mean service (min)", "minutes"),
    ]
    return Table(
        "counters",
        "Quầy",
        "Counters",
        "Lượt gọi (không kể gọi lại) và lượt phục vụ xong tại mỗi quầy.",
        "Calls (recalls not counted) and finished services at each counter.",
        cols,
        rows,
    )
