// The counter console: the logged-in officer's buttons over POST /console/{n}/actions.
// The counter number and the session's CSRF token come from the page's data- attributes (the session
// itself is an HttpOnly cookie); nothing from the server is ever parsed as HTML (see dom.js).
"use strict";
const COUNTER = Number(document.body.dataset.counter);
const CSRF = document.body.dataset.csrf;
function loggedOut() { location.assign(`/login?next=/console/${COUNTER}`); }
const STATUS = { open: "Đang mở", paused: "Tạm dừng", closed: "Đã đóng" };
function say(text, error) {
  const box = document.getElementById("message");
  box.textContent = text; box.className = error ? "error" : "";
}
async function refresh() {
  try {
    const [c, q] = await Promise.all([
      fetch(`/api/v1/counters/${COUNTER}`).then(r => r.json()),
      fetch("/api/v1/queues").then(r => r.json()),
    ]);
    document.getElementById("counter-name").textContent = c.name;
    document.getElementById("current").textContent = c.current || "—";
    document.getElementById("status").textContent =
      `${STATUS[c.status] || c.status}${c.officer ? " · cán bộ " + c.officer : ""} · ${c.waiting} người chờ`;
    replaceChildren("queues", q.filter(s => c.services.includes(s.service))
      .map(s => el("tr", {}, el("td", {}, s.service_name), el("td", {}, s.waiting), el("td", {}, s.last_called || ""))));
    const select = document.getElementById("to_service");
    if (!select.options.length) {
      for (const s of q) { select.add(new Option(s.service_name, s.service)); }
    }
  } catch (err) { say("Mất kết nối tới máy chủ, đang thử lại…", true); }
}
async function post(url, body) {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify(body),
  });
}
async function act(action, extra) {
  const body = Object.assign({ action, request_id: crypto.randomUUID().replaceAll("-", "") }, extra || {});
  const r = await post(`/console/${COUNTER}/actions`, body);
  if (r.status === 401) { loggedOut(); return; }
  const answer = await r.json();
  if (r.status === 403) { say(answer.detail, true); }
  else if (!r.ok) { say(typeof answer.detail === "string" ? answer.detail : "Yêu cầu không hợp lệ", true); }
  else if (!answer.ok) { say(answer.error.message, true); }
  else if (answer.called && answer.called.number && (action === "call_next" || action === "call_ticket")) {
    say(`Đã gọi số ${answer.called.number}`);
  } else if (action === "call_next") { say("Không còn công dân chờ."); }
  else { say("Đã thực hiện"); }
  await refresh();
}
for (const a of ["call_next", "recall", "no_show", "finish", "park", "pause", "resume", "close"]) {
  document.getElementById(a).addEventListener("click", () => act(a));
}
document.getElementById("register").addEventListener("click", async () => {
  const current = document.getElementById("current").textContent;
  const body = {
    request_id: crypto.randomUUID().replaceAll("-", ""),
    procedure: document.getElementById("procedure").value.trim(),
    days: Number(document.getElementById("days").value),
  };
  if (/^[A-Z]{0,3}[0-9]{1,6}$/.test(current)) { body.ticket = current; }
  const r = await post(`/console/${COUNTER}/dossiers`, body);
  if (r.status === 401) { loggedOut(); return; }
  const answer = await r.json();
  if (!r.ok) { say(typeof answer.detail === "string" ? answer.detail : "Thiếu mã thủ tục hoặc thời hạn", true); return; }
  if (!answer.ok) { say(answer.error.message, true); return; }
  const due = new Date(answer.dossier.due_at);
  document.getElementById("dossier").textContent =
    `Mã hồ sơ ${answer.dossier.code} — hẹn trả ${due.toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh" })}`;
  say("Đã tiếp nhận hồ sơ");
});
document.getElementById("open").addEventListener("click", () => act("open"));
document.getElementById("call_ticket").addEventListener("click",
  () => act("call_ticket", { ticket: document.getElementById("ticket").value.trim().toUpperCase() }));
document.getElementById("transfer").addEventListener("click", () => act("transfer", {
  to_service: document.getElementById("to_service").value, position: document.getElementById("position").value }));
refresh();
setInterval(refresh, 1000);
