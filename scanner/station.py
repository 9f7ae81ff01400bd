"""The scanning station's batch, without any UI: pages in order, edits, and sending.

The clerk scans, looks at the thumbnails, turns, moves or deletes pages, rescans one, types or scans
the dossier code, and sends: the batch is split on separator sheets, each document assembled (and
signed), encrypted into the spool and, when a store is configured, uploaded. Blank pages stay in the
batch, marked, until the clerk deletes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scanner.dossier import validate_dossier_code
from scanner.errors import ScanError
from scanner.imagefile import LoadedImage
from scanner.jpeg import encode_jpeg
from scanner.pdf import PdfMeta, assemble_pdf
from scanner.pipeline import PageResult, ScanSettings, process_image, split_documents, turn
from scanner.spool import Spool, SpoolEntry

Progress = Callable[[int, int, str], None]


@dataclass
class StationBatch:
    """The pages on the clerk's screen, in order."""

    settings: ScanSettings = field(default_factory=ScanSettings)
    pages: list[PageResult] = field(default_factory=list)
    dossier_code: str | None = None

    def add(self, loaded: LoadedImage) -> PageResult:
        page = process_image(loaded.image, loaded.name, loaded.dpi, self.settings)
        self.pages.append(page)
        if self.dossier_code is None and page.dossier_codes:
            self.dossier_code = page.dossier_codes[0]
        return page

    def rotate(self, index: int, quarter_turns: int = 1) -> None:
        """Turn one page counter-clockwise by quarter turns (the clerk knows better than the heuristic).

        Turning a page flagged "which way is up is unclear" clears the flag.
        """
        page = self.pages[index]
        image = turn(page.image, quarter_turns)
        jpeg = encode_jpeg(image, self.settings.jpeg_quality, round(page.dpi))
        self.pages[index] = dataclasses.replace(
            page,
            image=image,
            jpeg=jpeg,
            quarter_turns=(page.quarter_turns + quarter_turns) % 4,
            orientation_unsure=False,  # the clerk has looked at it and turned it
        )

    def unsure_pages(self) -> list[int]:
        """Pages the pipeline could not tell up from down on: kept as scanned, for the clerk to check."""
        return [i for i, page in enumerate(self.pages) if page.orientation_unsure]

    def move(self, source: int, target: int) -> None:
        self.pages.insert(target, self.pages.pop(source))

    def delete(self, index: int) -> PageResult:
        return self.pages.pop(index)

    def replace(self, index: int, loaded: LoadedImage) -> PageResult:
        """A rescanned page takes the old one's place."""
        page = process_image(loaded.image, loaded.name, loaded.dpi, self.settings)
        self.pages[index] = page
        return page

    def insert_after(self, index: int, loaded: LoadedImage) -> PageResult:
        """A second scan of an annotated page, without the note, goes right after it (TT 01/2023)."""
        page = process_image(loaded.image, loaded.name, loaded.dpi, self.settings)
        self.pages.insert(index + 1, page)
        return page

    def set_dossier_code(self, text: str) -> str:
        self.dossier_code = validate_dossier_code(text)
        return self.dossier_code

    def send(self, out_dir: Path, spool: Spool, progress: Progress | None = None) -> list[SpoolEntry]:
        """Assemble each document, encrypt it into the spool; the plain PDFs do not stay behind."""
        if not self.pages:
            raise ScanError("no pages to send")
        if self.dossier_code is None:
            raise ScanError("no dossier code: scan the receipt's QR or type the code")
        documents = [d for d in split_documents(self.pages) if d.pages]
        out_dir.mkdir(parents=True, exist_ok=True)
        entries = []
        for i, doc in enumerate(documents, start=1):
            if progress is not None:
                progress(i - 1, len(documents), f"PDF {i}/{len(documents)}")
            code = doc.dossier_code or self.dossier_code
            blanks = tuple(n + 1 for n, p in enumerate(doc.pages) if p.blank)
            path = out_dir / f"{code}-{i:02d}.pdf"
            assemble_pdf([p.jpeg for p in doc.pages], path, PdfMeta(code, doc.doc_type, None, blanks))
            entries.append(spool.put(path, code, doc.doc_type))
        if progress is not None:
            progress(len(documents), len(documents), "done")
        self.pages = []
        return entries
