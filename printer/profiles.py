"""Printer profiles: what a model can do, as data (built-in ones below; a site adds its own).

A profile names a base profile of the escpos-printer-db shipped with python-escpos (``base``), which gives
the media width in dots, whether native QR (``GS ( k``) exists and the code-page table; the fields here
override it where the database is wrong or silent for a model (clones often claim less than they do, or
more). Rendering only asks the profile, never the model name.

Site file form (``[printing.profiles.NAME]``, see ``siteconf.printing``)::

    [printing.profiles.xp80-clone]
    base = "default"          # escpos-printer-db profile name
    width_dots = 576          # printable width: 576 at 80 mm, 384 at 58 mm (203 dpi)
    native_qr = false         # send QR codes as raster images
    pad_bands = true          # clone ignores ESC a on raster: centre bands by padding
    cut = "partial"           # partial | full | none (tear bar); from the base profile if unset
    feed_lines = 6            # ESC d n at the end of a job: the last line past the cutter / tear bar

The end of every job follows ``cut`` and ``feed_lines`` exactly: ``1B 64 n`` then ``1D 56 01`` (partial),
``1D 56 00`` (full) or nothing (a printer without a cutter, torn off by hand).
"""

from __future__ import annotations

import copy
import functools
import logging
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from printer.errors import PrinterError

if TYPE_CHECKING:
    from siteconf.printing import PrintingConf

logger = logging.getLogger(__name__)


class PrinterProfile(BaseModel):
    """Capabilities of one printer model that decide the bytes of a job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str = Field(default="default", description="escpos-printer-db profile the rest is based on")
    width_dots: int | None = Field(
        default=None, ge=96, le=4096, description="printable width in dots; from the base profile if unset"
    )
    native_qr: bool | None = Field(default=None, description="GS ( k QR; from the base profile if unset")
    native_code128: bool = Field(default=True, description="GS k 73 CODE128; raster image otherwise")
    cancel_kanji: bool = Field(default=True, description="send FS . after ESC @ (clones boot in Kanji mode)")
    pad_bands: bool = Field(default=False, description="widen raster bands to the paper, text centred")
    text_mode: Literal["raster", "tcvn3"] = Field(
        default="raster",
        description="raster: Vietnamese lines as images; tcvn3: native TCVN-3 text where every character "
        "of a line encodes (printers whose base profile has both TCVN-3 pages; check a printout first)",
    )
    tcvn3_pages: tuple[int, int] = Field(default=(30, 31), description="ESC t pages: TCVN-3 lower, upper")
    cut: Literal["partial", "full", "none"] | None = Field(
        default=None,
        description="how a job ends: partial or full cut (GS V 1 / GS V 0), or none (tear bar); from the "
        "base profile's paperPartCut / paperFullCut if unset",
    )
    feed_lines: int = Field(
        default=6, ge=0, le=255, description="lines fed (ESC d n) at the end of a job, before the cut or tear"
    )
    min_text_px: int = Field(
        default=22,
        ge=12,
        le=64,
        description="smallest raster text size in pixels: headings shrink on narrow paper, no text goes "
        "below this (at 16 px on 58 mm paper tone marks blur and OCR reads 'phần' as 'phân')",
    )
    chunk_size: int = Field(default=1024, ge=16, le=65536, description="bytes per transport write")
    baud: int | None = Field(default=None, ge=300, description="line speed, for confirmation timeouts")

    @model_validator(mode="after")
    def _base_exists(self) -> PrinterProfile:
        pages = base_profile(self.base).profile_data.get("codePages", {})
        if self.text_mode == "tcvn3":
            for page, table in zip(self.tcvn3_pages, ("TCVN-3-1", "TCVN-3-2"), strict=True):
                if pages.get(str(page)) != table:
                    raise ValueError(
                        f"text_mode tcvn3: the base profile {self.base!r} has no {table} at page {page}; "
                        "use a base that lists both TCVN-3 pages, or text_mode raster"
                    )
        return self

    @property
    def width(self) -> int:
        """The printable width in dots, a multiple of 8."""
        if self.width_dots is not None:
            return self.width_dots - self.width_dots % 8
        pixels = base_profile(self.base).profile_data["media"]["width"]["pixels"]
        return int(pixels) - int(pixels) % 8 if isinstance(pixels, int) else 576

    @property
    def qr_native(self) -> bool:
        if self.native_qr is not None:
            return self.native_qr
        return bool(base_profile(self.base).supports("qrCode"))

    @property
    def cut_mode(self) -> Literal["partial", "full", "none"]:
        """The cut this printer makes at the end of a job (the base profile decides when unset)."""
        if self.cut is not None:
            return self.cut
        base = base_profile(self.base)
        if base.supports("paperPartCut"):
            return "partial"
        return "full" if base.supports("paperFullCut") else "none"

    def job_end(self) -> bytes:
        """The bytes that end every job: feed ``feed_lines`` lines, then the cut, if there is one."""
        feed = b"\x1b\x64" + bytes((self.feed_lines,)) if self.feed_lines else b""
        return feed + {"partial": b"\x1d\x56\x01", "full": b"\x1d\x56\x00", "none": b""}[self.cut_mode]

    def capabilities(self) -> list[str]:
        """Capability names for the device's bus ``info``."""
        found = ["raster", "status_dle_eot", "paper_sensor"]
        if self.cut_mode != "none":
            found.append("cut")
        if self.qr_native:
            found.append("qr_native")
        if self.native_code128:
            found.append("code128_native")
        if self.text_mode == "tcvn3":
            found.append("tcvn3_text")
        return found

    def escpos_profile(self) -> Any:
        """A python-escpos profile object whose media width is this profile's width (centring needs it)."""
        return _escpos_profile(self.base, self.width)


class UnknownProfileError(PrinterError, KeyError):
    """A profile name that is neither built in nor defined by the site."""


def find_profile(name: str, extra: dict[str, PrinterProfile] | None = None) -> PrinterProfile:
    """The profile ``name`` from ``extra`` (the site's) or the built-in ones."""
    known = {**BUILTIN_PROFILES, **(extra or {})}
    try:
        return known[name]
    except KeyError:
        raise UnknownProfileError(
            f"unknown printer profile {name!r}; known: {', '.join(sorted(known))}"
        ) from None


def profile_for_width(width_dots: int) -> PrinterProfile:
    """A generic profile for a printer known only by its width."""
    return PrinterProfile(base="default", width_dots=width_dots)


def site_profiles(printing: PrintingConf) -> dict[str, PrinterProfile]:
    """The site's own profiles of ``[printing.profiles]`` as profiles (the site file was checked)."""
    return {name: PrinterProfile.model_validate(table) for name, table in printing.profiles.items()}


def profile_for(printing: PrintingConf, device_id: str, width_dots: int) -> PrinterProfile:
    """The profile of printer ``device_id``: the one ``[printing]`` names, or a generic one of its width."""
    name = printing.printers.get(device_id)
    return find_profile(name, site_profiles(printing)) if name else profile_for_width(width_dots)


@functools.cache
def base_profile(name: str) -> Any:
    from escpos.capabilities import get_profile_class

    try:
        return get_profile_class(name)()
    except Exception as err:  # python-escpos raises its own NotSupported or a KeyError
        raise ValueError(f"{name!r} is not a profile of the escpos-printer-db ({err})") from err


@functools.cache
def _escpos_profile(base: str, width: int) -> Any:
    cls = type(base_profile(base))
    data = copy.deepcopy(cls.profile_data)
    data["media"] = {"dpi": 203, "width": {"mm": width // 8, "pixels": width}}
    return type(f"Motcua{width}Dot{cls.__name__}", (cls,), {"profile_data": data})()


BUILTIN_PROFILES: dict[str, PrinterProfile] = {
    "generic-80": PrinterProfile(base="default", width_dots=576),
    "generic-58": PrinterProfile(base="default", width_dots=384),
    "tm-t88v": PrinterProfile(base="TM-T88V"),
    "tm-t20ii": PrinterProfile(base="TM-T20II"),
    "pos-5890": PrinterProfile(base="POS-5890", native_qr=False, cut="none", feed_lines=4),
    "clone-80": PrinterProfile(base="default", width_dots=576, native_qr=False, pad_bands=True),
}
DEFAULT_PROFILE = "generic-80"
