"""What a URL scheme is made of: its typed query parameters, its target, and how to open it.

A transport URL reads ``SCHEME://TARGET?NAME=VALUE&NAME=VALUE``. Each scheme module (``serialport``,
``tcp``, ``usbbulk``, ``loop``, ``sim``) declares one :class:`Scheme`: the grammar shown in error
messages, a function checking the TARGET (everything between ``://`` and ``?``), the query
parameters it accepts with their value parsers and defaults, and the function that opens it.
``transport.url`` keeps the registry of schemes and turns text into a :class:`TransportUrl`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import SplitResult

if TYPE_CHECKING:
    from transport.base import Transport

ParamValue = str | int | float | bool
ValueParser = Callable[[str], ParamValue]

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def flag(text: str) -> bool:
    """``1``/``0`` (also true/false, yes/no, on/off) as a bool."""
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError("expected 1 or 0")


def seconds(text: str) -> float:
    """A finite, non-negative number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError("expected a number of seconds, like 0.5") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError("expected a number of seconds ≥ 0")
    return value


def whole_number(low: int, high: int, *, as_hex: bool = False) -> ValueParser:
    """A parser of integers in ``low..high``, written in decimal or with a 0x / 0o / 0b prefix.

    ``as_hex`` shows the bounds in hex in error messages, for addresses people write in hex.
    """
    bounds = f"0x{low:02x} to 0x{high:02x}" if as_hex else f"{low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 0)
        except ValueError:
            raise ValueError(f"expected a whole number from {bounds}") from None
        if not low <= value <= high:
            raise ValueError(f"expected a whole number from {bounds}")
        return value

    return parse


def one_of(*choices: str) -> ValueParser:
    """A parser accepting exactly one of ``choices`` (case-insensitive), returned as spelt there."""
    canonical = {choice.lower(): choice for choice in choices}

    def parse(text: str) -> str:
        choice = canonical.get(text.strip().lower())
        if choice is None:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return choice

    return parse


@dataclass(frozen=True)
class Param:
    """One query parameter a scheme accepts: how to read its text, its default, what it means."""

    parse: ValueParser
    default: ParamValue
    doc: str


@dataclass(frozen=True)
class TransportUrl:
    """A transport URL checked against its scheme, ready to open (or only to validate).

    ``params`` holds only the parameters written in the URL, already converted to their types;
    ``Scheme.settings`` fills in the defaults. ``spy`` is the scheme-independent ``spy=1``.
    """

    scheme: str
    target: str
    params: Mapping[str, ParamValue] = field(hash=False)
    url: str
    spy: bool = False
    extra: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Parameters a ``free_params`` scheme does not know itself, as written (a simulator's faults)."""

    def __str__(self) -> str:
        return self.url


TargetParser = Callable[[SplitResult], str]
Opener = Callable[[TransportUrl, float], "Transport"]
ParamsCheck = Callable[[Mapping[str, ParamValue]], None]


@dataclass(frozen=True)
class Scheme:
    """A registered URL scheme.

    ``parse_target`` gets the split URL and returns the normalised target, raising ``ValueError``
    naming the problem; ``check`` sees the given parameters together and raises ``ValueError``
    for combinations that make no sense; ``opener`` gets the parsed URL and the read timeout.
    """

    name: str
    grammar: str
    parse_target: TargetParser
    opener: Opener
    params: Mapping[str, Param] = field(default_factory=dict)
    check: ParamsCheck | None = None
    free_params: bool = False
    """Unknown query parameters go to ``TransportUrl.extra`` for the opener instead of being errors."""

    def settings(self, url: TransportUrl) -> dict[str, ParamValue]:
        """Every parameter of this scheme: the value written in ``url``, else its default."""
        return {name: url.params.get(name, param.default) for name, param in self.params.items()}


def no_path(parts: SplitResult) -> None:
    """Reject a path after the target, for schemes whose target is only the network location."""
    if parts.path not in ("", "/"):
        raise ValueError(f"unexpected path {parts.path!r}")
