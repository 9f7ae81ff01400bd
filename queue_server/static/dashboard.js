// The staff dashboard: every device's availability and health (GET /api/v1/devices), every 2 s.
"use strict";
const KINDS = { printer: "Máy in", led_display: "Bảng LED", keypad: "Bàn phím gọi số", kiosk: "Kiosk lấy số",
  hall_board: "Màn hình sảnh", rating_tablet: "Máy đánh giá", scanner: "Máy quét" };
const HEALTH = { ok: "Bình thường", warning: "Cảnh báo", error: "Lỗi", unknown: "Chưa rõ" };
const PAPER = { ok: "Đủ giấy", near_end: "Sắp hết giấy", out: "Hết giấy", unknown: "" };
function level(d) {
  if (d.online === false || d.health === "error" || d.paper === "out") return "error";
  if (d.health === "warning" || d.paper === "near_end" || d.cover_open) return "warning";
  return d.online === null ? "unknown" : "ok";
}
function problem(d) {
  if (d.online === false) return "mất kết nối";
  if (d.paper === "out") return "hết giấy";
  if (d.paper === "near_end") return "sắp hết giấy, hãy thay cuộn";
  if (d.cover_open) return "nắp đang mở";
  return d.errors.join(", ") || d.detail || HEALTH[d.health];
}
function row(d) {
  const online = d.online === null ? "chưa rõ" : d.online ? "trực tuyến" : "mất kết nối";
  return el("tr", { class: level(d), id: `device-${d.id}` },
    el("td", {}, d.id), el("td", {}, KINDS[d.kind] || d.kind), el("td", {}, d.counter ?? ""),
    el("td", {}, online), el("td", {}, HEALTH[d.health] || d.health), el("td", {}, PAPER[d.paper] || ""),
    el("td", {}, [d.errors.join(", "), d.detail].filter(Boolean).join(" — ")));
}
async function refresh() {
  try {
    const devices = await fetch("/api/v1/devices").then(r => r.json());
    replaceChildren("devices", devices.map(row));
    const alerts = devices.filter(d => ["warning", "error"].includes(level(d)));
    replaceChildren("alerts", alerts.map(d =>
      el("div", { class: `alert ${level(d)}` }, `${KINDS[d.kind] || d.kind} ${d.id}: ${problem(d)}`)));
    document.getElementById("updated").textContent = new Date().toLocaleTimeString("vi-VN");
  } catch (err) {
    replaceChildren("alerts", [el("div", { class: "alert error" }, "Mất kết nối tới máy chủ, đang thử lại…")]);
  }
}
refresh();
setInterval(refresh, 2000);
