"""Typed messages of the MQTT contract, with the envelope every payload carries.

Every payload is a JSON object. The envelope fields are ``v`` (schema version), ``id`` (unique
message id, used to drop duplicates), ``ts`` (ISO 8601 with offset), and optionally ``expires_at``,
``reply_to`` and ``seq``. A ``kind`` field names the message type, so one topic can carry several
(a device's ``evt`` topic carries key presses and print results alike).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from bus.device_kinds import DeviceKind, Health, PaperLevel
from bus.print_models import ReceiptPrint, ReceivedDocumentPrint, TicketNumber, TicketPrint
from bus.topics import LEVEL_PATTERN

SCHEMA_VERSION: Literal[1] = 1
__all__ = [  # the print payloads and device enums live beside this module; they are part of the contract
    "DeviceKind",
    "Health",
    "PaperLevel",
    "ReceiptPrint",
    "ReceivedDocumentPrint",
    "TicketNumber",
    "TicketPrint",
]

Level = Annotated[str, Field(pattern=LEVEL_PATTERN)]


def new_id() -> str:
    return uuid.uuid4().hex


def now() -> datetime:
    return datetime.now(UTC).astimezone()


class Envelope(BaseModel):
    """Fields common to every message."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    v: Literal[1] = SCHEMA_VERSION
    id: str = Field(default_factory=new_id, min_length=8, max_length=64)
    ts: AwareDatetime = Field(default_factory=now)
    expires_at: AwareDatetime | None = None
    reply_to: str | None = None
    seq: int | None = Field(default=None, ge=0)

    def expired(self, at: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (at or now())

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


def expires_in(seconds: float) -> datetime:
    return now() + timedelta(seconds=seconds)


# --- device state (retained) -------------------------------------------------------------------


class DeviceInfo(Envelope):
    """What a device is; retained on ``device/{id}/info``."""

    kind: Literal["device_info"] = "device_info"
    device_kind: DeviceKind
    model: str
    firmware: str = "unknown"
    transport: str = Field(description="URL scheme the device is reached by, e.g. serial or sim")
    capabilities: list[str] = []
    counter: int | None = None


class DeviceStatus(Envelope):
    """How a device is; retained on ``device/{id}/status`` and republished on every change."""

    kind: Literal["device_status"] = "device_status"
    health: Health
    paper: PaperLevel | None = None
    cover_open: bool | None = None
    errors: list[str] = []
    detail: str | None = None


# --- device events (device -> server) ----------------------------------------------------------


class Key(StrEnum):
    CALL_NEXT = "call_next"
    RECALL = "recall"
    NO_SHOW = "no_show"
    TRANSFER = "transfer"
    PAUSE = "pause"
    FINISH = "finish"
    REQUEST_RATING = "request_rating"
    CONFIRM = "confirm"
    DIGIT = "digit"


class KeyPressed(Envelope):
    kind: Literal["key_pressed"] = "key_pressed"
    key: Key
    digit: int | None = Field(default=None, ge=0, le=9)
    keypad_address: int | None = Field(default=None, ge=0, le=255)


class JobPrinted(Envelope):
    kind: Literal["job_printed"] = "job_printed"
    job_id: str
    bytes_sent: int = Field(ge=0)
    paper_mm: float | None = Field(
        default=None, ge=0, le=100_000, description="paper used (mm), from the bytes"
    )
    replaced_chars: list[str] = Field(default_factory=list, description="characters the font cannot draw")


class JobFailed(Envelope):
    """A print job that could not print; the kiosk shows a virtual ticket instead."""

    kind: Literal["job_failed"] = "job_failed"
    job_id: str
    reason: str
    code: str | None = Field(
        default=None,
        description="why, for programs: paper_out, cover_open, cutter_error, offline, no_reply, "
        "unconfirmed (sent, but the printer never confirmed: it may have printed), expired, bad_data, "
        "internal",
    )


class DossierUploaded(Envelope):
    """A scanning station's PDF is safely in the dossier store (hash confirmed); no personal data."""

    kind: Literal["dossier_uploaded"] = "dossier_uploaded"
    dossier_code: str = Field(pattern=r"^[0-9A-Z.]{3,13}-\d{6}-\d{4,7}$", examples=["H21.65-220914-0011"])
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(gt=0)
    doc_type: str | None = Field(default=None, pattern=r"^[0-9A-Z._]{1,16}$")


class RatingGiven(Envelope):
    """A citizen rated the service at a counter's rating tablet; one per ticket, tied to the officer.

    ``score`` runs from 0 (worst) to ``scale - 1`` (best): on the 3-level scale 2/1/0 are
    Rất hài lòng / Hài lòng / Không hài lòng; on the 5-level scale 4..0 add Bình thường and
    Rất không hài lòng. ``answers`` maps the site's optional question ids to scores on the same scale.
    """

    kind: Literal["rating_given"] = "rating_given"
    ticket: str = Field(
        min_length=1, max_length=64, description="ticket id, or its number when no id is known"
    )
    number: TicketNumber | None = None
    counter: int = Field(ge=1)
    officer: Level | None = None
    score: int = Field(ge=0, le=4)
    scale: Literal[3, 5]
    answers: dict[Level, Annotated[int, Field(ge=0, le=4)]] = {}


DeviceEvent = Annotated[
    KeyPressed | JobPrinted | JobFailed | DossierUploaded | RatingGiven, Field(discriminator="kind")
]

# --- device commands (-> device, never retained, dropped after expires_at) ---------------------


class PrintTicket(Envelope):
    kind: Literal["print_ticket"] = "print_ticket"
    job_id: str
    ticket: TicketPrint


class PrintReceipt(Envelope):
    kind: Literal["print_receipt"] = "print_receipt"
    job_id: str
    receipt: ReceiptPrint


class ShowText(Envelope):
    """Show text on a display now, e.g. a test pattern; normal numbers follow ``counter/{n}/state``."""

    kind: Literal["show_text"] = "show_text"
    text: str = Field(max_length=32)
    blink: bool = False


class Beep(Envelope):
    kind: Literal["beep"] = "beep"


DeviceCommand = Annotated[PrintTicket | PrintReceipt | ShowText | Beep, Field(discriminator="kind")]

# --- requests and responses --------------------------------------------------------------------


class IssueTicket(Envelope):
    """``req/issue_ticket``: a kiosk asks for a ticket."""

    kind: Literal["issue_ticket"] = "issue_ticket"
    service: Level
    priority: Level | None = None
    kiosk: Level | None = None


class CounterAction(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    PAUSE = "pause"
    RESUME = "resume"
    CALL_NEXT = "call_next"
    CALL_TICKET = "call_ticket"
    RECALL = "recall"
    NO_SHOW = "no_show"
    REINSTATE = "reinstate"
    TRANSFER = "transfer"
    PARK = "park"
    UNPARK = "unpark"
    FINISH = "finish"
    CANCEL = "cancel"


class CounterStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class TransferPosition(StrEnum):
    FRONT = "front"
    BACK = "back"


class CounterRequest(Envelope):
    """``req/counter``: a clerk console (or a keypad, through the server) acts on a counter.

    ``officer`` is needed to open a counter; ``ticket`` names the ticket for ``call_ticket``,
    ``reinstate``, ``unpark`` and ``cancel``; ``to_service`` or ``to_counter`` (with ``position``)
    is the target of ``transfer``.
    """

    kind: Literal["counter"] = "counter"
    counter: int = Field(ge=1)
    action: CounterAction
    officer: Level | None = None
    ticket: TicketNumber | None = None
    to_service: Level | None = None
    to_counter: int | None = Field(default=None, ge=1)
    position: TransferPosition = TransferPosition.BACK


DossierCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9A-Z]{1,5}(\.[0-9A-Z]{1,5}){0,4}-[0-9]{6}-[0-9]{4,7}$",
        max_length=30,
        description="mã hồ sơ: {agency code}-{yymmdd}-{sequence}",
        examples=["H21.65-220914-0011"],
    ),
]


class DossierStatus(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    SUPPLEMENT = "supplement"
    READY = "ready"
    RETURNED = "returned"
    REJECTED = "rejected"


class RegisterDossier(Envelope):
    """``req/register_dossier``: the counter received a dossier; the server dates its appointment.

    Without ``code`` the server allocates the next one of the site's agency for today. ``days`` is
    the procedure's processing time in working days; ``procedure`` names it (its cut-off time applies).
    No personal data: the applicant's details stay on the paper receipt.
    """

    kind: Literal["register_dossier"] = "register_dossier"
    code: DossierCode | None = None
    procedure: str = Field(min_length=1, max_length=64)
    days: int = Field(ge=0, le=365)
    counter: int | None = Field(default=None, ge=1)
    ticket: TicketNumber | None = None


class UpdateDossier(Envelope):
    """``req/update_dossier``: a dossier moved on (processing, ready to collect, returned...)."""

    kind: Literal["update_dossier"] = "update_dossier"
    code: DossierCode
    status: DossierStatus


class ReserveBlock(Envelope):
    """``req/reserve_block``: a kiosk reserves numbers of one service it may issue while offline.

    The server answers with a ``block`` of consecutive numbers of today's series that it will never
    issue itself; the kiosk keeps the block in its journal until it is used up or the day ends.
    """

    kind: Literal["reserve_block"] = "reserve_block"
    kiosk: Level
    service: Level
    size: int = Field(default=20, ge=1, le=1000)


class OfflineTicket(BaseModel):
    """A ticket a kiosk issued from its reserved block while the server was unreachable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: TicketNumber
    service: Level
    priority: Level | None = None
    issued_at: AwareDatetime
    token: str = Field(min_length=8, max_length=64)


class OfflineTickets(Envelope):
    """``req/offline_tickets``: a kiosk hands over the tickets it issued offline, once back online."""

    kind: Literal["offline_tickets"] = "offline_tickets"
    kiosk: Level
    tickets: list[OfflineTicket] = Field(min_length=1, max_length=1000)


class CallEvent(Envelope):
    """``calls``: one call or recall, numbered by the envelope's per-site ``seq``."""

    kind: Literal["call"] = "call"
    number: TicketNumber
    service: Level
    counter: int = Field(ge=1)
    counter_name: str
    recall: bool = False


class CallsSince(Envelope):
    """Ask for the calls after ``after_seq`` (a display or announcer that saw a gap in ``seq``, or that
    starts and rebuilds its list); answered with ``calls`` in ``seq`` order, at most ``limit`` of them."""

    kind: Literal["calls_since"] = "calls_since"
    after_seq: int = Field(ge=0)
    limit: int = Field(default=50, ge=1, le=500)


Request = Annotated[
    IssueTicket
    | CounterRequest
    | RegisterDossier
    | UpdateDossier
    | ReserveBlock
    | OfflineTickets
    | CallsSince,
    Field(discriminator="kind"),
]


class TicketIssued(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    number: TicketNumber
    service: Level
    service_name: str
    issued_at: AwareDatetime
    waiting_before: int = Field(ge=0)
    estimated_wait_min: int | None = Field(default=None, ge=0)
    counters: list[int] = []
    token: str = Field(description="unguessable id of the ticket, for the QR that follows it online")
    ticket_id: str | None = None
    priority: Level | None = None


class Called(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    counter: int
    number: TicketNumber | None = Field(default=None, description="absent when nobody is waiting")
    status: CounterStatus | None = None
    acted_on: TicketNumber | None = Field(
        default=None,
        description="the ticket the action was about (recalled, finished, transferred, parked...), "
        "so a console can say what happened",
    )
    recalls: int | None = Field(default=None, ge=0, description="recall: how many times it was recalled")


class ErrorInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(examples=["unknown_service", "sold_out", "outside_hours", "bad_request"])
    message: str = Field(description="for the citizen or clerk, in Vietnamese")
    message_en: str | None = None


class DossierInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: DossierCode
    procedure: str
    status: DossierStatus
    received_at: AwareDatetime
    due_at: AwareDatetime = Field(description="ngày hẹn trả: receipt + processing days in working time")
    provisional: bool = Field(
        False, description="the due date crosses a year whose days off are not announced"
    )


class NumberBlock(BaseModel):
    """Numbers ``first``..``last`` (inclusive) of ``service`` on ``business_day``, reserved for one kiosk."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: Level
    business_day: date
    first: int = Field(ge=0, le=999_999)
    last: int = Field(ge=0, le=999_999)


class RefusedNumber(BaseModel):
    """offline_tickets: one number the server did not take, and why (a stable ``code``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: TicketNumber
    code: str = Field(examples=["not_allowed", "bad_request"])
    reason: str = Field(description="in English, for the kiosk's log")


class Response(Envelope):
    """``resp/{client}``: the answer to one request, sent only after the server committed it."""

    kind: Literal["response"] = "response"
    request_id: str
    ok: bool
    ticket: TicketIssued | None = None
    called: Called | None = None
    dossier: DossierInfo | None = None
    error: ErrorInfo | None = None
    block: NumberBlock | None = None
    accepted: list[TicketNumber] | None = Field(
        default=None, description="offline_tickets: numbers now known to the server (new or already known)"
    )
    refused: list[RefusedNumber] | None = Field(
        default=None,
        description="offline_tickets: numbers the server refused (outside the kiosk's blocks...); "
        "the kiosk may drop them from its journal",
    )
    calls: list[CallEvent] | None = Field(
        default=None, description="calls_since: the calls after the asked seq, oldest first"
    )


# --- server state and the call stream ----------------------------------------------------------


class QueueState(Envelope):
    kind: Literal["queue_state"] = "queue_state"
    service: Level
    service_name: str
    waiting: int = Field(ge=0)
    last_issued: TicketNumber | None = None
    last_called: TicketNumber | None = None
    estimated_wait_min: int | None = Field(default=None, ge=0)
    open_counters: int | None = Field(default=None, ge=0)


class CounterState(Envelope):
    """Retained; a display shows ``current`` and blinks when ``call_seq`` changes."""

    kind: Literal["counter_state"] = "counter_state"
    counter: int = Field(ge=1)
    name: str
    status: CounterStatus
    current: TicketNumber | None = None
    call_seq: int | None = Field(default=None, ge=0)
    officer: Level | None = Field(default=None, description="id of the officer logged in (not a name)")
    officer_name: str | None = Field(
        default=None,
        max_length=120,
        description="display name of that officer, shown to citizens on the counter's rating tablet",
    )
    current_ticket_id: str | None = Field(default=None, description="id of the ticket being served")
    services: list[Level] = []


device_event_adapter: TypeAdapter[DeviceEvent] = TypeAdapter(DeviceEvent)
device_command_adapter: TypeAdapter[DeviceCommand] = TypeAdapter(DeviceCommand)
request_adapter: TypeAdapter[Request] = TypeAdapter(Request)
