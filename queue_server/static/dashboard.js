// The staff dashboard: every device's connection, health, paper and recent incidents, every 2 s
// (GET /api/v1/devices and /api/v1/device-incidents). Every text comes from the server in Vietnamese.
"use strict";
const KINDS = { printer: "Máy in", led_display: "Bảng LED", keypad: "Bàn phím gọi số", kiosk: "Kiosk lấy số",
  hall_board: "Màn hình sảnh", rating_tablet: "Máy đánh giá", scanner: "Máy quét" };
const PAPER = { ok: "Đủ giấy", near_end: "Sắp hết giấy", out: "Hết giấy", unknown: "Chưa rõ" };
const SHOWN_INCIDENTS = 3;
function level(d) {
  if (d.health === "offline" || d.health === "error" || d.paper === "out") return "error";
  if (d.health === "warning" || d.paper === "near_end" || d.cover_open) return "warning";
  return d.online === null ? "unknown" : "ok";
}
function clock(iso) {
  const at = new Date(iso);
  const time = at.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" });
  return at.toDateString() === new Date().toDateString() ? time : `${time} ${at.toLocaleDateString("vi-VN")}`;
}
function duration(seconds) {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return "dưới 1 phút";
  const h = Math.floor(minutes / 60), m = minutes % 60;
  return [h ? `${h} giờ` : "", m ? `${m} phút` : ""].filter(Boolean).join(" ");
}
function paperCell(d) {
  const lines = [PAPER[d.paper] || ""];
  if (d.paper_used_m !== null) {
    const roll = d.roll_length_m !== null ? ` / ${d.roll_length_m} m` : "";
    const counted = d.paper_left_pct === null && d.roll_length_m !== null ? " (từ khi bắt đầu đếm)" : "";
    lines.push(`Đã dùng ${d.paper_used_m.toLocaleString("vi-VN")} m${roll}${counted}`);
  }
  if (d.paper_left_pct !== null) lines.push(`Còn khoảng ${d.paper_left_pct}%`);
  if (d.paper_runs_out_at) lines.push(`Dự kiến hết lúc ${clock(d.paper_runs_out_at)}`);
  return el("td", { class: "paper" }, ...lines.filter(Boolean).map(t => el("div", {}, t)));
}
function historyCell(incidents) {
  const shown = incidents.slice(0, SHOWN_INCIDENTS).map(i => {
    const short = i.text.split(":")[0];
    const span = i.ended_at
      ? `${clock(i.started_at)}–${clock(i.ended_at)} (${duration(i.duration_s)})`
      : `từ ${clock(i.started_at)}, đang diễn ra (${duration((Date.now() - new Date(i.started_at)) / 1000)})`;
    return el("li", { class: i.ended_at ? "closed" : "open" }, `${short}: ${span}`);
  });
  return el("td", { class: "history" }, shown.length ? el("ul", {}, ...shown) : "");
}
function row(d, incidents) {
  const online = d.online === null ? "chưa rõ" : d.health === "offline" ? "mất kết nối" : "trực tuyến";
  return el("tr", { class: level(d), id: `device-${d.id}` },
    el("td", {}, el("div", { class: "name" }, d.name || d.id), d.name ? el("small", {}, d.id) : ""),
    el("td", {}, d.location || ""), el("td", {}, KINDS[d.kind] || d.kind), el("td", {}, d.counter ?? ""),
    el("td", {}, online), el("td", { class: "health" }, d.health_vi), paperCell(d),
    el("td", { class: "detail", title: d.detail || "" }, ...d.problems_vi.map(p => el("div", {}, p))),
    historyCell(incidents));
}
async function refresh() {
  try {
    const [devices, incidents] = await Promise.all([
      fetch("/api/v1/devices").then(r => r.json()),
      fetch("/api/v1/device-incidents?limit=300").then(r => r.json())]);
    const byDevice = {};
    for (const i of incidents) (byDevice[i.device_id] = byDevice[i.device_id] || []).push(i);
    replaceChildren("devices", devices.map(d => row(d, byDevice[d.id] || [])));
    const alerts = devices.filter(d => ["warning", "error"].includes(level(d)));
    replaceChildren("alerts", alerts.map(d => {
      const where = d.location ? ` (${d.location})` : "";
      const what = d.problems_vi[0] || d.health_vi;
      const who = d.name ? `${d.name} [${d.id}]` : `${KINDS[d.kind] || d.kind} ${d.id}`;
      return el("div", { class: `alert ${level(d)}` }, `${who}${where}: ${what}`);
    }));
    document.getElementById("updated").textContent = new Date().toLocaleTimeString("vi-VN");
  } catch (err) {
    replaceChildren("alerts", [el("div", { class: "alert error" }, "Mất kết nối tới máy chủ, đang thử lại…")]);
  }
}
refresh();
setInterval(refresh, 2000);
