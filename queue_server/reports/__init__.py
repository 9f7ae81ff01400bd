"""Reports for a centre's managers, read from the event log on their own connection.

Reading API (stable; the province hub reuses it):

- ``ReportSource.open(url, EventLog(table, site_column), site=...)``: a read-only view of a store;
  ``EventLog()`` is a centre's ``events`` table, ``EventLog("…", site_column="site")`` a hub's table of
  many centres' events, ``site`` picks one of them.
- ``Period.parse(kind, value)``: day, week, month, quarter, year or custom range of business days.
- ``ReportSettings.from_site(site)``: time zone, ``day_starts``, calendar and the ``[reports]`` table.
- ``build_report(source, settings, period, Filters(service=, counter=, officer=))`` → ``Report``: named
  ``Table`` objects whose columns and definitions every export renders (``export``, ``pdf``, ``http``).

Modules: ``source`` (SQL), ``facts`` (one pass over events), ``figures``, ``staff`` and ``regulatory``
(tables), ``export`` (text, CSV, XLSX), ``charts`` (matplotlib), ``pdf`` (fpdf2), ``http`` (the /reports
page), ``cli`` (``motcua report``).
"""

from __future__ import annotations

from queue_server.reports.build import Filters, ReportSettings, build_report
from queue_server.reports.errors import ReportError
from queue_server.reports.period import Period
from queue_server.reports.source import EventLog, ReportSource
from queue_server.reports.tables import Report, Table

__all__ = [
    "EventLog",
    "Filters",
    "Period",
    "Report",
    "ReportError",
    "ReportSettings",
    "ReportSource",
    "Table",
    "build_report",
]
