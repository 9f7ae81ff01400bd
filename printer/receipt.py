"""Form 01, Giấy tiếp nhận hồ sơ và hẹn trả kết quả: its data and its 80 mm thermal layout.

The receipt is a legal form handed to the applicant, so unlike a queue ticket it carries the applicant's
name (and the contact fields the form has, when given). None of it is ever logged: log lines name the
dossier code only. The appointment date (``return_at``) comes with the data; it is computed by the
calendar, not here. The dossier code is printed as text, as a QR code and as CODE128.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from printer.glyphs import GlyphFallback
from printer.layout import Layout, RenderedJob, make_layout, render_job
from printer.profiles import PrinterProfile
from printer.textband import clean_text

logger = logging.getLogger(__name__)

DOSSIER_CODE_PATTERN = r"^[0-9A-Z.]{3,13}-\d{6}-\d{4,7}$"
DossierCode = Annotated[str, Field(pattern=DOSSIER_CODE_PATTERN, examples=["H21.65-220914-0011"])]
Text = Annotated[str, Field(min_length=1, max_length=300)]


class ReceivedDocument(BaseModel):
    """One paper of the dossier: its name, original or copy, how many."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text
    form: str = Field(
        default="Bản chính", max_length=50, description="Bản chính, Bản sao, Bản sao chứng thực"
    )
    count: int = Field(default=1, ge=1, le=999)

    @field_validator("name", "form")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return clean_text(value)


class ReceiptData(BaseModel):
    """What Form 01 says. ``return_at`` is given by the caller (the calendar computes it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency_name: Text
    dossier_code: DossierCode
    applicant_name: Text
    applicant_address: str | None = Field(default=None, max_length=300)
    applicant_phone: str | None = Field(default=None, max_length=20)
    applicant_email: str | None = Field(default=None, max_length=100)
    request: Text = Field(description="procedure / what is requested")
    documents: list[ReceivedDocument] = Field(default=[], max_length=50)
    sets: int = Field(default=1, ge=1, le=99)
    processing_days: int | None = Field(default=None, ge=0, le=365, description="legal time in working days")
    received_at: datetime
    return_at: datetime
    return_method: str = Field(default="Tại Bộ phận Một cửa", max_length=100)
    receiver_name: str | None = Field(default=None, max_length=100)
    lookup_url: str | None = Field(default=None, max_length=300, description="QR content; the code if unset")

    @field_validator(
        "agency_name",
        "applicant_name",
        "applicant_address",
        "applicant_phone",
        "applicant_email",
        "request",
        "return_method",
        "receiver_name",
    )
    @classmethod
    def _normalise(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value)

    @field_validator("lookup_url")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("lookup_url must not contain control characters")
        return value

    def values(self) -> dict[str, object]:
        """The layout's fields: the model's, plus ``qr`` (lookup URL or the code) and document dicts."""
        fields = dict(self)
        fields["documents"] = [dict(d) for d in self.documents]
        fields["qr"] = self.lookup_url or self.dossier_code
        return fields


RECEIPT_LAYOUT: Layout = make_layout(
    [
        {"kind": "text", "text": "{agency_name}", "size_px": 22, "bold": True},
        {"kind": "text", "text": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "size_px": 20, "bold": True},
        {"kind": "text", "text": "Độc lập - Tự do - Hạnh phúc", "size_px": 20},
        {"kind": "rule"},
        {"kind": "text", "text": "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "size_px": 24, "bold": True},
        {"kind": "text", "text": "Mã hồ sơ:", "size_px": 22},
        {"kind": "text", "text": "{dossier_code}", "bold": True},
        {"kind": "qr", "text": "{qr}"},
        {"kind": "barcode", "text": "{dossier_code}"},
        {"kind": "rule"},
        {"kind": "text", "text": "Tiếp nhận hồ sơ của: {applicant_name}", "size_px": 22, "align": "left"},
        {
            "kind": "text",
            "text": "Địa chỉ: {applicant_address}",
            "size_px": 22,
            "align": "left",
            "when": "applicant_address",
        },
        {
            "kind": "text",
            "text": "Số điện thoại: {applicant_phone}",
            "size_px": 22,
            "align": "left",
            "when": "applicant_phone",
        },
        {
            "kind": "text",
            "text": "Email: {applicant_email}",
            "size_px": 22,
            "align": "left",
            "when": "applicant_email",
        },
        {"kind": "text", "text": "Nội dung yêu cầu giải quyết: {request}", "size_px": 22, "align": "left"},
        {"kind": "text", "text": "Thành phần hồ sơ:", "size_px": 22, "align": "left", "when": "documents"},
        {
            "kind": "text",
            "text": "{index}. {name} ({form}): {count}",
            "size_px": 22,
            "align": "left",
            "each": "documents",
        },
        {"kind": "text", "text": "Số lượng hồ sơ: {sets} bộ", "size_px": 22, "align": "left"},
        {
            "kind": "text",
            "text": "Thời gian giải quyết: {processing_days} ngày làm việc",
            "size_px": 22,
            "align": "left",
            "when": "processing_days",
        },
        {
            "kind": "text",
            "text": "Nhận hồ sơ lúc: {received_at:%H giờ %M phút, ngày %d/%m/%Y}",
            "size_px": 22,
            "align": "left",
        },
        {
            "kind": "text",
            "text": "Hẹn trả kết quả: {return_at:%H giờ %M phút, ngày %d/%m/%Y}",
            "size_px": 24,
            "bold": True,
            "align": "left",
        },
        {"kind": "text", "text": "Nhận kết quả: {return_method}", "size_px": 22, "align": "left"},
        {"kind": "rule"},
        {"kind": "text", "text": "Người tiếp nhận hồ sơ", "size_px": 22, "bold": True},
        {"kind": "feed", "lines": 3},
        {"kind": "text", "text": "{receiver_name}", "size_px": 22, "when": "receiver_name"},
    ]
)
"""Form 01 on 80 mm thermal paper."""


def render_receipt(data: ReceiptData, profile: PrinterProfile, layout: Layout | None = None) -> bytes:
    """The ESC/POS bytes of one Form 01 receipt; logs the dossier code only."""
    return receipt_job(data, profile, layout).data


def receipt_job(
    data: ReceiptData,
    profile: PrinterProfile,
    layout: Layout | None = None,
    fallback: GlyphFallback | None = None,
) -> RenderedJob:
    """The receipt's bytes and the characters replaced for want of a glyph (``printer.glyphs``)."""
    job = render_job(layout or RECEIPT_LAYOUT, data.values(), profile, fallback)
    logger.debug("receipt %s rendered: %d bytes for %d dots", data.dossier_code, len(job.data), profile.width)
    return job
