"""Charts of a report, drawn with matplotlib (Agg, no display) to SVG for the page or PNG for the PDF.

``CHARTS`` names each chart with its caption; ``draw(report, name, fmt)`` returns the file's bytes.
They read only the report's tables, so a chart always agrees with the figures next to it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from queue_server.reports.tables import Report

CHARTS: dict[str, tuple[str, str]] = {
    "waits": ("Phân bố thời gian chờ", "Waiting time distribution (2-minute bins)"),
    "heatmap": ("Lượt lấy số theo thứ và giờ", "Arrivals by weekday and hour"),
    "daily": ("Diễn biến theo ngày", "Daily trend"),
    "satisfaction": ("Tỷ lệ hài lòng theo cán bộ", "Satisfaction per officer"),
    "late": ("Hồ sơ trễ hạn", "Late dossiers (days late)"),
}
_FONTS = ["Noto Sans", "DejaVu Sans"]
_BLUE, _RED = "#1d4e89", "#b3261e"


def draw(report: Report, name: str, fmt: str = "svg") -> bytes:
    """The chart ``name`` of ``report`` as SVG or PNG bytes."""
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    if name not in CHARTS or fmt not in ("svg", "png"):
        raise KeyError(f"no chart {name!r} as {fmt}")
    rcParams["font.family"] = _FONTS
    rcParams["svg.hashsalt"] = "motcua"
    fig = Figure(figsize=(7.5, 3.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    _DRAWERS[name](report, ax)
    ax.set_title(f"{CHARTS[name][0]} / {CHARTS[name][1]}", fontsize=10)
    out = io.BytesIO()
    fig.savefig(out, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return out.getvalue()


def _waits(report: Report, ax: Any) -> None:
    table = report.table("bins")
    labels = [str(v) for v in table.column("minutes")]
    ax.bar(range(len(labels)), [int(v or 0) for v in table.column("waits")], color=_BLUE)
    ax.set_xticks(range(0, len(labels), 3), labels[::3], fontsize=7)
    ax.set_xlabel("phút / minutes")
    ax.set_ylabel("lượt / tickets")


def _heatmap(report: Report, ax: Any) -> None:
    table = report.table("load")
    grid = [[int(v or 0) for v in row[1:]] for row in table.rows]
    image = ax.imshow(grid, aspect="auto", cmap="Blues")
    ax.set_yticks(range(len(table.rows)), [str(r[0]).split(" / ")[-1] for r in table.rows], fontsize=7)
    ax.set_xticks(range(len(table.columns) - 1), [c.en.split(":")[0] for c in table.columns[1:]], fontsize=7)
    ax.set_xlabel("giờ / hour")
    ax.figure.colorbar(image, ax=ax, shrink=0.8)


def _daily(report: Report, ax: Any) -> None:
    table = report.table("daily")
    days = [str(d)[5:] for d in table.column("day")]
    ax.plot(days, [int(v or 0) for v in table.column("issued")], color=_BLUE, label="đã phát / issued")
    ax.plot(days, [int(v or 0) for v in table.column("served")], color="#4b8b3b", label="đã phục vụ / served")
    twin = ax.twinx()
    waits = [None if v is None else float(v) / 60 for v in table.column("mean_wait")]
    twin.plot(days, waits, color=_RED, linestyle="--", label="chờ TB / mean wait")
    twin.set_ylabel("phút / min")
    step = max(1, len(days) // 12)
    ax.set_xticks(range(0, len(days), step), days[::step], fontsize=7)
    ax.legend(loc="upper left", fontsize=7)
    twin.legend(loc="upper right", fontsize=7)


def _satisfaction(report: Report, ax: Any) -> None:
    table = report.table("ratings_by_officer")
    names = [str(v) for v in table.column("officer")]
    shares = [0.0 if v is None else float(v) * 100 for v in table.column("satisfied_share")]
    ax.barh(range(len(names)), shares, color=_BLUE)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% hài lòng trở lên / % satisfied or better")
    if not names:
        ax.text(0.5, 0.5, "không có dữ liệu / no data", ha="center", transform=ax.transAxes)


def _late(report: Report, ax: Any) -> None:
    table = report.table("late_dossiers")
    rows = sorted(table.rows, key=lambda r: -int(r[5] or 0))[:20]
    ax.barh(range(len(rows)), [int(r[5] or 0) for r in rows], color=_RED)
    ax.set_yticks(range(len(rows)), [str(r[0]) for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("ngày trễ / days late")
    if not rows:
        ax.text(0.5, 0.5, "không có hồ sơ trễ / none late", ha="center", transform=ax.transAxes)


_DRAWERS: dict[str, Callable[[Report, Any], None]] = {
    "waits": _waits,
    "heatmap": _heatmap,
    "daily": _daily,
    "satisfaction": _satisfaction,
    "late": _late,
}
