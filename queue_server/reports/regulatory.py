"""The regulatory figures: ratings, the QĐ 766 satisfaction rate, dossier timeliness, TT 01/2018 scores.

- A rating is mapped to three classes: on the 3-level scale 2/1/0 are rất hài lòng / hài lòng / không
  hài lòng; the 5-level scale (4..0) maps as the site file's ``reports.five_level`` says.
- QĐ 766/QĐ-TTg satisfaction rate = (dossiers - dossiers rated "không hài lòng") ÷ dossiers × 100 %,
  over the dossiers received in the period; a dossier is rated through the ticket it was received on.
- A dossier is **resolved** at its first status ``ready``, ``returned`` or ``rejected``; **early** when
  that is on a date before its appointment date, **on time** when by the appointment, **late** after it;
  an unresolved dossier whose appointment has passed is **overdue** (late, still open).
- TT 01/2018 per dossier (2/1/0): index 1 early/on time/late; index 3 no/one/several supplement requests
  (each one a visit more); index 7 the attitude rating (very satisfied/satisfied/unsatisfied). Indices 5,
  8 and 9 are scored per agency and period by the manager (site file ``reports.agency_scores``). An
  officer's score is the sum of the per-index means; where not every index has data, it is scaled to
  18 (score × 18 ÷ the maximum of the indices that have data) before the province's bands classify it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from queue_server.reports.columns import Tickets
from queue_server.reports.facts import DossierFact
from queue_server.reports.localtime import LocalClock
from queue_server.reports.tables import Column, Table, Value, mean, share
from siteconf.reports import MAX_SCORE, AgencyScores, ReportsConf

CLASSES = ("very_satisfied", "satisfied", "unsatisfied")
CLASS_VI = {"very_satisfied": "Rất hài lòng", "satisfied": "Hài lòng", "unsatisfied": "Không hài lòng"}
LEVELS = {
    3: ("Không hài lòng", "Hài lòng", "Rất hài lòng"),
    5: ("Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"),
}
UNCLASSIFIED = "Không xếp loại / unclassified"


def satisfaction(score: int, scale: int, conf: ReportsConf) -> str:
    """The class of a rating of ``score`` on a ``scale``-level tablet (0 worst)."""
    if scale == 5 and 0 <= score < 5:
        return conf.five_level[score]
    if score >= scale - 1:
        return "very_satisfied"
    return "unsatisfied" if score <= 0 else "satisfied"


def classify(score: float, conf: ReportsConf) -> str:
    for band in conf.bands:
        if band.holds(score):
            return band.name
    return UNCLASSIFIED


def _rating_cols(first: Column) -> list[Column]:
    return [
        first,
        Column("rated", "Lượt đánh giá", "Ratings"),
        Column("very_satisfied", "Rất hài lòng", "Very satisfied"),
        Column("satisfied", "Hài lòng", "Satisfied"),
        Column("unsatisfied", "Không hài lòng", "Unsatisfied"),
        Column("satisfied_share", "Tỷ lệ hài lòng", "Satisfied or better", "percent"),
    ]


Groups = dict[str, dict[str | int, Counter[str]]]
_GROUPS = (
    ("officer", "Cán bộ", "Officer"),
    ("counter", "Quầy", "Counter"),
    ("service", "Lĩnh vực", "Service"),
)
_LEVEL_COLS = [
    Column("scale", "Thang", "Scale", "id"),
    Column("score", "Điểm", "Score"),
    Column("level", "Mức", "Level", "text"),
    Column("count", "Lượt", "Count"),
    Column("share", "Tỷ lệ", "Share", "percent"),
    Column("class", "Tính là", "Counts as", "text"),
]


def ratings(tickets: Tickets, conf: ReportsConf, names: dict[str, str] | None) -> list[Table]:
    """Per level, then per officer, counter and service."""
    levels: Counter[tuple[int, int]] = Counter()
    groups: Groups = {group: defaultdict(Counter) for group, _, _ in _GROUPS}
    rated = tickets.ratings
    by_kind = Counter(zip(rated.values(), map(tickets.service.__getitem__, rated), strict=True))
    for ((score, scale, counter, officer), service), n in by_kind.items():
        levels[(scale, score)] += n
        kind = satisfaction(score, scale, conf)
        counter_key = "—" if counter is None else int(counter)
        for group, key in (("officer", officer or "—"), ("counter", counter_key), ("service", service)):
            groups[group][key][kind] += n
    served = tickets.counts["served"]
    tables = [_level_table(levels, served, conf)]
    tables += [_group_table(groups[group], group, vi, en, names) for group, vi, en in _GROUPS]
    return tables


def _level_table(levels: Counter[tuple[int, int]], served: int, conf: ReportsConf) -> Table:
    per_scale = Counter[int]()
    for (scale, _), n in levels.items():
        per_scale[scale] += n
    rows: list[list[Value]] = []
    for (scale, score), n in sorted(levels.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        names = LEVELS.get(scale, ())
        label = names[score] if score < len(names) else f"{score}/{scale - 1}"
        kind = CLASS_VI[satisfaction(score, scale, conf)]
        rows.append([scale, score, label, n, share(n, per_scale[scale]), kind])
    rated = sum(levels.values())
    rows.append(
        [
            None,
            None,
            "Tỷ lệ số đã phục vụ được đánh giá / share of served rated",
            rated,
            share(rated, served),
            "",
        ]
    )
    return Table(
        "ratings",
        "Đánh giá mức độ hài lòng",
        "Satisfaction ratings",
        "Mỗi số một lượt đánh giá, gắn với quầy và cán bộ gọi số. Tỷ lệ mỗi mức tính trên số lượt cùng "
        "thang; dòng cuối: số lượt đánh giá ÷ số đã phục vụ.",
        "One rating per ticket, tied to the counter and officer who called it. Each level's share is of "
        "ratings on the same scale; the last row: ratings ÷ tickets served.",
        _LEVEL_COLS,
        rows,
    )


def _group_table(
    counts: dict[str | int, Counter[str]], group: str, vi: str, en: str, names: dict[str, str] | None
) -> Table:
    rows: list[list[Value]] = []
    for key in sorted(counts, key=_numbers_first):
        c = counts[key]
        n = sum(c.values())
        label = (
            key if group != "officer" or names is None else f"{key} — {names.get(str(key), '')}".rstrip(" —")
        )
        rows.append(
            [label, n, c["very_satisfied"], c["satisfied"], c["unsatisfied"], share(n - c["unsatisfied"], n)]
        )
    return Table(
        f"ratings_by_{group}",
        f"Đánh giá theo {vi.lower()}",
        f"Ratings by {en.lower()}",
        "Tỷ lệ hài lòng = (lượt đánh giá - không hài lòng) ÷ lượt đánh giá.",
        "Satisfied or better = (ratings - unsatisfied) ÷ ratings.",
        _rating_cols(Column(group, vi, en, "id" if group == "counter" else "text")),
        rows,
    )


def _numbers_first(key: str | int) -> tuple[int, int, str]:
    """Counters in numeric order (2 before 11), then any named key such as "—"."""
    return (0, key, "") if isinstance(key, int) else (1, 0, key)


@dataclass
class DossierScore:
    dossier: DossierFact
    outcome: str  # early, on_time, late, overdue, open
    officer: str | None
    i1: int | None
    i3: int | None
    i7: int | None


_I1 = {"early": 2, "on_time": 1, "late": 0, "overdue": 0}
_I7 = {"very_satisfied": 2, "satisfied": 1, "unsatisfied": 0}


def score_dossiers(
    dossiers: list[DossierFact], tickets: Tickets, conf: ReportsConf, as_of: float, tz: ZoneInfo
) -> list[DossierScore]:
    """Each dossier's outcome and TT 01/2018 indices 1, 3 and 7 (None where there is no data), through
    the ticket it was received on (``tickets``: at least those, whatever the filters)."""
    out = []
    ticket_of, last, rated = tickets.ticket_of, tickets.last_officer, tickets.ratings
    clock = LocalClock(tz)
    for d in dossiers:
        outcome = _outcome(d, as_of, clock)
        i = ticket_of(d.site, d.day, d.ticket or "")
        officer = None if i is None else last.get(i)
        rating = None if i is None else rated.get(i)
        i1 = _I1.get(outcome)
        i3 = None if d.resolved_ts is None else (2 if d.supplements == 0 else 1 if d.supplements == 1 else 0)
        i7 = None
        if rating is not None:
            kind = satisfaction(rating[0], rating[1], conf)
            i7 = _I7[kind]
        out.append(DossierScore(d, outcome, officer, i1, i3, i7))
    return out


def _outcome(d: DossierFact, as_of: float, clock: LocalClock) -> str:
    if d.resolved_ts is None:
        return "overdue" if as_of > d.due_ts else "open"
    if d.resolved_ts > d.due_ts:
        return "late"
    return "early" if clock.date(d.resolved_ts) < clock.date(d.due_ts) else "on_time"


def dossier_tables(scores: list[DossierScore], tz: ZoneInfo, as_of: float) -> list[Table]:
    outcomes = Counter(s.outcome for s in scores)
    received = len(scores)
    unsatisfied = sum(1 for s in scores if s.i7 == 0)
    rate = None if received == 0 else (received - unsatisfied) / received
    rows: list[list[Value]] = [
        ["received", received, "Tiếp nhận / dossiers received in the period (by date of receipt)"],
        ["early", outcomes["early"], "Trước hạn / resolved on a date before the appointment date"],
        ["on_time", outcomes["on_time"], "Đúng hạn / resolved on the appointment date, by its time"],
        ["late", outcomes["late"], "Quá hạn / resolved after the appointment"],
        ["overdue", outcomes["overdue"], "Quá hạn, chưa giải quyết / not resolved, appointment passed"],
        ["open", outcomes["open"], "Đang giải quyết, chưa đến hạn / not resolved, not yet due"],
        [
            "rated_unsatisfied",
            unsatisfied,
            "Bị đánh giá không hài lòng / rated unsatisfied through their ticket",
        ],
        [
            "qd766_rate",
            rate,
            "Tỷ lệ hài lòng QĐ 766 = (hồ sơ - hồ sơ không hài lòng) ÷ hồ sơ / "
            "(dossiers - dossiers rated unsatisfied) ÷ dossiers",
        ],
    ]
    cols = [
        Column("measure", "Chỉ tiêu", "Measure", "text"),
        Column("value", "Giá trị", "Value", "number"),
        Column("definition", "Định nghĩa", "Definition", "text"),
    ]
    summary = Table(
        "dossiers",
        "Hồ sơ",
        "Dossiers",
        "Giải quyết = trạng thái đầu tiên 'có kết quả', 'đã trả' hoặc 'từ chối'.",
        "Resolved = the first status ready, returned or rejected.",
        cols,
        rows,
        row_kinds={"qd766_rate": "percent"},
    )
    return [summary, _late_table(scores, tz, as_of)]


def _late_table(scores: list[DossierScore], tz: ZoneInfo, as_of: float) -> Table:
    """The late and overdue dossiers, by appointment, with how late (for the apology letter, form 04)."""
    late_rows: list[list[Value]] = []
    late = [s for s in scores if s.outcome in ("late", "overdue")]
    local = LocalClock(tz).minutes
    for s in sorted(late, key=lambda s: s.dossier.due_ts):
        d = s.dossier
        end = d.resolved_ts if d.resolved_ts is not None else as_of
        late_rows.append(
            [
                d.code,
                d.procedure,
                local(d.received_ts),
                local(d.due_ts),
                "" if d.resolved_ts is None else local(d.resolved_ts),
                math.ceil((end - d.due_ts) / 86400),
            ]
        )
    late_cols = [
        Column("code", "Mã hồ sơ", "Dossier", "text"),
        Column("procedure", "Thủ tục", "Procedure", "text"),
        Column("received", "Tiếp nhận", "Received", "text"),
        Column("due", "Hẹn trả", "Appointment", "text"),
        Column("resolved", "Giải quyết", "Resolved", "text"),
        Column("days_late", "Số ngày trễ", "Days late"),
    ]
    return Table(
        "late_dossiers",
        "Hồ sơ trễ hạn (cần phiếu xin lỗi)",
        "Late dossiers (apology letter)",
        "Hồ sơ giải quyết sau hẹn hoặc quá hẹn chưa giải quyết; số ngày trễ làm tròn lên (ngày lịch).",
        "Resolved after the appointment, or not yet resolved past it; days late rounded up (calendar days).",
        late_cols,
        late_rows,
    )


def tt01(
    scores: list[DossierScore], agency: AgencyScores, conf: ReportsConf, names: dict[str, str] | None
) -> Table:
    groups: dict[str, list[DossierScore]] = defaultdict(list)
    for s in scores:
        groups[s.officer or "—"].append(s)
    agency_values = [agency.i5, agency.i8, agency.i9]
    rows: list[list[Value]] = []
    for officer in sorted(groups):
        group = groups[officer]
        means = [
            mean([float(v) for s in group if (v := getattr(s, i)) is not None]) for i in ("i1", "i3", "i7")
        ]
        parts = [m for m in means if m is not None] + [float(a) for a in agency_values if a is not None]
        total = sum(parts) if parts else None
        scaled = None if not parts or total is None else total * MAX_SCORE / (2 * len(parts))
        label = officer if names is None else f"{officer} — {names.get(officer, '')}".rstrip(" —")
        rows.append(
            [
                label,
                len(group),
                *means,
                *agency_values,
                total,
                scaled,
                "" if scaled is None else classify(scaled, conf),
            ]
        )
    cols = [
        Column("officer", "Cán bộ", "Officer", "text"),
        Column("dossiers", "Hồ sơ", "Dossiers"),
        Column("i1", "Chỉ số 1 (thời gian)", "Index 1 (time)", "number"),
        Column("i3", "Chỉ số 3 (số lần đi lại)", "Index 3 (visits)", "number"),
        Column("i7", "Chỉ số 7 (thái độ)", "Index 7 (attitude)", "number"),
        Column("i5", "Chỉ số 5", "Index 5"),
        Column("i8", "Chỉ số 8", "Index 8"),
        Column("i9", "Chỉ số 9", "Index 9"),
        Column("total", "Tổng điểm", "Score", "number"),
        Column("of18", "Quy về 18", "Out of 18", "number"),
        Column("band", "Xếp loại", "Band", "text"),
    ]
    return Table(
        "tt01",
        "Đánh giá theo TT 01/2018",
        "TT 01/2018 scores",
        "Chỉ số 1, 3, 7 chấm theo từng hồ sơ (2/1/0), lấy trung bình theo cán bộ; chỉ số 5, 8, 9 do lãnh đạo "
        "chấm cho cơ quan. Tổng quy về thang 18 khi thiếu chỉ số rồi xếp loại theo khung của tỉnh; chỉ số "
        "2, 4, 6 chưa có dữ liệu.",
        "Indices 1, 3, 7 scored per dossier (2/1/0) and averaged per officer; "
        "5, 8, 9 scored per agency by the manager. The sum is scaled to 18 where indices are missing, "
        "then classified by the province's bands; indices 2, 4, 6 have no data here.",
        cols,
        rows,
    )
