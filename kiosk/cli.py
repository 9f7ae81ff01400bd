"""``motcua`` subcommands of the kiosk package (see ``motcua_cli.main.COMMAND_MODULES``)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this package's subcommands; none yet."""
