"""How a long-running motcua process waits for Ctrl-C / SIGTERM and leaves (``bus.process``).

Each case runs in a child interpreter: signal handlers belong to a process's main thread, and
``exit_at_once`` ends the process it runs in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])},
    )


def test_a_sigterm_before_wait_ends_the_wait_at_once(tmp_path: Path) -> None:
    done = _run(
        """
        import os, signal
        from bus.process import StopSignal
        stop = StopSignal()
        os.kill(os.getpid(), signal.SIGTERM)  # while the process still starts up
        print("requested", stop.requested)
        stop.wait()  # no duration: only the signal already caught can end this
        print("stopped")
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["requested True", "stopped"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_wait_ends_it_and_a_second_one_is_only_logged(sig: int, tmp_path: Path) -> None:
    done = _run(
        f"""
        import os, threading
        from bus.process import StopSignal
        stop = StopSignal()
        # Another thread signals the process while the main thread waits (as systemd would):
        # a burst of signals, so some land while the main thread is inside wait().
        def burst():
            for _ in range(50):
                os.kill(os.getpid(), {int(sig)})
        threading.Thread(target=burst).start()
        stop.wait()
        print("stopped", stop.requested)
        os.kill(os.getpid(), {int(sig)})  # a second Ctrl-C while stopping: logged, not fatal
        print("still here")
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["stopped True", "still here"]
    assert "already stopping; please wait" in done.stderr


def test_wait_with_a_duration_ends_without_a_signal(tmp_path: Path) -> None:
    done = _run(
        """
        from bus.process import StopSignal
        stop = StopSignal()
        stop.wait(0.05)
        print("requested", stop.requested)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "requested False\n"


def test_exit_at_once_keeps_the_logs_and_output_and_the_exit_code(tmp_path: Path) -> None:
    """``os._exit`` alone would drop what is still buffered: the last log lines of a stop."""
    done = _run(
        """
        import logging, sys
        from bus.process import exit_at_once
        logging.basicConfig(filename="service.log", level=logging.INFO)
        logging.getLogger("svc").info("stopped cleanly")
        sys.stdout.write("no newline, still buffered")
        sys.stderr.write("last words")
        exit_at_once(3)
        print("never")
        """,
        tmp_path,
    )
    assert done.returncode == 3
    assert done.stdout == "no newline, still buffered"
    assert done.stderr == "last words"
    assert (tmp_path / "service.log").read_text() == "INFO:svc:stopped cleanly\n"
