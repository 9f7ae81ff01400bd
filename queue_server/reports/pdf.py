"""A report as an A4 PDF a manager can hand on: the centre's header, the charts, every table.

fpdf2 embeds and subsets Noto Sans (or DejaVu Sans) so every Vietnamese letter shows in any viewer;
charts are matplotlib PNGs (``charts``). Tables too wide for the page are split into column groups.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any

from queue_server.reports.charts import CHARTS, draw
from queue_server.reports.errors import ReportError
from queue_server.reports.tables import Report, Table, show

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
MARGIN = 12.0
WIDTH = 210.0 - 2 * MARGIN
MAX_COLUMNS = 9


@functools.cache
def _font(bold: bool) -> str:
    names = (
        ("NotoSans-Bold.ttf", "DejaVuSans-Bold.ttf") if bold else ("NotoSans-Regular.ttf", "DejaVuSans.ttf")
    )
    for name in names:
        for root in FONT_DIRS:
            found = sorted(root.rglob(name)) if root.is_dir() else []
            if found:
                return str(found[0])
    raise ReportError(f"no Vietnamese font ({', '.join(names)}): install fonts-noto-core")


def pdf_bytes(report: Report) -> bytes:
    """The whole report as PDF bytes."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.add_font("Report", "", _font(False))
    pdf.add_font("Report", "B", _font(True))
    pdf.set_title(f"Báo cáo {report.site_name} {report.period}")
    pdf.set_creator("motcua")
    pdf.add_page()
    _header(pdf, report)
    for name in ("waits", "heatmap"):
        _chart(pdf, report, name)
    for table in report.tables:
        _table(pdf, table)
    for name in ("daily", "satisfaction", "late"):
        _chart(pdf, report, name)
    return bytes(pdf.output())


def _header(pdf: Any, report: Report) -> None:
    pdf.set_font("Report", "B", 14)
    pdf.multi_cell(0, 7, report.site_name.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Report", "B", 12)
    pdf.multi_cell(
        0, 6, "BÁO CÁO HOẠT ĐỘNG TIẾP NHẬN VÀ TRẢ KẾT QUẢ", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Report", "", 9)
    filters = ", ".join(f"{k}={v}" for k, v in report.filters.items()) or "không / none"
    lines = [
        f"Kỳ báo cáo / period: {report.period} ({report.first_day} – {report.last_day})",
        f"Lọc / filters: {filters}. Lập lúc / made at: {report.generated_at}",
        *report.warnings,
    ]
    for line in lines:
        pdf.multi_cell(0, 4.5, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _chart(pdf: Any, report: Report, name: str) -> None:
    png = draw(report, name, "png")
    if pdf.get_y() + 80 > pdf.h - MARGIN:
        pdf.add_page()
    pdf.image(io.BytesIO(png), w=WIDTH)
    pdf.set_font("Report", "", 8)
    pdf.multi_cell(0, 4, f"{CHARTS[name][0]} / {CHARTS[name][1]}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _table(pdf: Any, table: Table) -> None:
    if pdf.get_y() + 30 > pdf.h - MARGIN:
        pdf.add_page()
    pdf.set_font("Report", "B", 10)
    pdf.multi_cell(0, 5, f"{table.vi} / {table.en}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Report", "", 7)
    pdf.multi_cell(0, 3.5, f"{table.definition_vi} — {table.definition_en}", new_x="LMARGIN", new_y="NEXT")
    first, rest = table.columns[:1], table.columns[1:]
    for start in range(0, max(1, len(rest)), MAX_COLUMNS - 1):
        group = first + rest[start : start + MAX_COLUMNS - 1]
        index = [table.columns.index(c) for c in group]
        _grid(
            pdf,
            [f"{c.vi}\n{c.en}" for c in group],
            [[show(r[i], table.kinds(r)[i]) for i in index] for r in table.rows],
        )
    pdf.ln(3)


def _grid(pdf: Any, header: list[str], rows: list[list[str]]) -> None:
    from fpdf.fonts import FontFace

    with pdf.table(
        col_widths=[2.2] + [1.0] * (len(header) - 1) if len(header) > 2 else None,
        text_align="LEFT",
        line_height=3.6,
        first_row_as_headings=True,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 232, 240)),
    ) as grid:
        for cells in (
            [header, *rows] if rows else [header, ["không có dữ liệu / no data"] + [""] * (len(header) - 1)]
        ):
            row = grid.row()
            for cell in cells:
                row.cell(cell)
