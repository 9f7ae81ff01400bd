"""Certificates for the broker's TLS listener, made with ``cryptography`` when a site has no CA.

``make_site_ca(out, hosts)`` writes ``ca.crt``/``ca.key`` (a CA for this centre only, 10 years) and
``server.crt``/``server.key`` (the broker's certificate, 2 years, for every name and address in
``hosts``); keys are ECDSA P-256, written 0600. Clients verify the broker against ``ca.crt``
(``mqtts://HOST:8883?ca_file=.../ca.crt``). A site with its own CA names ``tls_ca``, ``tls_cert``
and ``tls_key`` under ``[broker]`` in the site file instead, and nothing is made.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def make_site_ca(out: Path, site_id: str, hosts: list[str]) -> dict[str, Path]:
    """Write a CA and a server certificate for ``hosts`` under ``out``; return the four paths.

    An existing CA is kept (clients already trust it); the server certificate is made again.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("ca.crt", "ca.key", "server.crt", "server.key")}
    now = datetime.now(UTC)
    if paths["ca.crt"].exists() and paths["ca.key"].exists():
        ca_cert = x509.load_pem_x509_certificate(paths["ca.crt"].read_bytes())
        loaded = serialization.load_pem_private_key(paths["ca.key"].read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        ca_key = loaded
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"motcua {site_id} CA")])
        ca_cert = (
            _builder(name, name, ca_key.public_key(), now, days=3650)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        _write(paths["ca.key"], _key_pem(ca_key), 0o600)
        _write(paths["ca.crt"], ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    cert = (
        _builder(subject, ca_cert.subject, key.public_key(), now, days=730)
        .add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(paths["server.key"], _key_pem(key), 0o600)
    _write(paths["server.crt"], cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return paths


def _builder(
    subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey, now: datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not ca,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
