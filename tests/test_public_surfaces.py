"""The public side of the HTTP API reveals nothing private: dossier lookups need the receipt's key,
public endpoints are rate-limited, and counters show no officer ids to the public."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bus import models as m
from bus.broker import free_port
from bus.client import BrokerUrl
from queue_server.access import Access
from queue_server.accounts import SCOPES
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.public import LookupKeys, Public, RateLimiter
from queue_server.server import QueueServer
from siteconf.model import Site

pytestmark = pytest.mark.integration

PASSWORD = "mật-khẩu-cb01"
KEY = "k-" + "3" * 30
STAFF = {"Authorization": f"Bearer {KEY}"}


def access_with_key(store: Store) -> Access:
    access = Access.of(store)
    access.api_keys.add("tests", list(SCOPES), key=KEY)
    access.officers.add("cb01", "Cán bộ quầy 1", "officer", PASSWORD)
    return access


@pytest.fixture
def centre(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[tuple[QueueServer, str]]:
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(demo_site, store, mosquitto).start()
    public = Public(
        LookupKeys.from_file(tmp_path / "secrets" / "lookup.key"), public_url="https://hcc.example/t/"
    )
    http = HttpServer(
        create_app(server, access_with_key(store), demo_site.site.name, public=public),
        "127.0.0.1",
        free_port(),
    )
    http.start()
    try:
        yield server, http.url
    finally:
        http.stop()
        server.stop()
        store.close()


def register(url: str) -> dict[str, str]:
    body = {"procedure": "1.001234", "days": 3}
    answer = httpx.post(f"{url}/api/v1/dossiers", json=body, headers=STAFF, timeout=10).json()
    assert answer["ok"], answer
    return {"code": answer["dossier"]["code"], "key": answer["lookup_key"], "url": answer["lookup_url"]}


def test_a_dossier_code_alone_opens_nothing(centre: tuple[QueueServer, str]) -> None:
    _, url = centre
    first, second = register(url), register(url)
    assert first["url"] == f"https://hcc.example/d/{first['code']}?k={first['key']}"
    assert first["key"] != second["key"]

    def get(code: str, **params: str) -> httpx.Response:
        return httpx.get(f"{url}/api/v1/dossiers/{code}", params=params, timeout=10)

    assert get(first["code"]).status_code == 404  # the sequence is guessable, the key is not
    assert get(first["code"], k="AAAAAAAAAA").status_code == 404
    assert get(second["code"], k=first["key"]).status_code == 404  # a key opens its own dossier only
    unknown = get("H99.01-200101-0001", k=first["key"])
    assert unknown.status_code == 404 and unknown.json() == {
        "detail": "no dossier H99.01-200101-0001 with this lookup key"
    }
    wrong = get(first["code"], k="AAAAAAAAAA").json()
    assert wrong == {"detail": f"no dossier {first['code']} with this lookup key"}  # same words: no oracle
    found = get(first["code"], k=f" {first['key'].lower()} ")
    assert found.status_code == 200 and found.json()["code"] == first["code"]
    staff = httpx.get(f"{url}/api/v1/dossiers/{first['code']}", headers=STAFF, timeout=10)
    assert staff.status_code == 200  # the counter's own tools need no receipt
    page = httpx.get(f"{url}/d/{first['code']}", params={"k": first["key"]}, timeout=10)
    assert page.status_code == 200 and "Đã tiếp nhận" in page.text
    assert httpx.get(f"{url}/d/{first['code']}", params={"k": second["key"]}, timeout=10).status_code == 404


def test_the_lookup_secret_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "lookup.key"
    before = LookupKeys.from_file(path).key("H99.01-261204-0001")
    assert path.stat().st_mode & 0o777 == 0o600
    assert LookupKeys.from_file(path).key("H99.01-261204-0001") == before
    assert LookupKeys.ephemeral().key("H99.01-261204-0001") != before


def test_the_lookup_kiosk_reads_the_key_from_the_scanned_receipt(centre: tuple[QueueServer, str]) -> None:
    from kiosk.lookup import DossierClient, DossierLookupError, lookup_key_in, normalise_code

    _, url = centre
    receipt = register(url)
    scanned = receipt["url"]  # what the receipt's QR holds
    code = normalise_code(scanned)
    assert code == receipt["code"] and lookup_key_in(scanned) == receipt["key"]
    status = DossierClient(url).status(code, lookup_key_in(scanned))
    assert status.code == receipt["code"] and status.status == "received"
    typed = f"{receipt['code']} {receipt['key'].lower()}"  # the code and key as printed, typed
    assert normalise_code(typed) == receipt["code"] and lookup_key_in(typed) == receipt["key"]
    with pytest.raises(DossierLookupError) as refused:
        DossierClient(url).status(receipt["code"])  # the code alone
    assert refused.value.code == "not_found"


def test_public_views_show_no_officer_ids(centre: tuple[QueueServer, str]) -> None:
    server, url = centre
    assert server.handle(m.CounterRequest(counter=1, action=m.CounterAction.OPEN, officer="cb01")).ok
    public = httpx.get(f"{url}/api/v1/counters", timeout=10).json()
    assert [c["officer"] for c in public] == [None] * len(public)
    assert "cb01" not in httpx.get(f"{url}/api/v1/counters/1", timeout=10).text
    assert "cb01" not in httpx.get(f"{url}/api/v1/queues", timeout=10).text
    wrong = {"Authorization": "Bearer wrong"}
    assert "cb01" not in httpx.get(f"{url}/api/v1/counters/1", headers=wrong, timeout=10).text
    staff = httpx.get(f"{url}/api/v1/counters/1", headers=STAFF, timeout=10).json()
    assert staff["officer"] == "cb01"


def test_public_endpoints_are_rate_limited(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(demo_site, store, mosquitto).start()
    public = Public(LookupKeys.ephemeral(), RateLimiter(rate=0.01, burst=5))
    http = HttpServer(
        create_app(server, access_with_key(store), public=public), "127.0.0.1", free_port()
    ).start()
    try:
        codes = [f"H99.01-261204-{n:04d}" for n in range(1, 9)]
        answers = [
            httpx.get(f"{http.url}/api/v1/dossiers/{c}", params={"k": "A" * 10}, timeout=10) for c in codes
        ]
        assert [a.status_code for a in answers] == [404] * 5 + [429] * 3
        assert int(answers[-1].headers["retry-after"]) >= 1
        assert httpx.get(f"{http.url}/t/some-token", timeout=10).status_code == 429  # pages share the bucket
        assert httpx.get(f"{http.url}/api/v1/tickets/some-token", timeout=10).status_code == 429
        assert (
            httpx.get(f"{http.url}/api/v1/queues", timeout=10).status_code == 200
        )  # the hall board reads on
    finally:
        http.stop()
        server.stop()
        store.close()


def test_the_token_bucket_refills_and_forgets_old_clients() -> None:
    bucket = RateLimiter(rate=1.0, burst=2, max_clients=2)
    assert [bucket.allow("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 1.0]
    assert bucket.allow("b", now=0.0) == 0.0  # another client has its own bucket
    assert bucket.allow("a", now=1.0) == 0.0  # a second later, one more
    assert bucket.allow("a", now=1.0) > 0
    bucket.allow("c", now=1.0)  # a third client: the least recently seen ("b") is forgotten
    assert bucket.allow("b", now=1.0) == 0.0 and bucket.allow("b", now=1.0) == 0.0
