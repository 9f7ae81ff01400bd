"""Upload to the dossier store over real HTTP (uvicorn): chunked, resumable after a cut, hash-verified,
encrypted while waiting, deleted after confirmation, and an ``evt`` on the bus."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from broker_support import as_identity
from fastapi import FastAPI
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from bus.device import DeviceLink
from queue_server.dossiers import DossierStore, dossier_router
from queue_server.sealed import Sealer
from scanner.errors import UploadError
from scanner.spool import Spool, SpoolError, load_key, new_key, parse_key
from scanner.upload import Uploader

DOSSIER = "H21.65-220914-0011"

STORE_KEY = bytes(range(32))  # the queue server's dossier store key (a file outside the store in production)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StoreServer:
    """The dossier router mounted on an app of its own, served by a real uvicorn in a thread."""

    def __init__(self, storage: Path, port: int) -> None:
        self.storage = storage
        self.port = port
        self.uploaded: list[tuple[str, str]] = []
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StoreServer:
        app = FastAPI()
        uploaded = self.uploaded.append
        app.include_router(dossier_router(self.storage, STORE_KEY, lambda code, sha: uploaded((code, sha))))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", ws="none", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="store", daemon=True)
        self.thread.start()
        assert wait_until(lambda: self.server is not None and self.server.started, 10)
        return self

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(10)
            assert not self.thread.is_alive()
        self.server = self.thread = None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreServer]:
    server = StoreServer(tmp_path / "store", free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool", parse_key(new_key()))


def _pdf(tmp_path: Path, size: int, name: str = "dossier.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4\n" + os.urandom(size))
    return path


def test_an_upload_cut_in_the_middle_resumes_and_ends_with_identical_hashes(
    tmp_path: Path, store: StoreServer, spool: Spool
) -> None:
    pdf = _pdf(tmp_path, 1_000_000)
    plain_sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    entry = spool.put(pdf, DOSSIER, "01")
    assert not pdf.exists()  # only the encrypted copy waits on the counter machine
    chunks: list[int] = []

    def cut_after_three(offset: int, _size: int) -> None:
        chunks.append(offset)
        if len(chunks) == 3:
            store.stop()  # the store goes away between two chunks

    uploader = Uploader(store.url, spool, chunk_bytes=64 * 1024, attempts=2, backoff=0.05, timeout=2)
    with pytest.raises(UploadError, match="encrypted copy stays in the spool"):
        uploader.upload(entry, cut_after_three)
    assert [e.entry_id for e in spool.entries()] == [entry.entry_id]
    part = next(iter((store.storage / ".uploads").glob("*.part")))
    held = Sealer(STORE_KEY).plain_size(part)
    assert held == 3 * 64 * 1024 and b"%PDF" not in part.read_bytes()  # sealed even half-uploaded

    store.start()  # same port, same disk
    result = uploader.upload(entry, lambda offset, size: chunks.append(offset))
    uploader.close()
    assert result.resumed_at == held
    assert result.bytes_sent == entry.size - held
    stored = DossierStore(store.storage, STORE_KEY).read(DOSSIER, plain_sha)  # opened with the key
    assert hashlib.sha256(stored).hexdigest() == plain_sha == entry.sha256
    assert b"%PDF" not in (store.storage / DOSSIER / f"{plain_sha}.enc").read_bytes()
    assert store.uploaded == [(DOSSIER, plain_sha)]
    assert spool.entries() == [] and list(spool.folder.iterdir()) == []


@pytest.mark.integration
def test_a_confirmed_upload_is_announced_on_the_bus(
    tmp_path: Path, store: StoreServer, spool: Spool, mosquitto: BrokerUrl
) -> None:
    site = "scanup"
    info = m.DeviceInfo(device_kind=m.DeviceKind.SCANNER, model="eSCL simulator", transport="http")
    link = DeviceLink(mosquitto, site, "scanner-1", info)
    watcher = BusClient(as_identity(mosquitto, "queue-server"), site, "watcher")
    got: list[m.DossierUploaded] = []
    watcher.subscribe(
        link.topics.device_evt("scanner-1"), lambda _t, e: got.append(e), m.device_event_adapter
    )
    watcher.start()
    link.start()
    try:
        entry = spool.put(_pdf(tmp_path, 300_000), DOSSIER, "GIAY_KS")
        from scanner.service import ScannerService
        from scanner.sources import FolderSource

        station = ScannerService(link, FolderSource(tmp_path))
        uploader = Uploader(store.url, spool, on_uploaded=station.uploaded)
        uploader.upload_all()
        uploader.close()
        assert wait_until(lambda: len(got) == 1)
        assert (
            got[0].dossier_code == DOSSIER and got[0].sha256 == entry.sha256 and got[0].doc_type == "GIAY_KS"
        )
    finally:
        link.stop()
        watcher.stop()


def test_the_store_refuses_bad_chunks_offsets_hashes_and_codes(store: StoreServer) -> None:
    data = os.urandom(10_000)
    sha = hashlib.sha256(data).hexdigest()
    with httpx.Client(base_url=store.url) as client:
        assert (
            client.post(
                "/dossiers/not-a-code/uploads", json={"filename": "a.pdf", "size": 1, "sha256": sha}
            ).status_code
            == 422
        )
        bad_name = {"filename": "../../etc/passwd", "size": 10, "sha256": sha}
        assert client.post(f"/dossiers/{DOSSIER}/uploads", json=bad_name).status_code == 422
        start = client.post(
            f"/dossiers/{DOSSIER}/uploads", json={"filename": "a.pdf", "size": len(data), "sha256": sha}
        )
        assert start.status_code == 201
        upload = f"/uploads/{start.json()['upload_id']}"
        chunk = data[:4000]
        good = hashlib.sha256(chunk).hexdigest()
        wrong = client.patch(upload, content=chunk, headers={"Upload-Offset": "0", "Chunk-SHA256": "0" * 64})
        assert wrong.status_code == 400
        ahead = client.patch(upload, content=chunk, headers={"Upload-Offset": "4000", "Chunk-SHA256": good})
        assert ahead.status_code == 409 and ahead.json()["offset"] == 0
        assert (
            client.patch(upload, content=chunk, headers={"Upload-Offset": "0", "Chunk-SHA256": good}).json()[
                "offset"
            ]
            == 4000
        )
        # the same file again resumes the same upload instead of starting over
        again = client.post(
            f"/dossiers/{DOSSIER}/uploads", json={"filename": "a.pdf", "size": len(data), "sha256": sha}
        )
        assert again.status_code == 200 and again.json()["offset"] == 4000
        too_long = data[4000:] + b"x"
        over = client.patch(
            upload,
            content=too_long,
            headers={"Upload-Offset": "4000", "Chunk-SHA256": hashlib.sha256(too_long).hexdigest()},
        )
        assert over.status_code == 413
        # a file whose bytes do not match the declared hash is discarded, never stored
        liar = client.post(
            f"/dossiers/{DOSSIER}/uploads", json={"filename": "b.pdf", "size": 3, "sha256": "1" * 64}
        )
        bad = client.patch(
            f"/uploads/{liar.json()['upload_id']}",
            content=b"abc",
            headers={"Upload-Offset": "0", "Chunk-SHA256": hashlib.sha256(b"abc").hexdigest()},
        )
        assert bad.status_code == 422
        assert client.get(f"/uploads/{liar.json()['upload_id']}").status_code == 404
        assert client.get(f"/dossiers/{DOSSIER}/files").json() == []
    assert store.uploaded == []


def test_the_spool_is_encrypted_and_needs_the_right_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = _pdf(tmp_path, 5000)
    plain = pdf.read_bytes()
    spool = Spool(tmp_path / "spool", parse_key(new_key()))
    entry = spool.put(pdf, DOSSIER)
    sealed = (spool.folder / f"{entry.entry_id}.enc").read_bytes()
    assert plain[20:60] not in sealed
    assert spool.read(entry) == plain
    other = Spool(tmp_path / "spool", parse_key(new_key()))
    with pytest.raises(SpoolError, match="wrong key"):
        other.read(entry)
    with pytest.raises(SpoolError, match="32"):
        parse_key("abcd")
    monkeypatch.delenv("MOTCUA_SCAN_KEY", raising=False)
    monkeypatch.delenv("MOTCUA_SCAN_KEY_FILE", raising=False)
    with pytest.raises(SpoolError, match="no scan key"):
        load_key()
    key_file = tmp_path / "scan.key"
    key_file.write_text(new_key() + "\n")
    monkeypatch.setenv("MOTCUA_SCAN_KEY_FILE", str(key_file))
    assert len(load_key()) == 32


def test_capture_from_escl_spool_encrypted_then_upload_with_the_cli(
    tmp_path: Path, store: StoreServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from firmware_sim.escl_scanner import EsclFaults, EsclSimulator
    from motcua_cli.main import main

    monkeypatch.setenv("MOTCUA_SCAN_KEY", new_key())
    monkeypatch.delenv("MOTCUA_SCAN_KEY_FILE", raising=False)
    sim = EsclSimulator(faults=EsclFaults(jam_after=5))  # the sixth sheet jams
    url = sim.start().replace("http://", "escl://") + "?source=Feeder"
    spool_dir = tmp_path / "spool"
    capture = ["scan", "capture", url, "--out", str(tmp_path / "b.pdf"), "--spool", str(spool_dir)]
    try:
        jammed = main(capture)
        out = capsys.readouterr()
        sim.clear_jam()
        whole = main(capture)
        again = capsys.readouterr()
    finally:
        sim.stop()
    assert jammed == 0 and whole == 0
    assert "paper jam after 5 pages" in out.err and "keeping the 5 pages" in out.err
    assert "separator sheet" in out.err and "has no pages after it" in out.err
    assert out.out.count("spooled ") == 1 and again.out.count("spooled ") == 2
    assert list(tmp_path.glob("b*.pdf")) == []  # only encrypted copies remain on the counter machine
    assert len(list(spool_dir.glob("*.enc"))) == 3
    assert main(["scan", "upload", "--store", store.url, "--spool", str(spool_dir)]) == 0
    assert {code for code, _ in store.uploaded} == {"H21.65-220914-0011", "H21.65-220914-0012"}
    assert list(spool_dir.glob("*.enc")) == []
