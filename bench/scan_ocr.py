"""Seconds per page of OCR to PDF/A: the station's ``ocr_to_pdfa`` next to ``ocrmypdf`` alone.

The same PDF (pipeline pages of the generated corpus, with the dossier's XMP) goes through plain
``ocrmypdf -l vie --output-type pdfa-2 --optimize 0 --jobs N`` and through ``scanner.ocr.ocr_to_pdfa``
(the station's options, then the ``motcua:`` XMP fields written back); both in the same run. Whether
every XMP field survived is reported for each.

    python bench/scan_ocr.py [--pages 6] [--jobs 2] [--rounds 2]   # best of the rounds for each

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner import ocr
from scanner.imagefile import decode_images
from scanner.pdf import PdfMeta, assemble_pdf, read_meta
from scanner.pipeline import process_image
from scanner.testcorpus import corpus


def make_pdf(pages: int, path: Path) -> Path:
    jpegs: list[bytes] = []
    for s in corpus(pages * 3, seed=2):
        if s.kind in ("form", "letter", "receipt", "coded") and len(jpegs) < pages:
            loaded = decode_images(s.data, s.name)[0]
            jpegs.append(process_image(loaded.image, s.name, loaded.dpi).jpeg)
    return assemble_pdf(jpegs, path, PdfMeta("H21.65-220914-0001", "01", None, ())).path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = make_pdf(args.pages, Path(tmp) / "in.pdf")
        fields = read_meta(src)
        cmd = [sys.executable, "-m", "ocrmypdf", "-l", "vie", "--output-type", "pdfa-2", "--optimize", "0"]
        plain_runs, ours_runs = [], []
        for _ in range(args.rounds):  # alternated, so neither gets the warm caches or the quiet minute
            t0 = time.perf_counter()
            subprocess.run(
                [*cmd, "--jobs", str(args.jobs), "--quiet", str(src), f"{tmp}/plain.pdf"], check=True
            )
            plain_runs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ocr.ocr_to_pdfa(src, Path(tmp) / "ours.pdf", jobs=args.jobs)
            ours_runs.append(time.perf_counter() - t0)
        plain_s, ours_s = min(plain_runs), min(ours_runs)
        line = {
            "bench": "scan_ocr",
            "pages": args.pages,
            "jobs": args.jobs,
            "ocrmypdf_s_per_page": round(plain_s / args.pages, 2),
            "station_s_per_page": round(ours_s / args.pages, 2),
            "ratio_to_ocrmypdf": round(ours_s / plain_s, 3),
            "xmp_fields": sorted(fields),
            "xmp_kept_ocrmypdf": read_meta(Path(tmp) / "plain.pdf") == fields,
            "xmp_kept_station": read_meta(Path(tmp) / "ours.pdf") == fields,
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "load": round(os.getloadavg()[0], 2),
        }
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
