"""What a keypad log-in costs the server: the argon2 PIN check, right, wrong and for an unknown code.

The check runs on the keypad log-in's own thread (``queue_server/keypad_login.py``), never on the
MQTT thread; this measures how long an officer waits after the last CONFIRM, and that an unknown
code costs as much as a known one (no timing oracle for which codes exist). Baseline in the same run:
the console's password check (``Officers.login``), the same argon2 parameters.

    python bench/keypad_login.py [--rounds 10]

Prints one JSON line: medians in ms and the ratio unknown-code / wrong-PIN.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from queue_server.accounts import Officers
from queue_server.db import Store

PASSWORD, PIN, CODE = "mat-khau-dai-1", "2468", "1017"


def median_ms(check: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        check()
        samples.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(samples), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        officers = Officers(store.engine)
        officers.add("cb01", "Cán bộ", "officer", PASSWORD, PIN, keypad_code=CODE)
        right = median_ms(lambda: officers.pin_login(CODE, PIN), args.rounds)
        password = median_ms(lambda: officers.login("cb01", PASSWORD), args.rounds)
        # Wrong PINs lock the account after five: reset it between rounds, outside the timing.
        wrong_samples = []
        for _ in range(args.rounds):
            officers.reset("cb01", PASSWORD)
            wrong_samples.append(median_ms(lambda: officers.pin_login(CODE, "1357"), 1))
        wrong = round(statistics.median(wrong_samples), 1)
        unknown = median_ms(lambda: officers.pin_login("9090", PIN), args.rounds)
        store.close()
    print(
        json.dumps(
            {
                "pin_check_right_ms": right,
                "pin_check_wrong_ms": wrong,
                "pin_check_unknown_code_ms": unknown,
                "password_check_ms": password,
                "unknown_over_wrong": round(unknown / wrong, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
