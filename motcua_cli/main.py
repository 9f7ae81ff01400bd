"""``motcua``: one command for every role of a centre.

motcua demo [--headless --for S] [--site FILE] [--broker URL]   a whole virtual centre
motcua check-site FILE                                           validate a site file
motcua import-procedures EXPORT --site FILE                      procedures from the portal's export
motcua contract export [--check] [--out DIR]                     JSON Schemas + contract docs
motcua server --site FILE [--broker URL]                         the queue server
motcua site credentials --site FILE --out DIR [--rotate ID]      broker users, secrets and ACL
motcua device --site FILE --device ID [--broker URL]             one device service
motcua kiosk --site FILE --device ID [--broker URL]              the dispenser window
motcua hub serve|ship|bridge-conf|broker-conf|init-db|user|status the province hub and a centre's link
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bus import models as m
from bus.client import BusError
from bus.process import StopSignal, exit_at_once, wait_for_signal
from queue_server.db import StoreError
from siteconf import Site, SiteFileError, load_site
from transport.base import TransportError

log = logging.getLogger("motcua")

__all__ = ["main", "wait_for_signal"]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = REPO_ROOT / "sites" / "demo.toml"

# Subcommands that live with their package. Each module has ``register(sub)``, which adds its parsers
# with ``set_defaults(run=function)``; ``function(args)`` returns the exit code. Keep these modules
# light to import: heavy imports belong inside the run functions.
COMMAND_MODULES = (
    "queue_server.cli",
    "queue_server.calendar_cli",
    "queue_server.server_cli",
    "queue_server.reports.cli",
    "queue_server.accounts_cli",
    "queue_server.dossier_cli",
    "printer.cli",
    "counter_display.cli",
    "kiosk.cli",
    "scanner.cli",
    "firmware_sim.cli",
    "motcua_cli.credentials",
    "motcua_cli.catalogue",
    "hub.cli",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motcua", description="Kiosk and counter suite for one-stop centres"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run a whole virtual centre on this machine")
    demo.add_argument("--site", type=Path, default=DEMO_SITE)
    demo.add_argument("--broker", help="use this broker (mqtt://HOST:PORT) instead of starting one")
    demo.add_argument("--headless", action="store_true", help="no windows, even if a display exists")
    demo.add_argument("--for", dest="duration", type=float, help="stop after this many seconds")
    demo.add_argument("--speed", type=float, default=1.0, help="citizen and clerk pace (2 = twice as busy)")
    demo.add_argument(
        "--out", type=Path, default=Path("var/demo"), help="where the printer simulator saves tickets"
    )

    check = sub.add_parser("check-site", help="validate a site file and print a summary")
    check.add_argument("file", type=Path)

    contract = sub.add_parser("contract", help="the MQTT contract's schemas and docs")
    contract_sub = contract.add_subparsers(dest="action", required=True)
    export = contract_sub.add_parser("export", help="write JSON Schemas and README to docs/contract")
    export.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "contract")
    export.add_argument("--check", action="store_true", help="only check the files are up to date")

    for name, text in (
        ("server", "run the queue server"),
        ("device", "run one device service"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--site", type=Path, required=True)
        p.add_argument("--broker", help="override the site file's broker URL")
        if name != "server":
            p.add_argument("--device", required=True, help="device id in the site file")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except SiteFileError as err:
        print(f"motcua: bad site file {err.path}:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except (BusError, TransportError, StoreError) as err:
        print(f"motcua: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    run = getattr(args, "run", None)
    if run is not None:
        code: int = run(args)
        return code
    if args.command == "check-site":
        return check_site(args.file)
    if args.command == "contract":
        return contract_export(args.out, args.check)
    if args.command == "demo":
        from motcua_cli.demo import run_demo

        return run_demo(args)
    site = load_site(args.site)
    broker = args.broker or site.broker.url
    if args.command == "server":
        return _serve(site, broker)
    from motcua_cli.devices import run_device

    return run_device(site, args.device, broker)


def check_site(path: Path) -> int:
    site: Site = load_site(path)
    kinds: dict[str, int] = {}
    for device in site.devices:
        kinds[device.kind] = kinds.get(device.kind, 0) + 1
    devices = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no devices"
    print(
        f"{path}: ok — site {site.site.id} ({site.site.name}): {len(site.services)} services, "
        f"{len(site.counters)} counters, {len(site.kiosk.procedures)} procedures, {devices}"
    )
    for counter, printer in sorted(site.printing.receipt_printers.items()):
        print(f"  counter {counter}: receipts print on {printer}")
    for warning in site.kiosk.warnings(site):
        print(f"{path}: warning: {warning}", file=sys.stderr)
    return 0


def contract_export(out: Path, check: bool) -> int:
    from bus import contract

    if check:
        stale = contract.stale_files(out)
        if stale:
            print(
                f"stale contract files in {out}: {', '.join(stale)}; run: motcua contract export",
                file=sys.stderr,
            )
            return 1
        print(f"{out}: contract files are up to date")
        return 0
    for path in contract.export(out):
        print(path)
    return 0


def _form01_pdf(receipt: m.ReceiptPrint) -> bytes:
    """The console's A5 fallback; the printer package (fpdf2, fonts) loads on the first one."""
    from printer.form01_pdf import receipt_pdf

    return receipt_pdf(receipt)


def _serve(site: Site, broker: str) -> int:
    from queue_server.access import Access
    from queue_server.db import Store
    from queue_server.http import HttpServer, create_app
    from queue_server.public import LookupKeys, Public
    from queue_server.server import QueueServer
    from queue_server.watchdog import exit_process

    stop = StopSignal()  # before "online": a SIGTERM while the HTTP port opens is a clean stop too
    store = Store.open(site.database.url)  # a relative path is relative to the working directory
    server = QueueServer(site, store, broker, on_worker_failure=exit_process).start()
    http = None
    address = site.http.address()
    if address is not None:
        keys = LookupKeys.from_file(Path(site.http.lookup_secret_file))
        scheme = "https" if site.http.tls() else "http"
        public = Public(keys, public_url=site.site.public_url or f"{scheme}://{site.http.listen}")
        dossiers, key_file = Path(site.http.dossier_dir), Path(site.http.dossier_key_file)
        app = create_app(
            server,
            Access.of(store),
            site.site.name,
            dossiers,
            public,
            dossier_key=key_file,
            form01_pdf=_form01_pdf,
        )
        http = HttpServer(app, *address, tls=site.http.tls()).start()
        log.warning("HTTP API and counter consoles on %s/console/N", http.url)
    stop.wait()
    if http is not None:
        http.stop()
    server.stop()
    store.close()
    exit_at_once(0)  # everything is closed: no interpreter teardown to wait for


if __name__ == "__main__":
    sys.exit(main())
