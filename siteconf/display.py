"""The ``[display]`` table of the site file: keypad key maps, the hall board, the voice, 433 MHz remotes.

Every key is optional; an absent table gives the defaults below. Example::

    [display.keys]                      # every counter: key of the keypad -> counter operation
    pause = "close"                     # this centre's PAUSE key closes the counter

    [[display.counter_keys]]            # one counter differs
    counter = 4
    keys = { recall = "no_show" }

    [display.hall]
    language = "vi"                     # "vi" or "en"
    layout = "grid"                     # "grid" (cards) or "list" (rows)
    columns = 4
    shown_calls = 8
    recent_calls = 6                    # last calls listed beside the counters, newest first
    notice = "Vui lòng giữ trật tự"     # the scrolling line at the bottom
    boards = 1                          # hall screens: each logs in as hall-board, hall-board-2, ...

    [display.voice]
    engine = "espeak"                   # or "clips" with clips = "/srv/motcua/clips" (one WAV per word)
    template = "Mời công dân có số thứ tự {ticket} đến {counter_name}"
    repeat = 2
    backlog = 2                         # more calls waiting than this: drop chime and repeat
    prefixes = { UA = "ưu tiên A" }     # how a prefix is said (default: priority series "ưu tiên" + prefix)

    rf433_receivers = ["keypad-2"]      # these keypad devices are 433 MHz receivers, not caller buses
    caller_bus = "polled"               # poll caller-bus keypads (needs keypads that answer CMD 04)

    [[display.remotes]]                 # EV1527 433 MHz remotes, each bound to one counter
    id = "0x5A3C1"
    counter = 2
    keys = { 1 = "call_next", 2 = "recall" }

Keys (``bus.models.Key``, what a ``key_pressed`` event carries) map to the operations in
:data:`ACTIONS`; :meth:`DisplayConf.key_action` is what the queue server asks.
"""

from __future__ import annotations

import re
import string
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from bus.models import Key
from siteconf.base import Section, Strict

if TYPE_CHECKING:
    from siteconf.model import Site

ACTIONS = frozenset(
    {
        "call_next",
        "recall",
        "no_show",
        "transfer",
        "pause",
        "resume",
        "finish",
        "request_rating",
        "open",
        "close",
    }
)
"""Counter operations a key can trigger."""

DEFAULT_KEYS: dict[Key, str] = {
    Key.CALL_NEXT: "call_next",
    Key.RECALL: "recall",
    Key.NO_SHOW: "no_show",
    Key.TRANSFER: "transfer",
    Key.PAUSE: "pause",
    Key.FINISH: "finish",
    Key.REQUEST_RATING: "request_rating",
}
"""The map when the site file says nothing: each key does what it is named after; CONFIRM and DIGIT
keys have no operation of their own (the server reads them as a typed number)."""

DEFAULT_REMOTE_KEYS: dict[int, Key] = {1: Key.CALL_NEXT, 2: Key.RECALL, 4: Key.NO_SHOW, 8: Key.FINISH}
"""EV1527 key nibble → key, for the common four-button remote (buttons A..D on data bits 0..3)."""

TEMPLATE_FIELDS = frozenset({"ticket", "counter", "counter_name", "service_name"})


def _action(value: str) -> str:
    if value not in ACTIONS:
        raise ValueError(f"unknown operation {value!r}; one of {', '.join(sorted(ACTIONS))}")
    return value


Action = Annotated[str, BeforeValidator(_action)]


def _remote_id(value: object) -> object:
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError as err:
            raise ValueError(f"remote id {value!r} is not a number (e.g. 0x5A3C1)") from err
    return value


class CounterKeys(Strict):
    counter: int
    keys: dict[Key, Action | None]


class Language(StrEnum):
    VI = "vi"
    EN = "en"


class HallLayout(StrEnum):
    GRID = "grid"
    LIST = "list"


class HallConf(Strict):
    language: Language = Language.VI
    layout: HallLayout = HallLayout.GRID
    columns: int = Field(default=4, ge=1, le=8)
    shown_calls: int = Field(default=8, ge=1, le=40)
    recent_calls: int = Field(
        default=6, ge=1, le=20, description="the list of last calls beside the counters"
    )
    headline_min_s: float = Field(
        default=4.0, ge=0.5, le=30, description="each call stays headlined this long"
    )
    notice: str = "Vui lòng giữ trật tự và chờ đến lượt. Xin cảm ơn!"
    notice_en: str = "Please wait for your number to be called. Thank you!"
    boards: int = Field(default=1, ge=1, le=50, description="hall screens, each with its own login")

    def board_ids(self) -> list[str]:
        """The client id of each hall screen: ``hall-board``, then ``hall-board-2`` and on."""
        return ["hall-board"] + [f"hall-board-{n}" for n in range(2, self.boards + 1)]


class VoiceEngineName(StrEnum):
    ESPEAK = "espeak"
    CLIPS = "clips"


def _template(value: str) -> str:
    fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    unknown = fields - TEMPLATE_FIELDS
    if unknown:
        allowed = ", ".join("{" + f + "}" for f in sorted(TEMPLATE_FIELDS))
        raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; use {allowed}")
    return value


class VoiceConf(Strict):
    enabled: bool = True
    engine: VoiceEngineName = VoiceEngineName.ESPEAK
    espeak_voice: str = "vi"
    speed: int = Field(default=140, ge=80, le=300, description="espeak-ng words per minute")
    clips: str | None = Field(default=None, description="folder of recorded words, one WAV per word")
    dialect: str = Field(default="north", pattern=r"^(north|south)$")
    read_digits: bool = Field(default=False, description="say 1023 as một không hai ba")
    prefixes: dict[str, str] = Field(
        default_factory=dict,
        description='how a ticket prefix is said, e.g. { UA = "ưu tiên A" } (capitals are spelt); by'
        " default a priority series is said priority_word + its service's prefix, others letter by letter",
    )
    priority_word: str = Field(default="ưu tiên", min_length=1, description="said before a priority prefix")

    @field_validator("prefixes")
    @classmethod
    def _prefixes(cls, value: dict[str, str]) -> dict[str, str]:
        for prefix, spoken in value.items():
            if not re.fullmatch(r"[A-Z]{1,3}", prefix):
                raise ValueError(f"{prefix!r} is not a ticket prefix (one to three capital letters)")
            if not spoken.strip():
                raise ValueError(f"{prefix}: say something for the prefix, or leave it out")
        return value

    template: Annotated[str, BeforeValidator(_template)] = (
        "Mời công dân có số thứ tự {ticket} đến {counter_name}"
    )
    recall_template: Annotated[str, BeforeValidator(_template)] = (
        "Xin mời lại công dân có số thứ tự {ticket} đến {counter_name}"
    )
    repeat: int = Field(default=2, ge=1, le=5)
    repeat_gap_s: float = Field(default=0.8, ge=0, le=10)
    chime: bool = True
    backlog: int = Field(
        default=2, ge=0, le=50, description="more calls than this waiting: no chime, no repeat (never a call)"
    )
    chime_file: str | None = Field(default=None, description="a WAV to play instead of the built-in chime")
    player: list[str] = Field(
        default=[], description="command to play a WAV, e.g. ['aplay', '-q']; empty = pick the system's"
    )


class Remote(Strict):
    id: Annotated[int, BeforeValidator(_remote_id), Field(ge=0, lt=1 << 20)]
    counter: int
    keys: dict[int, Key] = Field(default_factory=lambda: dict(DEFAULT_REMOTE_KEYS))

    @field_validator("keys")
    @classmethod
    def _nibbles(cls, value: dict[int, Key]) -> dict[int, Key]:
        for code in value:
            if not 0 <= code <= 15:
                raise ValueError(f"EV1527 key code {code} is not 0..15")
        return value


class DisplayConf(Section):
    keys: dict[Key, Action | None] = Field(default_factory=dict)
    counter_keys: list[CounterKeys] = Field(default_factory=list)
    hall: HallConf = HallConf()
    voice: VoiceConf = VoiceConf()
    remotes: list[Remote] = Field(default_factory=list)
    rf433_receivers: list[str] = Field(
        default_factory=list, description="ids of keypad devices that are 433 MHz EV1527 receivers"
    )
    caller_bus: Literal["push", "polled"] = Field(
        default="push", description="polled: the master asks each keypad in turn (noisy lines, issue 13)"
    )

    def key_action(self, counter: int, key: Key) -> str | None:
        """The operation ``key`` triggers at ``counter``: its ``counter_keys`` entry, else ``keys``,
        else :data:`DEFAULT_KEYS`; ``None`` when the key does nothing by itself."""
        for entry in self.counter_keys:
            if entry.counter == counter and key in entry.keys:
                return entry.keys[key]
        if key in self.keys:
            return self.keys[key]
        return DEFAULT_KEYS.get(key)

    def remote(self, remote_id: int) -> Remote | None:
        """The remote with EV1527 id ``remote_id``, ``None`` for a remote nobody bound (a neighbour's)."""
        return next((r for r in self.remotes if r.id == remote_id), None)

    def problems(self, site: Site) -> list[str]:
        numbers = {c.number for c in site.counters}
        found = [
            f"display.counter_keys[{i}].counter: no counter number {e.counter}"
            for i, e in enumerate(self.counter_keys)
            if e.counter not in numbers
        ]
        found += [
            f"display.remotes[{i}].counter: no counter number {r.counter}"
            for i, r in enumerate(self.remotes)
            if r.counter not in numbers
        ]
        seen: set[int] = set()
        for i, remote in enumerate(self.remotes):
            if remote.id in seen:
                found.append(f"display.remotes[{i}].id: 0x{remote.id:05X} appears twice")
            seen.add(remote.id)
        keypads = {d.id: d for d in site.devices if d.kind.value == "keypad"}
        found += [
            f"display.rf433_receivers[{i}]: {device_id!r} is not a keypad device"
            for i, device_id in enumerate(self.rf433_receivers)
            if device_id not in keypads
        ]
        if self.voice.engine is VoiceEngineName.CLIPS and self.voice.clips is None:
            found.append("display.voice.clips: the clips engine needs the folder of recorded words")
        return found
