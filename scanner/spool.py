"""Finished PDFs waiting for the dossier store, encrypted at rest on the counter machine.

Scans of ID cards are sensitive personal data: a PDF is encrypted (AES-256-GCM) as soon as it is
spooled and the plain file removed; the encrypted copy is deleted once the store confirmed it.
The key comes from a file (``MOTCUA_SCAN_KEY_FILE``) or the environment (``MOTCUA_SCAN_KEY``), never
from the site file. Key text: 32 bytes as 64 hex digits or URL-safe base64.

Spool entry on disk: ``{id}.json`` (dossier code, document type, file name, size, SHA-256 of the plain
PDF — no personal data) and ``{id}.enc`` = nonce (12 bytes) ‖ AES-GCM ciphertext+tag, with the entry
id as associated data so files cannot be swapped between entries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from scanner.dossier import validate_dossier_code
from scanner.errors import ScanError

KEY_ENV = "MOTCUA_SCAN_KEY"
KEY_FILE_ENV = "MOTCUA_SCAN_KEY_FILE"


class SpoolError(ScanError):
    """The spool cannot be used: no key, a wrong key, or a damaged entry."""


def parse_key(text: str) -> bytes:
    text = text.strip()
    try:
        key = (
            bytes.fromhex(text)
            if len(text) == 64
            else base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        )
    except (ValueError, binascii.Error) as err:
        raise SpoolError("the scan key must be 32 bytes as 64 hex digits or URL-safe base64") from err
    if len(key) != 32:
        raise SpoolError(f"the scan key is {len(key)} bytes; it must be 32 (AES-256)")
    return key


def load_key(path: Path | None = None) -> bytes:
    """The spool key from ``path``, else ``$MOTCUA_SCAN_KEY_FILE``, else ``$MOTCUA_SCAN_KEY``."""
    file = path or (Path(os.environ[KEY_FILE_ENV]) if os.environ.get(KEY_FILE_ENV) else None)
    if file is not None:
        try:
            return parse_key(file.read_text())
        except OSError as err:
            raise SpoolError(f"cannot read the scan key file {file}: {err.strerror or err}") from err
    if os.environ.get(KEY_ENV):
        return parse_key(os.environ[KEY_ENV])
    raise SpoolError(f"no scan key: set {KEY_FILE_ENV} to a key file or {KEY_ENV} (64 hex digits)")


def new_key() -> str:
    return secrets.token_hex(32)


@dataclass(frozen=True)
class SpoolEntry:
    entry_id: str
    dossier_code: str
    filename: str
    size: int
    sha256: str
    doc_type: str | None = None


class Spool:
    """A folder of encrypted PDFs waiting to be uploaded."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._aead = AESGCM(key)

    def put(
        self, pdf: Path, dossier_code: str, doc_type: str | None = None, remove_plain: bool = True
    ) -> SpoolEntry:
        """Encrypt ``pdf`` into the spool; the plain file is removed unless told otherwise."""
        data = pdf.read_bytes()
        entry = SpoolEntry(
            uuid.uuid4().hex,
            validate_dossier_code(dossier_code),
            pdf.name,
            len(data),
            hashlib.sha256(data).hexdigest(),
            doc_type,
        )
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._aead.encrypt(nonce, data, entry.entry_id.encode())
        _write_atomic(self.folder / f"{entry.entry_id}.enc", sealed)
        _write_atomic(self.folder / f"{entry.entry_id}.json", json.dumps(asdict(entry)).encode())
        if remove_plain:
            pdf.unlink()
        return entry

    def entries(self) -> list[SpoolEntry]:
        out = []
        for meta in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
            try:
                out.append(SpoolEntry(**json.loads(meta.read_text())))
            except (ValueError, TypeError) as err:
                raise SpoolError(f"spool entry {meta.name} is damaged: {err}") from err
        return out

    def read(self, entry: SpoolEntry) -> bytes:
        sealed = (self.folder / f"{entry.entry_id}.enc").read_bytes()
        try:
            data = self._aead.decrypt(sealed[:12], sealed[12:], entry.entry_id.encode())
        except InvalidTag as err:
            raise SpoolError(
                f"spool entry {entry.entry_id} does not decrypt: wrong key or damaged file"
            ) from err
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise SpoolError(f"spool entry {entry.entry_id} decrypts to a different file than was spooled")
        return data

    def remove(self, entry: SpoolEntry) -> None:
        for suffix in (".enc", ".json"):
            (self.folder / f"{entry.entry_id}{suffix}").unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
