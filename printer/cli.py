"""``motcua printer …``: render layouts to the exact printer bytes, or Form 01 to an A5 PDF.

    motcua printer render --layout ticket|receipt --data FILE.json --profile NAME --out FILE.bin
                          [--site SITE.toml] [--pdf OUT.pdf]
    motcua printer profiles [--site SITE.toml]

The data file holds the layout's fields (``docs/printer.md``). ``--site`` adds the site's own profiles
and layouts. Exit codes: 0 done, 2 bad input (the message names the file and the field).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``motcua printer render`` and ``motcua printer profiles``."""
    printer = sub.add_parser("printer", help="printer layouts: render bytes, A5 PDF, profiles")
    actions = printer.add_subparsers(dest="printer_action", required=True)
    render = actions.add_parser("render", help="render a layout filled from a JSON file to printer bytes")
    render.add_argument("--layout", choices=["ticket", "receipt"], required=True)
    render.add_argument("--data", type=Path, required=True, help="JSON object with the layout's fields")
    render.add_argument(
        "--profile", default="generic-80", help="printer profile (see: motcua printer profiles)"
    )
    render.add_argument("--out", type=Path, help="write the ESC/POS bytes here")
    render.add_argument("--pdf", type=Path, help="receipt only: also write Form 01 as an A5 PDF")
    render.add_argument("--site", type=Path, help="site file whose [printing] profiles and layouts to use")
    render.set_defaults(run=run_render)
    profiles = actions.add_parser("profiles", help="list the printer profiles")
    profiles.add_argument("--site", type=Path)
    profiles.set_defaults(run=run_profiles)


def _fail(message: str) -> int:
    print(f"motcua printer: {message}", file=sys.stderr)
    return 2


def _printing(site_path: Path | None) -> Any:
    from siteconf import load_site
    from siteconf.printing import PrintingConf

    return load_site(site_path).printing if site_path else PrintingConf()


def run_render(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from printer.errors import PrinterError
    from printer.profiles import UnknownProfileError
    from printer.render import render_named

    if args.out is None and args.pdf is None:
        return _fail("say where to write: --out FILE.bin and/or --pdf FILE.pdf")
    if args.pdf is not None and args.layout != "receipt":
        return _fail("--pdf is for the receipt layout (Form 01) only")
    values = _read_values(args.data)
    if isinstance(values, str):
        return _fail(values)
    printing = _printing(args.site)
    try:
        data, output = render_named(args.layout, values, args.profile, printing)
    except ValidationError as err:
        return _fail(f"{args.data}: " + "; ".join(_problem(e) for e in err.errors()))
    except UnknownProfileError as err:
        return _fail(str(err.args[0]))
    except (PrinterError, ValueError) as err:
        return _fail(f"{args.data}: {err}")
    if args.out is not None:
        args.out.write_bytes(output)
        print(f"{args.out}: {len(output)} bytes, {args.layout} for profile {args.profile}")
    if args.pdf is not None:
        from printer.form01_pdf import write_form01_pdf
        from printer.receipt import ReceiptData

        assert isinstance(data, ReceiptData)
        write_form01_pdf(data, args.pdf)
        print(f"{args.pdf}: Form 01, A5")
    return 0


def _read_values(path: Path) -> dict[str, Any] | str:
    """The layout's fields from a UTF-8 JSON file, or a message saying what is wrong with it."""
    import json

    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        return f"cannot read {path}: {err.strerror}"
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return f"{path} is not UTF-8 JSON: {err}"
    if not isinstance(values, dict):
        return f"{path} must hold a JSON object with the layout's fields"
    return values


def _problem(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "data"
    return f"{where}: {error['msg']}"


def run_profiles(args: argparse.Namespace) -> int:
    from printer.profiles import BUILTIN_PROFILES, site_profiles

    printing = _printing(args.site)
    for name, profile in sorted({**BUILTIN_PROFILES, **site_profiles(printing)}.items()):
        print(f"{name}: {profile.width} dots, base {profile.base}, {', '.join(profile.capabilities())}")
    return 0
