"""Pieces shared by every section of the site file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from siteconf.model import Site


class Strict(BaseModel):
    """A table of the site file: unknown keys are errors, values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(Strict):
    """One top-level table owned by one part of the product.

    ``problems`` checks references into the rest of the site (services, counters, devices) and returns
    one message per bad key, its path starting with the table name, e.g. ``kiosk.groups[0].services``.
    """

    def problems(self, site: Site) -> list[str]:
        return []
