"""The HTTP API over HTTPS with the site's certificate: the client verifies it, cookies are Secure."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bus.broker import free_port
from bus.client import BrokerUrl
from queue_server.access import Access
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.server import QueueServer
from siteconf.model import Site, SiteFileError, parse_site

pytestmark = pytest.mark.integration
PASSWORD = "mật khẩu của cb01"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, as a site without a CA would make (test-only helper)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "motcua test centre")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_the_api_speaks_https_and_the_session_cookie_is_secure(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    data = demo_site.model_dump(mode="json", exclude_none=True)
    data["http"] = {**data.get("http", {}), "certificate": str(cert), "private_key": str(key)}
    site = parse_site(data)
    tls = site.http.tls()
    assert tls == (cert, key)
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(site, store, mosquitto).start()
    access = Access.of(store)
    access.officers.add("cb01", "Cán bộ 1", "officer", PASSWORD)
    http = HttpServer(create_app(server, access, site.site.name), "127.0.0.1", free_port(), tls=tls).start()
    try:
        assert http.url.startswith("https://")
        trusted = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(verify=trusted, base_url=http.url, timeout=10) as client:
            assert client.get("/api/v1/queues").status_code == 200
            form = client.get("/login")
            csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
            login = client.post("/login", data={"officer": "cb01", "password": PASSWORD, "csrf": csrf})
            assert login.status_code == 303
            cookie = login.headers["set-cookie"]
            assert "motcua_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
            assert "samesite=strict" in cookie.lower()
        with pytest.raises(httpx.ConnectError):  # a client that does not trust the site's certificate
            httpx.get(f"{http.url}/api/v1/queues", timeout=10)
        with pytest.raises(httpx.RemoteProtocolError):  # plain HTTP is not served
            httpx.get(http.url.replace("https", "http") + "/api/v1/queues", timeout=10)
    finally:
        http.stop()
        server.stop()
        store.close()


def test_a_certificate_needs_its_key(demo_site: Site) -> None:
    data = demo_site.model_dump(mode="json", exclude_none=True)
    data["http"] = {"certificate": "/etc/motcua/server.crt"}
    with pytest.raises(SiteFileError, match="http: certificate and private_key go together"):
        parse_site(data)
