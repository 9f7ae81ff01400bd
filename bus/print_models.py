"""What goes on paper: the payloads of the printers' ``print_ticket`` and ``print_receipt`` commands.

Kept apart from ``bus.models`` (which re-exports them) because they are plain values, not envelopes:
a layout renders them without knowing anything about MQTT.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

TicketNumber = Annotated[str, Field(pattern=r"^[A-Z]{0,3}[0-9]{1,6}$", examples=["A1023"])]


class TicketPrint(BaseModel):
    """What goes on a queue ticket. No personal data, ever."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    centre_name: str
    service_name: str
    number: TicketNumber
    priority_label: str | None = None
    issued_at: AwareDatetime
    waiting: int = Field(ge=0)
    estimated_wait_min: int | None = Field(default=None, ge=0)
    qr_url: str | None = None


class ReceivedDocumentPrint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    form: str = "Bản chính"
    count: int = Field(default=1, ge=1)


class ReceiptPrint(BaseModel):
    """Form 01 (Giấy tiếp nhận hồ sơ và hẹn trả kết quả). Carries the applicant's name by regulation:
    publish it only on the printer's own ``cmd`` topic, never log it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency_name: str
    dossier_code: str
    applicant_name: str
    applicant_address: str | None = None
    applicant_phone: str | None = None
    applicant_email: str | None = None
    request: str
    documents: list[ReceivedDocumentPrint] = []
    sets: int = Field(default=1, ge=1)
    processing_days: int | None = Field(default=None, ge=0)
    received_at: AwareDatetime
    return_at: AwareDatetime = Field(description="appointment, computed by the calendar")
    return_method: str = "Tại Bộ phận Một cửa"
    receiver_name: str | None = None
    lookup_url: str | None = None
