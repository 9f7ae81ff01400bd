"""The shape of a report: named tables of typed columns, each with its definition in both languages.

Every export (text table, CSV, XLSX, PDF, the page) renders these and nothing else, so a figure has
the same value and the same definition wherever it is read.

Column kinds: ``text``, ``int`` (a count), ``id`` (a whole number that names something: a counter, a
rating scale), ``minutes`` (a duration held in seconds, shown in minutes), ``hours`` (seconds, shown
in hours), ``percent`` (a fraction 0..1), ``number`` (two decimals; a whole number shown whole). A
summary table whose value column holds different measures names the kind of some rows in
``row_kinds`` (by the row's first cell), e.g. a rate among counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

Value = str | int | float | None


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    kind: str = "int"


@dataclass
class Table:
    key: str
    vi: str
    en: str
    definition_vi: str
    definition_en: str
    columns: list[Column]
    rows: list[list[Value]] = field(default_factory=list)
    row_kinds: dict[str, str] = field(default_factory=dict)

    def kinds(self, row: list[Value]) -> list[str]:
        """The kind of each cell of ``row``: its column's, or for a ``number`` column its row's own."""
        own = self.row_kinds.get(str(row[0])) if row else None
        return [own if own and c.kind == "number" else c.kind for c in self.columns]

    def as_dicts(self) -> list[dict[str, Value]]:
        return [dict(zip((c.key for c in self.columns), row, strict=True)) for row in self.rows]

    def column(self, key: str) -> list[Value]:
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


@dataclass
class Report:
    site: str
    site_name: str
    period: str
    first_day: str
    last_day: str
    generated_at: str
    filters: dict[str, str]
    tables: list[Table] = field(default_factory=list)
    charts: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def table(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    def value(self, table: str, row_key: str, column: str = "value") -> Value:
        """The value in the row whose first cell is ``row_key`` (for summary-like tables)."""
        t = self.table(table)
        index = [c.key for c in t.columns].index(column)
        for row in t.rows:
            if row[0] == row_key:
                return row[index]
        raise KeyError(f"{table}: no row {row_key!r}")


def show(value: Value, kind: str) -> str:
    """A cell as people read it (minutes with one decimal, percentages, thousands unseparated)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "minutes":
        return f"{float(value) / 60:.1f}"
    if kind == "hours":
        return f"{float(value) / 3600:.1f}"
    if kind == "percent":
        return f"{float(value) * 100:.1f}%"
    if kind == "number":
        return str(value) if isinstance(value, int) else f"{float(value):.2f}"
    if kind == "int":
        return str(int(value))
    return str(value)


def export_value(value: Value, kind: str) -> Value:
    """A cell for a spreadsheet: durations in minutes/hours as numbers, fractions kept as fractions."""
    if value is None:
        return None
    if kind == "minutes":
        return round(float(value) / 60, 2)
    if kind == "hours":
        return round(float(value) / 3600, 2)
    return value


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``q`` of the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def mean(values: list[float]) -> float | None:
    return None if not values else sum(values) / len(values)
