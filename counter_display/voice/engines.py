"""Speech engines: text in, a :class:`~counter_display.voice.audio.Clip` out, offline.

- :class:`EspeakEngine` runs ``espeak-ng -v vi --stdout`` (Debian package ``espeak-ng``; voices
  ``vi``, ``vi-vn-x-central``, ``vi-vn-x-south``).
- :class:`ClipEngine` joins recorded clips, one WAV per word in a site folder (``mời.wav``,
  ``công.wav``, …, file names in NFC lower case). Every word of a sentence must have its clip;
  a missing one is an error listing all the missing words, found before anything is said.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Protocol

from counter_display.errors import CounterDeviceError
from counter_display.voice.audio import AudioError, Clip, join, read_wav
from counter_display.voice.words import words_of


class VoiceError(CounterDeviceError):
    """A sentence that cannot be turned into speech; the message says what is missing."""


class SpeechEngine(Protocol):
    def synthesize(self, text: str) -> Clip: ...


class EspeakEngine:
    """espeak-ng with a Vietnamese voice; ``speed`` in words per minute."""

    def __init__(self, voice: str = "vi", speed: int = 150, binary: str = "espeak-ng") -> None:
        self.voice = voice
        self.speed = speed
        self.binary = binary

    def __repr__(self) -> str:
        return f"<EspeakEngine {self.voice} {self.speed} wpm>"

    def synthesize(self, text: str) -> Clip:
        if shutil.which(self.binary) is None:
            raise VoiceError(
                f"{self.binary} is not installed: apt-get install espeak-ng, or use recorded clips"
            )
        text = unicodedata.normalize("NFC", text)
        try:
            done = subprocess.run(
                [self.binary, "-v", self.voice, "-s", str(self.speed), "--stdout", text],
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise VoiceError(f"{self.binary} failed on {text!r}: {err}") from err
        if done.returncode != 0 or not done.stdout:
            message = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
            raise VoiceError(f"{self.binary} -v {self.voice} could not speak {text!r}: {message}")
        try:
            return read_wav(_fix_stream_header(done.stdout), f"{self.binary} output")
        except AudioError as err:
            raise VoiceError(str(err)) from err


def _fix_stream_header(data: bytes) -> bytes:
    """espeak-ng writes to a pipe with RIFF/data sizes of 0x7FFFFFFF; set them from the real length."""
    if data[:4] != b"RIFF" or data[36:40] != b"data":
        return data
    body = len(data) - 44
    return b"RIFF" + (36 + body).to_bytes(4, "little") + data[8:40] + body.to_bytes(4, "little") + data[44:]


class ClipEngine:
    """Recorded words joined with ``gap`` seconds between them, from ``folder/<word>.wav``."""

    def __init__(self, folder: Path, gap: float = 0.05) -> None:
        if not folder.is_dir():
            raise VoiceError(f"clip folder {folder} does not exist; it must hold one WAV per word")
        self.folder = folder
        self.gap = gap
        self._cache: dict[str, Clip] = {}

    def __repr__(self) -> str:
        return f"<ClipEngine {self.folder}>"

    def missing(self, text: str) -> list[str]:
        """The words of ``text`` that have no clip, each once, in order."""
        missing = [w for w in dict.fromkeys(words_of(text)) if not (self.folder / f"{w}.wav").is_file()]
        return missing

    def synthesize(self, text: str) -> Clip:
        missing = self.missing(text)
        if missing:
            raise VoiceError(
                f"clip folder {self.folder} has no recording of: {', '.join(missing)} "
                f"(add {missing[0]}.wav, 16-bit PCM WAV)"
            )
        return join([self._clip(w) for w in words_of(text)], self.gap)

    def _clip(self, word: str) -> Clip:
        if word not in self._cache:
            path = self.folder / f"{word}.wav"
            try:
                self._cache[word] = read_wav(path.read_bytes(), str(path))
            except (OSError, AudioError) as err:
                raise VoiceError(f"cannot use the clip {path}: {err}") from err
        return self._cache[word]
