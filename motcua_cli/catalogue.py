"""``motcua import-procedures EXPORT --site FILE [--map 'Lĩnh vực=SERVICE' ...] [--out FILE]``.

Reads the national public-service portal's catalogue export (XLSX or CSV) and writes the site file's
``[[kiosk.procedures]]`` tables (to ``--out``, or standard output), each procedure queued for the
service its field maps to. Rows left out are listed on standard error with their row numbers; the
exit code is 0 when every row was used, 1 when some were left out, 2 when the export is unreadable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("import-procedures", help="site-file procedures from the portal's catalogue export")
    p.add_argument("export", type=Path, help="the portal's export: .xlsx or .csv")
    p.add_argument("--site", type=Path, required=True, help="the site file whose services the fields map to")
    p.add_argument(
        "--map", action="append", default=[], metavar="FIELD=SERVICE", help="queue a field for a service"
    )
    p.add_argument("--out", type=Path, help="write the TOML here instead of standard output")
    p.set_defaults(run=run_import)


def run_import(args: argparse.Namespace) -> int:
    from siteconf import load_site
    from siteconf.portal_import import CatalogueImportError, import_catalogue, read_rows, to_toml
    from siteconf.procedures import catalogue_problems

    site = load_site(args.site)
    mapping: dict[str, str] = {}
    for item in args.map:
        field, sep, service = item.partition("=")
        if not sep or not field.strip() or not service.strip():
            print(f"motcua: --map {item!r}: write it as 'Lĩnh vực=SERVICE'", file=sys.stderr)
            return 2
        mapping[field.strip()] = service.strip()
    try:
        result = import_catalogue(read_rows(args.export), site, mapping)
    except CatalogueImportError as err:
        print(f"motcua: {err}", file=sys.stderr)
        return 2
    problems = result.problems + catalogue_problems(result.procedures, site)
    text = to_toml(result.procedures)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for problem in problems:
        print(f"{args.export}: {problem}", file=sys.stderr)
    print(
        f"{args.export}: {len(result.procedures)} procedures, {len(result.problems)} rows left out",
        file=sys.stderr,
    )
    return 1 if problems else 0
