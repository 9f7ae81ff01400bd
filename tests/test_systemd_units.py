"""The shipped systemd units: valid (``systemd-analyze verify``) and sandboxed (exposure at most 3)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parent.parent / "systemd"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def runnable_copy(unit: str, tmp_path: Path) -> Path:
    """The unit with its ExecStart pointed at a binary that exists here (verify checks it)."""
    text = (UNITS / unit).read_text(encoding="utf-8").replace("/opt/motcua/.venv/bin/motcua", "/bin/true")
    path = tmp_path / unit
    path.write_text(text, encoding="utf-8")
    return path


@needs_analyze
@pytest.mark.parametrize(("unit", "limit"), [("motcua-server.service", 3.0), ("motcua-device@.service", 3.0)])
def test_units_are_sandboxed(unit: str, limit: float, tmp_path: Path) -> None:
    assert ANALYZE is not None
    done = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--no-pager", str(UNITS / unit)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found is not None, done.stdout + done.stderr
    assert float(found.group(1)) <= limit, done.stdout
    for setting in ("NoNewPrivileges=", "ProtectSystem=", "PrivateTmp=", "CapabilityBoundingSet=", "UMask="):
        assert not re.search(rf"✗ {re.escape(setting)}", done.stdout), setting


@needs_analyze
@pytest.mark.parametrize("unit", ["motcua-server.service", "motcua-device@.service"])
def test_units_verify(unit: str, tmp_path: Path) -> None:
    assert ANALYZE is not None
    path = runnable_copy(unit, tmp_path)
    target = path.with_name(unit.replace("@.", "@printer-k1.")) if "@." in unit else path
    if target != path:
        path.rename(target)
    done = subprocess.run(
        [ANALYZE, "verify", str(target)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0 and "motcua" not in done.stderr, done.stderr
