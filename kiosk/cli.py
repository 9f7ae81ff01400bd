"""``motcua kiosk --site FILE --device ID [--mode dispenser|lookup|rating] [--windowed]``.

Runs one kiosk screen full-screen: the ticket dispenser (default), the lookup screen, or a counter's
rating tablet. ``--dump-targets FILE`` writes every touch target's name and rectangle (pixels) once the
screen is up, for checking the 15 mm rule on the real panel.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("kiosk", help="run a kiosk screen: ticket dispenser, lookup or rating tablet")
    p.add_argument("--site", type=Path, required=True)
    p.add_argument("--device", required=True, help="device id in the site file")
    p.add_argument("--broker", help="override the site file's broker URL")
    p.add_argument("--mode", choices=("dispenser", "lookup", "rating"), default="dispenser")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument("--server-url", help="lookup: base URL of the queue server's HTTP API")
    p.add_argument("--dump-targets", type=Path, help="write the touch targets (JSON) once shown")
    p.set_defaults(run=run_kiosk)


def run_kiosk(args: argparse.Namespace) -> int:
    from kiosk.run import run

    return run(args)
