"""The clerk's PAdES signature: valid against the clerk's certificate, visible top-left of page 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from firmware_sim import scanner_pages as sp
from scanner.pdf import PdfMeta, assemble_pdf
from scanner.pipeline import process_image
from scanner.signing import ClerkSigner, SigningError, sign_pdf


def _clerk_key(tmp_path: Path, passphrase: bytes) -> tuple[Path, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cán bộ Một cửa 05")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, True, False, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    blob = pkcs12.serialize_key_and_certificates(
        b"clerk", key, cert, None, serialization.BestAvailableEncryption(passphrase)
    )
    path = tmp_path / "clerk.p12"
    path.write_bytes(blob)
    return path, cert


def test_a_signed_copy_validates_and_shows_the_stamp_top_left(tmp_path: Path) -> None:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    p12, cert = _clerk_key(tmp_path, b"mat khau")
    page = process_image(sp.render_page(1), "p")
    plain = assemble_pdf([page.jpeg, page.jpeg], tmp_path / "copy.pdf", PdfMeta("H21.65-220914-0011")).path
    signed = sign_pdf(plain, tmp_path / "signed.pdf", ClerkSigner(p12, "Nguyễn Thị Hồng", b"mat khau"))
    root = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    with signed.open("rb") as handle:
        reader = PdfFileReader(handle)
        embedded = reader.embedded_signatures[0]
        status = validate_pdf_signature(embedded, ValidationContext(trust_roots=[root]))
        assert status.intact and status.valid and status.trusted
        assert status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    with pikepdf.open(signed) as pdf:
        widget = next(
            a
            for a in pdf.pages[0].Annots
            if a.get("/FT") == "/Sig" or "/Parent" in a or a.Subtype == "/Widget"
        )
        x1, _y1, _x2, y2 = (float(v) for v in widget.Rect)
        height = float(pdf.pages[0].mediabox[3])
        assert x1 < 40 and y2 > height - 40  # top-left corner of page 1
        assert len(pdf.pages) == 2


def test_a_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    p12, _ = _clerk_key(tmp_path, b"right")
    page = process_image(sp.render_page(2), "p")
    plain = assemble_pdf([page.jpeg], tmp_path / "copy.pdf", PdfMeta()).path
    with pytest.raises(SigningError, match="clerk's key"):
        sign_pdf(plain, tmp_path / "signed.pdf", ClerkSigner(p12, "X", b"wrong"))
    assert not (tmp_path / "signed.pdf").exists()


def test_the_cli_signs_each_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    from motcua_cli.main import main
    from scanner.pdf import read_meta

    p12, _ = _clerk_key(tmp_path, b"pw")
    monkeypatch.setenv("MOTCUA_SIGN_PASSPHRASE", "pw")
    image = tmp_path / "p.png"
    cv2.imwrite(str(image), sp.render_page(3, qr_text="H21.65-220914-0011"))
    out = tmp_path / "o.pdf"
    args = ["scan", "process", str(image), "--out", str(out), "--sign-p12", str(p12)]
    assert main(args) == 2  # a stamp needs the clerk's name
    assert main([*args, "--clerk", "Trần Văn Bình"]) == 0
    with pikepdf.open(out) as pdf:
        assert pikepdf.Name.Sig == pdf.Root.AcroForm.Fields[0].FT
    assert read_meta(out)["dossierCode"] == "H21.65-220914-0011"
