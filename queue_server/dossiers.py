"""The dossier store's HTTP side: resumable, hash-verified uploads of digitised dossiers.

Protocol (JSON bodies unless said; every upload is bound to one dossier code)::

    POST  /dossiers/{code}/uploads   {"filename", "size", "sha256", "doc_type"?}
          201 {"upload_id", "offset", "size", "complete": false}     new upload
          200 {"upload_id", "offset", ...}                            same file again: resume where it stopped
          200 {"complete": true, "sha256", ...}                       already stored
    GET   /uploads/{id}                  200 {"offset", "size", "complete", ...}
    PATCH /uploads/{id}                  body = raw bytes; headers Upload-Offset: N, Chunk-SHA256: hex
          200 {"offset": N + len, "complete": bool, "sha256"?}
          409 {"detail", "offset"}   the offset is not where the store is: ask again and resume there
          400 bad chunk hash, 413 past the declared size, 422 whole-file hash mismatch (upload discarded)
    GET   /dossiers/{code}/files         200 [{"sha256", "size", "filename", "doc_type"}]

A chunk is written only after it arrived whole and matched its hash, so a cut connection leaves the
store at the last good offset. Every chunk is sealed with AES-GCM before it is written
(``queue_server/sealed.py``; the key is a file outside the store), so no scanned page is ever on the
disk in clear, not even half-uploaded. The finished file is checked against the declared SHA-256
before it is moved into ``{storage}/{code}/{sha256}.enc`` and ``on_uploaded(code, sha256)`` is called;
``DossierStore.read`` opens it again. State lives on disk, so an upload survives a restart too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from queue_server.sealed import SealedError, Sealer

log = logging.getLogger(__name__)

DOSSIER_CODE = r"^[0-9A-Z.]{3,13}-\d{6}-\d{4,7}$"
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_CHUNK_BYTES = 16 * 1024 * 1024
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
Code = Annotated[str, PathParam(pattern=DOSSIER_CODE, description="dossier code, e.g. H21.65-220914-0011")]


class NewUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=120, pattern=r"^[^/\\\x00]+$")
    size: int = Field(gt=0, le=MAX_FILE_BYTES)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    doc_type: str | None = Field(default=None, pattern=r"^[0-9A-Z._]{1,16}$")


class DossierStore:
    """Files on disk: ``.uploads/{id}.json`` + ``.part`` while uploading, ``{code}/{sha256}.enc`` after;
    ``.part`` and ``.enc`` hold sealed records only."""

    def __init__(self, root: Path, key: bytes) -> None:
        self.root = root
        self.uploads = root / ".uploads"
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.sealer = Sealer(key)

    def final_path(self, code: str, sha256: str) -> Path:
        return self.root / code / f"{sha256}.enc"

    def read(self, code: str, sha256: str) -> bytes:
        """A stored file in clear, checked against its hash (``SealedError`` if it does not open)."""
        data = b"".join(self.sealer.records(self.final_path(code, sha256), f"{code}/{sha256}"))
        if hashlib.sha256(data).hexdigest() != sha256:
            raise SealedError(f"{code}/{sha256[:12]}: the opened file does not match its hash (truncated?)")
        return data

    def state(self, upload_id: str) -> dict[str, Any]:
        if not _UPLOAD_ID.match(upload_id):
            raise HTTPException(404, f"no upload {upload_id!r}")
        path = self.uploads / f"{upload_id}.json"
        try:
            state: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            raise HTTPException(404, f"no upload {upload_id}: start again with POST") from None
        part = self.uploads / f"{upload_id}.part"
        state["offset"] = self.sealer.plain_size(part) if part.exists() else 0
        return state

    def find(self, code: str, sha256: str) -> dict[str, Any] | None:
        for meta in self.uploads.glob("*.json"):
            state = json.loads(meta.read_text())
            if state["code"] == code and state["sha256"] == sha256:
                return self.state(state["upload_id"])
        return None

    def create(self, code: str, body: NewUpload) -> dict[str, Any]:
        state = {"upload_id": uuid.uuid4().hex, "code": code, **body.model_dump()}
        (self.uploads / f"{state['upload_id']}.part").touch()
        tmp = self.uploads / f"{state['upload_id']}.json.tmp"
        tmp.write_text(json.dumps(state))
        tmp.replace(self.uploads / f"{state['upload_id']}.json")
        return self.state(str(state["upload_id"]))

    def append(self, state: dict[str, Any], data: bytes) -> int:
        part = self.uploads / f"{state['upload_id']}.part"
        with part.open("ab") as handle:
            self.sealer.seal(handle, f"{state['code']}/{state['sha256']}", state["offset"], data)
            handle.flush()
            os.fsync(handle.fileno())
        return int(state["offset"]) + len(data)

    def finish(self, state: dict[str, Any]) -> bool:
        """Check the whole file's hash; store it under its hash, or discard the upload."""
        upload_id = state["upload_id"]
        part = self.uploads / f"{upload_id}.part"
        digest = hashlib.sha256()
        for block in self.sealer.records(part, f"{state['code']}/{state['sha256']}"):
            digest.update(block)
        if digest.hexdigest() != state["sha256"]:
            part.unlink()
            (self.uploads / f"{upload_id}.json").unlink()
            return False
        final = self.final_path(state["code"], state["sha256"])
        final.parent.mkdir(parents=True, exist_ok=True)
        part.replace(final)
        meta = {k: state[k] for k in ("filename", "size", "sha256", "doc_type")}
        final.with_suffix(".json").write_text(json.dumps(meta))
        (self.uploads / f"{upload_id}.json").unlink()
        return True

    def files(self, code: str) -> list[dict[str, Any]]:
        folder = self.root / code
        if not folder.is_dir():
            return []
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]

    def delete(self, code: str) -> list[str]:
        """Remove every stored file of ``code``; the SHA-256 of each file removed."""
        folder = self.root / code
        removed = [p.stem for p in sorted(folder.glob("*.enc"))] if folder.is_dir() else []
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            path.unlink()
        if folder.is_dir():
            folder.rmdir()
        return removed


def dossier_router(storage_dir: Path, key: bytes, on_uploaded: Callable[[str, str], None]) -> APIRouter:
    """Routes of the dossier store, files kept under ``storage_dir`` sealed with ``key``; mount with
    ``app.include_router``."""
    store = DossierStore(storage_dir, key)
    router = APIRouter(tags=["dossiers"])

    @router.post("/dossiers/{code}/uploads")
    def start_upload(code: Code, body: NewUpload) -> JSONResponse:
        with store.lock:
            if store.final_path(code, body.sha256).exists():
                return JSONResponse(
                    {"complete": True, "sha256": body.sha256, "offset": body.size, "size": body.size}
                )
            existing = store.find(code, body.sha256)
            if existing is not None:
                return JSONResponse(_public(existing))
            return JSONResponse(_public(store.create(code, body)), status_code=201)

    @router.get("/uploads/{upload_id}")
    def upload_state(upload_id: str) -> dict[str, Any]:
        return _public(store.state(upload_id))

    @router.patch("/uploads/{upload_id}")
    async def upload_chunk(
        upload_id: str,
        request: Request,
        upload_offset: Annotated[int, Header(ge=0)],
        chunk_sha256: Annotated[str, Header(pattern=r"^[0-9a-f]{64}$")],
    ) -> JSONResponse:
        data = await request.body()
        # Writing and fsyncing block: do it on a worker thread, not on the event loop.
        return await run_in_threadpool(
            _store_chunk,
            store,
            on_uploaded,
            upload_id,
            upload_offset=upload_offset,
            chunk_sha256=chunk_sha256,
            data=data,
        )

    @router.get("/dossiers/{code}/files")
    def dossier_files(code: Code) -> list[dict[str, Any]]:
        return store.files(code)

    return router


def _store_chunk(
    store: DossierStore,
    on_uploaded: Callable[[str, str], None],
    upload_id: str,
    *,
    upload_offset: int,
    chunk_sha256: str,
    data: bytes,
) -> JSONResponse:
    """Check and append one chunk of an upload; finish it when the last byte is in."""
    if len(data) > MAX_CHUNK_BYTES:
        raise HTTPException(413, f"chunk of {len(data)} bytes; at most {MAX_CHUNK_BYTES}")
    if hashlib.sha256(data).hexdigest() != chunk_sha256:
        raise HTTPException(400, "chunk does not match its Chunk-SHA256: send it again")
    with store.lock:
        state = store.state(upload_id)
        if upload_offset != state["offset"]:
            return JSONResponse(
                {
                    "detail": f"offset {upload_offset} is not the store's {state['offset']}",
                    "offset": state["offset"],
                },
                status_code=409,
            )
        if state["offset"] + len(data) > state["size"]:
            raise HTTPException(413, f"chunk goes past the declared size {state['size']}")
        offset = store.append(state, data)
        if offset < state["size"]:
            return JSONResponse({"offset": offset, "size": state["size"], "complete": False})
        if not store.finish(state):
            raise HTTPException(422, "the file's SHA-256 does not match the declared one; upload discarded")
    log.info("dossier %s: stored file %s (%d bytes)", state["code"], state["sha256"][:12], state["size"])
    on_uploaded(state["code"], state["sha256"])
    return JSONResponse(
        {"offset": offset, "size": state["size"], "complete": True, "sha256": state["sha256"]}
    )


def _public(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "upload_id": state["upload_id"],
        "offset": state["offset"],
        "size": state["size"],
        "sha256": state["sha256"],
        "complete": False,
    }
