"""CCCD QR: tolerant parsing, the salted hash, scanner and camera input, and the privacy promise:
the ID number never reaches a log line, an MQTT payload, a file or the screen."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import qrcode
from hypothesis import given
from hypothesis import strategies as st
from kiosk_rig import KioskRig
from pytestqt.qtbot import QtBot
from support import wait_until

from bus.client import BrokerUrl
from kiosk.cccd import CccdError, parse_cccd, person_key
from kiosk.dispenser import DispenserViewModel
from kiosk.qr_input import ScannerReader, decode_image, repair_text, split_scans
from siteconf import Site
from transport.sim import SimLink, register_simulator, unregister_simulator

ID = "079160012345"
CARD = f"{ID}|023456789|Nguyễn Văn Ấn|15031958|Nam|Số 12 Lê Lợi, Phường Bến Thành, TP Hồ Chí Minh|20042021"


def test_a_standard_card_is_parsed() -> None:
    card = parse_cccd(CARD)
    assert (card.id_number, card.old_id, card.name, card.sex) == (ID, "023456789", "Nguyễn Văn Ấn", "Nam")
    assert card.birth_date == date(1958, 3, 15) and card.issue_date == date(2021, 4, 20)
    assert card.age(date(2026, 3, 14)) == 67 and card.age(date(2026, 3, 15)) == 68
    assert ID not in repr(card) and "Nguyễn" not in repr(card)


@pytest.mark.parametrize(
    "raw",
    [
        f"\ufeff {ID}||Trần Thị Bé|01012000|Nữ|Hà Nội|01012021\r\n",  # BOM, spaces, empty old ID, CR LF
        unicodedata.normalize("NFD", f"{ID}||Trần Thị Bé|01012000|Nữ|Hà Nội|01012021"),  # decomposed marks
        f"{ID}||Trần Thị Bé|01012000|Nữ|Hà Nội|01012021|extra|fields|2024",  # a card from 2024
        f"{ID}||Trần Thị Bé|01012000",  # missing trailing fields
        f"{ID}||Trần Thị Bé|31022000|?|Hà Nội|",  # impossible date, unknown sex: kept as unknown
    ],
)
def test_variants_are_parsed_tolerantly(raw: str) -> None:
    card = parse_cccd(raw.encode() if "extra" in raw else raw)
    assert card.id_number == ID
    assert card.name == "Trần Thị Bé"
    assert card.sex in {"Nữ", None}
    assert card.birth_date in {date(2000, 1, 1), None}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("https://dichvucong.gov.vn/x", "at least 4"),
        ("12345|a|b|c", "12-digit"),
        (b"\xff\xfe\x00", "not UTF-8"),
        ("H21.65-220914-0011", "at least 4"),
    ],
)
def test_other_codes_are_refused_without_repeating_them(raw: str | bytes, problem: str) -> None:
    with pytest.raises(CccdError, match=problem) as err:
        parse_cccd(raw)
    assert str(raw) not in str(err.value)


@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused_cleanly(raw: str) -> None:
    try:
        card = parse_cccd(raw)
    except CccdError as err:  # one of a few fixed sentences: nothing of the scanned text is echoed
        assert re.fullmatch(
            r"not a CCCD QR: (\d+ field\(s\), expected at least 4 separated by '\|'|"
            r"the first field is not a 12-digit ID number)",
            str(err),
        )
    else:
        assert len(card.id_number) == 12 and card.id_number.isdigit()


def test_the_person_key_is_stable_salted_and_not_the_number() -> None:
    a = person_key(ID, "demo")
    assert a == person_key(ID, "demo") and len(a) == 64 and ID not in a
    assert a != person_key("079160012346", "demo")
    assert a != person_key(ID, "other-site")
    assert person_key(ID, "demo", b"salt-1") != person_key(ID, "demo", b"salt-2")


def test_scans_are_split_on_any_line_end() -> None:
    buffer = bytearray(b"one\r\ntwo\rthree\nfou")
    assert split_scans(buffer) == [b"one", b"two", b"three"]
    assert buffer == bytearray(b"fou")
    runaway = bytearray(b"x" * 5000)
    assert split_scans(runaway) == [] and runaway == bytearray()
    assert repair_text("Ấn".encode()) == "Ấn"
    assert repair_text(b"\xff") is None


class QrScannerSim:
    """A serial-mode QR scanner: each scan arrives as its UTF-8 bytes and CR LF."""

    def __init__(self) -> None:
        self.link: SimLink | None = None

    def attach(self, link: SimLink) -> None:
        self.link = link

    def receive(self, data: bytes) -> None:
        pass  # a scanner ignores what the host sends

    def detach(self) -> None:
        self.link = None

    def scan(self, text: str | bytes) -> None:
        assert self.link is not None
        data = text.encode() if isinstance(text, str) else text
        for i in range(0, len(data), 7):  # arrives in pieces, as over a real line
            self.link.send(data[i : i + 7])
        self.link.send(b"\r\n")


def test_a_serial_scanner_delivers_whole_scans(caplog: pytest.LogCaptureFixture) -> None:
    sim = QrScannerSim()
    register_simulator("qr-test-1", sim)
    got: list[str] = []
    caplog.set_level(logging.DEBUG)
    reader = ScannerReader("sim://qr-test-1", got.append).start()
    try:
        sim.scan(CARD)
        sim.scan(b"\xff\xfe bad")
        sim.scan("H21.65-220914-0011")
        assert wait_until(lambda: len(got) == 2 and reader.rejected == 1)
        assert got == [CARD, "H21.65-220914-0011"]
        assert ID not in caplog.text
    finally:
        reader.stop()
        unregister_simulator("qr-test-1")


def qr_image(text: str, bgr: bool = False) -> Any:
    grey = np.array(qrcode.make(text.encode("utf-8"), box_size=6).convert("L"))
    canvas = np.full(
        (grey.shape[0] + 200, grey.shape[1] + 300), 255, dtype=np.uint8
    )  # a frame, code off-centre
    canvas[150 : 150 + grey.shape[0], 250 : 250 + grey.shape[1]] = grey
    return np.stack([canvas] * 3, axis=2) if bgr else canvas


@pytest.mark.parametrize("bgr", [False, True])
def test_a_camera_frame_with_a_card_qr_is_decoded_in_utf8(bgr: bool) -> None:
    assert decode_image(qr_image(CARD, bgr)) == [CARD]
    assert decode_image(np.full((200, 200), 255, dtype=np.uint8)) == []


def test_the_id_number_never_reaches_logs_mqtt_files_or_screen(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    payloads: list[bytes] = []
    with KioskRig(demo_site, mosquitto, tmp_path) as rig:
        spy = rig.client("privacy-spy")
        spy._mqtt.on_message = lambda _c, _u, msg: payloads.append(bytes(msg.payload) + msg.topic.encode())
        spy.connected.wait(0)
        spy.start()
        spy._mqtt.subscribe("motcua/#", qos=1)
        vm = DispenserViewModel(rig.site, rig.backend)
        vm.feed_scan(CARD)
        qtbot.waitUntil(lambda: vm.cardRead, timeout=2000)
        assert vm.priority == "elderly"  # born 1958: the elderly group is suggested, the officer confirms
        vm.takeTicket("land")
        qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
        vm.goHome()
        vm.feed_scan(CARD)  # the same person, the same field, the same day
        qtbot.waitUntil(lambda: vm.cardRead, timeout=2000)
        vm.takeTicket("land")
        qtbot.waitUntil(lambda: vm.current_screen() == "error", timeout=5000)
        assert vm.errorMessage == "Bạn đã có số thứ tự cho lĩnh vực này hôm nay."
        vm.goHome()
        vm.feed_scan(CARD)
        qtbot.waitUntil(lambda: vm.cardRead, timeout=2000)
        vm.takeTicket("civil")  # another field is fine
        qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
        assert wait_until(lambda: len(rig.printed_texts()) == 2, timeout=10)
        screen_text = str(vm.ticket) + vm.errorMessage
    assert payloads, "the spy saw no MQTT traffic"
    needles = [ID.encode(), "Nguyễn Văn Ấn".encode(), b"023456789"]
    for payload in payloads:
        assert not any(n in payload for n in needles)
    assert ID not in caplog.text and "Nguyễn Văn Ấn" not in caplog.text
    assert ID not in screen_text
    assert not any(ID in text for text in rig.printed_texts())
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".png" for p in files) and any(p.name.startswith("journal") for p in files)
    for path in files:
        data = path.read_bytes()
        assert not any(n in data for n in needles), f"{path.name} holds personal data"


def test_a_camera_stream_reports_each_card_once(tmp_path: Path) -> None:
    """OpenCV's VideoCapture on a recorded clip stands where the camera would be."""
    import cv2

    from kiosk.qr_input import CameraReader

    frame = qr_image(CARD, bgr=True)
    height, width = frame.shape[:2]
    clip = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 10, (width, height))
    blank = np.full_like(frame, 255)
    for image in [blank] * 3 + [frame] * 6 + [blank] * 3:
        writer.write(image)
    writer.release()
    got: list[str] = []
    reader = CameraReader(str(clip), got.append, interval=0.01).start()
    try:
        assert wait_until(lambda: len(got) >= 1)
        threading.Event().wait(0.3)  # the rest of the clip: the same card, held still
        assert got == [CARD]
    finally:
        reader.stop()
    with pytest.raises(OSError, match="cannot open camera"):
        CameraReader(str(tmp_path / "no-such-camera.avi"), got.append)
