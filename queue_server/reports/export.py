"""A report as a text table (terminal), CSV and XLSX (openpyxl: one sheet per table, number formats).

CSV is one file of sections: a ``# key: title`` line, a ``# definition`` line, the header, the rows, a
blank line. Durations are minutes (or hours) as numbers, shares are fractions (0.85), so a spreadsheet
computes with them; the XLSX shows the same numbers formatted (``0.0`` minutes, ``0.0%`` shares).
"""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

from queue_server.reports.errors import ReportError
from queue_server.reports.tables import Report, Table, export_value, show

_XLSX_FORMATS = {
    "minutes": "0.0",
    "hours": "0.0",
    "percent": "0.0%",
    "number": "0.00",
    "int": "#,##0",
    "id": "0",
}


def _head(report: Report) -> list[str]:
    filters = ", ".join(f"{k}={v}" for k, v in report.filters.items()) or "—"
    return [
        f"{report.site_name} ({report.site})",
        f"Báo cáo / report {report.period}: {report.first_day} .. {report.last_day}",
        f"Lọc / filters: {filters}",
        f"Lập lúc / made at {report.generated_at}",
        *report.warnings,
    ]


def text_table(table: Table) -> str:
    header = [c.en for c in table.columns]
    cells = [[show(v, k) for v, k in zip(row, table.kinds(row), strict=True)] for row in table.rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    widths = [min(w, 60) for w in widths]
    lines = [f"== {table.vi} / {table.en}", f"   {table.definition_en}"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in cells:
        lines.append("  ".join(v[:60].ljust(w) for v, w in zip(r, widths, strict=True)))
    if not cells:
        lines.append("(không có dữ liệu / no data)")
    return "\n".join(lines)


def text_tables(report: Report) -> str:
    return "\n\n".join(["\n".join(_head(report))] + [text_table(t) for t in report.tables]) + "\n"


def csv_text(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for line in _head(report):
        writer.writerow([f"# {line}"])
    writer.writerow([])
    for table in report.tables:
        writer.writerow([f"# {table.key}: {table.vi} / {table.en}"])
        writer.writerow([f"# {table.definition_vi} / {table.definition_en}"])
        writer.writerow([f"{c.vi} / {c.en}" for c in table.columns])
        for row in table.rows:
            writer.writerow([export_value(v, k) for v, k in zip(row, table.kinds(row), strict=True)])
        writer.writerow([])
    return out.getvalue()


def xlsx_bytes(report: Report) -> bytes:
    """An XLSX workbook: a cover sheet, then one sheet per table with its definition above it."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Báo cáo"
    for line in _head(report):
        cover.append([line])
    cover["A1"].font = Font(bold=True, size=14)
    for table in report.tables:
        sheet = book.create_sheet(table.key[:31])
        sheet.append([f"{table.vi} / {table.en}"])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([f"{table.definition_vi}"])
        sheet.append([f"{table.definition_en}"])
        sheet.append([f"{c.vi} / {c.en}" for c in table.columns])
        for cell in sheet[4]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.rows:
            kinds = table.kinds(row)
            sheet.append([export_value(v, k) for v, k in zip(row, kinds, strict=True)])
            for cell, kind in zip(sheet[sheet.max_row], kinds, strict=True):
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    cell.number_format = _xlsx_format(kind, cell.value)
        for i, column in enumerate(table.columns, start=1):
            letter = sheet.cell(row=4, column=i).column_letter
            sheet.column_dimensions[letter].width = 14 if column.kind != "text" else 28
        sheet.freeze_panes = "A5"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_format(kind: str, value: float) -> str:
    """A cell's number format: counts whole and thousands-separated, shares as percentages."""
    if kind == "number" and isinstance(value, int):
        return _XLSX_FORMATS["int"]
    return _XLSX_FORMATS.get(kind, "General")


def write_report(report: Report, fmt: str, out: Path | None) -> None:
    """``report`` as ``fmt`` (table, csv, xlsx or pdf) into ``out``, or to standard output.

    A CSV file starts with a UTF-8 byte order mark, as the page's download does: Excel shows Vietnamese
    letters right only with it. CSV on standard output has none, so that it pipes into other tools.
    """
    if fmt == "pdf":
        from queue_server.reports.pdf import pdf_bytes

        data = pdf_bytes(report)
    elif fmt == "xlsx":
        data = xlsx_bytes(report)
    elif out is None:
        sys.stdout.write(csv_text(report) if fmt == "csv" else text_tables(report))
        return
    elif fmt == "csv":
        data = ("\ufeff" + csv_text(report)).encode("utf-8")
    else:
        data = text_tables(report).encode("utf-8")
    if out is None:
        raise ReportError(f"a {fmt} report needs a file to be written to")
    write_file(out, data)


def check_out(out: Path) -> None:
    """Refuse at once a path that cannot take a report: a folder, or a file in a missing folder."""
    if out.is_dir():
        raise ReportError(f"cannot write the report to {out}: it is a folder; give a file name")
    if not out.parent.is_dir():
        raise ReportError(f"cannot write the report to {out}: there is no folder {out.parent}")


def write_file(out: Path, data: bytes) -> None:
    """``data`` into ``out`` whole or not at all: a regular file is written beside it under a temporary
    name and then renamed over it; a device (``/dev/stdout``) is written in place."""
    check_out(out)
    try:
        if out.exists() and not out.is_file():
            with out.open("wb") as device:
                device.write(data)
            return
        part = out.with_name(f".{out.name}.{os.getpid()}.part")
        try:
            with part.open("xb") as file:
                file.write(data)
            os.replace(part, out)
        finally:
            part.unlink(missing_ok=True)
    except OSError as err:
        raise ReportError(f"cannot write the report to {out}: {err.strerror or err}") from None
