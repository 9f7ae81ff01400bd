"""Pages per minute through the scan pipeline on the generated realistic corpus, against a baseline.

The input is ``scanner.testcorpus``: Vietnamese forms, receipts, letters with tables, CCCD-like cards,
stamp-only and single-line pages, separator sheets, coded pages and blank backs, as a flatbed (PNG or
JPEG), a sheet feeder (JPEG over a dark backing) and a phone camera (JPEG with EXIF orientation,
perspective, blur, shadow) deliver them. Measured in the same run with the same worker pool: the
**baseline** (read the file, encode a JPEG, img2pdf — a scanner app with no processing) and the
**pipeline** (every stage with orientation and codes on, then img2pdf + pikepdf with XMP).

Afterwards, outside the timing, each page's result is checked against the truth and against zxing-cpp
run directly on the same image, per corpus class (document kind and capture device).

    python bench/scan_pipeline.py [--pages 60] [--jobs 2] [--seed 1] [--no-osd] [--rounds 3]

Baseline and pipeline alternate ``--rounds`` times on the same pages (the load of a shared machine
drifts between two long runs); the round with the median ratio is reported, every round's ratio too.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import img2pdf  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner import codes as barcodes
from scanner.imagefile import decode_images
from scanner.jpeg import encode_jpeg
from scanner.pdf import PdfMeta, assemble_pdf
from scanner.pipeline import ScanSettings, process_image
from scanner.testcorpus import Sample, check, corpus

DOSSIER = "H21.65-220914-0001"
# OpenCV's thread pool does not survive fork(): a forked worker can hang on its locks.
SPAWN = multiprocessing.get_context("spawn")


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core: OpenCV's own threads would only fight over them


def baseline_page(item: tuple[bytes, str]) -> bytes:
    loaded = decode_images(item[0], item[1])[0]
    return encode_jpeg(loaded.image, 80, round(loaded.dpi or 200))


def pipeline_page(item: tuple[bytes, str, bool]) -> dict[str, Any]:
    data, name, osd = item
    loaded = decode_images(data, name)[0]
    page = process_image(loaded.image, name, loaded.dpi, ScanSettings(osd=osd))
    return {
        "jpeg": page.jpeg,
        "ms": page.ms,
        "turns": page.quarter_turns,
        "unsure": page.orientation_unsure,
        "sheet": None if page.sheet is None else page.sheet.tolist(),
        "blank": page.blank,
        "codes": sorted({(c.symbology, c.text) for c in page.codes}),
    }


def direct_codes(item: tuple[bytes, str]) -> list[tuple[str, str]]:
    grey = cv2.cvtColor(decode_images(item[0], item[1])[0].image, cv2.COLOR_BGR2GRAY)
    return sorted({(c.symbology, c.text) for c in barcodes.read_zxing_direct(grey)})


def _timed_rounds(
    pool: ProcessPoolExecutor, items: list[tuple[bytes, str]], osd: bool, rounds: int, workdir: Path
) -> tuple[list[float], list[float], list[dict[str, Any]], Any]:
    """Baseline and pipeline over the same pages, alternating ``rounds`` times (load on a shared
    machine drifts: each round's pair is measured back to back)."""
    baseline_s: list[float] = []
    pipeline_s: list[float] = []
    results: list[dict[str, Any]] = []
    pdf = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        plain = list(pool.map(baseline_page, items))
        (workdir / "baseline.pdf").write_bytes(img2pdf.convert(plain))
        baseline_s.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        results = list(pool.map(pipeline_page, [(d, n, osd) for d, n in items]))
        pdf = assemble_pdf([r["jpeg"] for r in results], workdir / "pipeline.pdf", PdfMeta(DOSSIER))
        pipeline_s.append(time.perf_counter() - t0)
    return baseline_s, pipeline_s, results, pdf


def run(samples: list[Sample], jobs: int, osd: bool, workdir: Path, rounds: int = 1) -> dict[str, Any]:
    items = [(s.data, s.name) for s in samples]
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, mp_context=SPAWN) as pool:
        # Warm the workers up on both paths: a station is a long-lived process (libraries loaded once).
        list(pool.map(baseline_page, items[: 2 * jobs]))
        list(pool.map(pipeline_page, [(d, n, osd) for d, n in items[: 2 * jobs]]))
        baseline_s, pipeline_s, results, pdf = _timed_rounds(pool, items, osd, rounds, workdir)
        direct = list(pool.map(direct_codes, items))
    ratios = [b / p for b, p in zip(baseline_s, pipeline_s, strict=True)]
    middle = sorted(range(rounds), key=lambda i: ratios[i])[rounds // 2]
    stages: dict[str, float] = defaultdict(float)
    for r in results:
        for stage, value in r["ms"].items():
            stages[stage] += value
    return {
        "pages_per_min": round(len(samples) / pipeline_s[middle] * 60, 1),
        "baseline_pages_per_min": round(len(samples) / baseline_s[middle] * 60, 1),
        "ratio_to_baseline": round(baseline_s[middle] / pipeline_s[middle], 3),
        "ratio_per_round": [round(r, 3) for r in ratios],
        "bytes_per_page": round(pdf.bytes / len(samples)),
        "baseline_bytes_per_page": round((workdir / "baseline.pdf").stat().st_size / len(samples)),
        "ms_per_stage": {k: round(v / len(samples), 1) for k, v in sorted(stages.items())},
        "ms_per_page_cpu": round(sum(stages.values()) / len(samples), 1),
        "classes": accuracy(samples, results, direct),
    }


def accuracy(samples: list[Sample], results: list[dict[str, Any]], direct: list[Any]) -> dict[str, Any]:
    """Per class: pages, upright, flagged unsure, wrong (turned and not flagged), codes, corners, blank."""
    import numpy as np

    table: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for s, r, d in zip(samples, results, direct, strict=True):
        row = table[s.label]
        sheet = None if r["sheet"] is None else np.asarray(r["sheet"])
        v = check(s, r["turns"], r["unsure"], sheet)
        row["pages"] += 1
        if not s.blank:
            row["upright"] += v.upright
            row["unsure"] += r["unsure"]
            row["wrong"] += (not v.upright) and not r["unsure"]
        got = {tuple(c) for c in r["codes"]}
        row["codes_truth"] += len(s.codes)
        row["codes_pipeline_of_truth"] += len(set(s.codes) & got)
        row["codes_pipeline_not_printed"] += len(got - set(s.codes))
        row["codes_direct_zxing_of_truth"] += len(set(s.codes) & {tuple(c) for c in d})
        row["direct_missed_by_pipeline"] += 0 if s.blank else len({tuple(c) for c in d} - got)
        row["corners_over_1pct"] += v.sheet_missed or (v.corner_error is not None and v.corner_error >= 0.01)
        row["blank_wrong"] += r["blank"] != s.blank
    return {k: dict(v) for k, v in sorted(table.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-osd", action="store_true", help="never ask Tesseract's OSD")
    parser.add_argument("--rounds", type=int, default=3, help="baseline/pipeline pairs; the median is kept")
    args = parser.parse_args()
    samples = list(corpus(args.pages, args.seed))
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(samples, args.jobs, not args.no_osd, Path(tmp), max(1, args.rounds))
    classes = figures["classes"]
    keys = sorted({k for c in classes.values() for k in c})
    totals = {k: sum(c.get(k, 0) for c in classes.values()) for k in keys}
    line = {
        "bench": "scan_pipeline",
        "corpus": f"scanner.testcorpus seed {args.seed}",
        "dpi": 200,
        "pages": args.pages,
        "jobs": args.jobs,
        "osd": not args.no_osd,
        "rounds": max(1, args.rounds),
        **figures,
        "totals": totals,
        "input_bytes_per_page": round(sum(len(s.data) for s in samples) / len(samples)),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "load": round(os.getloadavg()[0], 2),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}",
    }
    print(json.dumps(line, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
