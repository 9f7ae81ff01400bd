"""Checks that each part of the product registers for its own table of the site file.

``siteconf`` owns the schema of every table (keys, types, ranges) and depends on no part of the product.
Rules that need a part's own knowledge, such as whether a printer profile's fields make a profile or a
layout's elements make a layout, live in that part: it calls :func:`register_section` when its hook
module is imported, and :class:`siteconf.model.Site` runs every registered check after its own, so a
mistake is reported with its key path (``printing.profiles.x: width_dots: ...``) wherever the file is
loaded.

So that every program loading a site file runs every check (the queue server has no reason to import
the printer package), the hook modules are also declared as entry points of the group
``motcua.site_sections`` in ``pyproject.toml``; :func:`load_hooks` imports them once per process.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from siteconf.model import Site

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "motcua.site_sections"

SectionCheck = Callable[[Any, "Site"], list[str]]
"""``check(section, site)``: one message per bad key, each starting with the key path from the table."""

_CHECKS: dict[str, list[SectionCheck]] = {}
_loaded = False


def register_section(name: str, check: SectionCheck) -> None:
    """Run ``check`` on the table ``name`` of every site loaded from now on (twice-registered: once)."""
    checks = _CHECKS.setdefault(name, [])
    if check not in checks:
        checks.append(check)


def registered() -> dict[str, tuple[SectionCheck, ...]]:
    """Every table with a registered check, with its checks (for ``motcua check-site`` and tests)."""
    return {name: tuple(checks) for name, checks in _CHECKS.items()}


def load_hooks() -> None:
    """Import every hook module declared under ``motcua.site_sections`` (once per process).

    A hook that cannot be imported is a broken install, not a bad site file: the error propagates.
    """
    global _loaded  # noqa: PLW0603  one discovery per process, like python-can's backend table
    if _loaded:
        return
    points = entry_points(group=ENTRY_POINT_GROUP)
    if not points:
        log.warning(
            "no %s entry points: the parts' own site-file checks will not run; install motcua"
            " (pip install -e . or scripts/setup.sh) so its entry points are known",
            ENTRY_POINT_GROUP,
        )
    for point in points:
        importlib.import_module(point.value.partition(":")[0])
        log.debug("site-file hook %s from %s", point.name, point.value)
    _loaded = True


def section_problems(site: Site) -> list[str]:
    """The messages of every registered check on ``site``, table by table."""
    load_hooks()
    found: list[str] = []
    for name, checks in _CHECKS.items():
        section = getattr(site, name, None)
        if section is None:
            raise LookupError(f"a site-file hook is registered for [{name}], a table the site file lacks")
        for check in checks:
            found.extend(check(section, site))
    return found
