"""CODE128 as ESC/POS sends it: payloads, symbols and bars, and the simulator drawing what the bytes say."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.code128 import Code128Error, escpos_payload, modules, symbols, text_of

CODE128 = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.Code128)


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("A1023", b"{BA{C\x0a\x17"),
        ("H21.65-220914-0011", b"{BH21.65-{C\x16\x09\x0e{B-{C\x00\x0b"),
        ("12345", b"{B1{C\x17\x2d"),  # an odd run keeps its first digit in set B
        ("ab{c", b"{Bab{{c"),
        ("16041604", b"{B16041604"),  # set C would send 10 04: DLE EOT inside the data
    ],
)
def test_payloads(text: str, payload: bytes) -> None:
    assert escpos_payload(text) == payload
    assert text_of(payload) == text


def test_the_dossier_code_is_211_modules() -> None:
    assert len(modules(symbols(escpos_payload("H21.65-220914-0011")))) == 211


@pytest.mark.parametrize("bad", [b"", b"AB", b"{X12", b"{C\x64", b"{B\x01", b"{B{", b"{C{Sx", b"{B"])
def test_bad_data_is_refused(bad: bytes) -> None:
    with pytest.raises(Code128Error):
        symbols(bad)


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40))
def test_any_printable_text_round_trips_and_never_holds_a_realtime_command(text: str) -> None:
    payload = escpos_payload(text)
    assert text_of(payload) == text
    for pair in (b"\x10\x04", b"\x10\x05", b"\x10\x14"):
        assert pair not in payload
    bars = modules(symbols(payload))
    assert set(bars) == {"0", "1"} and bars.startswith("11") and bars.endswith("1100011101011")


@pytest.mark.parametrize("text", ["A1023", "H21.65-220914-0011", "Ab{c}-99"])
def test_the_simulator_draws_bars_that_decode(text: str) -> None:
    payload = escpos_payload(text)
    job = b"\x1b@\x1d\x77\x02\x1d\x68\x50\x1d\x6b\x49" + bytes((len(payload),)) + payload + b"\n\x1dV\x01"
    (page,) = EscposPrinterSim().replay(job)
    found = zxingcpp.read_barcodes(np.array(page.convert("L")), formats=CODE128)
    assert [r.text for r in found] == [text]
