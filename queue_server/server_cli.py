"""``motcua http openapi [--check]``: the HTTP API's OpenAPI document in ``docs/http/openapi.json``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent / "docs" / "http" / "openapi.json"


def register(sub: argparse._SubParsersAction[Any]) -> None:
    http = sub.add_parser("http", help="the queue server's HTTP API")
    actions = http.add_subparsers(dest="action", required=True)
    openapi = actions.add_parser("openapi", help="write the OpenAPI document to docs/http/openapi.json")
    openapi.add_argument("--out", type=Path, default=DOCS)
    openapi.add_argument("--check", action="store_true", help="only check that the file is up to date")
    openapi.set_defaults(run=run_openapi)


def openapi_text() -> str:
    from queue_server.http import create_app, openapi_document

    with tempfile.TemporaryDirectory() as empty:  # the dossier store makes its folders when mounted
        return openapi_document(create_app(_NoQueries(), dossier_dir=Path(empty)))


def run_openapi(args: argparse.Namespace) -> int:
    text = openapi_text()
    out: Path = args.out
    if args.check:
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            print(f"{out} is stale; run: motcua http openapi", file=sys.stderr)
            return 1
        print(f"{out}: up to date")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(out)
    return 0


class _NoQueries:
    """Stands in for the server when only the document's shape is wanted; never called."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"{name} is not available while exporting the OpenAPI document")
