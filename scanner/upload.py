"""Sending spooled PDFs to the dossier store (``queue_server.dossiers``) over HTTP with httpx.

Chunked and resumable: the store says which offset it holds; every chunk carries its SHA-256; a cut
connection or a restarted store costs only the chunk in flight. The spool entry is deleted only after
the store answered ``complete`` with the same SHA-256, and then ``on_uploaded`` runs (the station
publishes a ``dossier_uploaded`` evt from it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bus.models import DossierUploaded
from scanner.errors import UploadError
from scanner.spool import Spool, SpoolEntry

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024


@dataclass
class UploadResult:
    entry: SpoolEntry
    bytes_sent: int
    resumed_at: int


Progress = Callable[[int, int], None]


class Uploader:
    """Uploads spool entries to one dossier store."""

    def __init__(
        self,
        base_url: str,
        spool: Spool,
        *,
        chunk_bytes: int = CHUNK_BYTES,
        timeout: float = 10.0,
        attempts: int = 5,
        backoff: float = 0.2,
        on_uploaded: Callable[[SpoolEntry], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        api_key: str | None = None,
    ) -> None:
        # The queue server's store takes uploads with this station's own API key of the ``upload`` scope
        # (``motcua apikey add scanner-q3 --scope upload``), from MOTCUA_UPLOAD_KEY, never the site file.
        key = api_key if api_key is not None else os.environ.get("MOTCUA_UPLOAD_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=base_url, timeout=timeout, transport=transport, headers=headers)
        self.spool = spool
        self.chunk_bytes = chunk_bytes
        self.attempts = attempts
        self.backoff = backoff
        self.on_uploaded = on_uploaded

    def close(self) -> None:
        self.client.close()

    def upload_all(self, progress: Progress | None = None) -> list[UploadResult]:
        return [self.upload(entry, progress) for entry in self.spool.entries()]

    def upload(self, entry: SpoolEntry, progress: Progress | None = None) -> UploadResult:
        """Send one entry, resuming where the store stopped; retry transient failures ``attempts`` times."""
        data = self.spool.read(entry)
        sent, resumed_at = 0, -1
        for attempt in range(1, self.attempts + 1):
            try:
                state = self._start(entry)
                if resumed_at < 0:
                    resumed_at = int(state["offset"])
                if not state["complete"]:
                    sent += self._send(state, data, progress)
                self._confirm(entry)
                break
            except (httpx.TransportError, _RetryableError) as err:
                log.warning(
                    "upload of %s interrupted (%s), attempt %d/%d",
                    entry.entry_id,
                    err,
                    attempt,
                    self.attempts,
                )
                if attempt == self.attempts:
                    raise UploadError(
                        f"dossier {entry.dossier_code}: store unreachable after {attempt} attempts ({err}); "
                        "the encrypted copy stays in the spool"
                    ) from err
                time.sleep(self.backoff * attempt)
        self.spool.remove(entry)
        if self.on_uploaded is not None:
            self.on_uploaded(entry)
        return UploadResult(entry, sent, max(resumed_at, 0))

    def _start(self, entry: SpoolEntry) -> dict[str, Any]:
        body = {
            "filename": entry.filename,
            "size": entry.size,
            "sha256": entry.sha256,
            "doc_type": entry.doc_type,
        }
        response = self.client.post(f"/dossiers/{entry.dossier_code}/uploads", json=body)
        return self._json(response, (200, 201))

    def _send(self, state: dict[str, Any], data: bytes, progress: Progress | None) -> int:
        offset, sent = int(state["offset"]), 0
        while offset < len(data):
            chunk = data[offset : offset + self.chunk_bytes]
            headers = {"Upload-Offset": str(offset), "Chunk-SHA256": hashlib.sha256(chunk).hexdigest()}
            response = self.client.patch(f"/uploads/{state['upload_id']}", content=chunk, headers=headers)
            if response.status_code == 409:
                offset = int(response.json()["offset"])  # the store knows better: continue from there
                continue
            reply = self._json(response, (200,))
            sent += len(chunk)
            offset = int(reply["offset"])
            if progress is not None:
                progress(offset, len(data))
            if reply["complete"]:
                if reply.get("sha256") != hashlib.sha256(data).hexdigest():
                    raise UploadError("the store confirmed a different SHA-256 than was sent")
                break
        return sent

    def _confirm(self, entry: SpoolEntry) -> None:
        response = self.client.get(f"/dossiers/{entry.dossier_code}/files")
        stored = self._json_list(response)
        if not any(f.get("sha256") == entry.sha256 and f.get("size") == entry.size for f in stored):
            raise UploadError(f"dossier {entry.dossier_code}: the store does not list the file after upload")

    def _json(self, response: httpx.Response, ok: tuple[int, ...]) -> dict[str, Any]:
        self._check(response, ok)
        body: dict[str, Any] = response.json()
        return body

    def _json_list(self, response: httpx.Response) -> list[dict[str, Any]]:
        self._check(response, (200,))
        body: list[dict[str, Any]] = response.json()
        return body

    @staticmethod
    def _check(response: httpx.Response, ok: tuple[int, ...]) -> None:
        if response.status_code in ok:
            return
        if response.status_code >= 500 or response.status_code == 400:
            raise _RetryableError(f"HTTP {response.status_code}")
        detail = response.text[:200]
        raise UploadError(f"the dossier store refused: HTTP {response.status_code} {detail}")


class _RetryableError(Exception):
    """A failure worth another attempt (server error, damaged chunk)."""


def dossier_uploaded_event(entry: SpoolEntry) -> DossierUploaded:
    """The ``evt`` a station publishes once the store confirmed a file (codes and hashes only)."""
    return DossierUploaded(
        dossier_code=entry.dossier_code, sha256=entry.sha256, bytes=entry.size, doc_type=entry.doc_type
    )
