"""Files sealed with AES-GCM, record by record, so that no plaintext of a dossier touches the disk.

A sealed file is a sequence of records ``len (4 bytes, big-endian) ‖ nonce (12) ‖ ciphertext+tag``;
each record is one uploaded chunk, bound by its associated data to the file (``{code}/{sha256}``) and
to its plaintext offset, so records cannot be swapped between files, reordered or replayed. Truncation
is caught by the whole file's SHA-256, checked before a file is accepted and again when it is read.

The 256-bit key lives in a file outside the store (mode 0600, made on first use), as the scanning
station's spool does: a copy of the store alone (a backup, a stolen disk) reveals nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from queue_server.errors import QueueServerError

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
_OVERHEAD = 12 + 16


class SealedError(QueueServerError, ValueError):
    """A sealed file that does not open: wrong key, altered, reordered or truncated."""


def load_key(path: Path, store_root: Path | None = None) -> bytes:
    """The 32-byte key in ``path``, made there (0600) on first use; never inside ``store_root``."""
    if store_root is not None and path.resolve().is_relative_to(store_root.resolve()):
        raise SealedError(f"the dossier store's key {path} must live outside the store {store_root}")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
        log.info("made a new dossier store key in %s", path)
    key = path.read_bytes()
    if len(key) != 32:
        raise SealedError(f"{path} holds {len(key)} bytes; a dossier store key is 32")
    return key


class Sealer:
    """Seals and opens the records of files bound to ``{code}/{sha256}``."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, out: BinaryIO, binding: str, offset: int, data: bytes) -> None:
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._aead.encrypt(nonce, data, f"{binding}@{offset}".encode())
        out.write(_HEADER.pack(len(sealed)) + sealed)

    def plain_size(self, path: Path) -> int:
        """How many plaintext bytes ``path`` holds (from the record headers; nothing is decrypted)."""
        total = 0
        with path.open("rb") as handle:
            while header := handle.read(_HEADER.size):
                (length,) = _HEADER.unpack(header)
                total += length - _OVERHEAD
                handle.seek(length, os.SEEK_CUR)
        return total

    def records(self, path: Path, binding: str) -> Iterator[bytes]:
        """The plaintext of ``path``, record by record; ``SealedError`` if any record does not open."""
        offset = 0
        with path.open("rb") as handle:
            while header := handle.read(_HEADER.size):
                (length,) = _HEADER.unpack(header)
                sealed = handle.read(length)
                try:
                    data = self._aead.decrypt(sealed[:12], sealed[12:], f"{binding}@{offset}".encode())
                except InvalidTag as err:
                    raise SealedError(f"{path.name}: record at {offset} does not open") from err
                offset += len(data)
                yield data
