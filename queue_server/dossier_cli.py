"""``motcua dossier delete|purge``: scanned files leave the server's store, and the audit log says so.

motcua dossier delete CODE --site FILE          delete every stored file of dossier CODE
motcua dossier purge --site FILE [--days N]     delete the files of dossiers stored more than N days
                                                ago (default: the site's http.dossier_retention_days)

Each deletion appends a ``dossier_files_deleted`` event (code, the files' SHA-256, the reason) to the
hash-chained event log, so an audit shows what left the store, when and why. The files' contents,
being personal data, never appear in a log.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from queue_server.dossiers import DOSSIER_CODE, DossierStore
from queue_server.sealed import load_key


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``dossier`` subcommand."""
    dossier = sub.add_parser("dossier", help="the server's store of scanned dossiers")
    actions = dossier.add_subparsers(dest="dossier_action", required=True)
    delete = actions.add_parser("delete", help="delete a dossier's stored files (audited)")
    delete.add_argument("code")
    purge = actions.add_parser("purge", help="delete files older than the retention period (audited)")
    purge.add_argument("--days", type=int, help="retention in days (default: the site file's)")
    for parser in (delete, purge):
        parser.add_argument("--site", type=Path, required=True, help="the site file")
        parser.set_defaults(run=run_dossier)


def run_dossier(args: argparse.Namespace) -> int:
    from queue_server.db import Store
    from siteconf import load_site

    site = load_site(args.site)
    root = Path(site.http.dossier_dir)
    files = DossierStore(root, load_key(Path(site.http.dossier_key_file), root))
    if args.dossier_action == "delete":
        if not re.fullmatch(DOSSIER_CODE, args.code):
            print(f"motcua dossier: {args.code!r} is not a dossier code", file=sys.stderr)
            return 2
        codes, reason = [args.code], "deleted on request"
    else:
        days = args.days or site.http.dossier_retention_days
        if days is None:
            print(
                "motcua dossier: no retention: give --days or set http.dossier_retention_days",
                file=sys.stderr,
            )
            return 2
        codes, reason = expired(root, days), f"retention of {days} days"
    with Store.open(site.database.url) as store:
        for code in codes:
            removed = files.delete(code)
            if removed:
                with store.transaction() as tx:
                    data = {"code": code, "files": removed, "reason": reason}
                    tx.append("dossier_files_deleted", data, datetime.now(UTC))
                print(f"{code}: {len(removed)} file(s) deleted ({reason})")
    return 0


def expired(root: Path, days: int, now: float | None = None) -> list[str]:
    """Dossiers whose newest stored file is older than ``days``."""
    limit = (time.time() if now is None else now) - days * 86400
    codes = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        stamps = [f.stat().st_mtime for f in folder.glob("*.enc")]
        if stamps and max(stamps) < limit:
            codes.append(folder.name)
    return codes
