"""A read-only Qt property that mypy sees as the value it holds.

QML reads a view model's state through ``PySide6.QtCore.Property`` objects, but PySide6's stubs give
``Property`` no typed ``__get__``, so ``model.screen`` reads as ``Property`` in Python and a test comparing
it with a string fails ``mypy --strict``. ``qt_property`` builds the very same ``Property`` at run time and
tells the type checker it is the getter's return type, so Python readers (tests, other models) are checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from PySide6.QtCore import Property, Signal

T = TypeVar("T")


def qt_property(
    kind: type, fget: Callable[[Any], T], *, notify: Signal | None = None, constant: bool = False
) -> T:
    """A Qt property of ``kind`` read through ``fget``, announced by ``notify`` or ``constant``."""
    if notify is not None:
        return cast(T, Property(kind, fget, notify=notify))
    return cast(T, Property(kind, fget, constant=constant))
