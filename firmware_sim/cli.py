"""``motcua sim …``: run device simulators from the command line.

    motcua sim printer --replay FILE.bin --png OUT.png [--width 576]   bytes → paper image
    motcua sim printer --tcp 9100 [--host 127.0.0.1] [--out DIR]      serve a printer on TCP
    motcua sim printer --pty [--out DIR]                              serve a printer on a pty
    … --control PORT                                                  and its faults on a control port

A replay prints every page the bytes cut (and what is left uncut) one under the other into OUT.png.
A served printer saves each cut page into ``--out`` (default ``var/sim-printer``) until Ctrl-C.
With ``--control PORT`` (0: any free port) another process sets its faults with lines such as
``set paper=out`` (``firmware_sim.control``, ``docs/simulators.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``motcua sim printer``."""
    sim = sub.add_parser("sim", help="device simulators: replay bytes to images, serve on TCP or a pty")
    kinds = sim.add_subparsers(dest="sim_kind", required=True)
    printer = kinds.add_parser("printer", help="the ESC/POS printer simulator")
    mode = printer.add_mutually_exclusive_group(required=True)
    mode.add_argument("--replay", type=Path, help="ESC/POS bytes to print")
    mode.add_argument("--tcp", type=int, metavar="PORT", help="serve on this TCP port (9100 is the usual)")
    mode.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal")
    printer.add_argument("--png", type=Path, help="with --replay: the paper image to write")
    printer.add_argument("--width", type=int, default=576, help="printable width in dots (576 or 384)")
    printer.add_argument("--host", default="127.0.0.1", help="with --tcp: address to listen on")
    printer.add_argument("--out", type=Path, default=Path("var/sim-printer"), help="where served pages go")
    printer.add_argument(
        "--control", type=int, metavar="PORT", help="serving: set faults over TCP on this port (0: any free)"
    )
    printer.set_defaults(run=run_printer)


def _fail(message: str) -> int:
    print(f"motcua sim printer: {message}", file=sys.stderr)
    return 2


def run_printer(args: argparse.Namespace) -> int:
    if args.width < 96 or args.width % 8:
        return _fail(f"--width must be a multiple of 8 and at least 96, not {args.width}")
    if args.replay is not None:
        return _replay(args.replay, args.png, args.width)
    return _serve(args)


def _replay(source: Path, png: Path | None, width: int) -> int:
    from PIL import Image

    from firmware_sim.escpos_printer import EscposPrinterSim

    if png is None:
        return _fail("--replay needs --png OUT.png")
    try:
        data = source.read_bytes()
    except OSError as err:
        return _fail(f"cannot read {source}: {err.strerror}")
    sim = EscposPrinterSim(width_dots=width)
    pages = sim.replay(data)
    if not pages:
        return _fail(f"{source}: {len(data)} bytes printed nothing (no text, image or feed)")
    gap = 16
    paper = Image.new("1", (width, sum(p.height for p in pages) + gap * (len(pages) - 1)), 1)
    y = 0
    for page in pages:
        paper.paste(page, (0, y))
        y += page.height + gap
    paper.save(png)
    print(f"{png}: {len(pages)} page(s), {paper.height} dot rows ({paper.height / 8:.0f} mm)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from bus.process import StopSignal
    from firmware_sim.control import serve_control
    from firmware_sim.escpos_printer import EscposPrinterSim
    from firmware_sim.serve import serve_on_pty, serve_on_tcp

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    def save(index: int, image: Any, _text: str) -> None:
        image.save(out / f"page-{index + 1:04d}.png")

    sim = EscposPrinterSim(width_dots=args.width, on_page=save)
    stop = StopSignal()  # before the URL is printed: whoever reads it may stop us at once
    try:
        server = serve_on_tcp(sim, args.host, args.tcp) if args.tcp is not None else serve_on_pty(sim)
    except OSError as err:
        return _fail(f"cannot serve: {err.strerror or err}")
    try:
        control = serve_control(sim, args.host, args.control) if args.control is not None else None
    except OSError as err:
        server.close()
        return _fail(f"cannot open the control port: {err.strerror or err}")
    with server:
        where = f"; control port {control.address}" if control is not None else ""
        print(f"printer simulator on {server.url}{where}; pages go to {out}; Ctrl-C to stop", flush=True)
        stop.wait()
    if control is not None:
        control.close()
    return 0
