"""The server's dossier store at rest: sealed records, a key outside the store, audited deletion."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from motcua_cli.main import main
from queue_server.db import Store
from queue_server.dossier_cli import expired
from queue_server.dossiers import DossierStore, NewUpload
from queue_server.sealed import SealedError, Sealer, load_key

REPO = Path(__file__).resolve().parent.parent
CODE = "H99.01-261204-0001"


def store_one(store: DossierStore, data: bytes, code: str = CODE, chunk: int = 1000) -> str:
    sha = hashlib.sha256(data).hexdigest()
    state = store.create(code, NewUpload(filename="scan.pdf", size=len(data), sha256=sha))
    for start in range(0, len(data), chunk):
        state["offset"] = store.append(state, data[start : start + chunk])
    assert store.finish(state)
    return sha


def test_files_are_sealed_and_open_only_with_their_key(tmp_path: Path) -> None:
    key = load_key(tmp_path / "secrets" / "store.key", tmp_path / "dossiers")
    assert (tmp_path / "secrets" / "store.key").stat().st_mode & 0o777 == 0o600
    store = DossierStore(tmp_path / "dossiers", key)
    data = b"%PDF-1.7 CCCD 079160012345 " * 200
    sha = store_one(store, data)
    sealed = store.final_path(CODE, sha).read_bytes()
    assert b"079160012345" not in sealed and b"%PDF" not in sealed
    assert store.read(CODE, sha) == data
    with pytest.raises(SealedError):
        DossierStore(tmp_path / "dossiers", bytes(32)).read(CODE, sha)  # another key
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    store.final_path(CODE, sha).write_bytes(bytes(tampered))
    with pytest.raises(SealedError, match="does not open"):
        store.read(CODE, sha)


def test_records_cannot_be_moved_between_files_or_truncated(tmp_path: Path) -> None:
    store = DossierStore(tmp_path / "d", bytes(range(32)))
    first = store_one(store, b"a" * 3000, CODE)
    other = "H99.01-261204-0002"
    second = store_one(store, b"b" * 3000, other)
    store.final_path(other, second).write_bytes(store.final_path(CODE, first).read_bytes())
    with pytest.raises(SealedError):  # bound to its own dossier and hash
        store.read(other, second)
    whole = store.final_path(CODE, first).read_bytes()
    record = len(whole) // 3  # three records of 1000 bytes each
    store.final_path(CODE, first).write_bytes(whole[: 2 * record])  # the last record dropped
    with pytest.raises(SealedError, match="does not match its hash"):
        store.read(CODE, first)
    store.final_path(CODE, first).write_bytes(whole[: 2 * record + 50])  # cut inside a record
    with pytest.raises(SealedError, match="does not open"):
        store.read(CODE, first)
    assert Sealer(bytes(range(32))).plain_size(store.final_path(other, second)) == 3000


def test_the_key_must_live_outside_the_store(tmp_path: Path) -> None:
    with pytest.raises(SealedError, match="outside the store"):
        load_key(tmp_path / "dossiers" / "key", tmp_path / "dossiers")


def site_file(tmp_path: Path, retention: int | None = None) -> Path:
    text = (REPO / "sites" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///var/demo.db"', f'url = "sqlite:///{tmp_path}/queue.db"')
    extra = (
        f'\n[http]\ndossier_dir = "{tmp_path}/dossiers"\ndossier_key_file = "{tmp_path}/secrets/store.key"\n'
    )
    if retention is not None:
        extra += f"dossier_retention_days = {retention}\n"
    path = tmp_path / "site.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def test_deletion_and_retention_leave_an_audit_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = site_file(tmp_path, retention=30)
    store = DossierStore(tmp_path / "dossiers", load_key(tmp_path / "secrets" / "store.key"))
    sha = store_one(store, b"scan one")
    old = "H99.01-261001-0007"
    old_sha = store_one(store, b"scan two", old)
    long_ago = time.time() - 40 * 86400
    os.utime(store.final_path(old, old_sha), (long_ago, long_ago))
    assert expired(tmp_path / "dossiers", 30) == [old]
    assert main(["dossier", "purge", "--site", str(site)]) == 0
    assert main(["dossier", "delete", CODE, "--site", str(site)]) == 0
    assert main(["dossier", "delete", "not-a-code", "--site", str(site)]) == 2
    out = capsys.readouterr().out
    assert f"{old}: 1 file(s) deleted (retention of 30 days)" in out
    assert f"{CODE}: 1 file(s) deleted (deleted on request)" in out
    assert not store.final_path(CODE, sha).exists() and not store.final_path(old, old_sha).exists()
    with Store.open(f"sqlite:///{tmp_path}/queue.db") as db:
        events = [(e.type, e.data) for e in db.events()]
        assert db.verify().ok
    assert events == [
        ("dossier_files_deleted", {"code": old, "files": [old_sha], "reason": "retention of 30 days"}),
        ("dossier_files_deleted", {"code": CODE, "files": [sha], "reason": "deleted on request"}),
    ]
