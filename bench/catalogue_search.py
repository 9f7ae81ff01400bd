"""Search speed over a province-sized procedures catalogue: one keystroke's search on the kiosk.

A province's catalogue holds about 2,000 procedures; the dispenser and the lookup screen search it on
every key a citizen touches, on the GUI thread, so one search must stay well under a frame.

- ``search_ms``: ``find_procedures`` (tone-, case- and i/y-insensitive, every word a word prefix) over
  ``--procedures`` generated procedures, median of ``--rounds`` runs over a fixed set of queries;
- baseline: the plain ``casefold`` substring test the kiosk used before, over the same names.

    python bench/catalogue_search.py [--procedures 2000] [--rounds 20]

Prints one JSON line (medians in milliseconds per query, and their ratio).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from siteconf.procedures import Procedure, find_procedures

WORDS = ["Đăng ký", "khai sinh", "kết hôn", "chứng thực", "bản sao", "đất đai", "hộ kinh doanh",
         "cấp đổi", "giấy phép", "xây dựng", "thay đổi", "cải chính", "hộ tịch", "biến động",
         "quyền sử dụng"]  # fmt: skip
QUERIES = ["khai sinh", "KHAI SINH", "dang ky khai sinh", "đăng kí", "cap doi giay phep", "xyz"]


def catalogue(size: int) -> list[Procedure]:
    out = []
    for i in range(size):
        name = " ".join(WORDS[(i * k) % len(WORDS)] for k in (1, 3, 7)) + f" {i}"
        out.append(Procedure(code=f"{1 + i % 3}.{i:06d}", name=name, service="civil", agency="UBND cấp xã"))
    return out


def per_query_ms(search: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for query in QUERIES:
            search(query)  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000 / len(QUERIES))
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--procedures", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    procedures = catalogue(args.procedures)
    folded = per_query_ms(lambda q: find_procedures(procedures, q), args.rounds)
    plain = per_query_ms(lambda q: [p for p in procedures if q.casefold() in p.name.casefold()], args.rounds)
    print(
        json.dumps(
            {
                "procedures": args.procedures,
                "search_ms": round(folded, 2),
                "baseline_substring_ms": round(plain, 3),
                "ratio": round(folded / plain, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
