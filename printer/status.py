"""ESC/POS real-time status: ``DLE EOT n`` requests and replies, and the ``GS r 1`` paper byte. Sans-IO.

Wire grammar (host → printer, then printer → host)::

    status request  = 10 04 n           ; n = 1 printer, 2 offline cause, 3 error cause, 4 paper sensor
    status reply    = 1 byte, pattern 0xx1xx10b (byte & 0x93 == 0x12); healthy replies 16 12 12 12
        n=1  bit 3 offline                        (bit 2 is the drawer pin, either value is fine)
        n=2  bit 2 cover open, bit 5 stopped at paper end, bit 6 error occurred (cause in n=3)
        n=3  bit 2 mechanical error, bit 3 auto-cutter error, bit 5 unrecoverable error,
             bit 6 auto-recoverable error
        n=4  bits 2-3 (0x0C) paper near end, bits 5-6 (0x60) paper end
    paper request   = 1D 72 01          ; GS r 1, answered only after the print buffer drains
    paper reply     = 1 byte, pattern 0xx0xxxxb: bits 0-1 (0x03) near end, bits 2-3 (0x0C) paper end
    ASB block       = 4 bytes pushed after GS a n; first byte 0xx1xx00b (byte & 0x93 == 0x10), the other
                      three 0xx0xxxxb; byte 2: bit 2 mechanical, bit 3 cutter, bit 5 unrecoverable,
                      bit 6 auto-recoverable error; byte 3: bits 0-1 near end, bits 2-3 paper end

The patterns let a reader tell the three apart: a ``DLE EOT`` reply has bits 1 and 4 set, an Automatic
Status Back header has bit 4 set and bits 0-1 clear, and a ``GS r`` reply has bit 4 clear. The last
three bytes of an ASB block also have bit 4 clear, so a reader that starts in the middle of a block
(port opened, or input discarded, while a block was on the wire) cannot tell them from ``GS r`` replies:
:class:`StatusStream` starts unsynchronised and skips such bytes until an ASB header or a ``DLE EOT``
reply shows where blocks begin.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from printer.errors import StatusReplyError

DLE_EOT = b"\x10\x04"
PAPER_SENSOR_REQUEST = b"\x1d\x72\x01"
STATUS_KINDS = (1, 2, 3, 4)
ASB_SIZE = 4
HEALTHY_REPLIES: Mapping[int, int] = {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x12}

_REPLY_MASK = 0x93
_REPLY_PATTERN = 0x12
_ASB_HEADER_PATTERN = 0x10

OFFLINE = 0x08
COVER_OPEN = 0x04
STOPPED_AT_PAPER_END = 0x20
ERROR_OCCURRED = 0x40
MECHANICAL_ERROR = 0x04
CUTTER_ERROR = 0x08
UNRECOVERABLE_ERROR = 0x20
AUTO_RECOVERABLE_ERROR = 0x40
PAPER_NEAR_END = 0x0C
PAPER_END = 0x60
SENSOR_NEAR_END = 0x03
SENSOR_PAPER_END = 0x0C
_ERROR_CAUSES = MECHANICAL_ERROR | CUTTER_ERROR | UNRECOVERABLE_ERROR | AUTO_RECOVERABLE_ERROR


class PaperState(enum.Enum):
    """What the paper sensors say; values match the bus ``PaperLevel`` strings."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PrinterStatus:
    """The printer's state, combined from the ``DLE EOT 1..4`` replies it was built from."""

    paper: PaperState = PaperState.UNKNOWN
    cover_open: bool = False
    offline: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    recoverable_error: bool = False
    mechanical_error: bool = False
    unexplained_error: bool = False
    """DLE EOT 2 says an error occurred, but DLE EOT 3 (not asked, or clone firmware) names none."""
    replies: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    @property
    def can_print(self) -> bool:
        """True when nothing stops a job: paper present, cover closed, online and no error."""
        return not self.problems

    @property
    def problems(self) -> list[str]:
        """Short English descriptions of everything that stops printing, most actionable first."""
        found = []
        if self.paper is PaperState.OUT:
            found.append("paper out")
        if self.cover_open:
            found.append("cover open")
        if self.cutter_error:
            found.append("cutter error")
        if self.unrecoverable_error:
            found.append("unrecoverable error")
        if self.mechanical_error:
            found.append("mechanical error")
        if self.recoverable_error:
            found.append("auto-recoverable error")
        if self.unexplained_error:
            found.append("error occurred")
        if self.offline and not found:
            found.append("offline")
        return found

    def reply(self, n: int) -> int | None:
        """The raw reply byte to ``DLE EOT n``, if it was part of this status."""
        return dict(self.replies).get(n)

    def describe_reply(self, n: int) -> str:
        """``"DLE EOT 4 = 0x72"``, for error messages; ``"DLE EOT 4 not asked"`` when absent."""
        value = self.reply(n)
        return f"DLE EOT {n} not asked" if value is None else f"DLE EOT {n} = 0x{value:02X}"


def status_request(n: int) -> bytes:
    """The bytes of ``DLE EOT n``; ``n`` must be 1..4."""
    if n not in STATUS_KINDS:
        raise ValueError(f"DLE EOT n must be 1..4 (printer, offline, error, paper), not {n}")
    return DLE_EOT + bytes((n,))


def is_status_reply(byte: int) -> bool:
    """Whether ``byte`` has the ``0xx1xx10b`` pattern of every ``DLE EOT`` reply."""
    return byte & _REPLY_MASK == _REPLY_PATTERN


def is_asb_header(byte: int) -> bool:
    """Whether ``byte`` can start a 4-byte Automatic Status Back block (``0xx1xx00b``)."""
    return byte & _REPLY_MASK == _ASB_HEADER_PATTERN


def is_paper_sensor_reply(byte: int) -> bool:
    """Whether ``byte`` can be the reply to ``GS r 1`` (``0xx0xxxxb``)."""
    return byte & 0x90 == 0


def check_reply(n: int, byte: int) -> int:
    """Return ``byte`` if it is a valid reply to ``DLE EOT n``, else raise :class:`StatusReplyError`."""
    if n not in STATUS_KINDS:
        raise ValueError(f"DLE EOT n must be 1..4, not {n}")
    if not 0 <= byte <= 0xFF:
        raise StatusReplyError(f"DLE EOT {n} reply {byte} is not a byte value (0..255)")
    if not is_status_reply(byte):
        raise StatusReplyError(
            f"DLE EOT {n} reply 0x{byte:02X} does not match the status pattern 0xx1xx10b; the link carries "
            "something else (Automatic Status Back, leftover data, wrong baud rate): check the port "
            "settings and retry"
        )
    return byte


def decode_status(replies: Mapping[int, int]) -> PrinterStatus:
    """Combine the replies to ``DLE EOT n`` (keyed by n) into a :class:`PrinterStatus`.

    Replies that were not asked for leave their fields at the healthy default, except ``paper``, which
    is ``UNKNOWN`` unless reply 4 (or reply 2's "stopped at paper end") says otherwise.
    """
    checked = {n: check_reply(n, byte) for n, byte in sorted(replies.items())}
    printer = checked.get(1, HEALTHY_REPLIES[1])
    offline_cause = checked.get(2, HEALTHY_REPLIES[2])
    error_cause = checked.get(3, HEALTHY_REPLIES[3])
    explained = bool(error_cause & _ERROR_CAUSES)
    return PrinterStatus(
        paper=_paper_state(checked.get(4), offline_cause),
        cover_open=bool(offline_cause & COVER_OPEN),
        offline=bool(printer & OFFLINE),
        cutter_error=bool(error_cause & CUTTER_ERROR),
        unrecoverable_error=bool(error_cause & UNRECOVERABLE_ERROR),
        recoverable_error=bool(error_cause & AUTO_RECOVERABLE_ERROR),
        mechanical_error=bool(error_cause & MECHANICAL_ERROR),
        unexplained_error=bool(offline_cause & ERROR_OCCURRED) and not explained,
        replies=tuple(checked.items()),
    )


def _paper_state(paper_reply: int | None, offline_cause: int) -> PaperState:
    if offline_cause & STOPPED_AT_PAPER_END:
        return PaperState.OUT
    if paper_reply is None:
        return PaperState.UNKNOWN
    if paper_reply & PAPER_END:
        return PaperState.OUT
    if paper_reply & PAPER_NEAR_END:
        return PaperState.NEAR_END
    return PaperState.OK


def decode_paper_sensor(byte: int) -> PaperState:
    """Decode the reply to ``GS r 1``; raise :class:`StatusReplyError` if it has the wrong pattern."""
    if not 0 <= byte <= 0xFF or not is_paper_sensor_reply(byte):
        raise StatusReplyError(
            f"GS r 1 reply 0x{byte:02X} does not match the paper sensor pattern 0xx0xxxxb; check the "
            "port settings and retry"
        )
    if byte & SENSOR_PAPER_END:
        return PaperState.OUT
    if byte & SENSOR_NEAR_END:
        return PaperState.NEAR_END
    return PaperState.OK


def encode_status(status: PrinterStatus, n: int) -> int:
    """The reply byte a printer in ``status`` gives to ``DLE EOT n`` (used by the simulator)."""
    if n == 1:
        return HEALTHY_REPLIES[1] | (OFFLINE if status.offline else 0)
    if n == 2:
        return (
            _REPLY_PATTERN
            | (COVER_OPEN if status.cover_open else 0)
            | (STOPPED_AT_PAPER_END if status.paper is PaperState.OUT else 0)
            | (ERROR_OCCURRED if _has_error(status) or status.unexplained_error else 0)
        )
    if n == 3:
        return (
            _REPLY_PATTERN
            | (MECHANICAL_ERROR if status.mechanical_error else 0)
            | (CUTTER_ERROR if status.cutter_error else 0)
            | (UNRECOVERABLE_ERROR if status.unrecoverable_error else 0)
            | (AUTO_RECOVERABLE_ERROR if status.recoverable_error else 0)
        )
    if n == 4:
        paper = {PaperState.OUT: PAPER_END, PaperState.NEAR_END: PAPER_NEAR_END}.get(status.paper, 0)
        return _REPLY_PATTERN | paper
    raise ValueError(f"DLE EOT n must be 1..4, not {n}")


def encode_paper_sensor(paper: PaperState) -> int:
    """The reply byte to ``GS r 1`` for ``paper`` (used by the simulator)."""
    return {PaperState.OUT: SENSOR_PAPER_END, PaperState.NEAR_END: SENSOR_NEAR_END}.get(paper, 0)


def encode_asb(status: PrinterStatus) -> bytes:
    """The 4-byte Automatic Status Back block for ``status`` (used by the simulator)."""
    first = _ASB_HEADER_PATTERN | (OFFLINE if status.offline else 0) | (0x20 if status.cover_open else 0)
    second = (
        (MECHANICAL_ERROR if status.mechanical_error else 0)
        | (CUTTER_ERROR if status.cutter_error else 0)
        | (UNRECOVERABLE_ERROR if status.unrecoverable_error else 0)
        | (AUTO_RECOVERABLE_ERROR if status.recoverable_error else 0)
    )
    third = {PaperState.OUT: 0x0C, PaperState.NEAR_END: 0x03}.get(status.paper, 0)
    return bytes((first, second, third, 0x00))


def _has_error(status: PrinterStatus) -> bool:
    return any(
        (status.cutter_error, status.unrecoverable_error, status.recoverable_error, status.mechanical_error)
    )


def decode_asb(block: bytes) -> PrinterStatus:
    """Decode a 4-byte Automatic Status Back block; :class:`StatusReplyError` if it is not one."""
    if len(block) != ASB_SIZE or not is_asb_header(block[0]):
        raise StatusReplyError(
            f"ASB block {block.hex(' ')} is not 4 bytes starting with the 0xx1xx00b pattern; check the "
            "port settings and retry"
        )
    first, second, third = block[0], block[1], block[2]
    if third & 0x0C:
        paper = PaperState.OUT
    elif third & 0x03:
        paper = PaperState.NEAR_END
    else:
        paper = PaperState.OK
    return PrinterStatus(
        paper=paper,
        cover_open=bool(first & 0x20),
        offline=bool(first & OFFLINE),
        cutter_error=bool(second & CUTTER_ERROR),
        unrecoverable_error=bool(second & UNRECOVERABLE_ERROR),
        recoverable_error=bool(second & AUTO_RECOVERABLE_ERROR),
        mechanical_error=bool(second & MECHANICAL_ERROR),
    )


class ReplyKind(enum.Enum):
    """What a byte (or block) from the printer was, as :class:`StatusStream` tells them apart."""

    STATUS = "status"  # a DLE EOT reply, 1 byte 0xx1xx10b
    ASB = "asb"  # an Automatic Status Back block, 4 bytes, header 0xx1xx00b
    PAPER_SENSOR = "paper_sensor"  # a GS r 1 reply, 1 byte 0xx0xxxxb
    NOISE = "noise"  # anything else (bit 7 set, or 0xx1xx01b / 0xx1xx11b)


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    data: bytes


class StatusStream:
    """Demultiplexes what a printer sends (sans-IO): DLE EOT replies, ASB blocks, GS r replies, noise.

    Bytes may arrive split anywhere; an ASB block is emitted once its 4 bytes are in. Any byte sequence
    is accepted: bytes that fit no pattern come out as ``NOISE``, one each, and never raise.

    A new stream is not synchronised: it may start in the middle of an ASB block, whose last bytes
    look like ``GS r`` replies (``08 0c 00`` would read as "paper out"). Until an ASB header or a
    ``DLE EOT`` reply shows where blocks begin, such bytes come out as ``NOISE``. A block broken by a
    byte that cannot be in one (bit 4 or 7 set) is given up as ``NOISE`` and reading resynchronises on
    that byte.
    """

    def __init__(self, *, synced: bool = False) -> None:
        self._asb = bytearray()
        self.synced = synced

    @property
    def pending(self) -> int:
        return len(self._asb)

    def feed(self, data: bytes) -> list[Reply]:
        out: list[Reply] = []
        for byte in data:
            if self._asb and is_paper_sensor_reply(byte):
                self._asb.append(byte)
                if len(self._asb) == ASB_SIZE:
                    out.append(Reply(ReplyKind.ASB, bytes(self._asb)))
                    self._asb.clear()
                continue
            out += [Reply(ReplyKind.NOISE, bytes((b,))) for b in self._asb]  # a broken block
            self._asb.clear()
            out += self._single(byte)
        return out

    def _single(self, byte: int) -> list[Reply]:
        if is_status_reply(byte):
            self.synced = True
            return [Reply(ReplyKind.STATUS, bytes((byte,)))]
        if is_asb_header(byte):
            self.synced = True
            self._asb.append(byte)
            return []
        if is_paper_sensor_reply(byte) and self.synced:
            return [Reply(ReplyKind.PAPER_SENSOR, bytes((byte,)))]
        return [Reply(ReplyKind.NOISE, bytes((byte,)))]
