"""``motcua`` subcommands of the queue_server package (see ``motcua_cli.main.COMMAND_MODULES``).

motcua audit verify (--site FILE | --db URL) [--anchor SEQ:HASH]
                                               check the event hash chain; exit 0 intact, 1 broken,
                                               2 when the database cannot be read
motcua db upgrade (--site FILE | --db URL)     bring the database schema to this version's latest
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``audit`` and ``db`` subcommands."""
    audit = sub.add_parser("audit", help="check the queue server's audit log")
    audit_sub = audit.add_subparsers(dest="audit_action", required=True)
    verify = audit_sub.add_parser(
        "verify", help="check the event hash chain and name the first altered or missing event"
    )
    _database_arguments(verify)
    verify.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        type=_anchor,
        help="an event's seq and hash recorded earlier (from this command's output): it must still be there",
    )
    verify.set_defaults(run=run_verify)

    db = sub.add_parser("db", help="the queue server's database")
    db_sub = db.add_subparsers(dest="db_action", required=True)
    upgrade = db_sub.add_parser("upgrade", help="create or upgrade the database schema")
    _database_arguments(upgrade)
    upgrade.set_defaults(run=run_upgrade)


def _database_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--site", type=Path, help="the site file whose [database] url to use")
    where.add_argument("--db", metavar="URL", help="sqlite:///path.db or postgresql+psycopg://user@host/db")


def _anchor(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or int(seq) < 1 or len(digest) != 64 or digest.strip("0123456789abcdef"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected SEQ:HASH, e.g. 1234:<64 hex digits>")
    return int(seq), digest


def _url(args: argparse.Namespace) -> str:
    if args.db is not None:
        return str(args.db)
    from siteconf import load_site

    # As for the server, a relative SQLite path is relative to the working directory.
    return load_site(args.site).database.url


def run_verify(args: argparse.Namespace) -> int:
    from queue_server.db import Store, StoreError

    try:
        with Store.open(_url(args), create=False, migrate=False) as store:
            report = store.verify(args.anchor)
    except StoreError as err:
        print(f"motcua audit verify: {err}", file=sys.stderr)
        return 2
    if not report.ok:
        print(report.problem)
        print(f"({report.events_checked} events before it are intact)")
        return 1
    print(
        f"{store.url}: {report.events_checked} events, chain intact; "
        f"head event {report.head_seq} sha256 {report.head_hash}"
    )
    print(f"record this to detect a later truncation: --anchor {report.head_seq}:{report.head_hash}")
    return 0


def run_upgrade(args: argparse.Namespace) -> int:
    from queue_server.db import Store, StoreError
    from queue_server.migrations import head_revision

    try:
        with Store.open(_url(args), create=True, migrate=True) as store:
            print(f"{store.url}: schema at revision {head_revision()}")
    except StoreError as err:
        print(f"motcua db upgrade: {err}", file=sys.stderr)
        return 2
    return 0
