"""What facility staff read about a device: every health, paper and fault code in plain Vietnamese.

Devices publish stable English codes (``paper_near_end``, ``cutter_error``, ``no_reply``) and an
English ``detail`` for engineers; the dashboard, the alerts and the incident history show the
Vietnamese text of the code, with what to do when there is something to do. A code this table does
not know is shown as "Lỗi khác" with the code itself, so nothing a device says is hidden.
"""

from __future__ import annotations

HEALTH_VI = {
    "ok": "Bình thường",
    "warning": "Cảnh báo",
    "error": "Lỗi",
    "offline": "Mất kết nối",
    "unknown": "Chưa rõ",
}

PAPER_VI = {"ok": "Đủ giấy", "near_end": "Sắp hết giấy", "out": "Hết giấy", "unknown": "Chưa rõ"}

CODES_VI = {
    "offline": "Mất kết nối: thiết bị không còn liên lạc với máy chủ",
    "paper_near_end": "Sắp hết giấy: chuẩn bị thay cuộn giấy mới",
    "paper_out": "Hết giấy: hãy thay cuộn giấy",
    "cover_open": "Nắp máy in đang mở: hãy đóng nắp",
    "cutter_error": "Kẹt dao cắt giấy: mở nắp, gỡ giấy kẹt rồi đóng lại",
    "paper_jam": "Kẹt giấy: gỡ tờ giấy bị kẹt trong khay nạp",
    "feeder_empty": "Khay nạp giấy trống",
    "unrecoverable_error": "Lỗi phần cứng: tắt rồi bật lại, nếu còn lỗi hãy gọi kỹ thuật",
    "auto-recoverable_error": "Lỗi tạm thời: thiết bị đang tự khắc phục",
    "auto_recoverable_error": "Lỗi tạm thời: thiết bị đang tự khắc phục",
    "not_ready": "Máy in chưa sẵn sàng",
    "no_reply": "Thiết bị không trả lời: kiểm tra dây cáp và nguồn điện",
    "link": "Mất đường truyền tới thiết bị: kiểm tra dây cáp",
    "rejected": "Thiết bị từ chối nội dung hiển thị",
    "scanner_unreachable": "Máy quét không trả lời: kiểm tra nguồn và mạng",
    "upload_failed": "Chưa gửi được tệp hồ sơ lên máy chủ, đang thử lại",
}

SHORT_VI = {
    "offline": "Mất kết nối",
    "paper_near_end": "Sắp hết giấy",
    "paper_out": "Hết giấy",
    "cover_open": "Mở nắp",
    "cutter_error": "Kẹt dao cắt",
    "paper_jam": "Kẹt giấy",
    "no_reply": "Không trả lời",
}

KINDS_VI = {
    "printer": "Máy in",
    "led_display": "Bảng LED",
    "keypad": "Bàn phím gọi số",
    "kiosk": "Kiosk lấy số",
    "hall_board": "Màn hình sảnh",
    "rating_tablet": "Máy đánh giá",
    "scanner": "Máy quét",
}


def code_vi(code: str) -> str:
    """The Vietnamese sentence for ``code``; an unknown code is shown as itself after "Lỗi khác"."""
    return CODES_VI.get(code) or f"Lỗi khác ({code})"


def short_vi(code: str) -> str:
    """A few words for ``code`` (history rows, metrics labels' help)."""
    return SHORT_VI.get(code) or code_vi(code).split(":")[0]
