"""ESC/POS printer driver: a transport, the status codec and the ticket renderer, composed.

Exchanges (host → printer, then what the driver waits for)::

    status  10 04 n, n = 1..4     ← one byte 0xx1xx10b each, within ``timeout``
    job     ticket bytes (in ``chunk_size`` writes) 1D 72 01
                                  ← one byte 0xx0xxxxb (GS r 1) once the job has printed
    skipped while waiting: 4-byte Automatic Status Back blocks (first byte 0xx1xx00b) and any byte that
    does not fit the awaited pattern (leftovers from an earlier exchange, line noise)
    sync    10 04 01                  ← the DLE EOT 1 reply; asked before a job whenever the reply
                                        stream is not synchronised (just opened, or input discarded):
                                        the tail of an ASB block read from its middle looks like a
                                        GS r reply, and is skipped until this reply (or an ASB header)

Every read has a deadline: a silent printer raises :class:`PrinterTimeoutError`, never hangs. Device
code does not know whether the transport is ``serial://``, ``tcp://`` or ``sim://``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Self

from printer.errors import (
    CoverOpenError,
    CutterError,
    PaperOutError,
    PrinterFaultError,
    PrinterLinkError,
    PrinterTimeoutError,
)
from printer.profiles import PrinterProfile
from printer.status import (
    PAPER_SENSOR_REQUEST,
    STATUS_KINDS,
    PaperState,
    PrinterStatus,
    Reply,
    ReplyKind,
    StatusStream,
    decode_asb,
    decode_paper_sensor,
    decode_status,
    status_request,
)
from printer.ticket import TicketData, render_ticket
from transport.base import Transport, TransportError

logger = logging.getLogger(__name__)

DEFAULT_STATUS_TIMEOUT = 0.5
DEFAULT_CONFIRM_TIMEOUT = 10.0
ASB_BLOCK = 4
READ_CHUNK = 64


class EscposPrinter:
    """An ESC/POS receipt printer reached through any :class:`~transport.base.Transport`."""

    def __init__(
        self,
        transport: Transport,
        *,
        width_dots: int = 576,
        chunk_size: int = 1024,
        confirm_timeout: float = DEFAULT_CONFIRM_TIMEOUT,
        pad_bands: bool = False,
        profile: PrinterProfile | None = None,
    ) -> None:
        self.transport = transport
        self.profile = profile or PrinterProfile(width_dots=width_dots, pad_bands=pad_bands)
        """What :meth:`print_ticket` renders for: width, raster padding, the feed and cut ending a job."""
        self.width_dots = self.profile.width
        self.chunk_size = chunk_size
        self.confirm_timeout = confirm_timeout
        self.pad_bands = self.profile.pad_bands
        self._lock = threading.RLock()
        self.on_asb: Callable[[PrinterStatus], None] | None = None
        self._stream = StatusStream()
        self._pending: list[Reply] = []

    @property
    def url(self) -> str:
        return self.transport.url

    def print_bytes(
        self,
        data: bytes,
        *,
        poll_s: float | None = None,
        on_status: Callable[[PrinterStatus], None] | None = None,
    ) -> None:
        """Send raw ESC/POS bytes in ``chunk_size`` pieces; nothing is waited for but, on a reply stream
        not yet synchronised, one ``DLE EOT 1`` (see the module doc).

        With ``poll_s`` and ``on_status``, the status is asked between chunks whenever ``poll_s``
        seconds have passed (a slow line takes seconds per job) and handed to ``on_status``; sending
        goes on whatever it says: a printer with its cover open keeps what it received.
        """
        with self._lock:
            self._sync()
            last_poll = time.monotonic()
            for start in range(0, len(data), self.chunk_size):
                with self._link_errors("sending print data"):
                    self.transport.write(data[start : start + self.chunk_size])
                if poll_s is not None and on_status is not None and time.monotonic() - last_poll >= poll_s:
                    on_status(self._ask_status(DEFAULT_STATUS_TIMEOUT))
                    last_poll = time.monotonic()

    def query_status(self, timeout: float = DEFAULT_STATUS_TIMEOUT) -> PrinterStatus:
        """Ask ``DLE EOT 1..4``; each reply must arrive within ``timeout`` seconds."""
        with self._lock:
            self._drain()
            return self._ask_status(timeout)

    def _ask_status(self, timeout: float) -> PrinterStatus:
        """``DLE EOT 1..4`` without discarding input first (a ``GS r 1`` reply may be on its way)."""
        replies: dict[int, int] = {}
        with self._lock:
            for n in STATUS_KINDS:
                with self._link_errors(f"asking DLE EOT {n}"):
                    self.transport.write(status_request(n))
                replies[n] = self._read_reply(ReplyKind.STATUS, timeout, f"DLE EOT {n}")
        status = decode_status(replies)
        logger.debug("printer %s status %s", self.url, status)
        return status

    def ensure_ready(self, status: PrinterStatus | None = None, *, job: str | None = None) -> PrinterStatus:
        """Raise the matching :class:`PrinterNotReadyError` unless ``status`` (queried if None) can print."""
        status = self.query_status() if status is None else status
        if status.can_print:
            return status
        suffix = f"; {job} was not printed" if job else ""
        where = f"printer {self.url}"
        if status.paper is PaperState.OUT:
            raise PaperOutError(
                f"{where} is out of paper ({status.describe_reply(4)}){suffix}: "
                "load a new roll and close the cover"
            )
        if status.cover_open:
            raise CoverOpenError(f"{where} has its cover open ({status.describe_reply(2)}){suffix}: close it")
        if status.cutter_error:
            raise CutterError(
                f"{where} has a cutter error ({status.describe_reply(3)}){suffix}: open the cover, "
                "remove the jammed paper and close the cover"
            )
        raise PrinterFaultError(
            f"{where} cannot print: {', '.join(status.problems)} ({status.describe_reply(1)}, "
            f"{status.describe_reply(3)}){suffix}: check the printer, power-cycle it if the error stays"
        )

    def wait_printed(
        self,
        timeout: float | None = None,
        *,
        ask: bool = True,
        poll_s: float | None = None,
        on_status: Callable[[PrinterStatus], None] | None = None,
        job: str | None = None,
    ) -> PaperState:
        """Wait until the printer has printed everything sent before ``GS r 1`` (sent now if ``ask``).

        With ``poll_s``, the status is asked (``DLE EOT``, answered even mid-job) every ``poll_s``
        seconds while waiting, handed to ``on_status``, and the matching :class:`PrinterNotReadyError`
        is raised as soon as the printer says it cannot print, instead of at the timeout.
        """
        with self._lock:
            if ask:
                self._sync()
                with self._link_errors("asking GS r 1"):
                    self.transport.write(PAPER_SENSOR_REQUEST)
            deadline = time.monotonic() + (self.confirm_timeout if timeout is None else timeout)
            while True:
                remaining = deadline - time.monotonic()
                step = remaining if poll_s is None else min(poll_s, remaining)
                try:
                    return self._await_printed(max(0.0, step))
                except PrinterTimeoutError:
                    if step >= remaining:
                        raise
                status = self._ask_status(DEFAULT_STATUS_TIMEOUT)
                if on_status is not None:
                    on_status(status)
                self.ensure_ready(status, job=job)

    def print_ticket(self, ticket: TicketData, *, confirm_timeout: float | None = None) -> int:
        """Check the status, print ``ticket``, wait for the printer to confirm it; return the bytes sent.

        Raises :class:`PaperOutError`, :class:`CoverOpenError`, … before printing if the printer cannot
        print, and after printing if it stopped during the job; :class:`PrinterTimeoutError` if it went
        silent.
        """
        job = f"ticket {ticket.number}"
        with self._lock:
            self.ensure_ready(job=job)
            data = render_ticket(ticket, profile=self.profile)
            self.print_bytes(data + PAPER_SENSOR_REQUEST)
            try:
                paper = self._await_printed(
                    self.confirm_timeout if confirm_timeout is None else confirm_timeout
                )
            except PrinterTimeoutError:
                self.ensure_ready(job=job)
                raise
        if paper is PaperState.NEAR_END:
            logger.warning("printer %s: paper near end after %s; change the roll soon", self.url, job)
        logger.info("printer %s printed %s (%d bytes)", self.url, job, len(data))
        return len(data)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<EscposPrinter {self.url} {self.width_dots} dots>"

    # --- internals ---------------------------------------------------------------------------

    def _await_printed(self, timeout: float) -> PaperState:
        reply = self._read_reply(ReplyKind.PAPER_SENSOR, timeout, "GS r 1 (job printed)")
        return decode_paper_sensor(reply)

    def _read_reply(self, kind: ReplyKind, timeout: float, what: str) -> int:
        """The first reply of ``kind`` before the deadline; other replies wait in ``_pending`` for their
        reader, ASB blocks go to ``on_asb``, noise is dropped."""
        deadline = time.monotonic() + timeout
        while True:
            for i, reply in enumerate(self._pending):
                if reply.kind is kind:
                    del self._pending[i]
                    return reply.data[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with self._link_errors(f"waiting for {what}"):
                chunk = self.transport.read(READ_CHUNK, timeout=remaining)
            for reply in self._stream.feed(chunk):
                if reply.kind is ReplyKind.ASB:
                    self._on_asb_block(reply.data)
                elif reply.kind is ReplyKind.NOISE:
                    logger.debug(
                        "printer %s: skipped byte 0x%02X waiting for %s", self.url, reply.data[0], what
                    )
                else:
                    self._pending.append(reply)
        raise PrinterTimeoutError(
            f"printer {self.url} did not answer {what} within {timeout:.1f} s: check that it is powered "
            "on and connected, and that the port and baud rate are right"
        )

    def _on_asb_block(self, block: bytes) -> None:
        """An Automatic Status Back block met while waiting for something else: pass it on."""
        logger.debug("printer %s: ASB block %s", self.url, block.hex(" "))
        if len(block) != ASB_BLOCK or self.on_asb is None:
            return
        try:
            self.on_asb(decode_asb(block))
        except Exception:
            logger.exception("printer %s: ASB handler failed", self.url)

    def _sync(self) -> None:
        """Make sure the reply stream knows where ASB blocks begin before a GS r reply is awaited."""
        if not self._stream.synced:
            self._read_sync_reply()

    def _read_sync_reply(self) -> None:
        with self._link_errors("asking DLE EOT 1 (synchronising)"):
            self.transport.write(status_request(1))
        self._read_reply(ReplyKind.STATUS, DEFAULT_STATUS_TIMEOUT, "DLE EOT 1")

    def _drain(self) -> None:
        with self._link_errors("discarding old input"):
            self.transport.reset_input()
        self._pending.clear()
        self._stream = StatusStream()

    @contextlib.contextmanager
    def _link_errors(self, doing: str) -> Iterator[None]:
        """Turn ``TransportError`` into ``PrinterLinkError`` naming the printer and what it was doing."""
        try:
            yield
        except TransportError as err:
            raise PrinterLinkError(
                f"printer {self.url}: link failed while {doing} ({err}); check the cable or network and "
                "reopen the printer"
            ) from err
