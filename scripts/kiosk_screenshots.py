"""Screenshots of the real dispenser window on a real X server (Xvfb, 1920 x 1080), for docs/screenshots.

    .venv/bin/python scripts/kiosk_screenshots.py --tag after
    .venv/bin/python scripts/kiosk_screenshots.py --tag before --code /tmp/old-checkout

Mosquitto, the queue server (demo site; ``business`` closed now, so it refuses with ``outside_hours``)
and the printer service with its simulator (its roll ends at the first job) run here; the kiosk window
runs in its own process (``tests/kiosk_window_probe.py``) from ``--code`` (default: this checkout), so
the same scenario can be shot with an older version of the kiosk. It shows the home screen, takes a
``land`` ticket (the printer fails: the virtual ticket), then a ``business`` one (outside its hours).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from kiosk_rig import KioskRig  # noqa: E402
from support import xvfb  # noqa: E402

from bus.broker import EmbeddedBroker  # noqa: E402
from siteconf import load_site  # noqa: E402

DEMO = REPO / "sites" / "demo.toml"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tag", required=True, help="before or after: the PNG names' suffix")
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout whose kiosk is shot")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    site = load_site(DEMO).around_the_clock()
    closed = [
        s.model_copy(update={"issuing_hours": [("00:00", "00:01")]}) if s.code == "business" else s
        for s in site.services
    ]
    server_site = site.model_copy(update={"services": closed})
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(port=0, engine="mosquitto") as broker:
        work = Path(tmp)
        with (
            KioskRig(server_site, broker.url, work, journal=False) as rig,
            xvfb(work / "x.log", "1920x1080x24") as display,
        ):
            rig.backend.stop()  # the window's process is kiosk-1
            sim = rig.sims.printers["printer-k1"]
            sim.paper_out_at_job = sim.jobs_started + 1
            env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(args.code)}
            env.pop("QT_QUICK_BACKEND", None)
            probe = [sys.executable, str(REPO / "tests" / "kiosk_window_probe.py"), "--site", str(DEMO)]
            probe += ["--broker", str(broker.url), "--out", str(work / "probe.json")]
            probe += ["--shots", str(args.out), "--tag", args.tag]
            done = subprocess.run(probe, env=env, cwd=args.code, check=False, timeout=300)
            print((work / "probe.json").read_text(encoding="utf-8") if done.returncode == 0 else "failed")
            return done.returncode


if __name__ == "__main__":
    sys.exit(main())
