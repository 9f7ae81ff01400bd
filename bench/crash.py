"""The calls crash test, longer: a day of calls while the queue server and Mosquitto are SIGKILLed.

Plays ``tests/test_crash_calls.py``'s day (three counters, two kiosks, a hall reader following
``calls`` and filling gaps with ``calls_since``) with more kills: the server killed from outside at
random moments and by its own fault hook between commit and publish or half-way through publishing
(``MOTCUA_TEST_KILL_AT``), the broker killed with its persistence keeping old retained state. Checks
that the reader's list is exactly the store's calls, each once, in seq order, and that the retained
counter states are current; then prints one JSON line with the counts.

    python bench/crash.py [--server-kills 100] [--broker-kills 15] [--seed 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--server-kills", type=int, default=100)
    parser.add_argument("--broker-kills", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    day = importlib.import_module("test_crash_calls")
    with tempfile.TemporaryDirectory(prefix="motcua-crash-") as tmp:
        result = day.play_day(
            Path(tmp), server_kills=args.server_kills, broker_kills=args.broker_kills, seed=args.seed
        )
    print(json.dumps({"bench": "crash_calls", "ok": True, **dataclasses.asdict(result)}))


if __name__ == "__main__":
    main()
