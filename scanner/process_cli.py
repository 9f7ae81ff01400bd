"""The ``motcua scan process`` command: files in, one PDF per document out, a line per page printed.

Barcode texts other than dossier codes and separators are not printed: a CCCD QR holds personal data.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.batch import Refused, load_all, process_loaded
from scanner.codes import DEFAULT_SYMBOLOGIES, SymbologyError, symbology_name
from scanner.dossier import validate_doc_type, validate_dossier_code
from scanner.errors import ScanError
from scanner.imagefile import LoadedImage
from scanner.pdf import PdfFile, PdfMeta, assemble_pdf, sha256_file
from scanner.pipeline import DPI_TOLERANCE, LEGAL_MIN_DPI, Document, PageResult, ScanSettings, split_documents

if TYPE_CHECKING:
    from scanner.signing import ClerkSigner


def _settings(args: argparse.Namespace) -> ScanSettings:
    if args.dpi < 200:
        raise ScanError(f"--dpi {args.dpi}: digitised documents need at least 200 dpi")
    if not 1 <= args.quality <= 95:
        raise ScanError(f"--quality {args.quality}: use 1 to 95")
    decoders = tuple(d.strip() for d in args.decoders.split(",") if d.strip())
    for name in decoders:
        if name not in ("zxing", "pyzbar"):
            raise ScanError(f"--decoders: unknown decoder {name!r}; use zxing, pyzbar or both")
    symbologies: tuple[str, ...] = DEFAULT_SYMBOLOGIES
    if getattr(args, "symbologies", None):
        try:
            symbologies = tuple(symbology_name(n) for n in args.symbologies.split(",") if n.strip())
        except SymbologyError as err:
            raise ScanError(f"--symbologies: {err}") from err
    return ScanSettings(
        dpi=args.dpi,
        jpeg_quality=args.quality,
        flatten=not args.no_flatten,
        decoders=decoders,
        assume_dpi=args.assume_dpi,
        symbologies=symbologies,
        osd=not getattr(args, "no_osd", False),
    )


def _checked(args: argparse.Namespace) -> tuple[ScanSettings, str | None]:
    """Every option checked before the first page is touched: a batch is not scanned for nothing."""
    settings = _settings(args)
    dossier = validate_dossier_code(args.dossier) if args.dossier else None
    if args.doc_type is not None:
        validate_doc_type(args.doc_type)
    _check_out(args.out, getattr(args, "images", []))
    if args.sign_p12 is not None and not args.clerk:
        raise ScanError("--sign-p12 needs --clerk NAME for the stamp")
    if args.spool is not None:
        from scanner.spool import load_key

        load_key()  # the PDFs must not be left readable for want of a key found only at the end
    return settings, dossier


def _check_out(out: Path, inputs: list[Path]) -> None:
    """``--out`` must be a PDF in a folder that can be written, and never one of the inputs."""
    if out.suffix.lower() != ".pdf":
        raise ScanError(f"--out {out}: name a .pdf file (OUT-01.pdf, OUT-02.pdf… when a batch is split)")
    if out.is_dir():
        raise ScanError(f"--out {out}: a folder; name a .pdf file in it")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ScanError(f"--out {out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ScanError(f"--out {out}: cannot write in {folder}")
    written = re.compile(rf"{re.escape(out.stem)}(-\d{{2,}})?(\.pdf|\.manifest\.json)", re.IGNORECASE)
    for path in inputs:
        if path.resolve().parent == out.resolve().parent and written.fullmatch(path.name):
            raise ScanError(f"--out {out} would overwrite the input {path}: write the PDF elsewhere")


def describe_codes(page: PageResult) -> str:
    parts = []
    for code in page.codes:
        if page.separator is not None and code.text.startswith("MCSEP"):
            parts.append(f"separator {code.text} ({code.decoder})")
        elif code.text.strip() in page.dossier_codes:
            parts.append(f"dossier {code.text.strip()} ({code.decoder})")
        else:
            parts.append(f"{code.symbology} of {len(code.text)} chars, not shown ({code.decoder})")
    return "; ".join(parts) or "none"


def page_line(number: int, page: PageResult) -> str:
    ms = " ".join(f"{k} {v:.0f}" for k, v in page.ms.items())
    total = sum(page.ms.values())
    blank = (
        f"BLANK (ink {page.ink_ratio:.2%}) kept, check it" if page.blank else f"no (ink {page.ink_ratio:.2%})"
    )
    sheet = " sheet found" if page.sheet is not None else ""
    line = (
        f"p{number:<3} {page.name}: turned {page.rotation:+7.2f}° ccw (skew {page.skew:+.2f}°, "
        f"quarter turns {page.quarter_turns}){sheet} | blank {blank} | codes {describe_codes(page)} | "
        f"{page.dpi:.0f} dpi {len(page.jpeg) // 1024} KB | ms {ms} total {total:.0f}"
    )
    for warning in page.warnings:
        line += f"\n     warning: {warning}"
    return line


def _out_path(out: Path, index: int, count: int) -> Path:
    return out if count == 1 else out.with_name(f"{out.stem}-{index:02d}{out.suffix or '.pdf'}")


def _write(
    doc: Document,
    path: Path,
    dossier: str | None,
    doc_type: str | None,
    signer: ClerkSigner | None,
    *,
    ocr: bool = False,
) -> dict[str, object]:
    code = doc.dossier_code or dossier
    if dossier and doc.dossier_code and doc.dossier_code != dossier:
        print(
            f"warning: {path.name}: separator says dossier {doc.dossier_code}, --dossier says {dossier}; "
            "the separator wins",
            file=sys.stderr,
        )
    blanks = tuple(i + 1 for i, p in enumerate(doc.pages) if p.blank)
    meta = PdfMeta(code, doc.doc_type or doc_type, None, blanks)
    pdf = assemble_pdf([p.jpeg for p in doc.pages], path, meta)
    if ocr:
        from scanner.ocr import OcrError, ocr_to_pdfa

        try:
            ocr_to_pdfa(path, path)
        except OcrError as err:
            print(f"warning: {err}", file=sys.stderr)
    if signer is not None:
        from scanner.signing import sign_pdf

        sign_pdf(path, path, signer)
    if signer is not None or ocr:
        pdf = PdfFile(path, pdf.pages, path.stat().st_size, sha256_file(path))
    return {
        "pdf": str(pdf.path),
        "sha256": pdf.sha256,
        "bytes": pdf.bytes,
        "dossier_code": code,
        "doc_type": meta.doc_type,
        "blank_pages": list(blanks),
        "pages": [
            {
                "source": p.name,
                "sha256": p.sha256,
                "blank": p.blank,
                "rotation": round(p.rotation, 2),
                "orientation_unsure": p.orientation_unsure,
            }
            for p in doc.pages
        ],
    }


def process_command(args: argparse.Namespace) -> int:
    try:
        settings, dossier = _checked(args)
    except ScanError as err:
        print(f"motcua scan: {err}", file=sys.stderr)
        return 2
    images, refused = load_all(args.images)
    for bad in refused:
        print(f"refused {bad.reason}", file=sys.stderr)
    return _run_batch(images, refused, settings, dossier, args)


def capture_command(args: argparse.Namespace) -> int:
    """Scan a batch from a capture source; whatever was scanned before a fault is kept and bound."""
    from scanner.errors import CaptureError
    from scanner.sources import open_source

    try:
        settings, dossier = _checked(args)
        source = open_source(args.source)
    except ScanError as err:
        print(f"motcua scan: {err}", file=sys.stderr)
        return 2
    images: list[LoadedImage] = []
    try:
        for image in source.pages():
            images.append(image)
            print(f"scanned {image.name}", file=sys.stderr, flush=True)
    except CaptureError as err:
        print(f"motcua scan: {err}", file=sys.stderr)
        if not images:
            return 2
        print(f"motcua scan: keeping the {len(images)} pages scanned before the fault", file=sys.stderr)
    code = _run_batch(images, [], settings, dossier, args)
    return code


def upload_command(args: argparse.Namespace) -> int:
    from scanner.spool import Spool, load_key
    from scanner.upload import Uploader

    try:
        spool = Spool(args.spool, load_key())
        uploader = Uploader(args.store, spool)
        try:
            for result in uploader.upload_all(lambda done, size: None):
                entry = result.entry
                print(
                    f"uploaded {entry.filename} for dossier {entry.dossier_code}: {entry.size} bytes, "
                    f"sha256 {entry.sha256} (resumed at {result.resumed_at})"
                )
        finally:
            uploader.close()
    except ScanError as err:
        print(f"motcua scan: {err}", file=sys.stderr)
        return 1
    return 0


def _run_batch(
    images: list[LoadedImage],
    refused: list[Refused],
    settings: ScanSettings,
    dossier: str | None,
    args: argparse.Namespace,
) -> int:
    unstated = [image.name for image in images if image.dpi is None]
    if unstated:
        more = " …" if len(unstated) > 5 else ""
        print(
            f"note: {len(unstated)} pages state no resolution and are taken as {settings.assume_dpi:g} dpi"
            f" (--assume-dpi): {', '.join(unstated[:5])}{more}",
            file=sys.stderr,
        )
    pages: list[PageResult] = []
    for number, page in enumerate(process_loaded(images, settings, args.jobs), start=1):
        pages.append(page)
        print(page_line(number, page), flush=True)
    documents = _documents(pages)
    if not documents:
        print("motcua scan: no usable page, no PDF written", file=sys.stderr)
        return 2
    written = []
    signer = _signer(args)
    try:
        for i, doc in enumerate(documents, start=1):
            written.append(
                _write(
                    doc, _out_path(args.out, i, len(documents)), dossier, args.doc_type, signer, ocr=args.ocr
                )
            )
    except (ScanError, OSError) as err:
        print(f"motcua scan: cannot write the PDF: {err}", file=sys.stderr)
        return 2
    for entry in written:
        print(
            f"wrote {entry['pdf']}: {len(entry['pages'])} pages, {entry['bytes']} bytes, "  # type: ignore[arg-type]
            f"dossier {entry['dossier_code'] or '(none)'}, sha256 {entry['sha256']}"
        )
    manifest = args.out.with_suffix(".manifest.json")
    manifest.write_text(json.dumps(_manifest(written, refused, args), ensure_ascii=False, indent=1) + "\n")
    if args.spool is not None:
        spooled = _spool(written, args.spool)
        if spooled:
            return spooled
    low = [p.name for p in pages if p.dpi < LEGAL_MIN_DPI * (1 - DPI_TOLERANCE)]
    if low:
        print(
            f"motcua scan: {len(low)} pages below {LEGAL_MIN_DPI} dpi, bound but to be rescanned: "
            + ", ".join(low),
            file=sys.stderr,
        )
    return 1 if refused or low else 0


def _documents(pages: list[PageResult]) -> list[Document]:
    """The batch split on separators; a separator with nothing after it is noted and dropped."""
    documents = []
    for doc in split_documents(pages):
        if doc.pages:
            documents.append(doc)
        elif doc.separator is not None:
            print(f"note: separator sheet {doc.separator.name} has no pages after it", file=sys.stderr)
    return documents


def _signer(args: argparse.Namespace) -> ClerkSigner | None:
    if args.sign_p12 is None:
        return None
    from scanner.signing import ClerkSigner

    return ClerkSigner.from_env(args.sign_p12, args.clerk)


def _spool(written: list[dict[str, object]], folder: Path) -> int:
    """Move each written PDF into the encrypted spool; a PDF with no dossier code stays where it is."""
    from scanner.spool import Spool, load_key

    try:
        spool = Spool(folder, load_key())
    except ScanError as err:
        print(f"motcua scan: cannot spool: {err}", file=sys.stderr)
        return 2
    kept = 0
    for entry in written:
        code = entry["dossier_code"]
        if not isinstance(code, str):
            print(f"note: {entry['pdf']} has no dossier code; not spooled (give --dossier)", file=sys.stderr)
            kept += 1
            continue
        doc_type = entry["doc_type"] if isinstance(entry["doc_type"], str) else None
        spooled = spool.put(Path(str(entry["pdf"])), code, doc_type)
        print(f"spooled {spooled.filename} (encrypted, plain copy removed) as {spooled.entry_id}")
    return 1 if kept else 0


def _manifest(written: list[dict[str, object]], refused: list[Refused], args: argparse.Namespace) -> object:
    inputs: list[dict[str, str | None]] = []
    for path in getattr(args, "images", []):
        try:
            digest = sha256_file(path) if path.is_file() else None  # a device or a pipe is not read again
        except OSError:
            digest = None
        inputs.append({"file": str(path), "sha256": digest})
    return {"documents": written, "inputs": inputs, "refused": [r.__dict__ for r in refused]}
