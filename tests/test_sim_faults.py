"""Simulator faults as data: set from the ``sim://`` query and from the control port, the latter
also by another process (a vendor tool, a test runner) while the simulator serves on TCP or a pty."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from counter_display.caller_bus import Key
from counter_display.keypad import CallerBusKeypad
from firmware_sim.control import answer, serve_control
from firmware_sim.escl_scanner import EsclSimulator, blank_pages
from firmware_sim.escpos_printer import EscposPrinterSim
from firmware_sim.faults import FaultError, parse_value
from firmware_sim.keypad import CallerBusKeypadSim
from firmware_sim.led_display import ModbusLedDisplaySim
from firmware_sim.rf433 import Ev1527ReceiverSim
from firmware_sim.serve import serve_on_pty
from printer.driver import EscposPrinter
from printer.status import PaperState
from scanner.errors import PaperJamError
from scanner.sources import EsclSource
from transport import open_transport
from transport.base import TransportUrlError
from transport.sim import register_simulator, unregister_simulator

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def named() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        unregister_simulator(name)


def _register(named: list[str], name: str, sim: object) -> None:
    register_simulator(name, sim)  # type: ignore[arg-type]
    named.append(name)


def test_printer_faults_from_the_url_query_show_in_its_dle_eot_replies(named: list[str]) -> None:
    sim = EscposPrinterSim()
    _register(named, "pf-1", sim)
    with EscposPrinter(open_transport("sim://pf-1?paper=near_end&cover=open")) as printer:
        status = printer.query_status()
    assert status.paper is PaperState.NEAR_END and status.cover_open and not status.can_print
    assert sim.fault_state() == {
        "paper": "near_end",
        "cover": "open",
        "cutter": "ok",
        "error": "none",
        "unplugged": "false",
    }
    with EscposPrinter(open_transport("sim://pf-1?paper=out&cover=closed")) as printer:
        status = printer.query_status()
    assert status.paper is PaperState.OUT and not status.cover_open
    with EscposPrinter(open_transport("sim://pf-1?paper=ok")) as printer:
        assert printer.query_status().can_print


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("paper=soggy", r"fault paper='soggy': expected ok \| near_end \| out"),
        ("smoke=1", r"has no fault 'smoke' \(faults: paper, cover, cutter, error, unplugged\)"),
        ("cover=open&cover=closed", "given twice"),
    ],
)
def test_a_bad_fault_in_the_url_names_it_and_changes_nothing(
    named: list[str], query: str, message: str
) -> None:
    sim = EscposPrinterSim()
    _register(named, "pf-2", sim)
    with pytest.raises(TransportUrlError, match=message):
        open_transport(f"sim://pf-2?{query}")
    with pytest.raises(TransportUrlError, match="has no fault 'smoke'"):
        open_transport("sim://pf-2?cover=open&smoke=1")  # checked whole: the cover stays closed
    assert sim.fault_state()["cover"] == "closed"


def test_a_simulator_without_faults_refuses_a_fault_query(named: list[str]) -> None:
    from firmware_sim.serve import EchoDevice

    _register(named, "echo-f", EchoDevice())
    with pytest.raises(TransportUrlError, match="simulator 'echo-f' has no faults to set"):
        open_transport("sim://echo-f?mute=1")


def test_keypad_led_and_receiver_faults_from_the_query(named: list[str]) -> None:
    keypad, led, receiver = CallerBusKeypadSim(3), ModbusLedDisplaySim(), Ev1527ReceiverSim()
    _register(named, "kp-f", keypad)
    _register(named, "led-f", led)
    _register(named, "rf-f", receiver)
    with open_transport("sim://kp-f?mute=on") as link:
        host = CallerBusKeypad(link)
        keypad.press(Key.CALL)
        assert host.poll(0.05) == [] and keypad.unacked == [Key.CALL]
    with open_transport("sim://led-f?no_reply=yes&garble_replies=2"):
        assert led.no_reply and led.faults.garble_replies == 2
    with open_transport("sim://rf-f?truncate=3") as link:
        assert len(receiver.press(0x12345, 1, repeats=1)) == 3
        assert link.read(16, timeout=1) == receiver_frame_head()
    with pytest.raises(FaultError, match="fault truncate='x': expected a whole number or none"):
        receiver.set_faults({"truncate": "x"})


def receiver_frame_head() -> bytes:
    from counter_display.rf433 import encode_frame

    return encode_frame(0x12345, 1)[:3]


def test_the_control_answers_every_bad_line_with_an_error_and_keeps_state() -> None:
    sim = CallerBusKeypadSim(1)
    for line in ["", "jump", "set", "set mute", "set =1", "set mute=1 mute=0", "set mute=maybe", "get now"]:
        assert answer(sim, line).startswith("error "), line
    assert sim.fault_state() == {"mute": "false", "damage": "none"}
    assert answer(sim, "set mute=1 damage=garble") == "ok mute=true damage=garble"
    assert answer(sim, "help") == "ok mute: true or false; damage: none | garble | bad_checksum | truncate"


_CLIENT = textwrap.dedent(
    """
    import socket, sys
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as sock:
        stream = sock.makefile("rwb")
        for line in sys.argv[2:]:
            stream.write(line.encode() + b"\\n"); stream.flush()
            print(stream.readline().decode().strip(), flush=True)
    """
)


def _from_another_process(port: int, *lines: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _CLIENT, str(port), *lines],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_another_process_mutes_and_garbles_a_keypad_served_on_a_pty() -> None:
    sim = CallerBusKeypadSim(2)
    with serve_on_pty(sim) as pty, serve_control(sim) as control, open_transport(pty.url) as link:
        host = CallerBusKeypad(link)
        sim.press(Key.CALL)
        assert [p.key for p in host.poll(1.0)] == [Key.CALL]
        assert _from_another_process(control.port, "set mute=true") == ["ok mute=true damage=none"]
        sim.press(Key.RECALL)
        assert host.poll(0.2) == []
        replies = _from_another_process(control.port, "set mute=false damage=bad_checksum", "get")
        assert replies == ["ok mute=false damage=bad_checksum"] * 2
        sim.press(Key.PAUSE)
        assert host.poll(0.3) == []  # the damaged frame is dropped by the host's decoder


def test_another_process_jams_the_escl_scanner_through_its_control_port() -> None:
    sim = EsclSimulator(blank_pages(3))
    url = sim.start()
    try:
        with serve_control(sim) as control:
            assert _from_another_process(control.port, "set jam_after=1")[0].startswith("ok empty=false")
            with pytest.raises(PaperJamError):
                list(EsclSource(url).pages())
    finally:
        sim.stop()


def test_a_served_printer_takes_paper_out_cover_open_and_a_cutter_jam_from_another_process(
    tmp_path: Path,
) -> None:
    command = [sys.executable, "-m", "motcua_cli.main", "sim", "printer", "--tcp", "0", "--control", "0"]
    proc = subprocess.Popen(
        [*command, "--out", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        found = re.search(r"on (tcp://\S+); control port 127\.0\.0\.1:(\d+);", banner)
        assert found, banner
        url, port = found[1], int(found[2])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            control = sock.makefile("rwb")

            def send(line: bytes) -> str:
                control.write(line + b"\n")
                control.flush()
                return control.readline().decode().strip()

            with EscposPrinter(open_transport(url)) as printer:
                assert printer.query_status().can_print
                assert send(b"set paper=out").startswith("ok paper=out")
                assert printer.query_status().paper is PaperState.OUT
                assert send(b"\xff\xfe garbage") == "error the line is not UTF-8 text"
                assert send(b"set paper=ok cover=open").startswith("ok paper=ok cover=open")
                status = printer.query_status()
                assert status.cover_open and not status.can_print
                assert send(b"set cover=closed cutter=jam") == (
                    "ok paper=ok cover=closed cutter=jam error=none unplugged=false"
                )
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (bool, "ON", True),
        (bool, " no ", False),
        (int, "-3", -3),
        (int | None, "None", None),
        (int | None, "12", 12),
        (Literal["ok", "out"], "OUT", "out"),
    ],
)
def test_fault_values_are_read_by_their_field_type(kind: object, text: str, value: object) -> None:
    assert parse_value(kind, text) == value


@pytest.mark.parametrize(
    ("kind", "text", "accepted"),
    [
        (bool, "maybe", "true or false"),
        (int, "1.5", "a whole number"),
        (int | None, "", "a whole number or none"),
        (Literal["ok", "out"], "gone", "ok | out"),
    ],
)
def test_a_fault_value_that_does_not_fit_says_what_would(kind: object, text: str, accepted: str) -> None:
    with pytest.raises(ValueError, match=f"^expected {re.escape(accepted)}$"):
        parse_value(kind, text)
