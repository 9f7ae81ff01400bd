"""Voice guidance for the kiosk screens through espeak-ng (Vietnamese ``vi`` and English ``en`` voices).

A ``VoiceHook`` (``voice(language, sentence)``) that never blocks the screen: each sentence is spoken by
a child process; a new sentence stops the one still speaking. With ``out_dir`` the speech is written
to numbered WAV files instead of the sound card (tests, machines without audio).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from pathlib import Path

from kiosk.errors import KioskDeviceError

log = logging.getLogger(__name__)

VOICES = {"vi": "vi", "en": "en"}


class EspeakVoice:
    def __init__(self, out_dir: Path | None = None, speed_wpm: int = 140) -> None:
        self.program = shutil.which("espeak-ng")
        if self.program is None:
            raise KioskDeviceError("espeak-ng is not installed: apt-get install espeak-ng")
        self.out_dir = out_dir
        self.speed_wpm = speed_wpm
        self.spoken = 0
        self._current: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def __call__(self, language: str, sentence: str) -> None:
        assert self.program is not None
        args = [self.program, "-v", VOICES.get(language, "vi"), "-s", str(self.speed_wpm)]
        with self._lock:
            self.stop()
            if self.out_dir is not None:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                args += ["-w", str(self.out_dir / f"voice-{self.spoken + 1:04d}.wav")]
            self.spoken += 1
            self._current = subprocess.Popen(
                [*args, "--", sentence], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

    def stop(self) -> None:
        """Stop the sentence being spoken, if any (the caller holds the lock or is closing)."""
        if self._current is not None and self._current.poll() is None:
            self._current.terminate()
        if self._current is not None:
            self._current.wait(timeout=5)
        self._current = None

    def wait(self, timeout: float = 10.0) -> None:
        """Wait until the current sentence is finished (tests)."""
        with self._lock:
            if self._current is not None:
                self._current.wait(timeout=timeout)
