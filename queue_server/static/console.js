// The counter console: the logged-in officer's buttons over POST /console/{n}/actions.
// The counter number and the session's CSRF token come from the page's data- attributes (the session
// itself is an HttpOnly cookie); nothing from the server is ever parsed as HTML (see dom.js).
// Words for refusals and confirmations are in console-words.js.
"use strict";
const COUNTER = Number(document.body.dataset.counter);
const CSRF = document.body.dataset.csrf;
const OFFICER_NAME = document.getElementById("officer").textContent;
function loggedOut() { location.assign(`/login?next=/console/${COUNTER}`); }
const STATUS = { open: "Đang mở", paused: "Tạm dừng", closed: "Đã đóng" };
let names = {};
let counterStatus = null;
let lastDossier = null;
function say(text, error, nextStep) {
  document.getElementById("message-text").textContent = text;
  document.getElementById("message").className = error ? "error" : "";
  const button = document.getElementById("next-step");
  button.hidden = !nextStep;
  button.textContent = nextStep ? nextStep.label : "";
  button.onclick = nextStep ? () => { say(""); nextStep.run(); } : null;
}
async function loadNames() {
  const r = await fetch(`/console/${COUNTER}/officers`);
  if (r.ok) { names = await r.json(); }
}
function officerName(id) { return names[id] || id; }
async function refresh() {
  try {
    const [c, q] = await Promise.all([
      fetch(`/api/v1/counters/${COUNTER}`).then(r => r.json()),
      fetch("/api/v1/queues").then(r => r.json()),
    ]);
    if (c.officer && !(c.officer in names)) { await loadNames(); }
    counterStatus = c.status;
    document.getElementById("counter-name").textContent = c.name;
    document.getElementById("current").textContent = c.current || "—";
    document.getElementById("status").textContent =
      `${STATUS[c.status] || c.status}${c.officer ? " · cán bộ " + officerName(c.officer) : ""} · ${c.waiting} người chờ`;
    replaceChildren("queues", q.filter(s => c.services.includes(s.service))
      .map(s => el("tr", {}, el("td", {}, s.service_name), el("td", {}, s.waiting), el("td", {}, s.last_called || ""))));
    const select = document.getElementById("to_service");
    if (!select.options.length) {
      const all = await fetch("/api/v1/counters").then(r => r.json());
      for (const s of q) { select.add(new Option(`lĩnh vực ${s.service_name}`, `s:${s.service}`)); }
      for (const k of all) { if (k.counter !== COUNTER) { select.add(new Option(k.name, `c:${k.counter}`)); } }
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
async function answerOf(r) {
  try { return await r.json(); } catch (err) { return null; }
}
// The step that unblocks a refusal, offered as a button beside it.
function nextStepFor(code) {
  if (code !== "counter_closed") { return null; }
  if (counterStatus === "paused") { return { label: "Mở lại quầy", run: () => act("resume") }; }
  return { label: "Mở quầy", run: () => act("open") };
}
function refused(code, message, detail) { say(refusalWords(code, message, detail), true, nextStepFor(code)); }
async function act(action, extra) {
  const body = Object.assign({ action, request_id: crypto.randomUUID().replaceAll("-", "") }, extra || {});
  delete body.where;
  let r;
  try { r = await post(`/console/${COUNTER}/actions`, body); } catch (err) { say("Mất kết nối tới máy chủ, hãy thử lại.", true); return; }
  if (r.status === 401) { loggedOut(); return; }
  const answer = await answerOf(r);
  if (!r.ok) { say(httpWords(r.status, answer), true); }
  else if (!answer.ok) { await refresh(); refused(answer.error.code, answer.error.message); return; }
  else { say(doneWords(action, answer.called || {}, extra || {})); }
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
  const answer = await answerOf(r);
  if (!r.ok) { say(httpWords(r.status, answer), true); return; }
  if (!answer.ok) { refused(answer.error.code, answer.error.message); return; }
  // What the clerk tells the citizen, worded by the server: "hẹn trả Thứ Hai, 07/12/2026, buổi sáng".
  const parts = [`Mã hồ sơ ${answer.dossier.code}`];
  if (answer.procedure_name) { parts.push(answer.procedure_name); }
  parts.push(`hẹn trả ${answer.appointment_text || answer.dossier.due_at}`);
  if (answer.collect_at) { parts.push(`nhận kết quả tại ${answer.collect_at}`); }
  document.getElementById("dossier").textContent = parts.join(" — ");
  lastDossier = answer.dossier.code;
  document.getElementById("print").disabled = false;
  say(`Đã tiếp nhận hồ sơ ${answer.dossier.code}`);
});
function receiptBody() {
  const value = (id) => document.getElementById(id).value.trim();
  const body = { code: lastDossier, applicant_name: value("applicant_name") };
  if (value("applicant_address")) { body.applicant_address = value("applicant_address"); }
  if (value("applicant_phone")) { body.applicant_phone = value("applicant_phone"); }
  return body;
}
// The A5 PDF of the receipt, downloaded when the counter's printer cannot print it.
async function downloadPdf(body, why) {
  const r = await post(`/console/${COUNTER}/receipts/pdf`, body);
  if (!r.ok) { say(httpWords(r.status, await answerOf(r)), true); return; }
  const link = el("a", { href: URL.createObjectURL(await r.blob()), download: `phieu-tiep-nhan-${body.code}.pdf` });
  document.body.append(link);
  link.click();
  link.remove();
  say(`${why} Đã tải bản PDF A5 của phiếu ${body.code}.`, true);
}
document.getElementById("print").addEventListener("click", async () => {
  const body = receiptBody();
  const r = await post(`/console/${COUNTER}/receipts`, body);
  if (r.status === 401) { loggedOut(); return; }
  const answer = await answerOf(r);
  if (!r.ok) { say(httpWords(r.status, answer), true); return; }
  if (answer.printed) { say(`Đã in phiếu tiếp nhận hồ sơ ${body.code} trên máy in của quầy.`); }
  else {
    const why = refusalWords(answer.code, answer.message).replace(/:? ?tải bản PDF A5 để in\.?$/, ".");
    if (answer.pdf) { await downloadPdf(body, why); } else { say(why, true); return; }
  }
  // The applicant's details leave the page once on paper: the next citizen must not see them.
  for (const id of ["applicant_name", "applicant_address", "applicant_phone"]) { document.getElementById(id).value = ""; }
});
document.getElementById("open").addEventListener("click", () => act("open"));
document.getElementById("call_ticket").addEventListener("click",
  () => act("call_ticket", { ticket: document.getElementById("ticket").value.trim().toUpperCase() }));
document.getElementById("transfer").addEventListener("click", () => {
  const select = document.getElementById("to_service");
  const [kind, target] = select.value.split(":");
  const position = document.getElementById("position").value;
  const where = `${select.selectedOptions[0].text} (${position === "front" ? "đầu hàng" : "cuối hàng"})`;
  const to = kind === "c" ? { to_counter: Number(target) } : { to_service: target };
  act("transfer", Object.assign({ position, where }, to));
});
// Keyboard shortcuts, never while the clerk types in a field (or with Ctrl/Alt/Meta held).
const SHORTCUTS = { g: "call_next", l: "recall", x: "finish" };
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.altKey || e.metaKey || e.repeat) { return; }
  const target = e.target;
  if (target instanceof HTMLElement && (target.isContentEditable || target.closest("input, select, textarea"))) { return; }
  const action = SHORTCUTS[e.key.toLowerCase()];
  if (action) { e.preventDefault(); act(action); }
});
// The buttons come disabled with the page: a click before the handlers above are attached would be
// lost without a word. They work from the first look at the counter on (or its failure, said above).
function ready() { for (const b of document.querySelectorAll("button.action")) { b.disabled = false; } }
loadNames().then(refresh).finally(ready);
setInterval(refresh, 1000);
