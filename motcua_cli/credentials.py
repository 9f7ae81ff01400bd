"""``motcua site credentials``: the broker's users, secrets and ACL, made from the site file.

One MQTT identity per process: the queue server (``queue-server``), every device of the site file
(its id), counter ``n``'s console (``console-n``), the supervisors' console (``supervisor-1``), the
hall board (``hall-board``, ``motcua hall``) and the hub shipper (``hub-shipper``).
For each, ``DIR/secrets/{id}.secret`` holds a random secret (mode 0600, created once and kept);
``DIR/mosquitto.passwd`` holds their PBKDF2-SHA512 hashes in ``mosquitto_passwd``'s ``$7$`` format;
``DIR/mosquitto.acl`` binds each identity to its topics (docs/security.md, "The bus"):

- everyone reads ``server/availability``, ``calls``, ``counter/+/state`` and ``queue/+/state``, and
  only the server writes them;
- a client writes requests only on ``req/{its id}/+`` and reads answers only on ``resp/{its id}``;
- a device writes only its own ``device/{id}/{availability,info,status,evt}`` and reads its ``cmd``;
  only the server (and a kiosk, for its own printer) writes a device's ``cmd``.

Without ``tls_ca`` under ``[broker]`` in the site file, ``DIR/tls/`` gets a CA and the broker's
certificate for its TLS listener (``tls_certs.py``; an existing CA is kept).
``any_site=True`` (tests only, never from the command line) writes the site level of every topic as
``+``: the one test broker serves a fresh site id per test with the same users and rules.
``--rotate ID`` (repeatable, or ``all``) makes a new secret for those identities; the others keep
theirs. Mosquitto rereads the files on ``SIGHUP`` (``systemctl reload mosquitto``).
Why here, in the CLI layer: provisioning reads the site file (``siteconf``) and writes the bus's
ACL; ``bus`` must not import ``siteconf``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus import models as m
from bus.client import BrokerUrl
from siteconf import Site, load_site

SERVER_ID = "queue-server"
SUPERVISOR_ID = "supervisor-1"
HUB_SHIPPER_ID = "hub-shipper"
HALL_BOARD_ID = "hall-board"  # ``motcua hall``: reads what every client may, asks ``calls_since``
PBKDF2_ITERATIONS = 101  # mosquitto_passwd's own default for $7$
DEVICE_LEAVES_WRITTEN = ("availability", "info", "status", "evt")


@dataclass(frozen=True)
class Identity:
    """One broker user: its id and the ACL lines that are its own (beyond the shared ones)."""

    id: str
    acl: tuple[str, ...] = ()


def site_root(site: Site, any_site: bool = False) -> str:
    """The topic root the ACL names: this site's, or (tests) every site's."""
    return f"motcua/v1/{'+' if any_site else site.site.id}"


def identities(site: Site, readers: tuple[str, ...] = (), any_site: bool = False) -> list[Identity]:
    """Every identity the site needs, server first; ``readers``: more clients (a demo's own)."""
    root = site_root(site, any_site)
    found = [Identity(SERVER_ID, (f"topic readwrite {root}/#",))]
    for device in site.devices:
        extra: tuple[str, ...] = ()
        if device.kind is m.DeviceKind.KIOSK and device.printer:
            printer = f"{root}/device/{device.printer}"
            extra = (
                f"topic write {printer}/cmd",
                f"topic read {printer}/evt",
                f"topic read {printer}/status",
            )
        found.append(Identity(device.id, extra))
    found += [Identity(f"console-{c.number}") for c in site.counters]
    found.append(Identity(SUPERVISOR_ID))
    found += [Identity(board) for board in site.display.hall.board_ids()]  # HALL_BOARD_ID first
    # The hub shipper (docs/hub.md) hands the centre's events to the bridge to the province hub.
    hub = (
        f"topic write {root}/hub/events",
        f"topic write {root}/hub/head",
        f"topic read {root}/hub/backfill",
    )
    found.append(Identity(HUB_SHIPPER_ID, hub))
    found += [Identity(client) for client in readers]
    return found


def acl_text(site: Site, extra: tuple[str, ...] = (), any_site: bool = False) -> str:
    """The Mosquitto ACL file: shared patterns for every user, then each user's own lines."""
    root = site_root(site, any_site)
    which = "every site (tests)" if any_site else f"site {site.site.id}"
    lines = [
        f"# motcua ACL for {which}, made by `motcua site credentials` from the site file.",
        "# Shared by every user (%u is the user name, which is also the client's id):",
        f"pattern read {root}/server/availability",
        f"pattern read {root}/calls",
        f"pattern read {root}/counter/+/state",
        f"pattern read {root}/queue/+/state",
        f"pattern write {root}/req/%u/+",
        f"pattern read {root}/resp/%u",
        *(f"pattern write {root}/device/%u/{leaf}" for leaf in DEVICE_LEAVES_WRITTEN),
        f"pattern read {root}/device/%u/cmd",
        "",
    ]
    for identity in identities(site, extra, any_site):
        if identity.acl:
            lines += [f"user {identity.id}", *identity.acl, ""]
    return "\n".join(lines)


def hash_secret(secret: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``$7$iterations$salt$hash``: PBKDF2-HMAC-SHA512, as ``mosquitto_passwd`` writes it."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    derived = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(derived).decode()}"


def write_credentials(
    site: Site,
    out: Path,
    rotate: frozenset[str] | set[str] = frozenset(),
    extra: tuple[str, ...] = (),
    *,
    any_site: bool = False,
) -> dict[str, str]:
    """Write secrets, password file and ACL under ``out``; return id → secret."""
    secret_dir = out / "secrets"
    secret_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(secret_dir, 0o700)
    known = {i.id for i in identities(site, extra)}
    unknown = rotate - known - {"all"}
    if unknown:
        raise SystemExit(f"motcua: --rotate {', '.join(sorted(unknown))}: no such identity in the site file")
    result: dict[str, str] = {}
    for identity in identities(site, extra):
        path = secret_dir / f"{identity.id}.secret"
        if path.exists() and identity.id not in rotate and "all" not in rotate:
            result[identity.id] = path.read_text(encoding="utf-8").strip()
            continue
        result[identity.id] = secrets.token_urlsafe(24)
        _write_private(path, result[identity.id] + "\n")
    passwd = "".join(f"{ident}:{hash_secret(secret)}\n" for ident, secret in result.items())
    _write_private(out / "mosquitto.passwd", passwd)
    _write_private(out / "mosquitto.acl", acl_text(site, extra, any_site))
    return result


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only, replacing the file in one step."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    site = sub.add_parser("site", help="site-wide set-up made from the site file")
    actions = site.add_subparsers(dest="action", required=True)
    cred = actions.add_parser("credentials", help="broker users, secrets and ACL for every device and app")
    cred.add_argument("--site", type=Path, required=True)
    cred.add_argument("--out", type=Path, required=True, help="folder for mosquitto.passwd, .acl, secrets/")
    cred.add_argument(
        "--rotate", action="append", default=[], metavar="ID", help="new secret for ID (or all)"
    )
    cred.set_defaults(run=run_credentials)


def run_credentials(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    made = write_credentials(site, args.out, set(args.rotate))
    print(f"{args.out}: {len(made)} identities; mosquitto.passwd, mosquitto.acl, secrets/*.secret")
    if site.broker.tls_ca is None:
        from motcua_cli.tls_certs import make_site_ca

        host = BrokerUrl.parse(site.broker.url).host
        make_site_ca(args.out / "tls", site.site.id, list(dict.fromkeys([host, "localhost", "127.0.0.1"])))
        print(f"{args.out / 'tls'}: ca.crt, server.crt, server.key for the broker's TLS listener")
    if args.rotate:
        print(f"new secrets for: {', '.join(sorted(args.rotate))}; reload Mosquitto (SIGHUP)")
    return 0
