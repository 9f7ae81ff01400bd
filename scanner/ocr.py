"""OCR to PDF/A in the background: ocrmypdf with Tesseract ``vie``, one page at a time per job.

OCR costs about a second per page and per core and garbles stacked tone marks, so its text serves
search only; the page images stay exactly as scanned. It runs in its own process (ocrmypdf is
CPU-bound and holds the GIL otherwise) from a worker thread, so the station stays responsive. The
dossier code and document type survive as ``dc:identifier`` / ``dc:type``, and every ``motcua:``
field (dossier code, document type, page count, blank pages), which ocrmypdf drops, is written back
with the PDF/A extension schema that declares it.
Sign after OCR: OCR rewrites the file.
"""

from __future__ import annotations

import logging
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from scanner.errors import ScanError
from scanner.pdf import read_meta, restore_meta

log = logging.getLogger(__name__)

Done = Callable[[Path, "OcrError | None"], None]


class OcrError(ScanError):
    """OCR failed; the PDF without OCR is still good to send."""


def ocr_to_pdfa(
    source: Path, target: Path, language: str = "vie", timeout: float = 600.0, jobs: int = 2
) -> Path:
    """Write a PDF/A-2b of ``source`` with a text layer to ``target``, its XMP fields kept."""
    tmp = target.with_name(target.name + ".part")
    try:
        fields = read_meta(source)
    except (pikepdf.PdfError, OSError):
        fields = {}  # not a PDF pikepdf can read: ocrmypdf will say what is wrong with it
    cmd = [
        sys.executable,
        "-m",
        "ocrmypdf",
        "-l",
        language,
        "--output-type",
        "pdfa-2",
        "--optimize",
        "0",
        "--jobs",
        str(jobs),
        "--quiet",
        str(source),
        str(tmp),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        tmp.unlink(missing_ok=True)
        raise OcrError(f"OCR of {source.name} took more than {timeout:.0f} s; sent without OCR") from err
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        why = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise OcrError(f"OCR of {source.name} failed: {why}")
    try:
        restore_meta(tmp, fields)  # ocrmypdf's PDF/A keeps dc: but drops the motcua namespace
    except ScanError as err:
        tmp.unlink(missing_ok=True)
        raise OcrError(f"OCR of {source.name}: {err}") from err
    tmp.replace(target)
    return target


@dataclass(frozen=True)
class _Job:
    source: Path
    target: Path
    done: Done


class BackgroundOcr:
    """One worker thread running OCR jobs in order; ``done(target, error)`` is called for each."""

    def __init__(self, language: str = "vie") -> None:
        self.language = language
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="ocr", daemon=True)
        self._thread.start()

    def submit(self, source: Path, target: Path, done: Done) -> None:
        self._jobs.put(_Job(source, target, done))

    def stop(self, timeout: float = 60.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                ocr_to_pdfa(job.source, job.target, self.language)
                job.done(job.target, None)
            except OcrError as err:
                log.warning("%s", err)
                job.done(job.target, err)
