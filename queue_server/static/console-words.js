// The console's words: every refusal and validation code the server answers, in plain Vietnamese,
// and the sentence that says what an action did. The API keeps machine codes; the clerk reads these.
"use strict";
const REFUSAL_WORDS = {
  // the console's own checks (422/401/403, queue_server/console_messages.py)
  missing_ticket: () => "Chưa nhập số cần gọi, ví dụ A1023.",
  bad_ticket_number: (d) => `Số thứ tự “${d.value}” không đúng dạng: tối đa 3 chữ cái rồi 1–6 chữ số, ví dụ A1023.`,
  missing_procedure: () => "Chưa nhập mã thủ tục: nhập mã thủ tục (ví dụ 1.001234) rồi tiếp nhận.",
  bad_days: () => "Thời hạn giải quyết phải là số ngày làm việc từ 0 đến 365.",
  bad_action: () => "Thao tác này không có ở bàn gọi số.",
  bad_service: () => "Chọn nơi cần chuyển sang trong danh sách.",
  bad_counter: () => "Số quầy chuyển đến không hợp lệ.",
  bad_position: () => "Chọn chuyển lên đầu hàng hoặc cuối hàng.",
  bad_request_id: () => "Yêu cầu bị hỏng: tải lại trang rồi thử lại.",
  bad_dossier_code: () => "Mã hồ sơ không đúng dạng, ví dụ H21.65-220914-0011.",
  missing_applicant: () => "Chưa nhập họ tên người nộp hồ sơ (in trên giấy tiếp nhận).",
  bad_phone: () => "Số điện thoại quá dài.",
  bad_address: () => "Địa chỉ quá dài.",
  unknown_field: () => "Yêu cầu có trường lạ: tải lại trang rồi thử lại.",
  bad_csrf: () => "Trang đã cũ hoặc mở từ nơi khác: tải lại trang rồi thử lại.",
  not_your_counter: () => `Chỉ cán bộ đang mở Quầy ${COUNTER} mới in được phiếu trên máy in của quầy này.`,
  no_pdf: () => "Máy chủ này không tạo được bản PDF.",
  logged_out: () => "Phiên làm việc đã hết: hãy đăng nhập lại.",
  // a receipt that did not print (queue_server/receipt_printing.py); the A5 PDF is offered instead
  no_printer: () => "Quầy này chưa gắn máy in phiếu.",
  paper_out: () => "Không in được: máy in hết giấy.",
  cover_open: () => "Không in được: nắp máy in đang mở.",
  cutter_error: () => "Không in được: dao cắt giấy bị kẹt.",
  offline: () => "Không in được: máy in mất kết nối.",
  no_reply: () => "Không in được: máy in không trả lời.",
  unconfirmed: () => "Máy in không xác nhận đã in (có thể đã in, hãy kiểm tra).",
  expired: () => "Không in được: máy in bận quá lâu.",
  bad_data: () => "Nội dung phiếu không in được.",
  printer_error: () => "Không in được: máy in báo lỗi.",
  internal: () => "Không in được: dịch vụ máy in gặp lỗi.",
  internal_error: () => "Máy chủ gặp lỗi khi xử lý yêu cầu: thử lại sau giây lát.",
  // the queue engine's refusals (the server's own Vietnamese sentence is used when it has one)
  bad_request: () => "Yêu cầu không hợp lệ: tải lại trang rồi thử lại.",
  forbidden: () => "Bàn gọi số này không được phép làm việc đó.",
  counter_closed: () => `Quầy ${COUNTER} đang đóng.`,
  counter_busy: () => `Quầy ${COUNTER} đang phục vụ một số khác: bấm Xong trước.`,
  no_current_ticket: () => "Quầy chưa gọi số nào.",
  queue_empty: () => "Không còn công dân chờ.",
  not_allowed: () => "Không thể làm việc này với số hiện tại.",
  unknown_ticket: () => "Không có số này hôm nay.",
  unknown_service: () => "Không có lĩnh vực này.",
  unknown_counter: () => "Không có quầy này.",
  unknown_dossier: () => "Không có hồ sơ này.",
  outside_hours: () => "Ngoài giờ tiếp nhận.",
  sold_out: () => "Lĩnh vực này đã hết số hôm nay.",
  already_rated: () => "Số này đã được đánh giá.",
};
const HTTP_WORDS = {
  401: "Phiên làm việc đã hết: hãy đăng nhập lại.",
  403: "Không được phép làm việc này.",
  404: "Không tìm thấy.",
  429: "Thao tác quá nhanh: chờ vài giây rồi thử lại.",
};
// The words of a refusal: the server's Vietnamese sentence, or the code's words; never a library's text.
function refusalWords(code, serverMessage, detail) {
  if (serverMessage && !/pydantic|https?:\/\//i.test(serverMessage)) { return serverMessage; }
  const words = REFUSAL_WORDS[code];
  return words ? words(detail || {}) : "Yêu cầu không thực hiện được: tải lại trang rồi thử lại.";
}
// The words of an HTTP answer that is not a 2xx: its detail's code, else the status.
function httpWords(status, answer) {
  const detail = answer && typeof answer.detail === "object" && answer.detail !== null ? answer.detail : null;
  if (detail && detail.code) { return refusalWords(detail.code, detail.message, detail); }
  if (status >= 500) { return "Máy chủ gặp lỗi: thử lại sau giây lát, hoặc báo bộ phận kỹ thuật."; }
  return HTTP_WORDS[status] || "Yêu cầu không hợp lệ: tải lại trang rồi thử lại.";
}
// What a successful action did, with the ticket it was about.
function doneWords(action, called, extra) {
  const t = called.acted_on || called.number || "";
  const counter = `Quầy ${COUNTER}`;
  switch (action) {
    case "call_next": return called.number ? `Đã gọi số ${called.number}` : "Không còn công dân chờ.";
    case "call_ticket": return `Đã gọi số ${called.number}`;
    case "recall": return `Đã gọi lại ${t} (lần ${(called.recalls || 1) + 1})`;
    case "no_show": return `Đã ghi ${t} vắng mặt.`;
    case "finish": return `Đã phục vụ xong ${t}.`;
    case "park": return `Đã tạm giữ ${t}.`;
    case "transfer": return `Đã chuyển ${t} sang ${extra.where}.`;
    case "open": return `${counter} đã mở, cán bộ ${OFFICER_NAME}.`;
    case "resume": return `${counter} đã mở lại.`;
    case "pause": return `${counter} đã tạm dừng.`;
    case "close": return `${counter} đã đóng.`;
    default: return "Đã thực hiện.";
  }
}
