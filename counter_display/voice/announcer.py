"""Announcements of calls: the sentence from the site's template, rendered with a chime and repeats,
queued and played one at a time.

The :class:`Announcer` has one worker thread and a FIFO queue. An announcement is played to its end
before the next begins, so a burst of calls is heard one by one in the order given (the hall board
gives them in ``seq`` order), never cut off and never merged. Rendering happens in the worker, just
before playing; an announcement that cannot be rendered or played is logged and the next one goes on.

Backlog policy: a full announcement (chime and ``repeat`` sentences) lasts ≈ 13 s, so in a burst the
voice would fall ever further behind the board. When more than ``conf.backlog`` calls wait behind
the one about to play, it is said once and without the chime (:func:`backlog_conf`); a call itself
is never dropped. ``shortened`` counts those.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from counter_display.voice.audio import (
    Clip,
    CommandPlayer,
    Player,
    chime,
    join,
    read_wav,
    silence,
    system_player,
)
from counter_display.voice.engines import ClipEngine, EspeakEngine, SpeechEngine, VoiceError
from counter_display.voice.words import Dialect, read_number, read_ticket
from siteconf.display import VoiceConf, VoiceEngineName

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Announcement:
    """One call to announce. ``seq`` is the call's per-site number, when it came from the bus."""

    ticket: str
    counter: int
    counter_name: str | None = None
    service_name: str = ""
    recall: bool = False
    seq: int | None = None


def sentence(conf: VoiceConf, call: Announcement) -> str:
    """The words said for ``call``: the site's template with the ticket and counter read aloud."""
    dialect = Dialect(conf.dialect)
    counter_words = read_number(call.counter, dialect)
    template = conf.recall_template if call.recall else conf.template
    return template.format(
        ticket=read_ticket(call.ticket, dialect, digits=conf.read_digits, prefixes=conf.prefixes),
        counter=counter_words,
        counter_name=_spoken_name(call.counter_name, counter_words),
        service_name=call.service_name,
    )


def _spoken_name(name: str | None, counter_words: str) -> str:
    """A counter's name with its digits read aloud: ``Quầy 5`` → ``quầy năm``."""
    if not name:
        return f"quầy số {counter_words}"
    return " ".join(read_number(int(w)) if w.isdigit() else w for w in name.split()).lower()


def make_engine(conf: VoiceConf, base: Path | None = None) -> SpeechEngine:
    """The engine the site asks for; a relative clip folder is relative to ``base`` (the site file's)."""
    if conf.engine is VoiceEngineName.CLIPS:
        if conf.clips is None:
            raise VoiceError("display.voice.clips: the clips engine needs the folder of recorded words")
        folder = Path(conf.clips)
        return ClipEngine(folder if folder.is_absolute() or base is None else base / folder)
    return EspeakEngine(conf.espeak_voice, conf.speed)


def backlog_conf(conf: VoiceConf, waiting: int) -> VoiceConf:
    """The voice settings for a call with ``waiting`` more calls queued behind it: the site's own,
    or, beyond ``conf.backlog``, the same without the chime and said once."""
    if waiting <= conf.backlog:
        return conf
    return conf.model_copy(update={"chime": False, "repeat": 1})


def render(conf: VoiceConf, call: Announcement, engine: SpeechEngine, bell: Clip | None = None) -> Clip:
    """The whole announcement as one clip: chime, then the sentence ``repeat`` times."""
    speech = engine.synthesize(sentence(conf, call))
    parts: list[Clip] = []
    if conf.chime:
        parts += [bell or _chime(conf, speech.rate), silence(0.2, speech.rate)]
    for i in range(conf.repeat):
        if i:
            parts.append(silence(conf.repeat_gap_s, speech.rate))
        parts.append(speech)
    return join(parts)


def _chime(conf: VoiceConf, rate: int) -> Clip:
    if conf.chime_file:
        path = Path(conf.chime_file)
        try:
            return read_wav(path.read_bytes(), str(path))
        except OSError as err:
            raise VoiceError(f"display.voice.chime_file: cannot read {path}: {err.strerror}") from err
    return chime(rate)


class Announcer:
    """Plays announcements one after another through ``player``; ``announce`` never blocks."""

    def __init__(
        self,
        conf: VoiceConf,
        engine: SpeechEngine | None = None,
        player: Player | None = None,
        on_spoken: Callable[[Announcement], None] | None = None,
    ) -> None:
        self.conf = conf
        self.engine = engine or make_engine(conf)
        self._tmp = tempfile.TemporaryDirectory(prefix="motcua-voice-")
        self.player = player or (
            CommandPlayer(conf.player) if conf.player else system_player(Path(self._tmp.name) / "out")
        )
        self.on_spoken = on_spoken
        self.spoken: list[Announcement] = []
        self.failed = 0
        self.shortened = 0
        self._queue: queue.Queue[Announcement | None] = queue.Queue()
        self._pending = 0
        self._stopping = False
        self._lock = threading.Condition()
        self._worker = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._worker.start()

    def announce(self, call: Announcement) -> None:
        """Queue ``call``; it is played after every announcement queued before it."""
        with self._lock:
            self._pending += 1
        self._queue.put(call)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until everything queued has been played; whether it has."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        """Finish the announcement being played, drop the rest, and end the worker."""
        self._stopping = True
        self._queue.put(None)
        self._worker.join(timeout=150)
        self._tmp.cleanup()

    def _run(self) -> None:
        count = 0
        while (call := self._queue.get()) is not None:
            count += 1
            try:
                if not self._stopping:
                    self._play(call, Path(self._tmp.name) / f"call-{count}.wav")
            finally:
                with self._lock:
                    self._pending -= 1
                    self._lock.notify_all()

    def _play(self, call: Announcement, wav: Path) -> None:
        with self._lock:
            waiting = self._pending - 1
        conf = backlog_conf(self.conf, waiting)
        if conf is not self.conf:
            self.shortened += 1
            log.info("voice backlog: %d calls wait; ticket %s said once, no chime", waiting, call.ticket)
        try:
            render(conf, call, self.engine).save(wav)
            self.player.play(wav)
            wav.unlink()
        except Exception:  # one bad announcement must not silence the hall
            self.failed += 1
            log.exception("could not announce ticket %s at counter %d", call.ticket, call.counter)
            return
        self.spoken.append(call)
        if self.on_spoken:
            self.on_spoken(call)
