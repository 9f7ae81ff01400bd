"""Pages per minute through the scan pipeline on generated A4 colour pages at 200 dpi, without OCR.

The input is what a feeder or a camera delivers: JPEG pages, some skewed, some turned, some camera
shots in perspective, blank backs, separator sheets, a QR on about half of them. Measured in the same
run with the same worker pool: the **baseline** (decode the JPEG, encode it again, img2pdf it — what a
scanner app does with no processing at all) and the **pipeline** (every stage, then img2pdf + pikepdf
with XMP). Then both barcode decoders are run on the same corrected pages to count what each reads.

    python bench/scan_pipeline.py [--pages 60] [--jobs 2]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import img2pdf  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware_sim import scanner_pages as sp
from scanner import codes as barcodes
from scanner.jpeg import decode_jpeg, encode_jpeg
from scanner.pdf import PdfMeta, assemble_pdf
from scanner.pipeline import ScanSettings, process_image

DOSSIER = "H21.65-220914-{:04d}"
# OpenCV's thread pool does not survive fork(): a forked worker can hang on its locks.
SPAWN = multiprocessing.get_context("spawn")


def make_pages(count: int) -> tuple[list[bytes], int]:
    """JPEG inputs (q90, as a scanner sends them) and how many carry a code."""
    pages: list[bytes] = []
    with_code = 0
    for i in range(count):
        kind = i % 10
        text = DOSSIER.format(i) if kind in (0, 2, 4, 6, 8) else None
        front = sp.render_page(i, qr_text=text)
        if kind in (0, 1, 5):
            image = sp.skew(front, ((i * 7.3) % 30) - 15)
        elif kind in (2, 3):
            image = sp.photograph(front, i, rotate=(i % 5) * 3 - 6, size=(2000, 2600)).image
        elif kind == 4:
            image = sp.feed(front, (i % 9) - 4, i).image
        elif kind == 6:
            image = sp.quarter_turns(sp.skew(front, 2.0), 2)
        elif kind == 7:
            image = sp.blank_back(i, bleed_from=front)
        elif kind == 8:
            image = sp.quarter_turns(front, 1)
        else:
            image = sp.separator_sheet(f"MCSEP|{DOSSIER.format(i)}|01")
            text = "separator"
        with_code += text is not None
        ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        pages.append(buffer.tobytes())
    return pages, with_code


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core: OpenCV's own threads would only fight over them


def baseline_page(jpeg: bytes) -> bytes:
    return encode_jpeg(decode_jpeg(jpeg), 80, 200)


def pipeline_page(jpeg: bytes) -> tuple[bytes, dict[str, float]]:
    result = process_image(decode_jpeg(jpeg), "bench", 200.0, ScanSettings())
    return result.jpeg, result.ms


def decoder_pass(jpeg: bytes) -> dict[str, tuple[int, float]]:
    grey = cv2.cvtColor(decode_jpeg(jpeg), cv2.COLOR_BGR2GRAY)
    out = {}
    for name in ("zxing", "pyzbar"):
        t0 = time.perf_counter()
        report = barcodes.read_codes(grey, (name,), retry=True)
        out[name] = (len(report.codes), (time.perf_counter() - t0) * 1000)
    return out


def run(pages: list[bytes], jobs: int, workdir: Path) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, mp_context=SPAWN) as pool:
        list(pool.map(baseline_page, pages[: 2 * jobs]))  # warm the workers up
        t0 = time.perf_counter()
        plain = list(pool.map(baseline_page, pages))
        (workdir / "baseline.pdf").write_bytes(img2pdf.convert(plain))
        baseline_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        results = list(pool.map(pipeline_page, pages))
        pdf = assemble_pdf(
            [jpeg for jpeg, _ in results], workdir / "pipeline.pdf", PdfMeta(DOSSIER.format(0))
        )
        pipeline_s = time.perf_counter() - t0

        decoded = list(pool.map(decoder_pass, [jpeg for jpeg, _ in results]))
    stages: dict[str, list[float]] = {}
    for _, ms in results:
        for stage, value in ms.items():
            stages.setdefault(stage, []).append(value)
    return {
        "pages_per_min": round(len(pages) / pipeline_s * 60, 1),
        "baseline_pages_per_min": round(len(pages) / baseline_s * 60, 1),
        "ratio_to_baseline": round(baseline_s / pipeline_s, 3),
        "bytes_per_page": round(pdf.bytes / len(pages)),
        "baseline_bytes_per_page": round((workdir / "baseline.pdf").stat().st_size / len(pages)),
        "ms_per_stage": {k: round(sum(v) / len(pages), 1) for k, v in stages.items()},
        "ms_per_page_cpu": round(sum(sum(ms.values()) for _, ms in results) / len(pages), 1),
        "codes_read_zxing": sum(d["zxing"][0] for d in decoded),
        "codes_read_pyzbar": sum(d["pyzbar"][0] for d in decoded),
        "decoder_ms_median": {
            name: round(statistics.median(d[name][1] for d in decoded), 1) for name in ("zxing", "pyzbar")
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    pages, with_code = make_pages(args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(pages, args.jobs, Path(tmp))
    line = {
        "bench": "scan_pipeline",
        "dpi": 200,
        "pages": args.pages,
        "jobs": args.jobs,
        **figures,
        "codes_total": with_code,
        "input_bytes_per_page": round(sum(map(len, pages)) / len(pages)),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}",
    }
    print(json.dumps(line, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
