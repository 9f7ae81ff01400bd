"""Schema of the site file and its loader.

A site file is TOML with the tables ``[site]``, ``[hours]``, ``[broker]``, ``[database]`` and the
arrays ``[[services]]``, ``[[counters]]``, ``[[devices]]`` (see ``sites/demo.toml``). Unknown keys and
bad values are errors that name the key path (``devices[2].url: ...``); cross references (a counter's
services, a device's counter, a kiosk's printer) are checked too. Secrets never live here: the
broker password comes from the environment.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from bus.client import BrokerUrl, BrokerUrlError
from bus.models import DeviceKind
from bus.topics import LEVEL_PATTERN
from siteconf.alerts import AlertsConf
from siteconf.base import Section
from siteconf.calendar import CalendarConf
from siteconf.clock import END_OF_DAY, parse_hhmm
from siteconf.display import DisplayConf, VoiceConf
from siteconf.kiosk import KioskConf
from siteconf.printing import PrintingConf
from siteconf.queue import QueueRules
from siteconf.registry import section_problems
from siteconf.reports import ReportsConf
from siteconf.scanning import ScanningConf

Level = Annotated[str, Field(pattern=LEVEL_PATTERN)]


def _plain_label(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise ValueError("must be one line of text, without control characters")
    return value


Label = Annotated[str, StringConstraints(max_length=80), AfterValidator(_plain_label)]


T = TypeVar("T")


class SiteFileError(Exception):
    """A site file that cannot be used; ``problems`` holds one line per bad key."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteInfo(_Strict):
    id: Level
    name: str = Field(min_length=1)
    short_name: str | None = None
    agency_code: str | None = Field(default=None, pattern=r"^[0-9A-Z.]{3,13}$")
    timezone: str = "Asia/Ho_Chi_Minh"
    public_url: str | None = Field(default=None, description="base of the URL printed as a ticket's QR")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}, e.g. Asia/Ho_Chi_Minh") from err
        return value


MAX_TICKET_NUMBER = 999_999
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


Weekday = Annotated[str, Field(pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$")]


class Hours(_Strict):
    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    sessions: list[tuple[str, str]] = [("07:30", "11:30"), ("13:30", "17:00")]

    @field_validator("sessions")
    @classmethod
    def _ordered(cls, value: list[tuple[str, str]]) -> list[tuple[str, str]]:
        previous = ""
        for start, end in value:
            for hhmm, may_end_day in ((start, False), (end, True)):
                if not (_HHMM.match(hhmm) or (may_end_day and hhmm == END_OF_DAY)):
                    raise ValueError(f"{hhmm!r} is not a time of day HH:MM (24:00 only as a session's end)")
            if not previous <= start < end:
                raise ValueError(f"session {start}-{end} must start after the previous one and end later")
            previous = end
        return value

    def parsed_sessions(self) -> list[tuple[time, time]]:
        return [(parse_hhmm(a), parse_hhmm(b)) for a, b in self.sessions]


class Broker(_Strict):
    """The MQTT broker. ``tls_*``: a site with its own CA names its files here (paths on the broker's
    host); without them ``motcua site credentials`` makes a CA and a server certificate."""

    url: str = "mqtt://127.0.0.1:1883"
    tls_ca: str | None = Field(default=None, description="CA certificate (PEM) clients verify against")
    tls_cert: str | None = Field(default=None, description="the broker's certificate (PEM)")
    tls_key: str | None = Field(default=None, description="the broker's private key (PEM)")

    @field_validator("url")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            BrokerUrl.parse(value)
        except BrokerUrlError as err:
            raise ValueError(str(err)) from err
        return value


class Database(_Strict):
    url: str = Field(default="sqlite:///var/motcua.db", pattern=r"^(sqlite|postgresql(\+\w+)?)://")


class Http(_Strict):
    listen: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9.\-]+:[0-9]{1,5}$",
        description="host:port of the queue server's HTTP API and counter console; absent: no HTTP",
    )
    dossier_dir: str = Field(default="var/dossiers", description="where scanned dossier PDFs are stored")
    lookup_secret_file: str = Field(
        default="var/secrets/dossier-lookup.key",
        description="secret behind the lookup keys printed on receipts; made on first start (mode 0600)",
    )
    dossier_key_file: str = Field(
        default="var/secrets/dossier-store.key",
        description="AES-256 key sealing the stored dossier files; outside dossier_dir, made on first start",
    )
    certificate: str | None = Field(
        default=None, description="HTTPS: the server's certificate chain (PEM); with private_key"
    )
    private_key: str | None = Field(default=None, description="HTTPS: the certificate's private key (PEM)")
    dossier_retention_days: int | None = Field(
        default=None, ge=1, le=36500, description="motcua dossier purge deletes stored files older than this"
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> Http:
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("certificate and private_key go together (HTTPS needs both)")
        return self

    def tls(self) -> tuple[Path, Path] | None:
        """(certificate, private key) when the site serves HTTPS, else ``None``."""
        if self.certificate is None or self.private_key is None:
            return None
        return Path(self.certificate), Path(self.private_key)

    def address(self) -> tuple[str, int] | None:
        if self.listen is None:
            return None
        host, _, port = self.listen.rpartition(":")
        return host, int(port)


class Service(_Strict):
    """A field (lĩnh vực) with its ticket series: ``prefix`` + a number from ``first_number``.

    Priority tickets of the service have their own series (``priority_prefix``, by default ``U`` before
    the service's prefix, and its own number range). ``issuing_hours`` replaces the site's sessions for
    this service only.
    """

    code: Level
    name: str = Field(min_length=1)
    name_en: str | None = None
    prefix: str = Field(pattern=r"^[A-Z]{0,3}$", description="letters before the number, e.g. A")
    first_number: int = Field(default=1, ge=0, le=999_999)
    last_number: int | None = Field(default=None, ge=0, le=999_999, description="end of the number range")
    daily_cap: int | None = Field(default=None, ge=1)
    issuing_hours: list[tuple[str, str]] | None = Field(
        default=None, description="sessions HH:MM-HH:MM when tickets are issued; default: [hours]"
    )
    priority_prefix: str | None = Field(default=None, pattern=r"^[A-Z]{0,3}$")
    priority_first_number: int | None = Field(default=None, ge=0, le=999_999)
    priority_last_number: int | None = Field(default=None, ge=0, le=999_999)
    average_service_s: int = Field(
        default=360, ge=1, description="service time assumed before any is measured"
    )

    @field_validator("issuing_hours")
    @classmethod
    def _hours_ordered(cls, value: list[tuple[str, str]] | None) -> list[tuple[str, str]] | None:
        if value is not None:
            Hours(sessions=value)
        return value

    @model_validator(mode="after")
    def _numbers_fit(self) -> Self:
        if self.daily_cap is not None and self.first_number + self.daily_cap - 1 > MAX_TICKET_NUMBER:
            raise ValueError(
                f"first_number {self.first_number} + daily_cap {self.daily_cap} would pass"
                f" {MAX_TICKET_NUMBER}, the largest ticket number"
            )
        if self.last_number is not None and self.last_number < self.first_number:
            raise ValueError(f"last_number {self.last_number} is below first_number {self.first_number}")
        first = self.priority_first_number if self.priority_first_number is not None else self.first_number
        if self.priority_last_number is not None and self.priority_last_number < first:
            raise ValueError(f"priority_last_number {self.priority_last_number} is below its first number")
        if self.priority_prefix is None and len(self.prefix) > 2:
            raise ValueError(
                "a three-letter prefix needs an explicit priority_prefix (default is U + prefix)"
            )
        return self


class Counter(_Strict):
    """A counter serving ``services``; ``weights`` (default 1 each) share its calls between them.

    A ``priority_only`` counter is reserved for the priority categories (elderly, pregnant...).
    """

    number: int = Field(ge=1, le=999)
    name: str = Field(min_length=1)
    services: list[Level] = Field(min_length=1)
    weights: dict[str, int] = Field(default_factory=dict, description="service code -> weight, 1..100")
    priority_only: bool = Field(
        default=False, description="calls only priority tickets (and those sent to it)"
    )

    @model_validator(mode="after")
    def _weights_fit(self) -> Self:
        for code, weight in self.weights.items():
            if code not in self.services:
                raise ValueError(f"weights.{code}: the counter does not serve {code!r}")
            if not 1 <= weight <= 100:
                raise ValueError(f"weights.{code}: {weight} is not a weight from 1 to 100")
        return self


class Device(_Strict):
    id: Level
    kind: DeviceKind
    url: str | None = Field(default=None, description="transport URL of the hardware")
    counter: int | None = None
    address: int | None = Field(default=None, ge=0, le=255, description="bus address (keypad, Modbus unit)")
    printer: Level | None = Field(default=None, description="kiosk: id of its ticket printer device")
    width_dots: int = Field(default=576, description="printer: printable width, 576 at 80 mm, 384 at 58 mm")
    name: Label | None = Field(default=None, description="what staff call it: Máy in kiosk sảnh A")
    location: Label | None = Field(default=None, description="where it stands: Sảnh tầng 1, cạnh cửa chính")
    roll_length_m: float | None = Field(
        default=None, gt=0, le=1000, description="printer: length of a full paper roll, in metres"
    )

    @field_validator("url")
    @classmethod
    def _url_parses(cls, value: str | None) -> str | None:
        if value is not None:
            from transport.url import parse_transport_url

            parse_transport_url(value)
        return value

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Self:
        needs_url = {DeviceKind.PRINTER, DeviceKind.KEYPAD, DeviceKind.LED_DISPLAY}
        if self.kind in needs_url and self.url is None:
            raise ValueError(f"a {self.kind} needs a transport url, e.g. serial:///dev/ttyUSB0")
        if self.kind in {DeviceKind.KEYPAD, DeviceKind.LED_DISPLAY} and self.counter is None:
            raise ValueError(f"a {self.kind} needs the counter it belongs to")
        if self.kind is DeviceKind.KIOSK and self.printer is None:
            raise ValueError("a kiosk needs the id of its printer device")
        if self.roll_length_m is not None and self.kind is not DeviceKind.PRINTER:
            raise ValueError(f"roll_length_m is for printers, not a {self.kind}")
        return self


class Site(_Strict):
    site: SiteInfo
    hours: Hours = Hours()
    broker: Broker = Broker()
    database: Database = Database()
    http: Http = Http()
    _office_hours: Hours | None = PrivateAttr(default=None)
    _office_services: list[Service] | None = PrivateAttr(default=None)
    services: list[Service] = Field(min_length=1)
    counters: list[Counter] = Field(min_length=1)
    devices: list[Device] = []
    # One table per part of the product; each lives in its own module of this package.
    queue: QueueRules = QueueRules()
    calendar: CalendarConf = CalendarConf()
    printing: PrintingConf = PrintingConf()
    display: DisplayConf = DisplayConf()
    kiosk: KioskConf = KioskConf()
    scanning: ScanningConf = ScanningConf()
    reports: ReportsConf = ReportsConf()
    alerts: AlertsConf = AlertsConf()

    @model_validator(mode="after")
    def _references(self) -> Self:
        _unique([s.code for s in self.services], "services", "code")
        _unique([c.number for c in self.counters], "counters", "number")
        _unique([d.id for d in self.devices], "devices", "id")
        _unique([s.prefix for s in self.services], "services", "prefix")
        codes = {s.code for s in self.services}
        for i, counter in enumerate(self.counters):
            for code in counter.services:
                if code not in codes:
                    raise ValueError(f"counters[{i}].services: unknown service {code!r}")
        numbers = {c.number for c in self.counters}
        kinds = {d.id: d.kind for d in self.devices}
        for i, device in enumerate(self.devices):
            if device.counter is not None and device.counter not in numbers:
                raise ValueError(f"devices[{i}].counter: no counter number {device.counter}")
            if device.printer is not None and kinds.get(device.printer) is not DeviceKind.PRINTER:
                raise ValueError(f"devices[{i}].printer: {device.printer!r} is not a printer device")
        problems = [p for section in self.sections() for p in section.problems(self)]
        problems += section_problems(self)  # the checks each part registers for its own table
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def sections(self) -> list[Section]:
        return [
            self.queue,
            self.calendar,
            self.printing,
            self.display,
            self.kiosk,
            self.scanning,
            self.reports,
            self.alerts,
        ]

    def around_the_clock(self) -> Site:
        """This site issuing tickets every day at every hour, so the demo and tests run any time.

        Only the queue is open around the clock: appointment dates still count the real office
        hours (see `office_hours`). A service's own issuing hours are lifted too, or a test run in
        the evening would find that service closed.
        """
        every_day = Hours(
            days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], sessions=[("00:00", END_OF_DAY)]
        )
        services = [s.model_copy(update={"issuing_hours": None}) for s in self.services]
        copy = self.model_copy(update={"hours": every_day, "services": services})
        copy._office_hours = self.office_hours()
        copy._office_services = self._office_services or self.services
        return copy

    def is_around_the_clock(self) -> bool:
        return self._office_hours is not None

    def office_hours(self) -> Hours:
        """The centre's real working hours, even when `around_the_clock` opened the queue."""
        return self._office_hours or self.hours

    def spoken_prefixes(self) -> dict[str, str]:
        """How the hall's voice says each ticket prefix that is not spelt letter by letter: the site's
        ``[display.voice] prefixes``, and by default a service's priority series as "ưu tiên" and the
        service's own prefix (``UA`` → ``ưu tiên A``, not ``u a``)."""
        voice = self.display.voice
        normal = {s.prefix for s in self.services}
        out: dict[str, str] = {}
        for s in self.services:
            prefix = s.priority_prefix if s.priority_prefix is not None else "U" + s.prefix
            if prefix and prefix not in normal:
                out[prefix] = f"{voice.priority_word} {s.prefix}".strip()
        return {**out, **voice.prefixes}

    def voice_conf(self) -> VoiceConf:
        """``[display.voice]`` with every prefix's spoken form filled in (``spoken_prefixes``)."""
        return self.display.voice.model_copy(update={"prefixes": self.spoken_prefixes()})

    def issuing_hours(self, service: str) -> Hours:
        """When tickets of ``service`` are really issued: the centre's days, and the service's own
        sessions (``issuing_hours``) or else the centre's; ``around_the_clock`` changes nothing here."""
        office = self.office_hours()
        own = next((s for s in self._office_services or self.services if s.code == service), None)
        if own is None or own.issuing_hours is None:
            return office
        return Hours(days=office.days, sessions=own.issuing_hours)

    def with_office_hours(self) -> Site:
        """The site as its file says, undoing `around_the_clock`."""
        services = self._office_services or self.services
        copy = self.model_copy(update={"hours": self.office_hours(), "services": services})
        copy._office_hours = None
        copy._office_services = None
        return copy

    def service(self, code: str) -> Service:
        """The service ``code``; ``KeyError`` if the site has none."""
        return _find(self.services, lambda s: s.code == code, f"no service {code!r}")

    def counter(self, number: int) -> Counter:
        return _find(self.counters, lambda c: c.number == number, f"no counter {number}")

    def device(self, device_id: str) -> Device:
        return _find(self.devices, lambda d: d.id == device_id, f"no device {device_id!r}")

    def devices_of(self, kind: DeviceKind) -> list[Device]:
        return [d for d in self.devices if d.kind is kind]


def _find(items: list[T], match: Callable[[T], bool], missing: str) -> T:
    for item in items:
        if match(item):
            return item
    raise KeyError(missing)


def _unique(values: list[Any], table: str, key: str) -> None:
    seen: set[Any] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{table}[{i}].{key}: {value!r} appears twice")
        seen.add(value)


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-after") or part.startswith("tuple"):
            continue
        else:
            path += f".{part}" if path else part
    return path


def _problems(err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        path = _key_path(tuple(e["loc"]))
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (misspelt, or not supported here)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{path}: {msg}" if path and not msg.startswith(path) else msg)
    return lines


def parse_site(data: dict[str, Any], source: str = "<site>") -> Site:
    try:
        site = Site.model_validate(data)
    except ValidationError as err:
        raise SiteFileError(source, _problems(err)) from err
    return site


def load_site(path: str | Path) -> Site:
    """Read and validate a site file; ``SiteFileError`` names every bad key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SiteFileError(str(path), [f"cannot read the file: {err.strerror}"]) from err
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise SiteFileError(
            str(path),
            [f"not UTF-8 text: byte 0x{err.object[err.start]:02x} on line {line}; save it as UTF-8"],
        ) from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SiteFileError(str(path), [f"not valid TOML: {err}"]) from err
    return parse_site(data, str(path))
