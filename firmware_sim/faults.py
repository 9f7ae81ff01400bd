"""Faults as data: each simulator keeps its faults in a dataclass, settable by name from text.

The same ``name=value`` pairs come from a ``sim://NAME?paper=out&cover=open`` query, from the
control port (:mod:`firmware_sim.control`) and from tests. :class:`Faults` gives a simulator
``set_faults({"mute": "true"})``, ``fault_state()`` and ``fault_help()``; values are read by the
field's type: ``bool`` (``1/0, true/false, on/off, yes/no``), ``int``, ``int | None`` (``none``),
or a ``Literal`` of the words it accepts. A bad name or value raises :class:`FaultError` naming it
and what is accepted; nothing is changed then (a set is checked whole before it is applied).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from firmware_sim.errors import SimulatorError

TRUE = frozenset({"1", "true", "on", "yes"})
FALSE = frozenset({"0", "false", "off", "no"})


class FaultError(SimulatorError, ValueError):
    """A fault name the simulator does not have, or a value that does not fit it."""


def _accepted(kind: Any) -> str:
    if kind is bool:
        return "true or false"
    if kind is int:
        return "a whole number"
    if get_origin(kind) is Literal:
        return " | ".join(str(a) for a in get_args(kind))
    if get_origin(kind) in (Union, types.UnionType):
        return " or ".join("none" if a is type(None) else _accepted(a) for a in get_args(kind))
    return "text"


def parse_value(kind: Any, text: str) -> Any:
    """``text`` read as a value of the field type ``kind``; ``ValueError`` if it does not fit."""
    word = text.strip().lower()
    if get_origin(kind) in (Union, types.UnionType):
        if word == "none" and type(None) in get_args(kind):
            return None
        inner = [a for a in get_args(kind) if a is not type(None)]
        try:
            return parse_value(inner[0], text)
        except ValueError:
            raise ValueError(f"expected {_accepted(kind)}") from None
    value = _plain_value(kind, word)
    if value is None:
        raise ValueError(f"expected {_accepted(kind)}")
    return text if kind is str else value


def _plain_value(kind: Any, word: str) -> object | None:
    """``word`` as a bool, int, one of a Literal's words or text; ``None`` if it is none of those."""
    if kind is bool:
        return word in TRUE if word in TRUE | FALSE else None
    if kind is int:
        return int(word) if word.lstrip("-").isdigit() else None
    if get_origin(kind) is Literal:
        return word if word in get_args(kind) else None
    return word if kind is str else None


class Faults:
    """Mixin: ``self.faults`` is a dataclass of this simulator's faults; set them by name.

    A simulator whose faults are actions rather than stored values (the printer opens its cover,
    loads paper) overrides :meth:`_apply_fault`; the default stores the value in ``self.faults``.
    """

    faults: Any

    def _fault_types(self) -> dict[str, Any]:
        hints = typing.get_type_hints(type(self.faults))
        return {f.name: hints[f.name] for f in dataclasses.fields(self.faults)}

    def set_faults(self, values: Mapping[str, object]) -> None:
        """Set several faults at once: all are checked first, then applied in order."""
        types_ = self._fault_types()
        parsed: list[tuple[str, Any]] = []
        for name, value in values.items():
            kind = types_.get(name)
            if kind is None:
                raise FaultError(f"{type(self).__name__} has no fault {name!r} (faults: {', '.join(types_)})")
            try:
                parsed.append((name, parse_value(kind, value) if isinstance(value, str) else value))
            except ValueError as err:
                raise FaultError(f"fault {name}={value!r}: {err}") from None
        for name, value in parsed:
            self._apply_fault(name, value)

    def set_fault(self, name: str, value: object) -> None:
        self.set_faults({name: value})

    def _apply_fault(self, name: str, value: Any) -> None:
        setattr(self.faults, name, value)

    def fault_state(self) -> dict[str, str]:
        """Every fault's current value as text, in the form ``set_faults`` reads back."""
        state = dataclasses.asdict(self.faults)
        return {k: "none" if v is None else str(v).lower() for k, v in state.items()}

    def fault_help(self) -> dict[str, str]:
        """Every fault's name → the values it accepts."""
        return {name: _accepted(kind) for name, kind in self._fault_types().items()}
