"""The queue's figures: tickets, waits, service times, estimate error, load, days and rule versions.

Definitions (repeated in each table, so an export read alone still says what it counts):

- A ticket belongs to the period by its **business day**; with a counter or officer filter, only the
  tickets that counter or officer called at least once count.
- **Waiting time** runs from issue (the time printed on the ticket, also for tickets printed offline) to
  the first call; tickets never called are left out. Waits after a transfer or a no-show are not added.
- **Service time** runs from a call to the finish of that call (``ticket_finished``); calls that ended in
  a transfer, a park or a no-show are left out.
- Percentiles are nearest-rank (p90: the smallest time that 90 % of the times do not exceed).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from datetime import date, datetime
from functools import partial
from itertools import compress, islice, repeat
from operator import and_, countOf, floordiv, is_not, le, sub
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.reports import arrays
from queue_server.reports.columns import Tickets
from queue_server.reports.facts import CANCELLED, OPEN, Facts, TicketFact
from queue_server.reports.tables import Column, Table, Value, mean, percentile, share

# A year holds 250,000 tickets: the passes over their columns are ``map``/``filter``/``compress``/
# ``Counter`` (iterated in C), in the tickets' order, so every sum adds the same values in the same order.
_not_none = partial(is_not, None)
BIN_S = 120
BINS = 30  # 0-2 ... 58-60 minutes, then "60+"
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_SUMMARY_COLS = [
    Column("measure", "Chỉ tiêu", "Measure", "text"),
    Column("value", "Giá trị", "Value", "number"),
    Column("definition", "Định nghĩa", "Definition", "text"),
]


def _stats_row(name: str, values: list[float], target: float | None) -> list[Value]:
    ordered = sorted(values)
    within = None if target is None else share(bisect_right(ordered, target), len(ordered))
    return [
        name,
        len(ordered),
        mean(ordered),
        percentile(ordered, 0.5),
        percentile(ordered, 0.9),
        ordered[-1] if ordered else None,
        within,
    ]


def waits(waited_s: Sequence[Any]) -> list[float]:
    return list(filter(_not_none, waited_s))


def services(service_s: Sequence[Any]) -> list[float]:
    return list(map(float, filter(_not_none, service_s)))


def sorted_waits(tickets: Tickets) -> list[float]:
    """The waits of the tickets called, in ascending order."""
    array = tickets.waited_array
    return sorted(waits(tickets.waited_s)) if array is None else arrays.sorted_present(array)


def sorted_services(tickets: Tickets) -> list[float]:
    """The service times of the calls that ended in a finish, in ascending order."""
    array = tickets.service_array
    return sorted(services(tickets.ep_service_s)) if array is None else arrays.sorted_present(array)


def _grouped(keys: Sequence[Any], *columns: Sequence[Any]) -> dict[Any, tuple[list[Any], ...]]:
    """The columns' values by key, each group in the columns' order."""
    if all(map(le, keys, islice(keys, 1, None))):  # days, in issue order: a slice per key
        edges = [(k, bisect_left(keys, k), bisect_right(keys, k)) for k in set(keys)]
        return {k: tuple(list(c[lo:hi]) for c in columns) for k, lo, hi in edges}
    # Each value appended to its key's list by ``map`` over C methods, no Python step per row: the
    # defaultdict's look-up gives the list (a new one for a new key), ``list.append`` adds the value.
    if len(columns) == 1:
        values: defaultdict[Any, list[Any]] = defaultdict(list)
        deque(map(list.append, map(values.__getitem__, keys), columns[0]), maxlen=0)
        return {k: (v,) for k, v in values.items()}
    index: defaultdict[Any, list[int]] = defaultdict(list)
    deque(map(list.append, map(index.__getitem__, keys), range(len(keys))), maxlen=0)
    return {k: tuple(list(map(c.__getitem__, at)) for c in columns) for k, at in index.items()}


def _waits_by(tickets: Tickets, keys: Sequence[Any], ids: Any = None) -> dict[Any, list[float]]:
    """The waits (tickets called) by key (a key per ticket), each group in ascending order; ``ids``:
    the keys numbered already (``arrays.key_ids``)."""
    if tickets.waited_array is not None:
        if ids is None and all(map(le, keys, islice(keys, 1, None))):  # days, in issue order
            return arrays.sorted_runs(keys, tickets.waited_array)
        distinct, numbers = arrays.key_ids(keys) if ids is None else ids
        return arrays.sorted_by(distinct, numbers, tickets.waited_array)
    waited_s = tickets.waited_s
    called = list(map(_not_none, waited_s))
    groups = _grouped(list(compress(keys, called)), list(compress(waited_s, called)))
    return {k: sorted(v[0]) for k, v in groups.items()}


def ticket_counts(tickets: Tickets, working_days: int, days_with_tickets: int) -> Table:
    issued = len(tickets)
    count = tickets.counts
    per_day = None if working_days == 0 else issued / working_days
    rows: list[list[Value]] = [
        ["issued", issued, "Số đã phát / tickets issued (ticket_issued), kể cả số in khi mất kết nối"],
        ["served", count["served"], "Đã phục vụ xong / finished at least once (ticket_finished)"],
        ["no_show", count["no_show"], "Vắng mặt khi gọi / marked no-show at least once (even if reinstated)"],
        ["cancelled", count["cancelled"], "Đã hủy / cancelled (the citizen left)"],
        ["transferred", count["transferred"], "Đã chuyển / transferred at least once"],
        ["parked", count["parked"], "Tạm gác / parked at least once"],
        ["offline", count["offline"], "Phát khi mất kết nối / printed by a kiosk while offline"],
        ["priority", count["priority"], "Ưu tiên / priority series"],
        [
            "expired",
            count["expired"],
            "Hết hạn cuối ngày / still waiting, parked or no-show when the day closed",
        ],
        ["open", count["open"], "Còn chờ / still waiting, parked or no-show now (day not closed)"],
        [
            "working_days",
            working_days,
            "Ngày làm việc / working days in the period (holidays out, make-up days in)",
        ],
        ["days_with_tickets", days_with_tickets, "Ngày có phát số / business days with at least one ticket"],
        ["issued_per_working_day", per_day, "Số phát bình quân mỗi ngày làm việc / issued ÷ working days"],
    ]
    return Table(
        "tickets",
        "Số thứ tự",
        "Tickets",
        "Mỗi số được tính theo ngày làm việc của nó (ngày in trên số).",
        "Each ticket counts in its business day (the day printed on it).",
        _SUMMARY_COLS,
        rows,
    )


def time_stats(wait_s: list[float], service_s: list[float], target_s: float) -> Table:
    cols = [
        Column("measure", "Chỉ tiêu", "Measure", "text"),
        Column("count", "Số lượt", "Count"),
        Column("mean", "Trung bình (phút)", "Mean (min)", "minutes"),
        Column("p50", "Trung vị (phút)", "Median (min)", "minutes"),
        Column("p90", "P90 (phút)", "P90 (min)", "minutes"),
        Column("max", "Lâu nhất (phút)", "Max (min)", "minutes"),
        Column("within_target", f"Trong {target_s / 60:g} phút", f"Within {target_s / 60:g} min", "percent"),
    ]
    wait_row = _stats_row("wait", wait_s, target_s)
    service_row = _stats_row("service", service_s, None)
    return Table(
        "times",
        "Thời gian chờ và phục vụ",
        "Waiting and service time",
        "Chờ: từ lúc phát số đến lần gọi đầu tiên (số chưa được gọi không tính). Phục vụ: từ lúc gọi đến lúc "
        "kết thúc lượt đó (lượt chuyển, tạm gác, vắng mặt không tính). P50/P90 theo hạng gần nhất.",
        "Wait: issue to first call (tickets never called are left out). Service: a call to its finish "
        "(calls ending in a transfer, park or no-show are left out). Nearest-rank percentiles; the share "
        "within target is of waits.",
        cols,
        [wait_row, service_row],
    )


def _binned(values: list[float]) -> list[int]:
    """How many values fall in each bin: bin ``min(BINS, int(v // BIN_S))``."""
    ordered = sorted(values)  # already sorted: one look
    if ordered and ordered[0] >= 0:  # a bisection per bin edge
        edges = [bisect_left(ordered, i * BIN_S) for i in range(BINS + 1)] + [len(ordered)]
        return [edges[i + 1] - edges[i] for i in range(BINS + 1)]
    out = [0] * (BINS + 1)
    for v in values:
        out[min(BINS, int(v // BIN_S))] += 1
    return out


def bins(wait_s: list[float], service_s: list[float]) -> Table:
    wait_bins, service_bins = _binned(wait_s), _binned(service_s)
    rows: list[list[Value]] = []
    for i in range(BINS + 1):
        label = f"{i * 2}–{i * 2 + 2}" if i < BINS else f"{BINS * 2}+"
        rows.append([label, wait_bins[i], service_bins[i]])
    cols = [
        Column("minutes", "Phút", "Minutes", "text"),
        Column("waits", "Lượt chờ", "Waits"),
        Column("services", "Lượt phục vụ", "Services"),
    ]
    return Table(
        "bins",
        "Phân bố theo khoảng 2 phút",
        "Distribution in 2-minute bins",
        "Số lượt có thời gian chờ / phục vụ trong mỗi khoảng [a, b) phút; khoảng cuối là từ 60 phút trở lên.",
        "Waits and services whose time falls in each [a, b) minute bin; the last bin is 60 minutes and more.",
        cols,
        rows,
    )


def _estimate_diffs(tickets: Tickets) -> tuple[list[float], list[float]]:
    """Estimate minus wait of each ticket with both, in ticket order, and their absolute values."""
    estimate, waited = tickets.estimate_s, tickets.waited_s
    waits_array = tickets.waited_array
    estimates = None if waits_array is None else arrays.floats(estimate)
    if waits_array is None or estimates is None:
        both = list(map(and_, map(_not_none, estimate), map(_not_none, waited)))
        diffs = list(map(sub, compress(estimate, both), compress(waited, both)))
        return diffs, list(map(abs, diffs))
    import numpy as np

    # The same subtraction of the same floats (an estimate given as a whole number is turned into a
    # float first, as ``-`` does with a float wait).
    found = (estimates - waits_array)[~np.isnan(estimates) & ~np.isnan(waits_array)]
    return found.tolist(), np.abs(found).tolist()


def estimate_error(tickets: Tickets, tolerance_s: float) -> Table:
    diffs, errors = _estimate_diffs(tickets)
    within = share(countOf(map(le, errors, repeat(tolerance_s)), True), len(diffs))
    mae = mean(errors)
    rows: list[list[Value]] = [
        ["count", len(diffs), "Số có thời gian dự kiến và đã được gọi / tickets with an estimate, called"],
        [
            "mae_min",
            None if mae is None else mae / 60,
            "Sai số tuyệt đối trung bình (phút) / mean |estimate - wait|",
        ],
        [
            "bias_min",
            None if not diffs else sum(diffs) / len(diffs) / 60,
            "Sai số trung bình có dấu (phút, dương = dự kiến dài hơn) / mean estimate - wait",
        ],
        [
            "within_tolerance",
            within,
            f"Tỷ lệ sai lệch trong ±{tolerance_s / 60:g} phút / share within ±{tolerance_s / 60:g} min",
        ],
    ]
    return Table(
        "estimate",
        "Độ chính xác thời gian chờ dự kiến",
        "Accuracy of the printed wait estimate",
        "So sánh thời gian chờ in trên số với thời gian chờ thực tế (đến lần gọi đầu). Số in khi mất kết nối "
        "không có dự kiến.",
        "The wait printed on the ticket against the wait measured to the first call; offline tickets carry "
        "no estimate.",
        _SUMMARY_COLS,
        rows,
        row_kinds={"within_tolerance": "percent"},
    )


def by_service(tickets: Tickets, names: dict[str, str]) -> Table:
    service = tickets.service
    tally = tickets.tally
    issued, served, no_show = tally.issued_by_service, tally.served_by_service, tally.no_show_by_service
    waited = _waits_by(tickets, service, None if tickets.waited_array is None else tickets.service_ids)
    calls = _services_by_service(tickets)
    rows: list[list[Value]] = []
    for code in sorted(issued):
        w = waited.get(code, [])
        rows.append(
            [
                code,
                names.get(code, code),
                issued[code],
                served[code],
                no_show[code],
                mean(w),
                percentile(w, 0.9),
                mean(services(calls.get(code, []))),
            ]
        )
    cols = [
        Column("service", "Mã", "Code", "text"),
        Column("name", "Lĩnh vực", "Service", "text"),
        Column("issued", "Đã phát", "Issued"),
        Column("served", "Đã phục vụ", "Served"),
        Column("no_show", "Vắng mặt", "No-show"),
        Column("mean_wait", "Chờ TB (phút)", "Mean wait (min)", "minutes"),
        Column("p90_wait", "Chờ P90 (phút)", "P90 wait (min)", "minutes"),
        Column("mean_service", "Phục vụ TB (phút)", "Mean service (min)", "minutes"),
    ]
    return Table(
        "services",
        "Theo lĩnh vực",
        "By service",
        "Lĩnh vực lúc phát số; thời gian phục vụ theo lĩnh vực của lượt gọi.",
        "The service the ticket was issued for; service times by the service of each call.",
        cols,
        rows,
    )


def services_by(tickets: Tickets, keys: Sequence[Any]) -> dict[Any, list[Any]]:
    """The finished calls' service times by key (a key per call; None: left out, or kept by numpy as
    a key of its own, for the caller to drop), each group in call order."""
    if tickets.service_array is not None:
        distinct, ids = arrays.key_ids(keys)
        return arrays.grouped(ids, distinct, tickets.service_array)
    done = list(map(and_, map(_not_none, tickets.ep_service_s), map(_not_none, keys)))
    groups = _grouped(list(compress(keys, done)), list(compress(tickets.ep_service_s, done)))
    return {k: v[0] for k, v in groups.items()}


def _services_by_service(tickets: Tickets) -> dict[Any, list[Any]]:
    """``services_by`` the service of each call's ticket."""
    service = tickets.service
    if tickets.service_array is None:
        return services_by(tickets, list(map(service.__getitem__, tickets.ep_ticket)))
    import numpy as np

    distinct, ids = tickets.service_ids  # per ticket, then per call by its ticket
    at = np.fromiter(tickets.ep_ticket, dtype=np.int64, count=len(tickets.ep_ticket))
    return arrays.grouped(ids[at], distinct, tickets.service_array)


def load(tickets: Tickets, tz: ZoneInfo) -> tuple[Table, dict[tuple[int, int], int]]:
    cells: dict[tuple[int, int], int] = Counter()
    slots = Counter(map(int, map(floordiv, tickets.issued_ts, repeat(900))))
    for slot, n in slots.items():
        local = datetime.fromtimestamp(slot * 900, tz)
        cells[(local.weekday(), local.hour)] += n
    hours = sorted({h for _, h in cells} | set(range(7, 18)))
    cols = [Column("weekday", "Thứ", "Weekday", "text")] + [
        Column(f"h{h:02d}", f"{h}h", f"{h}:00") for h in hours
    ]
    rows: list[list[Value]] = [
        [f"{WEEKDAYS_VI[d]} / {WEEKDAYS_EN[d]}"] + [cells.get((d, h), 0) for h in hours] for d in range(7)
    ]
    table = Table(
        "load",
        "Lượt lấy số theo thứ và giờ",
        "Arrivals by weekday and hour",
        "Số phát trong mỗi giờ (giờ địa phương, theo giờ in trên số), cộng dồn cả kỳ.",
        "Tickets issued in each local hour (by the time printed on the ticket), summed over the period.",
        cols,
        rows,
    )
    return table, dict(cells)


def counters_vs_waiting(facts: Facts) -> Table:
    per_hour: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    busy_days = {day for (day, _h), s in facts.samples.items() if s[1] or s[2]}
    for (day, hour), (n, open_, waiting) in facts.samples.items():
        if day in busy_days and n:
            acc = per_hour[hour]
            acc[0], acc[1], acc[2] = acc[0] + n, acc[1] + open_, acc[2] + waiting
    rows: list[list[Value]] = [
        [f"{h:02d}:00", acc[1] / acc[0], acc[2] / acc[0]]
        for h, acc in sorted(per_hour.items())
        if acc[1] or acc[2]
    ]
    cols = [
        Column("hour", "Giờ", "Hour", "text"),
        Column("counters_open", "Quầy mở TB", "Counters open", "number"),
        Column("waiting", "Người chờ TB", "People waiting", "number"),
    ]
    return Table(
        "capacity",
        "Quầy mở so với người chờ",
        "Counters open against people waiting",
        "Cả trung tâm, không theo bộ lọc: trung bình các lần lấy mẫu mỗi 15 phút trong giờ đó, trên các "
        "ngày có hoạt động.",
        "The whole centre, whatever the filters: means of a look every 15 minutes within the hour, over "
        "the days with any activity.",
        cols,
        rows,
    )


def daily(tickets: Tickets, working: dict[date, bool]) -> Table:
    issued, served = tickets.tally.issued_by_day, tickets.tally.served_by_day
    waited = _waits_by(tickets, tickets.day)
    rows: list[list[Value]] = []
    for day in sorted(set(issued) | {d.isoformat() for d, w in working.items() if w}):
        w = waited.get(day, [])
        is_working = working.get(date.fromisoformat(day), False)
        rows.append(
            [
                day,
                "x" if is_working else "",
                issued[day],
                served[day],
                mean(w),
                percentile(w, 0.9),
            ]
        )
    cols = [
        Column("day", "Ngày", "Day", "text"),
        Column("working", "Ngày làm việc", "Working day", "text"),
        Column("issued", "Đã phát", "Issued"),
        Column("served", "Đã phục vụ", "Served"),
        Column("mean_wait", "Chờ TB (phút)", "Mean wait (min)", "minutes"),
        Column("p90_wait", "Chờ P90 (phút)", "P90 wait (min)", "minutes"),
    ]
    return Table(
        "daily",
        "Theo ngày",
        "By day",
        "Mỗi ngày làm việc của kỳ (kể cả ngày không có số) và mỗi ngày có phát số.",
        "Every working day of the period (also those without tickets) and every day with tickets.",
        cols,
        rows,
    )


def rule_versions(tickets: Tickets) -> Table:
    rows: list[list[Value]] = [list(v) for v in tickets.versions]
    cols = [
        Column("version", "Phiên bản quy định", "Rule version", "text"),
        Column("issued", "Đã phát", "Issued"),
        Column("first", "Từ ngày", "First day", "text"),
        Column("last", "Đến ngày", "Last day", "text"),
    ]
    return Table(
        "rules",
        "Phiên bản quy định",
        "Rule versions",
        "Mỗi số giữ phiên bản quy định có hiệu lực khi được phát.",
        "Each ticket keeps the rule version in force when it was issued.",
        cols,
        rows,
    )


def still_open(t: TicketFact) -> bool:
    return t.status in OPEN or t.status == CANCELLED
