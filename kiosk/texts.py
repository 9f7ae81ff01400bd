"""Every sentence the kiosk screens show, in Vietnamese and English (NFC, plain words)."""

from __future__ import annotations

import unicodedata

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "choose": "Chạm vào lĩnh vực để lấy số thứ tự",
        "search": "Tìm lĩnh vực hoặc thủ tục, ví dụ: khai sinh",
        "priority": "Tôi thuộc diện ưu tiên",
        "priority_hint": "Chọn diện ưu tiên, rồi chọn lĩnh vực. Cán bộ sẽ kiểm tra khi gọi số.",
        "priority_on": "Ưu tiên",
        "cancel": "Huỷ",
        "working": "Đang lấy số, xin chờ…",
        "your_number": "Số thứ tự của bạn",
        "field": "Lĩnh vực",
        "counters": "Quầy phục vụ",
        "waiting": "Số người đang chờ trước bạn",
        "wait": "Thời gian chờ dự kiến",
        "printing": "Vé đang được in, xin nhận vé bên dưới.",
        "virtual": (
            "Máy in tạm hết giấy. Xin dùng điện thoại chụp ảnh màn hình này hoặc quét mã QR:"
            " đây là vé của bạn."
        ),
        "virtual_link": "Xem vé của bạn tại:",
        "paper_low": "Máy in sắp hết giấy",
        "paper_out": "Máy in hết giấy",
        "offline": "Số cấp khi mất kết nối máy chủ – vẫn được gọi theo thứ tự.",
        "offline_mark": "NGOẠI TUYẾN",
        "done": "Xong",
        "back": "Quay lại",
        "large_text": "Chữ to",
        "contrast": "Tương phản cao",
        "language": "English",
        "outside_hours": "Hiện ngoài giờ cấp số. Xin mời quay lại trong giờ làm việc:",
        "sold_out": "Lĩnh vực này đã hết số hôm nay. Xin mời quay lại vào ngày làm việc tiếp theo.",
        "already_has_ticket": "Bạn đã có số thứ tự cho lĩnh vực này hôm nay.",
        "no_offline_numbers": "Máy lấy số đang mất kết nối và đã hết số dự phòng. Xin hỏi cán bộ hướng dẫn.",
        "busy": "Hệ thống đang bận, xin vui lòng thử lại.",
        "failed": "Máy lấy số gặp lỗi, xin vui lòng thử lại hoặc hỏi cán bộ hướng dẫn.",
        "refused": "Không lấy được số.",
        "no_match": "Không tìm thấy lĩnh vực hoặc thủ tục phù hợp.",
        "cccd_ok": "Đã đọc CCCD. Chọn lĩnh vực để lấy số.",
        "procedures": "Thủ tục",
    },
    "en": {
        "choose": "Touch a field to take a queue number",
        "search": "Search fields or procedures, e.g. birth",
        "priority": "I am a priority citizen",
        "priority_hint": "Choose your priority group, then the field. The officer checks it when calling.",
        "priority_on": "Priority",
        "cancel": "Cancel",
        "working": "Getting your number, please wait…",
        "your_number": "Your number",
        "field": "Field",
        "counters": "Counters",
        "waiting": "People waiting before you",
        "wait": "Estimated wait",
        "printing": "Your ticket is printing below.",
        "virtual": (
            "The printer is out of paper. Take a photo of this screen with your phone or scan the QR:"
            " it is your ticket."
        ),
        "virtual_link": "See your ticket at:",
        "paper_low": "Printer paper low",
        "paper_out": "Printer out of paper",
        "offline": "Issued while the server was unreachable – you will be called in order.",
        "offline_mark": "OFFLINE",
        "done": "Done",
        "back": "Back",
        "large_text": "Large text",
        "contrast": "High contrast",
        "language": "Tiếng Việt",
        "outside_hours": "Tickets are issued only during working hours:",
        "sold_out": "No more numbers for this field today. Please come back on the next working day.",
        "already_has_ticket": "You already have a number for this field today.",
        "no_offline_numbers": "The kiosk is offline and has no spare numbers left. Please ask the staff.",
        "busy": "The system is busy, please try again.",
        "failed": "The kiosk had a problem; please try again or ask the staff.",
        "refused": "No number could be issued.",
        "no_match": "No field or procedure matches.",
        "cccd_ok": "ID card read. Choose a field to take a number.",
        "procedures": "Procedures",
    },
}


def text(lang: str, key: str) -> str:
    table = TEXTS.get(lang, TEXTS["vi"])
    return unicodedata.normalize("NFC", table.get(key, TEXTS["vi"][key]))


_CACHE: dict[str, dict[str, str]] = {}


def texts(lang: str) -> dict[str, str]:
    """Every sentence in ``lang`` (falling back to Vietnamese), computed once per language."""
    if lang not in _CACHE:
        _CACHE[lang] = {key: text(lang, key) for key in TEXTS["vi"]}
    return dict(_CACHE[lang])
