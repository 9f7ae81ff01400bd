"""The incident and paper tables on SQLite and, with MOTCUA_TEST_POSTGRES, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_db_support import BACKENDS, at, database_url

from queue_server.db import Store
from queue_server.incidents import DeviceRecorder, IncidentChange, IncidentLog, PaperSaved


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with database_url(request.param, tmp_path) as url, Store.open(url) as opened:
        yield opened


def test_incidents_open_close_with_durations_and_paper_is_one_row_per_printer(store: Store) -> None:
    told: list[IncidentChange] = []
    log = IncidentLog(store)
    recorder = DeviceRecorder(log, told.append).start()
    try:
        recorder.put(IncidentChange("printer-k1", "paper_near_end", True, at(0)))
        recorder.put(IncidentChange("keypad-1", "offline", True, at(1)))
        recorder.put(IncidentChange("printer-k1", "paper_near_end", False, at(12, 30)))
        recorder.put(IncidentChange("printer-k1", "paper_out", False, at(13)))  # never opened: nothing
        for used in (100.0, 350.5):
            recorder.put(PaperSaved("printer-k1", at(12, 30), used, at(20)))
        assert recorder.barrier()
    finally:
        recorder.stop()
    assert [c.code for c in told] == ["paper_near_end", "offline", "paper_near_end", "paper_out"]
    assert log.open_codes() == {"keypad-1": {"offline"}}
    assert [(d, c) for d, c, _ in log.open_rows()] == [("keypad-1", "offline")]
    (closed,) = [i for i in log.recent() if i.ended_at is not None]
    assert (closed.device_id, closed.code, closed.duration_s) == ("printer-k1", "paper_near_end", 750.0)
    assert closed.ended_at is not None
    assert closed.ended_at - closed.started_at == timedelta(minutes=12, seconds=30)
    assert closed.text.startswith("Sắp hết giấy")
    assert [i.code for i in log.recent("keypad-1")] == ["offline"]
    assert log.papers() == {"printer-k1": (at(12, 30), 350.5)}
