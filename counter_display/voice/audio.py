"""Audio pieces of an announcement: 16-bit mono PCM clips, a generated chime, and the players.

A :class:`Clip` is PCM samples at a rate; clips are joined after converting to one rate (linear
interpolation is enough for speech and a chime). Players take a finished WAV file and block until it
has been heard: :class:`CommandPlayer` runs the system's player (``paplay``, ``aplay`` or sox's
``play``), :class:`FileSink` writes each announcement to a folder (a machine with no sound card, or a
test). :func:`system_player` picks the first that can work on this machine.
"""

from __future__ import annotations

import array
import io
import logging
import math
import os
import shutil
import subprocess
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from counter_display.errors import CounterDeviceError

log = logging.getLogger(__name__)

SAMPLE_WIDTH = 2
DEFAULT_RATE = 22050


class AudioError(CounterDeviceError):
    """A clip that cannot be read or played; the message names the file or the player."""


@dataclass(frozen=True)
class Clip:
    """Mono signed 16-bit samples at ``rate`` Hz."""

    samples: array.array[int]
    rate: int = DEFAULT_RATE

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    def at_rate(self, rate: int) -> Clip:
        """The same sound at ``rate`` Hz."""
        if rate == self.rate or not self.samples:
            return Clip(self.samples, rate)
        count = max(1, round(len(self.samples) * rate / self.rate))
        src, step, last = self.samples, self.rate / rate, len(self.samples) - 1
        out = array.array("h", bytes(2 * count))
        for i in range(count):
            pos = i * step
            j = min(int(pos), last)
            frac = pos - j
            out[i] = int(src[j] + (src[min(j + 1, last)] - src[j]) * frac)
        return Clip(out, rate)

    def wav_bytes(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(SAMPLE_WIDTH)
            w.setframerate(self.rate)
            w.writeframes(self.samples.tobytes())
        return buf.getvalue()

    def save(self, path: Path) -> Path:
        path.write_bytes(self.wav_bytes())
        return path


def read_wav(data: bytes, name: str = "<wav>") -> Clip:
    """A clip from WAV bytes (16-bit PCM, mono or stereo mixed down); ``AudioError`` otherwise."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as err:
        raise AudioError(f"{name} is not a readable WAV file: {err}") from err
    if width != SAMPLE_WIDTH:
        raise AudioError(f"{name} has {8 * width}-bit samples; save it as 16-bit PCM")
    samples = array.array("h", frames)
    if channels > 1:
        samples = array.array(
            "h", (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels))
        )
    return Clip(samples, rate)


def silence(seconds: float, rate: int = DEFAULT_RATE) -> Clip:
    return Clip(array.array("h", bytes(2 * round(seconds * rate))), rate)


def join(clips: list[Clip], gap: float = 0.0) -> Clip:
    """The clips one after the other at the first clip's rate, ``gap`` seconds of silence between."""
    if not clips:
        return silence(0)
    rate = clips[0].rate
    out = array.array("h")
    for i, clip in enumerate(clips):
        if i and gap:
            out.extend(silence(gap, rate).samples)
        out.extend(clip.at_rate(rate).samples)
    return Clip(out, rate)


def chime(rate: int = DEFAULT_RATE, notes: tuple[float, ...] = (784.0, 659.3, 523.3)) -> Clip:
    """A soft descending "ding-dong-dong" (G5 E5 C5 by default): sine tones with a bell-like decay."""
    out = array.array("h")
    note_s = 0.45
    for freq in notes:
        count = round(note_s * rate)
        for i in range(count):
            t = i / rate
            envelope = min(1.0, t / 0.01) * math.exp(-4.0 * t)
            tone = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(int(9000 * envelope * tone))
    return Clip(out, rate)


class Player(Protocol):
    """Plays one WAV file to the end (blocking); raises :class:`AudioError` if it cannot."""

    def play(self, wav: Path) -> None: ...


class CommandPlayer:
    """The system's audio player, e.g. ``["paplay"]``, ``["aplay", "-q"]`` or ``["play", "-q"]``."""

    def __init__(self, command: list[str], timeout: float = 120.0) -> None:
        self.command = command
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<CommandPlayer {' '.join(self.command)}>"

    def play(self, wav: Path) -> None:
        try:
            done = subprocess.run(
                [*self.command, str(wav)], capture_output=True, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise AudioError(f"{self.command[0]} could not play {wav.name}: {err}") from err
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise AudioError(f"{self.command[0]} failed ({done.returncode}) playing {wav.name}: {detail[0]}")


class FileSink:
    """Writes each announcement to ``folder`` as ``0001.wav``, ``0002.wav``, … instead of playing it,
    keeping the newest ``keep`` files (a day of calls would otherwise fill the disk)."""

    def __init__(self, folder: Path, keep: int = 1000) -> None:
        self.folder = folder
        self.keep = keep
        self.folder.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._lock = threading.Lock()
        self.played: list[Path] = []

    def __repr__(self) -> str:
        return f"<FileSink {self.folder}>"

    def play(self, wav: Path) -> None:
        with self._lock:
            self._count += 1
            target = self.folder / f"{self._count:04d}.wav"
        shutil.copyfile(wav, target)
        self.played.append(target)
        while len(self.played) > self.keep:
            self.played.pop(0).unlink(missing_ok=True)


def _has_sound_card() -> bool:
    return Path("/dev/snd").is_dir() and any(p.name.startswith("pcm") for p in Path("/dev/snd").iterdir())


def _pulse_running() -> bool:
    if shutil.which("pactl") is None:
        return False
    try:
        return subprocess.run(["pactl", "info"], capture_output=True, timeout=3, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def system_player(fallback: Path) -> Player:
    """``paplay`` when a sound server runs, else ``aplay`` or sox's ``play`` when a sound card exists,
    else a :class:`FileSink` into ``fallback`` (and a log line saying so)."""
    if shutil.which("paplay") and _pulse_running():
        return CommandPlayer(["paplay"])
    if _has_sound_card() or os.environ.get("AUDIODEV"):
        for command in (["aplay", "-q"], ["play", "-q"]):
            if shutil.which(command[0]):
                return CommandPlayer(command)
    log.warning("no audio output on this machine; the latest announcements are written to %s", fallback)
    return FileSink(fallback, keep=20)
