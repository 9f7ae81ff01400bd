"""Tampering with the event log is found by ``Store.verify`` and by ``motcua audit verify``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_db_support import BACKENDS, at, database_url, raw

from motcua_cli.main import main
from queue_server.chain import GENESIS_HASH, event_hash
from queue_server.db import Store

REPO = Path(__file__).resolve().parent.parent
EVENTS = 8


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database holding a chain of EVENTS events whose append-only triggers were dropped."""
    with database_url(request.param, tmp_path) as value:
        with Store.open(value) as store:
            for i in range(1, EVENTS + 1):
                with store.transaction() as tx:
                    tx.append("ticket_issued", {"number": i, "dịch_vụ": "Hộ tịch"}, at(i), f"req-{i}")
        if value.startswith("sqlite"):
            raw(value, "DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete")
        else:
            raw(value, "DROP TRIGGER events_no_change ON events")
        yield value


def cli(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", "--db", url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def assert_found(url: str, capsys: pytest.CaptureFixture[str], seq: int, problem: str) -> None:
    with Store.open(url) as store:
        report = store.verify()
    assert (report.ok, report.first_bad_seq, report.problem) == (False, seq, problem)
    code, out = cli(url, capsys)
    assert code == 1
    assert out.splitlines()[0] == problem


def test_an_intact_chain_passes(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open(url) as store:
        report = store.verify()
        head = store.head()
    assert (report.ok, report.events_checked, report.head_seq, report.head_hash) == (True, EVENTS, *head)
    code, out = cli(url, capsys)
    assert code == 0
    assert f"{EVENTS} events, chain intact; head event {EVENTS} sha256 {head[1]}" in out


def test_edited_data_is_found(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    raw(url, """UPDATE events SET data = '{"dịch_vụ":"Hộ tịch","number":99}' WHERE seq = 5""")
    assert_found(url, capsys, 5, "event 5: hash does not match its content")


def test_an_edited_time_is_found(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    raw(url, "UPDATE events SET at = '2026-11-23T07:00:00+07:00' WHERE seq = 2")
    assert_found(url, capsys, 2, "event 2: hash does not match its content")


def test_an_edited_hash_is_found(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    raw(url, f"UPDATE events SET hash = '{'ab' * 32}' WHERE seq = 3")
    assert_found(url, capsys, 3, "event 3: hash does not match its content")


def test_a_deleted_event_is_found(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    raw(url, "DELETE FROM events WHERE seq = 4")
    assert_found(url, capsys, 4, "event 4 is missing (the chain jumps from 3 to 5)")


def test_several_deleted_events_are_found(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    raw(url, "DELETE FROM events WHERE seq IN (2, 3, 4)")
    assert_found(url, capsys, 2, "events 2–4 are missing (the chain jumps from 1 to 5)")


def test_a_deleted_first_event_is_found(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    raw(url, "DELETE FROM events WHERE seq = 1")
    assert_found(url, capsys, 1, "event 1 is missing (the chain starts at 2)")


def test_swapped_events_are_found(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    columns = ("at", "type", "data", "request_id", "prev_hash", "hash")
    rows = {
        r[0]: r[1:] for r in raw(url, f"SELECT seq, {', '.join(columns)} FROM events WHERE seq IN (3, 6)")
    }
    updates = []
    for seq, other in ((3, 6), (6, 3)):
        sets = ", ".join(f"{c} = '{v}'" for c, v in zip(columns, rows[other], strict=True))
        updates.append(f"UPDATE events SET {sets} WHERE seq = {seq}")
    raw(url, *updates)
    assert_found(url, capsys, 3, "event 3: hash does not match its content")


def test_renumbered_events_are_found(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Moving event 7 in front of event 6 by exchanging their seq numbers.
    raw(
        url,
        "UPDATE events SET seq = 1000 WHERE seq = 6",
        "UPDATE events SET seq = 6 WHERE seq = 7",
        "UPDATE events SET seq = 7 WHERE seq = 1000",
    )
    assert_found(url, capsys, 6, "event 6: hash does not match its content")


def test_a_rewritten_event_with_a_recomputed_hash_is_found(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seq, at_text, type_, request_id, prev = raw(
        url, "SELECT seq, at, type, request_id, prev_hash FROM events WHERE seq = 4"
    )[0]
    forged = event_hash(prev, seq=seq, at=at_text, type=type_, data={"number": 40}, request_id=request_id)
    raw(url, f"""UPDATE events SET data = '{{"number":40}}', hash = '{forged}' WHERE seq = 4""")
    assert_found(url, capsys, 4, "event 4: rewritten (event 5 links to a different hash)")


def test_an_inserted_event_is_found(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Shift events 5.. up by one and slip a well-hashed event in at 5.
    for seq in range(EVENTS, 4, -1):
        raw(url, f"UPDATE events SET seq = {seq + 1} WHERE seq = {seq}")
    prev = raw(url, "SELECT hash FROM events WHERE seq = 4")[0][0]
    at_text = at(4, 30).isoformat()
    forged = event_hash(prev, seq=5, at=at_text, type="ticket_cancelled", data={"number": 2}, request_id=None)
    raw(
        url,
        "INSERT INTO events (seq, at, type, data, request_id, prev_hash, hash) VALUES "
        f"""(5, '{at_text}', 'ticket_cancelled', '{{"number":2}}', NULL, '{prev}', '{forged}')""",
    )
    assert_found(url, capsys, 6, "event 6: hash does not match its content")


def test_an_empty_log_is_intact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "schema at revision 0002" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", url]) == 0
    code, out = cli(url, capsys)
    assert code == 0 and "0 events, chain intact" in out
    with Store.open(url) as store:
        assert store.verify().head_hash == GENESIS_HASH


def test_verify_reads_the_site_files_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = (REPO / "sites" / "demo.toml").read_text(encoding="utf-8")
    db_path = tmp_path / "site.db"
    site = tmp_path / "site.toml"
    site.write_text(demo.replace('url = "sqlite:///var/demo.db"', f'url = "sqlite:///{db_path}"'), "utf-8")
    assert f"sqlite:///{db_path}" in site.read_text("utf-8")
    with Store.open(f"sqlite:///{db_path}") as store, store.transaction() as tx:
        tx.append("opened", {}, at())
    assert main(["audit", "verify", "--site", str(site)]) == 0
    assert "1 events, chain intact" in capsys.readouterr().out


def test_verify_names_a_database_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(f"sqlite:///{tmp_path / 'absent.db'}", capsys)
    assert code == 2
    assert "motcua audit verify: database" in out and "absent.db does not exist" in out
    assert not (tmp_path / "absent.db").exists()
    code, out = cli("ftp://example/x", capsys)
    assert code == 2 and "'ftp' is not supported" in out


def test_the_installed_command_exits_with_the_verdict(url: str) -> None:
    raw(url, "DELETE FROM events WHERE seq = 6")
    result = subprocess.run(
        [sys.executable, "-m", "motcua_cli.main", "audit", "verify", "--db", url],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "event 6 is missing (the chain jumps from 5 to 7)"


def test_a_truncated_tail_is_found_with_an_anchor(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(url, capsys)
    anchor = out.split("--anchor ")[1].split()[0]
    assert code == 0 and anchor.startswith(f"{EVENTS}:")
    raw(url, f"DELETE FROM events WHERE seq > {EVENTS - 3}")
    assert cli(url, capsys)[0] == 0  # the chain alone cannot tell
    assert main(["audit", "verify", "--db", url, "--anchor", anchor]) == 1
    problem = f"events {EVENTS - 2}–{EVENTS} are missing (the chain ends at {EVENTS - 3})"
    assert capsys.readouterr().out.splitlines()[0] == problem
    with Store.open(url) as store:
        seq, digest = anchor.split(":")
        report = store.verify((int(seq), digest))
        assert (report.ok, report.first_bad_seq) == (False, EVENTS - 2)
        assert (
            store.verify((2, digest)).problem
            == f"event 2: hash differs from the one recorded ({digest[:16]}…)"
        )


def test_a_malformed_anchor_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "verify", "--db", url, "--anchor", "12:nothex"])
    assert exit_.value.code == 2
    assert "'12:nothex': expected SEQ:HASH" in capsys.readouterr().err
