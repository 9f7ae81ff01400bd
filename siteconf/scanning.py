"""The ``[scanning]`` table of the site file: the counter digitisation stations (issue 7).

```toml
[scanning]
dpi = 200                      # output resolution of camera shots; legal floor 200
jpeg_quality = 80
decoders = ["zxing"]           # in order; "pyzbar" as a second opinion
symbologies = ["QRCode", "DataMatrix", "Code128", "Code39"]   # default: every symbology found on documents
osd = true                     # ask Tesseract's orientation detection when the text lines do not settle it
blank_ink_ratio = 0.0002       # pages with less ink are flagged blank (never dropped)
store_url = "http://127.0.0.1:8080/api/v1"   # the queue server's HTTP API + /api/v1
spool_dir = "var/scan-spool"   # encrypted PDFs waiting for the store
chunk_kib = 256

[[scanning.stations]]
device = "scanner-1"           # a [[devices]] entry of kind "scanner"
source = "escl://10.0.0.31:80?source=Feeder"   # escl://, sane:, folder:, camera:
```

The spool key is a secret: ``MOTCUA_SCAN_KEY_FILE`` or ``MOTCUA_SCAN_KEY``, never this file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from siteconf.base import Section, Strict

if TYPE_CHECKING:
    from siteconf.model import Site

Decoder = Literal["zxing", "pyzbar"]
SOURCE_SCHEMES = ("escl://", "escls://", "sane:", "folder:", "camera:")


class ScanStation(Strict):
    device: str = Field(min_length=1)
    source: str

    @field_validator("source")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(SOURCE_SCHEMES):
            raise ValueError(f"{value!r}: a capture source starts with one of {', '.join(SOURCE_SCHEMES)}")
        return value


class ScanningConf(Section):
    """Digitisation defaults and the stations of the centre."""

    dpi: int = Field(default=200, ge=200, le=600)
    jpeg_quality: int = Field(default=80, ge=30, le=95)
    decoders: list[Decoder] = Field(default_factory=lambda: list[Decoder](["zxing"]), min_length=1)
    symbologies: list[str] | None = Field(default=None, min_length=1)
    """zxing-cpp names of the codes to look for; ``None``: every symbology found on documents. The
    scanner's hook checks the names (``scanner.site_section``)."""
    osd: bool = True
    blank_ink_ratio: float = Field(default=0.0002, ge=0.0, le=0.05)
    store_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    spool_dir: str = "var/scan-spool"
    chunk_kib: int = Field(default=256, ge=16, le=16384)
    stations: list[ScanStation] = Field(default_factory=list)

    def problems(self, site: Site) -> list[str]:
        from bus.models import DeviceKind

        out = []
        for i, station in enumerate(self.stations):
            kinds = {d.id: d.kind for d in site.devices}
            if station.device not in kinds:
                out.append(f"scanning.stations[{i}].device: no device {station.device!r} in [[devices]]")
            elif kinds[station.device] is not DeviceKind.SCANNER:
                kind = kinds[station.device]
                out.append(f"scanning.stations[{i}].device: {station.device!r} is a {kind}, not a scanner")
        if self.stations and self.store_url is None:
            out.append("scanning.store_url: needed when stations are listed (where do their PDFs go?)")
        return out
