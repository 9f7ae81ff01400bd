"""``motcua hub``: the province hub and the centre's side of its link.

motcua hub serve --config HUB.toml                          ingest + province dashboard (the unit's command)
motcua hub init-db --config HUB.toml [--partitions N]       make the hub's tables
motcua hub user add --config HUB.toml NAME [--role R]       an account (password on stdin)
motcua hub broker-conf --config HUB.toml --port P --name H  hub broker: CA, certs, passwd, ACL, conf
motcua hub bridge-conf --site SITE.toml --hub HOST:PORT --password-file F [--ca CA] [--out FILE]
motcua hub ship --site SITE.toml [--broker URL] [--state FILE]   the centre's shipper
motcua hub status --config HUB.toml                         each centre's chain as the hub holds it
motcua hub report --config HUB.toml --period KIND VALUE [--centre SITE] [--rank BY]
                  [--format table|csv|xlsx] [--out FILE]    the province's (or one centre's) report
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    hub = sub.add_parser("hub", help="the province hub and the centre's link to it")
    actions = hub.add_subparsers(dest="hub_action", required=True)

    serve = actions.add_parser("serve", help="run the hub: ingest from the hub broker and the dashboard")
    serve.add_argument("--config", type=Path, required=True)
    serve.set_defaults(run=run_serve)

    init = actions.add_parser("init-db", help="make the hub's tables in its PostgreSQL database")
    init.add_argument("--config", type=Path, required=True)
    init.add_argument("--partitions", type=int, default=0, help="hash partitions of the events by centre")
    init.set_defaults(run=run_init_db)

    user = actions.add_parser("user", help="provincial staff accounts")
    user_actions = user.add_subparsers(dest="user_action", required=True)
    add = user_actions.add_parser("add", help="add or reset an account; the password is read from stdin")
    add.add_argument("--config", type=Path, required=True)
    add.add_argument("name")
    add.add_argument("--role", default="viewer", choices=("viewer", "admin"))
    add.set_defaults(run=run_user_add)

    broker = actions.add_parser(
        "broker-conf", help="write the hub broker's CA, certificate, passwd, ACL, conf"
    )
    broker.add_argument("--config", type=Path, required=True)
    broker.add_argument("--port", type=int, default=8883)
    broker.add_argument("--name", action="append", required=True, help="host name or address of the hub")
    broker.add_argument("--no-tls", action="store_true", help="plain TCP (only behind a VPN or for tests)")
    broker.add_argument("--local-port", type=int, help="a loopback listener without TLS for the hub itself")
    broker.set_defaults(run=run_broker_conf)

    bridge = actions.add_parser("bridge-conf", help="the bridge block for a centre's Mosquitto")
    bridge.add_argument("--site", type=Path, required=True, help="the centre's site file")
    bridge.add_argument("--hub", required=True, help="HOST:PORT of the hub broker")
    bridge.add_argument("--password-file", type=Path, required=True, help="the centre's secret at the hub")
    bridge.add_argument("--ca", type=Path, help="the hub's CA certificate (omit only for plain TCP)")
    bridge.add_argument("--out", type=Path, help="write here (mode 0600) instead of stdout")
    bridge.set_defaults(run=run_bridge_conf)

    ship = actions.add_parser("ship", help="ship the centre's event log to its broker for the hub")
    ship.add_argument("--site", type=Path, required=True)
    ship.add_argument("--broker", help="override the site file's broker URL")
    ship.add_argument("--state", type=Path, help="where to remember what was shipped")
    ship.add_argument("--heartbeat", type=float, default=10.0, help="seconds between head announcements")
    ship.set_defaults(run=run_ship)

    status = actions.add_parser("status", help="each centre's chain as the hub holds it")
    status.add_argument("--config", type=Path, required=True)
    status.set_defaults(run=run_status)
    _register_report(actions)


def _register_report(actions: Any) -> None:
    from hub.reports import RANKS

    report = actions.add_parser("report", help="centres compared and ranked, province totals, or one centre")
    report.add_argument("--config", type=Path, required=True)
    report.add_argument(
        "--period", nargs=2, metavar=("KIND", "VALUE"), required=True,
        help="day 2026-11-23 | week 2026-W48 | month 2026-11 | quarter 2026-Q4 | year 2026 | "
        "custom 2026-11-01..2026-11-20",
    )  # fmt: skip
    report.add_argument(
        "--centre", metavar="SITE", help="one centre's whole report instead of the province's"
    )
    report.add_argument("--rank", choices=list(RANKS), default="qd766_rate", help="the ranking's measure")
    report.add_argument("--format", choices=("table", "csv", "xlsx"), default="table")
    report.add_argument("--out", type=Path, help="write here (required for xlsx)")
    report.set_defaults(run=run_report)


def _config_and_store(path: Path) -> tuple[Any, Any]:
    from hub.config import load_config
    from hub.store import HubStore

    config = load_config(path)
    return config, HubStore.open(config.database.url)


def _guard(run: Any) -> Any:
    """Turn the hub's errors into one line on stderr and exit code 1."""

    def wrapped(args: argparse.Namespace) -> int:
        from hub import HubError

        try:
            code: int = run(args)
            return code
        except HubError as err:
            print(f"motcua hub: {err}", file=sys.stderr)
            return 1

    return wrapped


@_guard
def run_serve(args: argparse.Namespace) -> int:
    from hub.service import serve

    config, store = _config_and_store(args.config)
    return serve(config, store)


@_guard
def run_init_db(args: argparse.Namespace) -> int:
    config, store = _config_and_store(args.config)
    store.create(partitions=args.partitions)
    store.register((c.site, c.name) for c in config.centres)
    print(f"{store.url}: hub tables ready, {len(config.centres)} centres")
    return 0


@_guard
def run_user_add(args: argparse.Namespace) -> int:
    from hub.auth import Accounts

    config, store = _config_and_store(args.config)
    password = os.environ.get("MOTCUA_HUB_PASSWORD") or sys.stdin.readline().rstrip("\n")
    Accounts(store).add(args.name, password, config.hub.province, args.role)
    print(f"account {args.name} ({args.role}) of province {config.hub.province} saved")
    return 0


@_guard
def run_broker_conf(args: argparse.Namespace) -> int:
    from hub.bridge import write_hub_broker
    from hub.config import load_config

    config = load_config(args.config)
    written = write_hub_broker(config, args.port, args.name, tls=not args.no_tls, local_port=args.local_port)
    for path in written:
        print(path)
    return 0


@_guard
def run_bridge_conf(args: argparse.Namespace) -> int:
    from hub import HubError
    from hub.bridge import bridge_conf
    from siteconf import load_site

    site = load_site(args.site)
    host, sep, port = args.hub.rpartition(":")
    if not sep or not port.isdigit():
        raise HubError(f"--hub {args.hub!r}: expected HOST:PORT")
    try:
        password = args.password_file.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise HubError(f"cannot read the centre's secret {args.password_file}: {err}") from err
    text = bridge_conf(site.site.id, host, int(port), password, ca_file=args.ca)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    print(args.out)
    return 0


@_guard
def run_ship(args: argparse.Namespace) -> int:
    from bus.client import BrokerUrl
    from bus.process import StopSignal
    from hub.shipper import Shipper
    from siteconf import load_site

    site = load_site(args.site)
    broker = BrokerUrl.parse(args.broker or site.broker.url)
    state = args.state or Path(f"var/hub-shipper-{site.site.id}.json")
    stop = StopSignal()
    shipper = Shipper(site.site.id, site.database.url, broker, state, heartbeat_s=args.heartbeat).start(
        wait=None
    )
    log.warning("shipping centre %s's events to %s (state %s)", site.site.id, broker, state)
    stop.wait()
    shipper.stop()
    return 0


@_guard
def run_status(args: argparse.Namespace) -> int:
    _config, store = _config_and_store(args.config)
    for head in sorted(store.heads().values(), key=lambda h: h.site):
        state = f"BROKEN at {head.broken[0]}: {head.broken[1]}" if head.broken else "verified"
        print(f"{head.site}: {head.seq} events, {state}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Exit 0 done, 2 when the period, centre, config or a site file is wrong, 1 when the hub's database
    cannot be read."""
    from hub.config import HubConfigError, load_config
    from hub.reports import HubReportError, ProvinceReports
    from queue_server.reports import Period, ReportError
    from queue_server.reports.export import write_report

    if args.format == "xlsx" and args.out is None:
        print("motcua hub report: --format xlsx needs --out FILE", file=sys.stderr)
        return 2
    try:
        period = Period.parse(*args.period)
        reports = ProvinceReports(load_config(args.config))
        try:
            if args.centre:
                report = reports.centre_report(args.centre, period)
            else:
                report = reports.province_report(period, rank=args.rank)
        finally:
            reports.close()
    except (HubReportError, HubConfigError, ReportError) as err:
        print(f"motcua hub report: {err}", file=sys.stderr)
        return 2
    write_report(report, args.format, args.out)
    return 0
