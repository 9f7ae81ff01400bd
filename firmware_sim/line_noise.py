"""A noisy serial line between two simulators or a simulator and its host, reproducible from a seed.

:class:`LineNoise` damages each transmission (one frame's bytes) the way a long RS-485 run near
fluorescent ballasts and lift motors does:

- **bit flips** at ``ber`` (bit error rate, independent bits; the 8 data bits of each byte);
- **garbage** between frames: 1–8 random bytes before a frame, with probability ``garbage``;
- **truncation**: a frame cut short (its tail lost), with probability ``truncate``;
- **splicing**: a frame's head joined to a later frame's tail (a receiver that lost sync in the
  middle), with probability ``splice``;
- **chunked delivery**: :meth:`chunks` splits what arrives at random points, as UART reads do.

``LineNoise.for_ber(ber)`` ties the frame-level faults to the bit error rate (``FRAME_FAULTS_PER_BER``
× ber each), so one number sets how bad the line is. Used by ``bench/keypad_noise.py`` and tests.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

FRAME_FAULTS_PER_BER = 5.0
MAX_GARBAGE = 8


@dataclass
class LineNoise:
    """One direction of a noisy line; ``seed`` makes every run the same."""

    ber: float = 0.0
    garbage: float = 0.0
    truncate: float = 0.0
    splice: float = 0.0
    seed: int = 0
    bits_flipped: int = 0
    _random: random.Random = field(init=False)
    _spliced_head: bytes | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        for name in ("ber", "garbage", "truncate", "splice"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"line noise {name} is a probability in [0, 1), not {value}")
        self._random = random.Random(self.seed)
        self._log_keep = math.log1p(-self.ber) if self.ber > 0 else 0.0

    @classmethod
    def for_ber(cls, ber: float, seed: int = 0) -> LineNoise:
        """A line with bit errors at ``ber`` and garbage, truncation and splices in proportion."""
        frame_faults = min(0.3, FRAME_FAULTS_PER_BER * ber)
        return cls(ber, frame_faults, frame_faults, frame_faults / 2, seed)

    def apply(self, frame: bytes) -> bytes:
        """The bytes that reach the other end when ``frame`` is sent."""
        rnd = self._random
        data = self._flip_bits(frame)
        if self._spliced_head is not None and data:
            data = self._spliced_head + data[rnd.randrange(1, len(data) + 1) :]
            self._spliced_head = None
        elif len(data) > 1 and rnd.random() < self.splice:
            self._spliced_head = data[: rnd.randrange(1, len(data))]
            return b""
        if len(data) > 1 and rnd.random() < self.truncate:
            data = data[: rnd.randrange(1, len(data))]
        if rnd.random() < self.garbage:
            data = rnd.randbytes(rnd.randint(1, MAX_GARBAGE)) + data
        return data

    def _flip_bits(self, frame: bytes) -> bytes:
        if self.ber <= 0.0 or not frame:
            return frame
        bits = len(frame) * 8
        position = self._skip()
        if position >= bits:
            return frame
        out = bytearray(frame)
        while position < bits:
            out[position // 8] ^= 1 << (position % 8)
            self.bits_flipped += 1
            position += 1 + self._skip()
        return bytes(out)

    def _skip(self) -> int:
        """Error-free bits before the next flipped one (geometric, so cost follows errors, not bits)."""
        return int(math.log(1.0 - self._random.random()) / self._log_keep)

    def chunks(self, data: bytes) -> list[bytes]:
        """``data`` split at random points, as successive reads of a UART would return it."""
        out: list[bytes] = []
        while data:
            size = self._random.randint(1, max(1, len(data)))
            out.append(data[:size])
            data = data[size:]
        return out
