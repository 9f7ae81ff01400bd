"""Fault injection for the crash tests: the server kills itself (SIGKILL) at a named point.

Only the environment variable ``MOTCUA_TEST_KILL_AT`` turns it on; it is meant for tests and benches
(``tests/test_crash_calls.py``, ``bench/crash.py``), never for a site. Its value is
``POINT[:PROBABILITY]``, e.g. ``after_commit:0.05``: at each pass through ``POINT`` the process dies
with that probability (1 when omitted). Points:

- ``after_commit``: the batch committed, nothing of it published yet;
- ``mid_publish``: the batch's first call published, the rest not.
"""

from __future__ import annotations

import logging
import os
import random
import signal

log = logging.getLogger(__name__)

VARIABLE = "MOTCUA_TEST_KILL_AT"
POINTS = frozenset({"after_commit", "mid_publish"})


def _parse(value: str | None) -> tuple[str, float] | None:
    if not value:
        return None
    point, _, chance = value.partition(":")
    if point not in POINTS:
        known = ", ".join(sorted(POINTS))
        log.error("%s=%r names no fault point (known: %s); ignored", VARIABLE, value, known)
        return None
    try:
        probability = float(chance) if chance else 1.0
    except ValueError:
        log.error("%s=%r: %r is not a probability; ignored", VARIABLE, value, chance)
        return None
    return point, probability


_ARMED = _parse(os.environ.get(VARIABLE))


def maybe_die(point: str) -> None:
    """Die here (SIGKILL, no clean-up) when the test asked for it at ``point``."""
    if _ARMED is None or _ARMED[0] != point:
        return
    if random.random() < _ARMED[1]:
        os.kill(os.getpid(), signal.SIGKILL)
