"""``motcua scan ...``: the digitisation station's commands.

motcua scan process IMAGES... --out OUT.pdf [--dossier CODE] [--doc-type T]   pipeline on image files
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``motcua scan`` and its actions."""
    scan = sub.add_parser("scan", help="document scanning station: pipeline, capture, upload")
    actions = scan.add_subparsers(dest="scan_action", required=True)
    process = actions.add_parser("process", help="clean, orient and bind page images into a PDF")
    process.add_argument("images", nargs="+", type=Path, help="page images in order (JPEG, PNG, TIFF, PNM)")
    process.add_argument("--out", type=Path, required=True, help="PDF to write (OUT-NN.pdf when split)")
    process.add_argument("--dossier", help="dossier code, e.g. H21.65-220914-0011")
    process.add_argument("--doc-type", help="document type code put in the PDF's metadata")
    process.add_argument("--dpi", type=int, default=200, help="output resolution of camera shots (≥ 200)")
    process.add_argument(
        "--assume-dpi", type=float, default=200.0, help="resolution of files that state none"
    )
    process.add_argument("--quality", type=int, default=80, help="JPEG quality (1-95)")
    process.add_argument(
        "--decoders", default="zxing", help="barcode decoders in order, comma separated: zxing,pyzbar"
    )
    process.add_argument("--no-flatten", action="store_true", help="keep the paper's own tint and shadows")
    process.add_argument("--jobs", type=int, default=1, help="worker processes")
    process.set_defaults(run=run_process)


def run_process(args: argparse.Namespace) -> int:
    from scanner.process_cli import process_command

    return process_command(args)
