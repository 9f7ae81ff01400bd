"""The store on a real SQLite file and, when MOTCUA_TEST_POSTGRES is set, a real PostgreSQL schema."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_db_support import BACKENDS, DAY, POSTGRES_DSN, at, database_url, raw, ticket_row

from queue_server import db
from queue_server.db import Store, StoreConflictError, StoredEvent, StoreError
from queue_server.migrations import head_revision

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as value:
        yield value


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with Store.open(url) as opened:
        yield opened


def spec_hash(prev: str, event: StoredEvent) -> str:
    """The hash as docs/queue-server.md defines it, computed here independently of the store."""
    fields = [event.seq, event.at.isoformat(), event.type, event.data, event.request_id]
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- schema and migrations -------------------------------------------------------------------------


def test_open_migrates_an_empty_database_and_reopening_changes_nothing(url: str) -> None:
    assert table_names(url) == set()
    Store.open(url).close()
    tables = {
        "events",
        "tickets",
        "counters",
        "ratings",
        "requests",
        "snapshots",
        "report_rows",
        "outbox",
        "alembic_version",
    }
    tables |= {"officers", "api_keys"}  # 0005_officers
    tables |= {"device_incidents", "printer_paper"}  # 0006_device_incidents
    tables |= {"report_tickets", "report_ticket_marks", "report_time_steps"}  # 0008_report_tickets
    assert table_names(url) == tables
    assert raw(url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    with Store.open(url) as store, store.transaction() as tx:
        tx.append("opened", {}, at())
    with Store.open(url) as store:
        assert store.head()[0] == 1
    assert raw(url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert table_names(url) == tables


def test_a_database_from_a_newer_schema_is_refused(url: str) -> None:
    Store.open(url).close()
    raw(url, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match=r"schema revision 9999, newer than this motcua knows"):
        Store.open(url)


def test_without_migrate_an_unmigrated_database_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match=r"no motcua schema.*motcua db upgrade"):
        Store.open(url, migrate=False)
    assert "events" not in table_names(url)


def test_sqlite_runs_in_wal_with_full_sync_by_default(tmp_path: Path) -> None:
    def pragmas(url: str) -> tuple[str, int]:
        with Store.open(url) as store, store._engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        return str(mode), int(sync or -1)

    path = tmp_path / "q.db"
    assert pragmas(f"sqlite:///{path}") == ("wal", 2)
    assert pragmas(f"sqlite:///{path}?synchronous=normal") == ("wal", 1)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", r"is not a URL: use sqlite:///"),
        ("mysql://x@localhost/db", r"'mysql' is not supported"),
        ("postgresql+psycopg2://x@localhost/db", r"use the psycopg 3 driver"),
        ("sqlite://", r"in-memory SQLite database"),
        ("sqlite:///x.db?synchronous=sometimes", r"synchronous must be one of full, normal, extra"),
        ("sqlite:///x.db?busy_timeout=soon", r"busy_timeout must be milliseconds"),
    ],
)
def test_bad_urls_are_named(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store.open(url)


def test_an_unreachable_postgres_is_named() -> None:
    url = "postgresql+psycopg://motcua:secret@127.0.0.1:1/nowhere"
    with pytest.raises(StoreError, match=r"cannot open database postgresql\+psycopg://motcua:\*\*\*@") as err:
        Store.open(url)
    assert "secret" not in str(err.value)


def test_a_missing_or_foreign_sqlite_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"the file .*absent.db does not exist"):
        Store.open(f"sqlite:///{tmp_path / 'absent.db'}", create=False)
    assert not (tmp_path / "absent.db").exists()
    garbage = tmp_path / "notes.db"
    garbage.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(StoreError, match=r"cannot open database .*notes.db: file is not a database"):
        Store.open(f"sqlite:///{garbage}")
    assert garbage.read_bytes().startswith(b"this is a text file")


def test_a_new_sqlite_file_gets_its_folder(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'var' / 'deep' / 'q.db'}") as store:
        assert store.head() == (0, "0" * 64)


# --- the event chain -------------------------------------------------------------------------------


def test_appends_chain_hashes_as_documented(store: Store) -> None:
    with store.transaction() as tx:
        first = tx.append("ticket_issued", {"ticket": f"{DAY}/A/1", "dịch_vụ": "Hộ tịch"}, at(1), "req-1")
        second = tx.append("counter_opened", {"counter": 3, "weights": [1.5, 2]}, at(2))
    with store.transaction() as tx:
        third = tx.append("ticket_called", {"ticket": f"{DAY}/A/1", "counter": 3}, at(3), "req-2")
    assert (first, second, third) == (1, 2, 3)
    events = list(store.events())
    assert [e.seq for e in events] == [1, 2, 3]
    prev = "0" * 64
    for event in events:
        assert event.prev_hash == prev
        assert event.hash == spec_hash(prev, event)
        prev = event.hash
    assert events[0].data == {"ticket": f"{DAY}/A/1", "dịch_vụ": "Hộ tịch"}
    assert events[0].at == at(1) and events[0].request_id == "req-1"
    assert events[1].request_id is None and events[1].data["weights"] == [1.5, 2]
    assert [e.seq for e in store.events(after_seq=2)] == [3]
    assert store.head() == (3, events[2].hash)
    report = store.verify()
    assert (report.ok, report.events_checked, report.first_bad_seq, report.problem) == (True, 3, None, None)


def test_event_data_is_stored_as_canonical_utf8_json(url: str, store: Store) -> None:
    with store.transaction() as tx:
        tx.append("t", {"z": 1, "a": "Đà Nẵng"}, at())
    assert raw(url, "SELECT data FROM events") == [('{"a":"Đà Nẵng","z":1}',)]


def test_events_are_read_a_page_at_a_time(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "_PAGE", 3)
    with store.transaction() as tx:
        for i in range(10):
            tx.append("tick", {"i": i}, at(0, i))
    assert [e.data["i"] for e in store.events()] == list(range(10))
    assert store.verify().events_checked == 10


@pytest.mark.parametrize(
    ("data", "message"),
    [({"when": at()}, r"event t: data: not JSON"), ({"x": float("nan")}, r"event t: data: not JSON")],
)
def test_non_json_event_data_is_refused(store: Store, data: dict[str, object], message: str) -> None:
    with pytest.raises(StoreError, match=message), store.transaction() as tx:
        tx.append("t", data, at())
    assert list(store.events()) == []


def test_a_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match=r"event t: at: .* has no UTC offset"), store.transaction() as tx:
        tx.append("t", {}, at().replace(tzinfo=None))


def test_the_database_refuses_to_change_or_delete_events(url: str, store: Store) -> None:
    with store.transaction() as tx:
        tx.append("t", {"n": 1}, at())
    for statement in ("UPDATE events SET data = '{}'", "DELETE FROM events"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            raw(url, statement)
    assert store.verify().ok and store.head()[0] == 1


def _append_many(url: str, writer: int, count: int) -> None:
    with Store.open(url) as store:
        for i in range(count):
            with store.transaction() as tx:
                tx.append("tick", {"writer": writer, "i": i}, at(writer, i % 60))


def test_concurrent_threads_keep_one_chain(store: Store, url: str) -> None:
    errors: list[BaseException] = []

    def work(writer: int) -> None:
        try:
            for i in range(40):
                with store.transaction() as tx:
                    tx.append("tick", {"writer": writer, "i": i}, at(writer, i % 60))
        except BaseException as err:  # noqa: BLE001  any failure in a thread is collected and asserted on
            errors.append(err)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = store.verify()
    assert report.ok and report.events_checked == 160
    for writer in range(4):
        assert [e.data["i"] for e in store.events() if e.data["writer"] == writer] == list(range(40))


def test_concurrent_processes_keep_one_chain(store: Store, url: str) -> None:
    code = "import sys; from test_db import _append_many; _append_many(sys.argv[1], int(sys.argv[2]), 60)"
    env = {"PYTHONPATH": f"{REPO}:{REPO / 'tests'}"}
    procs = [subprocess.Popen([sys.executable, "-c", code, url, str(w)], env=env, cwd=REPO) for w in range(3)]
    assert [p.wait(timeout=100) for p in procs] == [0, 0, 0]
    report = store.verify()
    assert report.ok and report.events_checked == 180
    assert sorted(e.data["writer"] for e in store.events()) == [0] * 60 + [1] * 60 + [2] * 60


# --- transactions, idempotency and current state ---------------------------------------------------


class BoomError(Exception):
    pass


def test_an_exception_rolls_back_everything(store: Store) -> None:
    with store.transaction() as tx:
        tx.append("before", {}, at())
    with pytest.raises(BoomError), store.transaction() as tx:
        tx.append("ticket_issued", {"n": 1}, at(1), "req-x")
        tx.put_ticket(ticket_row(1))
        tx.put_counter({"number": 1, "status": "open", "officer": "cb-01", "ticket_id": None, "data": {}})
        tx.put_rating(
            {"ticket_id": f"{DAY}/A/1", "counter": 1, "officer": None, "score": 5, "scale": 5,
             "answers": {}, "at": at(9)}
        )  # fmt: skip
        tx.save_response("req-x", "issue", {"ok": True})
        raise BoomError
    assert [e.type for e in store.events()] == ["before"]
    assert store.tickets(DAY) == [] and store.counters() == [] and store.ratings() == []
    with store.transaction() as tx:
        assert tx.response("req-x") is None
        assert tx.append("after", {}, at(2)) == 2
    assert store.verify().ok


def test_a_request_gets_the_same_answer(store: Store) -> None:
    answer = {"ok": True, "ticket": {"code": "A001", "tên_dịch_vụ": "Hộ tịch"}}
    with store.transaction() as tx:
        assert tx.response("req-1") is None
        tx.save_response("req-1", "ticket.issue", answer, at(1))
    with store.transaction() as tx:
        assert tx.response("req-1") == answer
    with (
        pytest.raises(StoreConflictError, match=r"request 'req-1' was already answered"),
        store.transaction() as tx,
    ):
        tx.append("ticket_issued", {}, at(2), "req-1")
        tx.save_response("req-1", "ticket.issue", {"ok": False})
    assert list(store.events()) == []
    with store.transaction() as tx:
        assert tx.response("req-1") == answer


def test_tickets_are_upserted_and_queried(store: Store) -> None:
    first, second = ticket_row(1), ticket_row(2, priority="elderly")
    with store.transaction() as tx:
        tx.put_ticket(first)
        tx.put_ticket(second)
    called = dict(
        first, status="called", counter=4, officer="cb-07", called_at=at(5).isoformat(), waited_s=61.5
    )
    with store.transaction() as tx:
        tx.put_ticket(called)
    stored = store.ticket(first["id"])
    assert stored is not None
    assert stored == dict(called, issued_at=at(1).isoformat())
    assert store.ticket_by_token(second["token"]) == dict(second, issued_at=at(2).isoformat())
    assert store.ticket_by_token("no-such-token") is None and store.ticket("nope") is None
    assert [t["id"] for t in store.tickets(DAY)] == [first["id"], second["id"]]
    assert [t["id"] for t in store.tickets(DAY, status="waiting")] == [second["id"]]
    assert store.tickets("2026-11-24") == []


def test_counters_and_ratings(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_counter({"number": 2, "status": "open", "officer": "cb-01", "ticket_id": None, "data": {}})
        tx.put_counter(
            {"number": 1, "status": "paused", "officer": None, "ticket_id": None, "data": {"w": 2}}
        )
        tx.put_counter({"number": 2, "status": "serving", "officer": "cb-01", "ticket_id": f"{DAY}/A/1",
                        "data": {}})  # fmt: skip
        for number, counter, officer in ((1, 2, "cb-01"), (2, 1, None)):
            answers = {"q1": "tốt"}
            tx.put_rating({"ticket_id": f"{DAY}/A/{number}", "counter": counter, "officer": officer,
                           "score": 4, "scale": 5, "answers": answers, "at": at(30 + number)})  # fmt: skip
        tx.put_rating({"ticket_id": "2026-11-24/A/1", "counter": 2, "officer": "cb-01", "score": 1,
                       "scale": 5, "answers": {}, "at": "2026-11-24T09:00:00+07:00"})  # fmt: skip
    assert [(c["number"], c["status"], c["ticket_id"]) for c in store.counters()] == [
        (1, "paused", None),
        (2, "serving", f"{DAY}/A/1"),
    ]
    assert store.counters()[0]["data"] == {"w": 2}
    assert [r["ticket_id"] for r in store.ratings(business_day=DAY)] == [f"{DAY}/A/1", f"{DAY}/A/2"]
    assert [r["ticket_id"] for r in store.ratings(officer="cb-01")] == [f"{DAY}/A/1", "2026-11-24/A/1"]
    assert [r["ticket_id"] for r in store.ratings(counter=1)] == [f"{DAY}/A/2"]
    assert store.ratings(business_day=DAY)[0]["answers"] == {"q1": "tốt"}


def test_a_duplicate_ticket_number_is_refused_by_the_database(url: str, store: Store) -> None:
    with store.transaction() as tx:
        tx.put_ticket(ticket_row(7))
    twin = ticket_row(7, id=f"{DAY}/A/7-bis")
    refused = r"tickets '2026-11-23/A/7-bis' refused by the database"
    with pytest.raises(StoreConflictError, match=refused), store.transaction() as tx:
        tx.append("ticket_issued", {"number": 7}, at())
        tx.put_ticket(twin)
    assert list(store.events()) == [] and len(store.tickets(DAY)) == 1
    # The constraint lives in the database itself, not only in the store's code.
    with pytest.raises(sa.exc.IntegrityError):
        raw(url, "INSERT INTO tickets SELECT 'x', business_day, service, series, number, code, 'other-token',"
                 " priority, status, counter, officer, rules_version, issued_at, called_at, finished_at,"
                 " estimate_s, waited_s, recalls, data FROM tickets")  # fmt: skip
    # Another series may reuse the number; another day too.
    with store.transaction() as tx:
        tx.put_ticket(ticket_row(7, series="B"))
        tx.put_ticket(ticket_row(7, id="2026-11-24/A/7", business_day="2026-11-24"))
    assert len(store.tickets(DAY)) == 2


def test_a_duplicate_token_is_refused(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_ticket(ticket_row(1, token="same"))
    with pytest.raises(StoreConflictError, match="refused by the database"), store.transaction() as tx:
        tx.put_ticket(ticket_row(2, token="same"))
    assert [t["number"] for t in store.tickets(DAY)] == [1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"recalls": None}, r"tickets.recalls: may not be empty"),
        ({"number": "7"}, r"tickets.number: expected int, got str '7'"),
        ({"counter": True}, r"tickets.counter: expected int, got bool"),
        ({"estimate_s": "soon"}, r"tickets.estimate_s: expected real"),
        ({"issued_at": "yesterday"}, r"tickets.issued_at: 'yesterday' is not an ISO 8601 time"),
        ({"called_at": "2026-11-23T08:00:00"}, r"tickets.called_at: .* has no UTC offset"),
        ({"data": {"x": {1, 2}}}, r"tickets.data: not JSON"),
    ],
)
def test_a_bad_ticket_row_is_named_and_nothing_is_stored(
    store: Store, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(StoreError, match=message), store.transaction() as tx:
        tx.append("ticket_issued", {}, at())
        tx.put_ticket(dict(ticket_row(1), **changes))
    assert store.tickets(DAY) == [] and list(store.events()) == []


def test_a_row_with_missing_or_unknown_columns_is_named(store: Store) -> None:
    row = ticket_row(1)
    del row["code"], row["token"]
    row["colour"] = "red"
    message = r"tickets row: missing code, token; unknown colour"
    with pytest.raises(StoreError, match=message), store.transaction() as tx:
        tx.put_ticket(row)


def test_a_savepoint_undoes_one_request_of_a_group(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_ticket(ticket_row(2))
    with store.transaction() as tx:
        for number in (1, 2, 3):
            try:
                with tx.savepoint():
                    tx.append("ticket_issued", {"number": number}, at(number), f"req-{number}")
                    tx.put_ticket(ticket_row(number, id=f"{DAY}/A/{number}-new"))
                    tx.save_response(f"req-{number}", "ticket.issue", {"number": number})
            except StoreConflictError:
                assert number == 2
    assert [(e.seq, e.data["number"]) for e in store.events()] == [(1, 1), (2, 3)]
    assert store.verify().ok
    assert sorted(t["id"] for t in store.tickets(DAY)) == [f"{DAY}/A/1-new", f"{DAY}/A/2", f"{DAY}/A/3-new"]
    with store.transaction() as tx:
        assert tx.response("req-2") is None and tx.response("req-3") == {"number": 3}


@pytest.mark.skipif(not POSTGRES_DSN, reason="MOTCUA_TEST_POSTGRES is not set")
def test_a_plain_postgresql_url_uses_psycopg(tmp_path: Path) -> None:
    with database_url("postgres", tmp_path) as url, Store.open(url.replace("+psycopg", "", 1)) as store:
        assert store.postgres and store.url.startswith("postgresql+psycopg://")
        assert store.verify().ok
