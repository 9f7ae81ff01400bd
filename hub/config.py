"""The hub's own configuration file (TOML), independent of any centre's site file.

Example (``docs/hub.md`` explains each key)::

    [hub]
    province = "HN"                 # province id: users of another province see nothing
    name = "Hà Nội"
    timezone = "Asia/Ho_Chi_Minh"   # the business day of "today's tickets"

    [broker]                        # the hub broker, which every centre's bridge connects to
    host = "hub.example.vn"
    port = 8883
    username = "hub"
    password_file = "/etc/motcua/hub/secrets/hub"
    ca_file = "/etc/motcua/hub/ca.pem"   # omit for a plain-TCP broker (tests, a loopback bridge)
    dir = "/etc/motcua/hub"         # where ``motcua hub broker-conf`` writes passwd, ACL, certs

    [database]
    url = "postgresql+psycopg://motcua_hub@/motcua_hub"

    [http]
    listen = "127.0.0.1:8090"

    [ingest]
    backfill_after_s = 5.0          # ask again for a gap not filled after this long

    [[centres]]
    site = "hn-ba-dinh"
    name = "Trung tâm PVHCC phường Ba Đình"
    site_file = "centres/hn-ba-dinh.toml"   # its report rules; relative to this file

Secrets never sit in this file: only the paths of files holding them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bus.topics import LEVEL_PATTERN
from hub import HubError

Level = Annotated[str, Field(pattern=LEVEL_PATTERN)]


class HubConfigError(HubError):
    """The hub's config file is missing or wrong; ``problems`` name each key."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"bad hub config {path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSection(_Strict):
    province: Level
    name: str = Field(min_length=1)
    timezone: str = "Asia/Ho_Chi_Minh"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class BrokerSection(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8883, ge=1, le=65535)
    username: Level = "hub"
    password_file: Path | None = None
    ca_file: Path | None = None
    dir: Path = Path("/etc/motcua/hub")

    def password(self) -> str | None:
        if self.password_file is None:
            return None
        try:
            return self.password_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise HubError(f"cannot read the hub broker password file {self.password_file}: {err}") from err


class DatabaseSection(_Strict):
    url: str = Field(min_length=1)


class HttpSection(_Strict):
    listen: str = "127.0.0.1:8090"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"{value!r} is not HOST:PORT")
        return value

    def address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class IngestSection(_Strict):
    backfill_after_s: float = Field(default=5.0, gt=0)
    batch: int = Field(default=2000, ge=1, le=100_000)


class Centre(_Strict):
    site: Level
    name: str = Field(min_length=1)
    # A copy of the centre's site file: its report rules (target wait, rating mapping, bands, calendar).
    site_file: Path | None = None


class HubConfig(_Strict):
    hub: HubSection
    broker: BrokerSection = BrokerSection()
    database: DatabaseSection
    http: HttpSection = HttpSection()
    ingest: IngestSection = IngestSection()
    centres: list[Centre] = []

    @model_validator(mode="after")
    def _unique_sites(self) -> HubConfig:
        seen: set[str] = set()
        for centre in self.centres:
            if centre.site in seen:
                raise ValueError(f"centre {centre.site!r} is listed twice")
            seen.add(centre.site)
        return self

    def centre(self, site: str) -> Centre | None:
        return next((c for c in self.centres if c.site == site), None)


def parse_config(text: str, path: Path) -> HubConfig:
    """Validate the text of a hub config; errors name each bad key (``centres.2.site``)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise HubConfigError(path, [f"not valid TOML: {err}"]) from None
    for centre in raw.get("centres", []) if isinstance(raw.get("centres"), list) else []:
        # A relative site file is next to the hub config, wherever the hub is started from.
        if isinstance(centre, dict) and isinstance(centre.get("site_file"), str):
            centre["site_file"] = str(path.parent / centre["site_file"])
    try:
        return HubConfig.model_validate(raw)
    except ValidationError as err:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in err.errors()]
        raise HubConfigError(path, problems) from None


def load_config(path: Path) -> HubConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise HubConfigError(path, [f"cannot read it: {err.strerror or err}"]) from None
    return parse_config(text, path)
