"""The ``--hw-KIND URL`` options really run a contract suite on the device at URL: here the
"hardware" is a simulator served on a pty, reached through ``serial://`` as a USB adapter is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from firmware_sim.keypad import CallerBusKeypadSim
from firmware_sim.led_display import ModbusLedDisplaySim
from firmware_sim.serve import serve_on_pty
from transport.sim import SimDevice

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("kind", "device", "expected"),
    [
        ("led", ModbusLedDisplaySim(unit=1), "8 passed"),
        ("keypad", CallerBusKeypadSim(1), "6 passed, 2 skipped"),
    ],
)
def test_a_contract_suite_runs_on_the_device_given_on_the_command_line(
    kind: str, device: SimDevice, expected: str
) -> None:
    suite = f"tests/test_{kind}_contract.py"
    with serve_on_pty(device) as pty:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", suite, f"--hw-{kind}={pty.url}"],
            cwd=REPO,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert expected in done.stdout, done.stdout[-2000:]
