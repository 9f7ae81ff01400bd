"""The simulators' one exception root: what a test or a vendor tool driving a simulator may catch."""

from __future__ import annotations


class SimulatorError(Exception):
    """A simulator was used in a way it cannot follow (a fault it lacks, a send with no host)."""


class SimNotAttachedError(SimulatorError, RuntimeError):
    """The simulator was asked to send while no host has opened its link: open its sim:// URL first."""
