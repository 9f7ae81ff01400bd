"""A simulator's control port: set its faults from another process over a line-based TCP link.

Why a separate port and not an escape sequence in the device's own byte stream (as OctoPrint's
virtual printer reads ``!!DEBUG:`` lines in its G-code): ESC/POS raster images and Modbus frames
can carry any byte sequence, so an in-band escape could fire inside real data, and it would need
the host driver to speak it. A port of its own works the same whether the simulator is reached
in-process (``sim://``), on a pty or on TCP, and for the eSCL scanner, which speaks HTTP.

Grammar (one UTF-8 line in, one line out, ``\\n`` terminated; at most 4096 bytes a line)::

    set NAME=VALUE [NAME=VALUE ...]   → ok NAME=VALUE ...       every fault's value afterwards
    get                               → ok NAME=VALUE ...
    help                              → ok NAME: ACCEPTED; ...
    anything wrong                    → error WHAT WAS WRONG    (nothing changed; the port stays up)

``set`` checks every pair before applying any (``firmware_sim.faults``). Several clients may be
connected at once; ``quit`` or closing the connection ends a session. The port listens on
127.0.0.1 unless told otherwise: it is a test tool, not for a production network.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Protocol, Self

log = logging.getLogger(__name__)

MAX_LINE = 4096


class ControlledSim(Protocol):
    """What the control port drives (``firmware_sim.faults.Faults`` provides it)."""

    def set_faults(self, values: Mapping[str, object]) -> None: ...
    def fault_state(self) -> dict[str, str]: ...
    def fault_help(self) -> dict[str, str]: ...


def _state(sim: ControlledSim) -> str:
    return "ok " + " ".join(f"{k}={v}" for k, v in sim.fault_state().items())


def answer(sim: ControlledSim, line: str) -> str:
    """The reply to one control line (without its newline); never raises for bad input."""
    verb, _, rest = line.strip().partition(" ")
    if verb == "get" and not rest.strip():
        return _state(sim)
    if verb == "help" and not rest.strip():
        return "ok " + "; ".join(f"{k}: {v}" for k, v in sim.fault_help().items())
    if verb != "set":
        return f"error unknown command {verb[:40]!r}: use set NAME=VALUE ..., get or help"
    pairs = rest.split()
    if not pairs or any("=" not in p or p.startswith("=") for p in pairs):
        return "error set needs NAME=VALUE pairs, e.g. set paper=out cover=open"
    values: Mapping[str, object] = dict(p.split("=", 1) for p in pairs)
    if len(values) != len(pairs):
        return "error a fault is named twice"
    try:
        sim.set_faults(values)
    except ValueError as err:
        return f"error {err}"
    log.info("control port: %s", line.strip()[:200])
    return _state(sim)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while True:
            raw = self.rfile.readline(MAX_LINE + 1)
            if not raw:
                return
            if len(raw) > MAX_LINE:
                self._reply(f"error line longer than {MAX_LINE} bytes; closing")
                return
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                self._reply("error the line is not UTF-8 text")
                continue
            if line.strip() == "quit":
                return
            if line.strip():
                self._reply(answer(self.server.sim, line))

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode("utf-8") + b"\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: ControlledSim


class ControlServer:
    """The control port of ``sim`` on ``host:port`` (0: a free port, see ``port``)."""

    def __init__(self, sim: ControlledSim, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.sim = sim
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="sim-control", daemon=True)
        self._thread.start()
        log.info("control port of %r on %s:%d", sim, host, self.port)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def serve_control(sim: ControlledSim, host: str = "127.0.0.1", port: int = 0) -> ControlServer:
    """Open ``sim``'s control port; ``close()`` it when done."""
    return ControlServer(sim, host, port)
