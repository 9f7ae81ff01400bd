"""Why the console refused a request, in plain Vietnamese (and English), never a library's wording.

A console request that does not validate (a ticket number typed as ``ZZZ``, an empty procedure code)
is answered 422 with ``{"detail": {"code", "field", "message", "message_en"}}``: ``code`` is for
programs (the page looks its words up by it), ``message`` is what a clerk reads. Pydantic's own text,
with its links to pydantic's site, never reaches the page. Only the first problem is named: the clerk
fixes one field at a time.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from pydantic import ValidationError

# field -> (code, Vietnamese, English)
_FIELDS: dict[str, tuple[str, str, str]] = {
    "ticket": (
        "bad_ticket_number",
        "Số thứ tự “{value}” không đúng dạng: tối đa 3 chữ cái rồi 1–6 chữ số, ví dụ A1023.",
        "“{value}” is not a ticket number: up to 3 letters then 1–6 digits, e.g. A1023",
    ),
    "procedure": (
        "missing_procedure",
        "Chưa nhập mã thủ tục: nhập mã thủ tục (ví dụ 1.001234) rồi tiếp nhận.",
        "enter the procedure code (e.g. 1.001234) first",
    ),
    "days": (
        "bad_days",
        "Thời hạn giải quyết phải là số ngày làm việc từ 0 đến 365.",
        "the processing time must be 0 to 365 working days",
    ),
    "action": ("bad_action", "Thao tác này không có ở bàn gọi số.", "the console has no such action"),
    "to_service": (
        "bad_service",
        "Chọn nơi cần chuyển sang trong danh sách.",
        "choose the service to transfer to from the list",
    ),
    "to_counter": ("bad_counter", "Số quầy chuyển đến không hợp lệ.", "not a counter number"),
    "position": ("bad_position", "Chọn chuyển lên đầu hàng hoặc cuối hàng.", "choose front or back"),
    "id": (
        "bad_request_id",
        "Yêu cầu bị hỏng: tải lại trang rồi thử lại.",
        "the request id is malformed: reload the page",
    ),
    "code": (
        "bad_dossier_code",
        "Mã hồ sơ “{value}” không đúng dạng: mã cơ quan-yymmdd-số thứ tự, ví dụ H21.65-220914-0011.",
        "“{value}” is not a dossier code: agency-yymmdd-sequence",
    ),
    "applicant_name": (
        "missing_applicant",
        "Chưa nhập họ tên người nộp hồ sơ (in trên giấy tiếp nhận).",
        "enter the applicant's name: the receipt prints it",
    ),
    "applicant_phone": ("bad_phone", "Số điện thoại quá dài.", "the phone number is too long"),
    "applicant_address": ("bad_address", "Địa chỉ quá dài.", "the address is too long"),
}
_EMPTY_TICKET = (
    "missing_ticket",
    "Chưa nhập số cần gọi, ví dụ A1023.",
    "enter the ticket number to call, e.g. A1023",
)
_UNKNOWN = ("bad_request", "Yêu cầu không hợp lệ: tải lại trang rồi thử lại.", "malformed request")


def problem(code: str, message: str, message_en: str, field: str | None = None) -> dict[str, str]:
    detail = {"code": code, "message": message, "message_en": message_en}
    return detail | ({"field": field} if field else {})


def validation_problem(err: ValidationError) -> dict[str, str]:
    """The first problem of ``err`` as a code, its field and words for the clerk."""
    errors = err.errors()
    first: dict[str, Any] = dict(errors[0]) if errors else {}
    loc = first.get("loc") or ("",)
    field = str(loc[0])
    value = first.get("input")
    if first.get("type") == "extra_forbidden":
        return problem("unknown_field", f"Yêu cầu có trường lạ “{field}”.", f"unknown field {field!r}", field)
    shown = _shown(value)
    if field == "ticket" and not shown:
        code, vi, en = _EMPTY_TICKET
    else:
        code, vi, en = _FIELDS.get(field, _UNKNOWN)
    return problem(code, vi.format(value=shown), en.format(value=shown), field)


def _shown(value: object) -> str:
    """What the clerk typed, short and printable (it goes back into a message)."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:20] + ("…" if len(text) > 20 else "")


def refuse_invalid(err: ValidationError | TypeError) -> HTTPException:
    """The 422 of a console request that does not validate."""
    if isinstance(err, ValidationError):
        return HTTPException(422, validation_problem(err))
    return HTTPException(422, problem(*_UNKNOWN))


def not_json() -> HTTPException:
    return HTTPException(
        422,
        problem("bad_request", "Yêu cầu hỏng: tải lại trang rồi thử lại.", "the body must be a JSON object"),
    )


def logged_out() -> HTTPException:
    return HTTPException(
        401,
        problem(
            "logged_out",
            "Phiên làm việc đã hết: hãy đăng nhập lại.",
            "not logged in, or the session ended: log in again",
        ),
    )


def bad_csrf() -> HTTPException:
    return HTTPException(
        403,
        problem(
            "bad_csrf",
            "Trang đã cũ hoặc mở từ nơi khác: tải lại trang rồi thử lại.",
            "missing or wrong CSRF token",
        ),
    )
