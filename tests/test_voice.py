"""The Vietnamese voice: numbers as people say them, prefixes, templates, chime, repeats, engines, queue."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest

from counter_display.voice.announcer import Announcement, Announcer, backlog_conf, render, sentence
from counter_display.voice.audio import AudioError, Clip, FileSink, chime, join, read_wav, silence
from counter_display.voice.engines import ClipEngine, EspeakEngine, VoiceError
from counter_display.voice.words import Dialect, read_number, read_ticket, spell_letters, words_of
from siteconf.display import VoiceConf

REPO = Path(__file__).resolve().parent.parent

READINGS = [
    (0, "không"),
    (1, "một"),
    (4, "bốn"),
    (5, "năm"),
    (7, "bảy"),
    (10, "mười"),
    (11, "mười một"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (19, "mười chín"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (31, "ba mươi mốt"),
    (44, "bốn mươi tư"),
    (55, "năm mươi lăm"),
    (70, "bảy mươi"),
    (99, "chín mươi chín"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (111, "một trăm mười một"),
    (115, "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt"),
    (250, "hai trăm năm mươi"),
    (999, "chín trăm chín mươi chín"),
    (1000, "một nghìn"),
    (1001, "một nghìn không trăm linh một"),
    (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"),
    (1015, "một nghìn không trăm mười lăm"),
    (1023, "một nghìn không trăm hai mươi ba"),
    (1100, "một nghìn một trăm"),
    (1234, "một nghìn hai trăm ba mươi tư"),
    (2001, "hai nghìn không trăm linh một"),
    (2024, "hai nghìn không trăm hai mươi tư"),
    (3005, "ba nghìn không trăm linh năm"),
    (5500, "năm nghìn năm trăm"),
    (10000, "mười nghìn"),
    (10005, "mười nghìn không trăm linh năm"),
    (11000, "mười một nghìn"),
    (15000, "mười lăm nghìn"),
    (20021, "hai mươi nghìn không trăm hai mươi mốt"),
    (21000, "hai mươi mốt nghìn"),
    (24105, "hai mươi tư nghìn một trăm linh năm"),
    (45615, "bốn mươi lăm nghìn sáu trăm mười lăm"),
    (50050, "năm mươi nghìn không trăm năm mươi"),
    (99999, "chín mươi chín nghìn chín trăm chín mươi chín"),
]


@pytest.mark.parametrize(("number", "reading"), READINGS)
def test_numbers_are_read_as_people_say_them(number: int, reading: str) -> None:
    assert read_number(number) == reading


def test_the_table_covers_enough_numbers() -> None:
    assert len(READINGS) >= 40
    assert {n for n, _ in READINGS} >= {0, 99999}


def test_southern_speech_says_le_and_ngan() -> None:
    assert read_number(1005, Dialect.SOUTH) == "một ngàn không trăm lẻ năm"


@pytest.mark.parametrize("bad", [-1, 1_000_000_000])
def test_numbers_out_of_range_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="numbers from 0"):
        read_number(bad)


def test_prefixes_are_spelt_with_vietnamese_letter_names() -> None:
    assert spell_letters("A") == "a"
    assert spell_letters("BC") == "bê xê"
    assert spell_letters("đ") == "đê"
    assert read_ticket("A1023") == "a một nghìn không trăm hai mươi ba"
    assert read_ticket("LS15") == "e lờ ét xì mười lăm"
    assert read_ticket("B0105", digits=True) == "bê không một không năm"
    assert read_ticket("42") == "bốn mươi hai"


@pytest.mark.parametrize("bad", ["1A", "A-12", "", "A"])
def test_a_malformed_ticket_is_an_error_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match="ticket number"):
        read_ticket(bad)


def test_sentence_follows_the_site_template_and_counter_name() -> None:
    conf = VoiceConf()
    call = Announcement("A1023", 5, "Quầy 5")
    assert sentence(conf, call) == "Mời công dân có số thứ tự a một nghìn không trăm hai mươi ba đến quầy năm"
    custom = VoiceConf(template="Số {ticket}, mời đến quầy số {counter}")
    assert sentence(custom, Announcement("B21", 12)) == "Số bê hai mươi mốt, mời đến quầy số mười hai"
    assert sentence(conf, Announcement("A5", 3, recall=True)).startswith("Xin mời lại")


def test_a_template_with_an_unknown_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown placeholder \{quay\}"):
        VoiceConf(template="Mời {ticket} đến {quay}")


def test_words_of_a_sentence_are_nfc_lower_case_without_punctuation() -> None:
    decomposed = "Mời công dân, SỐ 5!".replace("ờ", "ơ\u0300")
    assert words_of(decomposed) == ["mời", "công", "dân", "số", "5"]


def test_chime_is_audible_and_joined_clips_keep_their_lengths() -> None:
    bell = chime(16000)
    assert 1.0 < bell.seconds < 2.0
    assert max(abs(s) for s in bell.samples) > 5000
    joined = join([bell, silence(0.5, 8000)], gap=0.25)
    assert joined.rate == 16000
    assert joined.seconds == pytest.approx(bell.seconds + 0.75, abs=0.01)
    back = read_wav(joined.wav_bytes())
    assert back.samples == joined.samples


def test_a_file_that_is_not_a_wav_is_an_error_naming_it() -> None:
    with pytest.raises(AudioError, match=r"clip\.wav is not a readable WAV"):
        read_wav(b"not a wav at all", "clip.wav")


def test_espeak_speaks_vietnamese_and_repeats_make_it_longer() -> None:
    engine = EspeakEngine()
    call = Announcement("A1023", 5)
    once = render(VoiceConf(repeat=1, chime=False), call, engine)
    twice = render(VoiceConf(repeat=2, chime=False, repeat_gap_s=0.5), call, engine)
    with_chime = render(VoiceConf(repeat=1, chime=True), call, engine)
    assert once.seconds > 2.0
    assert twice.seconds == pytest.approx(2 * once.seconds + 0.5, abs=0.01)
    assert with_chime.seconds == pytest.approx(once.seconds + chime(once.rate).seconds + 0.2, abs=0.01)


@pytest.fixture
def clip_folder(tmp_path: Path) -> Path:
    """Recorded words made with espeak-ng, one WAV per word, like a site's recordings."""
    folder = tmp_path / "clips"
    folder.mkdir()
    text = sentence(VoiceConf(), Announcement("A1023", 5))
    for word in dict.fromkeys(words_of(text)):
        subprocess.run(["espeak-ng", "-v", "vi", "-w", str(folder / f"{word}.wav"), word], check=True)
    return folder


def test_clip_engine_joins_one_recording_per_word(clip_folder: Path) -> None:
    engine = ClipEngine(clip_folder, gap=0.1)
    text = sentence(VoiceConf(), Announcement("A1023", 5))
    words = words_of(text)
    clip = engine.synthesize(text)
    expected = sum(read_wav((clip_folder / f"{w}.wav").read_bytes()).seconds for w in words)
    assert clip.seconds == pytest.approx(expected + 0.1 * (len(words) - 1), abs=0.01)


def test_clip_engine_names_every_missing_word_before_speaking(clip_folder: Path) -> None:
    (clip_folder / "quầy.wav").unlink()
    engine = ClipEngine(clip_folder)
    with pytest.raises(VoiceError, match=r"no recording of: bảy, quầy"):
        engine.synthesize(sentence(VoiceConf(), Announcement("A1027", 5)))


class SlowPlayer:
    """A player that takes time, recording when each announcement starts and ends."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float, int]] = []
        self._lock = threading.Lock()

    def play(self, wav: Path) -> None:
        start = time.monotonic()
        with wave.open(str(wav)) as w:
            frames = w.getnframes()
        time.sleep(0.05)
        with self._lock:
            self.spans.append((start, time.monotonic(), frames))


def test_announcements_are_queued_in_order_and_never_interrupted() -> None:
    player = SlowPlayer()
    announcer = Announcer(VoiceConf(repeat=1, chime=False), EspeakEngine(), player)
    calls = [Announcement(f"A{1000 + i}", i + 1, seq=i) for i in range(5)]
    try:
        for call in calls:
            announcer.announce(call)
        assert announcer.wait_idle(60)
    finally:
        announcer.stop()
    assert announcer.spoken == calls
    assert len(player.spans) == 5
    for (_, end, _), (start, _, _) in zip(player.spans, player.spans[1:], strict=False):
        assert start >= end


def test_a_bad_announcement_is_skipped_and_the_next_is_still_heard(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "out")
    announcer = Announcer(VoiceConf(repeat=1, chime=False), EspeakEngine(), sink)
    try:
        announcer.announce(Announcement("A-1", 1))
        announcer.announce(Announcement("A7", 2))
        assert announcer.wait_idle(60)
    finally:
        announcer.stop()
    assert announcer.failed == 1
    assert [c.ticket for c in announcer.spoken] == ["A7"]
    assert len(sink.played) == 1 and read_wav(sink.played[0].read_bytes()).seconds > 1.0


def _motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motcua_cli.main", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )


def test_say_prints_the_sentence_and_writes_the_wav(tmp_path: Path) -> None:
    done = _motcua("say", "--ticket", "A1023", "--counter", "5", "--text")
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip() == "Mời công dân có số thứ tự a một nghìn không trăm hai mươi ba đến quầy số năm"
    )
    out = tmp_path / "call.wav"
    done = _motcua("say", "--ticket", "A1023", "--counter", "5", "--wav", str(out))
    assert done.returncode == 0, done.stderr
    clip = read_wav(out.read_bytes())
    assert isinstance(clip, Clip) and clip.seconds > 4.0


def test_say_reports_a_bad_ticket_clearly() -> None:
    done = _motcua("say", "--ticket", "12AB", "--counter", "5", "--text")
    assert done.returncode == 2
    assert "ticket number is letters then digits" in done.stderr


def test_a_file_sink_keeps_only_the_newest_files(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "out", keep=2)
    wav = silence(0.1).save(tmp_path / "a.wav")
    for _ in range(4):
        sink.play(wav)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0003.wav", "0004.wav"]


class GatedPlayer:
    """Holds the first announcement until ``gate`` is set (so a backlog builds up), records lengths."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.frames: list[int] = []

    def play(self, wav: Path) -> None:
        self.started.set()
        assert self.gate.wait(30)
        with wave.open(str(wav)) as w:
            self.frames.append(w.getnframes())


def test_a_backlog_drops_the_chime_and_the_repeat_but_never_a_call() -> None:
    player = GatedPlayer()
    announcer = Announcer(VoiceConf(repeat=2, chime=True, backlog=2), EspeakEngine(), player)
    calls = [Announcement("A1001", 1, seq=i) for i in range(6)]  # the same words: lengths comparable
    try:
        announcer.announce(calls[0])
        assert player.started.wait(30)  # the first is playing; the other five queue behind it
        for call in calls[1:]:
            announcer.announce(call)
        player.gate.set()
        assert announcer.wait_idle(60)
    finally:
        announcer.stop()
    assert announcer.spoken == calls
    waiting = [0, 4, 3, 2, 1, 0]
    short = [w > 2 for w in waiting]
    assert announcer.shortened == sum(short)
    full = max(player.frames)
    for frames, was_short in zip(player.frames, short, strict=True):
        assert (frames < full * 0.6) == was_short, (player.frames, short)


def test_backlog_conf_keeps_the_site_settings_until_the_backlog_is_exceeded() -> None:
    conf = VoiceConf(repeat=3, chime=True, backlog=1)
    assert backlog_conf(conf, 1) is conf
    shortened = backlog_conf(conf, 2)
    assert (shortened.repeat, shortened.chime, shortened.template) == (1, False, conf.template)


DEMO = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"


def test_a_priority_prefix_is_said_as_the_site_file_says_not_letter_by_letter() -> None:
    from siteconf import load_site

    site = load_site(DEMO)
    assert site.spoken_prefixes() == {"UA": "ưu tiên A", "UB": "ưu tiên B", "UC": "ưu tiên C"}
    call = Announcement("UA1001", 1, "Quầy 1")
    assert sentence(site.display.voice, call).startswith("Mời công dân có số thứ tự u a một nghìn")
    assert sentence(site.voice_conf(), call) == (
        "Mời công dân có số thứ tự ưu tiên a một nghìn không trăm linh một đến quầy một"
    )
    assert sentence(site.voice_conf(), Announcement("B2001", 2)).split()[7:9] == ["bê", "hai"]
    assert read_ticket("UC7", prefixes={"UC": "Ưu tiên C"}) == "ưu tiên xê bảy"


def test_the_site_file_gives_its_own_spoken_prefixes_and_bad_ones_are_refused(tmp_path: Path) -> None:
    from siteconf import SiteFileError, load_site

    text = DEMO.read_text(encoding="utf-8")
    own = tmp_path / "own.toml"
    own.write_text(
        text.replace(
            "[display.voice]\n", '[display.voice]\nprefixes = { UA = "ưu tiên đất đai", B = "BE" }\n'
        ),
        encoding="utf-8",
    )
    site = load_site(own)
    assert site.spoken_prefixes()["UA"] == "ưu tiên đất đai" and site.spoken_prefixes()["UB"] == "ưu tiên B"
    assert sentence(site.voice_conf(), Announcement("UA5", 1)).split()[7:11] == ["ưu", "tiên", "đất", "đai"]
    assert sentence(site.voice_conf(), Announcement("B5", 1)).split()[7:9] == ["bê", "e"]
    words = _motcua("say", "--site", str(own), "--ticket", "UA12", "--counter", "3", "--text")
    assert words.returncode == 0, words.stderr
    assert "số thứ tự ưu tiên đất đai mười hai đến quầy ba" in words.stdout
    for bad, why in (('{ ua = "x" }', "not a ticket prefix"), ('{ UA = " " }', "say something")):
        broken = tmp_path / "broken.toml"
        broken.write_text(
            text.replace("[display.voice]\n", f"[display.voice]\nprefixes = {bad}\n"), encoding="utf-8"
        )
        with pytest.raises(SiteFileError, match=why):
            load_site(broken)
