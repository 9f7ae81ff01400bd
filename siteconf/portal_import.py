"""Read the national public-service portal's procedure catalogue export into ``[[kiosk.procedures]]``.

The portal (Cơ sở dữ liệu quốc gia về thủ tục hành chính) exports its list of procedures as XLSX or
CSV: a title block, then a header row and one row per procedure. Columns are found by their header,
in any order and with or without tone marks; the ones read are::

    Mã thủ tục | Tên thủ tục | Lĩnh vực | Cơ quan thực hiện | Thời hạn giải quyết | Phí, lệ phí
    | Thành phần hồ sơ | Nơi trả kết quả

(``Mã TTHC`` / ``Tên TTHC`` are accepted too; "STT", "Cấp thực hiện" and any other column are
ignored). Each procedure's field (lĩnh vực) picks the service it is queued for: a ``--map`` given by
the operator first, then the service or kiosk group whose name matches the field's. A row that cannot
be used (no code, no name, a code seen before, a field no service matches) is reported with its row
number and left out; the rest are written as TOML for the site file.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from siteconf.procedures import Procedure
from siteconf.spoken import fold

if TYPE_CHECKING:
    from siteconf.model import Site

COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("ma thu tuc", "ma tthc", "ma so thu tuc"),
    "name": ("ten thu tuc", "ten tthc"),
    "field": ("linh vuc",),
    "agency": ("co quan thuc hien",),
    "processing_time": ("thoi han giai quyet",),
    "fee": ("phi le phi", "le phi", "phi"),
    "documents": ("thanh phan ho so",),
    "results_at": ("noi tra ket qua",),
}
_HEADER_ROWS = 15  # the title block above the header is never longer
_DAYS = re.compile(r"(\d{1,3})\s*ngai")  # folded: "ngày" is "ngai"
_SAME_DAY = ("trong ngay", "ngay lam viec ke tiep", "ngay trong ngay")


class CatalogueImportError(ValueError):
    """An export that cannot be read at all (no header row, unreadable file)."""


@dataclass
class ImportResult:
    procedures: list[Procedure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "row 7: ...", one per row left out


def read_rows(path: Path) -> list[list[str]]:
    """The cells of an ``.xlsx`` or ``.csv`` export as text (CSV: UTF-8, comma or semicolon)."""
    suffix = path.suffix.lower()
    try:
        if suffix in {".xlsx", ".xlsm"}:
            return _xlsx_rows(path)
        if suffix == ".csv":
            text = path.read_text(encoding="utf-8-sig")
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
            return [list(row) for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise CatalogueImportError(f"{path}: cannot read the export: {err}") from err
    raise CatalogueImportError(f"{path}: the portal's export is .xlsx or .csv, not {suffix or 'no suffix'}")


def _xlsx_rows(path: Path) -> list[list[str]]:
    try:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError as err:
        raise CatalogueImportError(
            f"{path}: reading XLSX needs openpyxl (pip install 'motcua[server]'), or save the export as CSV"
        ) from err

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as err:
        raise CatalogueImportError(f"{path}: not a readable XLSX file ({type(err).__name__})") from err
    try:
        sheet = book.worksheets[0]
        return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _header(rows: list[list[str]]) -> tuple[int, dict[str, int]]:
    for number, row in enumerate(rows[:_HEADER_ROWS]):
        found: dict[str, int] = {}
        for col, cell in enumerate(row):
            key = fold(cell)
            for name, aliases in COLUMNS.items():
                if name not in found and key in {fold(a) for a in aliases}:
                    found[name] = col
        if {"code", "name", "field"} <= found.keys():
            return number, found
    raise CatalogueImportError(
        "no header row with the columns 'Mã thủ tục', 'Tên thủ tục' and 'Lĩnh vực' in the first"
        f" {_HEADER_ROWS} rows: is this the portal's catalogue export?"
    )


def service_for(field_name: str, site: Site, mapping: Mapping[str, str]) -> str | None:
    """The service a field is queued for: the operator's map, else a service or kiosk group whose
    (folded) name equals, contains or is contained in the field's."""
    key = fold(field_name)
    for given, code in mapping.items():
        if fold(given) == key:
            return code
    if not key:
        return None
    candidates = [(s.name, s.code) for s in site.services]
    candidates += [(s.name_en or "", s.code) for s in site.services]
    candidates += [(g.name, g.services[0]) for g in site.kiosk.groups if len(g.services) == 1]
    for name, code in candidates:
        folded = fold(name)
        if folded and (folded == key or key in folded or folded in key):
            return code
    return None


def processing_days(text: str) -> int | None:
    """``05 ngày làm việc`` → 5, ``Trong ngày`` → 0, anything else → ``None``."""
    key = fold(text)
    if any(key.startswith(fold(s)) for s in _SAME_DAY):
        return 0
    found = _DAYS.search(key)
    return int(found.group(1)) if found else None


def import_catalogue(
    rows: list[list[str]], site: Site, mapping: Mapping[str, str] | None = None
) -> ImportResult:
    """The procedures of an export's ``rows`` for ``site``; unusable rows are reported, not kept."""
    start, columns = _header(rows)
    result = ImportResult()
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        cells = {name: _cell(row, col, lines=name == "documents") for name, col in columns.items()}
        if not any(cells.values()):
            continue  # blank rows and the portal's empty trailer
        problem = _row_problem(cells, seen, number)
        service = service_for(cells["field"], site, mapping or {})
        if problem is None and service is None:
            problem = (
                f"field {cells['field']!r} matches no service of the site;"
                f" map it with --map '{cells['field']}=SERVICE'"
            )
        if problem is not None:
            result.problems.append(f"row {number}: {problem}")
            continue
        try:
            procedure = _procedure(cells, service or "")
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            result.problems.append(f"row {number}: {where}: {first['msg']}")
            continue
        seen[procedure.code] = number
        result.procedures.append(procedure)
    return result


def _cell(row: list[str], col: int, lines: bool = False) -> str:
    """The cell's text with its spaces tidied; its line breaks kept only where they separate items."""
    if col >= len(row) or not row[col]:
        return ""
    tidy = [" ".join(line.split()) for line in row[col].splitlines()]
    return "\n".join(t for t in tidy if t) if lines else " ".join(t for t in tidy if t)


def _row_problem(cells: Mapping[str, str], seen: Mapping[str, int], number: int) -> str | None:
    if not cells["code"]:
        return "no 'Mã thủ tục'"
    if not cells["name"]:
        return f"procedure {cells['code']} has no 'Tên thủ tục'"
    if cells["code"] in seen:
        return f"procedure {cells['code']} is already on row {seen[cells['code']]}"
    return None


def _procedure(cells: Mapping[str, str], service: str) -> Procedure:
    documents = [d.strip(" -•+") for d in re.split(r"\s*(?:;|\n|\s-\s|•|\+)\s*", cells.get("documents", ""))]
    return Procedure(
        code=cells["code"],
        name=cells["name"],
        service=service,
        agency=cells.get("agency", ""),
        processing_time=cells.get("processing_time", ""),
        days=processing_days(cells.get("processing_time", "")),
        fee=cells.get("fee", ""),
        documents=[d for d in documents if d],
        results_at=cells.get("results_at", ""),
    )


def to_toml(procedures: Iterable[Procedure]) -> str:
    """``[[kiosk.procedures]]`` tables for the site file (strings quoted as TOML basic strings)."""
    blocks = []
    for p in procedures:
        lines = ["[[kiosk.procedures]]"]
        for key, value in p.model_dump(exclude_defaults=True).items():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
