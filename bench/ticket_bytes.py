"""Bytes and line time of the standard 80 mm Vietnamese queue ticket, against a whole-ticket raster.

The ticket is rendered as motcua sends it (raster bands only for Vietnamese lines, native text for the
number and times, native QR). The baseline, in the same run, is python-escpos ``image()`` of the same
ticket drawn whole: the simulator's paper image of our own bytes, sent as one raster, which is what a
"render everything with Pillow" driver sends. ``seconds_at_115200`` counts 10 bits a byte (8N1).

    python bench/ticket_bytes.py [--profile generic-80] [--runs 30]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime

from escpos.printer import Dummy
from PIL import ImageOps

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.profiles import find_profile
from printer.ticket import TicketData, render_ticket

STANDARD_TICKET = TicketData(
    centre_name="Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
    service_name="Lĩnh vực Hộ tịch – Chứng thực",
    number="B2023",
    priority_label="Ưu tiên: Người cao tuổi",
    issued_at=datetime(2026, 11, 23, 8, 5),
    waiting=12,
    estimated_wait_min=35,
    qr_url="https://hcc.example.gov.vn/t/3q9xv0a7",
)
BITS_PER_BYTE = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="generic-80")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    profile = find_profile(args.profile)
    data = render_ticket(STANDARD_TICKET, profile=profile)
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        render_ticket(STANDARD_TICKET, profile=profile)
        timings.append(time.perf_counter() - start)

    (paper,) = EscposPrinterSim(width_dots=profile.width).replay(data)
    ink = ImageOps.invert(paper.convert("L")).getbbox()
    page = paper.crop((0, 0, paper.width, ink[3] if ink else paper.height))  # no blank tail
    baseline = Dummy()
    baseline.profile = profile.escpos_profile()
    start = time.perf_counter()
    baseline.image(page, impl="bitImageRaster")
    baseline.cut(mode="PART")
    baseline_s = time.perf_counter() - start
    baseline_bytes = len(baseline.output)
    print(
        json.dumps(
            {
                "bench": "ticket_bytes",
                "profile": args.profile,
                "bytes": len(data),
                "baseline_bytes": baseline_bytes,
                "ratio": round(baseline_bytes / len(data), 2),
                "seconds_at_115200": round(len(data) * BITS_PER_BYTE / 115200, 3),
                "baseline_seconds_at_115200": round(baseline_bytes * BITS_PER_BYTE / 115200, 3),
                "seconds_at_9600": round(len(data) * BITS_PER_BYTE / 9600, 2),
                "render_ms": round(statistics.median(timings) * 1000, 2),
                "baseline_image_ms": round(baseline_s * 1000, 2),
                "paper_mm": round(page.height / 8, 1),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
