"""``motcua officer`` and ``motcua apikey``: the accounts of the queue server's database.

motcua officer add ID --name NAME [--role officer|supervisor|facility|manager] [--pin] [--code DIGITS]
                                                           (--site F | --db URL)
motcua officer reset ID [--pin] [--code DIGITS] (--site F | --db URL)   new password (and PIN), unlocks
motcua officer disable ID (--site F | --db URL)
motcua officer list (--site F | --db URL)
motcua apikey add NAME --scope read|counter|dossier|upload|metrics ... (--site F | --db URL)
                                                           prints the key once; only its hash is kept
motcua apikey revoke KEY_ID (--site F | --db URL)
motcua apikey list (--site F | --db URL)

Passwords and PINs are asked at the terminal (not echoed) or, with ``--password-stdin``, read from
the first lines of standard input (password, then PIN), so no secret is ever in a command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from queue_server.accounts import SCOPES, AccountError, ApiKeys, Officers, Role
from queue_server.cli import _database_arguments, _url


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``officer`` and ``apikey`` subcommands."""
    officer = sub.add_parser("officer", help="officer accounts of the counter console and keypads")
    actions = officer.add_subparsers(dest="officer_action", required=True)
    add = actions.add_parser("add", help="add an officer account")
    add.add_argument("id", help="officer id, as the audit log records it, e.g. cb01")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--role", default="officer", choices=[r.value for r in Role])
    reset = actions.add_parser("reset", help="set a new password (and PIN); unlocks and enables")
    reset.add_argument("id")
    for parser in (add, reset):
        parser.add_argument("--pin", action="store_true", help="also set the keypad PIN (4 to 8 digits)")
        parser.add_argument(
            "--code", help="keypad code: 1 to 6 digits the officer types on a calling keypad before the PIN"
        )
        parser.add_argument(
            "--password-stdin", action="store_true", help="read password (then PIN) from stdin"
        )
    disable = actions.add_parser("disable", help="disable an account (it can no longer log in)")
    disable.add_argument("id")
    listing = actions.add_parser("list", help="list the accounts")
    for parser in (add, reset, disable, listing):
        _database_arguments(parser)
        parser.set_defaults(run=run_officer)

    apikey = sub.add_parser("apikey", help="API keys of HTTP integrations")
    key_actions = apikey.add_subparsers(dest="apikey_action", required=True)
    key_add = key_actions.add_parser("add", help="make a key; it is printed once")
    key_add.add_argument("name", help="who uses it, e.g. scanner-q3 or lookup-kiosk")
    key_add.add_argument("--scope", action="append", required=True, choices=SCOPES, dest="scopes")
    revoke = key_actions.add_parser("revoke", help="end a key")
    revoke.add_argument("key_id")
    key_list = key_actions.add_parser("list", help="list the keys (never the keys themselves)")
    for parser in (key_add, revoke, key_list):
        _database_arguments(parser)
        parser.set_defaults(run=run_apikey)


def _secrets(args: argparse.Namespace) -> tuple[str, str | None]:
    if args.password_stdin:
        lines = [*sys.stdin.read().splitlines(), "", ""]
        return lines[0], (lines[1] if args.pin else None)
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise AccountError("the two passwords differ")
    return password, (getpass.getpass("PIN: ") if args.pin else None)


def run_officer(args: argparse.Namespace) -> int:
    from queue_server.db import Store

    with Store.open(_url(args)) as store:
        officers = Officers(store.engine)
        try:
            if args.officer_action == "list":
                for o in officers.list():
                    state = "disabled" if o.disabled else "locked" if o.locked else "active"
                    print(f"{o.id}\t{o.role}\t{state}\t{o.display_name}")
            elif args.officer_action == "disable":
                officers.disable(args.id)
            elif args.officer_action == "add":
                officers.add(args.id, args.name, args.role, *_secrets(args), keypad_code=args.code)
            else:
                officers.reset(args.id, *_secrets(args), keypad_code=args.code)
        except AccountError as err:
            print(f"motcua officer: {err}", file=sys.stderr)
            return 2
    return 0


def run_apikey(args: argparse.Namespace) -> int:
    from queue_server.db import Store

    with Store.open(_url(args)) as store:
        keys = ApiKeys(store.engine)
        try:
            if args.apikey_action == "list":
                for k in keys.list():
                    state = "revoked" if k.revoked else "live"
                    print(f"{k.id}\t{k.name}\t{','.join(sorted(k.scopes))}\t{state}")
            elif args.apikey_action == "revoke":
                keys.revoke(args.key_id)
            else:
                key_id, key = keys.add(args.name, args.scopes)
                print(f"{key_id}\t{key}")
                print("keep this key now: only its hash is stored", file=sys.stderr)
        except AccountError as err:
            print(f"motcua apikey: {err}", file=sys.stderr)
            return 2
    return 0
