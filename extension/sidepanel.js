// The side panel: what MeetPilot finds in the meeting of the current tab, live. All state comes from the
// service worker through the "panel" port; every text from the server is set with textContent.
const $ = (id) => document.getElementById(id);
const port = chrome.runtime.connect({ name: "panel" });
const pinnedTab = Number(new URLSearchParams(location.search).get("tab")) || null;
let snap = null;
let tabId = pinnedTab;
const transcript = new Map(); // segment_id -> li
const work = new Map(); // "action_item:id" | "decision:id" -> li
let asked = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function clearEmpty(list) {
  const empty = list.querySelector(".empty");
  if (empty) empty.remove();
}

async function activeTab() {
  if (pinnedTab) return pinnedTab;
  const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true }).catch(() => []);
  const pages = snap ? snap.pages : {};
  if (tab && pages[tab.id]) return tab.id;
  // Opened outside the meeting's window: follow the meeting being captured, else any meeting page.
  const running = snap && snap.sessions.length ? snap.sessions[snap.sessions.length - 1].tabId : null;
  return running || Number(Object.keys(pages)[0]) || null;
}

function session() {
  return snap ? snap.sessions.find((s) => s.tabId === tabId) : null;
}

function render() {
  if (!snap) return;
  $("connect").hidden = snap.connected;
  $("disconnect").hidden = !snap.connected;
  $("offline").hidden = snap.connected;
  $("account").textContent = snap.connected ? `${snap.user || ""} · ${snap.company || ""}` : "not connected";
  const page = snap.pages[tabId];
  const s = session();
  $("meeting").hidden = !snap.connected || (!page && !s);
  $("meeting-title").textContent = s ? s.meeting.title : page ? page.meeting.title : "";
  $("start").hidden = Boolean(s) || !page || !page.inCall;
  $("audio-choice").hidden = $("start").hidden;
  $("start").textContent = page ? `Start MeetPilot for “${page.meeting.title}”` : "Start MeetPilot";
  $("stop").hidden = !s;
  $("meeting-state").textContent = s
    ? `${s.socket === "open" ? "Live" : s.socket === "closed" ? "Disconnected" : "Reconnecting…"} · ${s.pending} caption(s) waiting for confirmation`
    : page && page.inCall ? "In a meeting: start MeetPilot to follow it." : "";
  renderHealth(s ? s.health : null);
}

function renderHealth(health) {
  const box = $("health");
  box.replaceChildren();
  const problems = health ? health.problems : [];
  box.hidden = problems.length === 0;
  for (const p of problems) box.append(el("div", { "data-code": p.code }, p.message));
  const gaps = health ? health.gaps : [];
  if (gaps.length) {
    box.hidden = false;
    const fmt = (t) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    box.append(el("div", { class: "muted" }, `Missing: ${gaps.map((g) => `${fmt(g.start)}–${fmt(g.end)}`).join(", ")}`));
  }
}

function reviewButtons(kind, data) {
  if (data.review !== "suggested") return null;
  const send = (review) => port.postMessage({ type: "review", kind, id: data.id, review });
  return el("div", { class: "actions" },
    el("button", { onclick: () => send("confirmed") }, "Confirm"),
    el("button", { class: "secondary", onclick: () => send("dismissed") }, "Dismiss"));
}

function sourcesLine(sources) {
  if (!sources || !sources.length) return null;
  return el("div", { class: "sources" }, "Sources: ", sources.map((s, i) =>
    `[${i + 1}] ${s.title || s.document_title || "document"}${s.page ? ` p.${s.page}` : ""}`).join(" · "));
}

function count(id, list) {
  const n = list.querySelectorAll("li:not(.empty)").length;
  $(id).textContent = n ? `(${n})` : "";
}

function onEvent(event) {
  const d = event.data || {};
  if (event.type === "transcript") {
    const list = $("transcript");
    clearEmpty(list);
    let li = transcript.get(d.segment_id);
    if (d.removed) { if (li) li.remove(); return; }
    if (!li) { li = el("li"); transcript.set(d.segment_id, li); list.append(li); }
    li.className = d.is_final ? "" : "interim";
    li.replaceChildren(el("span", { class: "speaker" }, d.speaker || "Someone"), d.text);
    li.scrollIntoView({ block: "nearest" });
  } else if (event.type === "action_item" || event.type === "decision") {
    const list = $("work");
    clearEmpty(list);
    const key = `${event.type}:${d.id}`;
    const li = work.get(key) || el("li", { "data-kind": event.type, "data-id": d.id });
    work.set(key, li);
    const label = event.type === "decision" ? "Decision" : "Action";
    const who = d.assignee_name ? ` — ${d.assignee_name}` : "";
    const due = d.due_date ? ` (due ${d.due_date})` : "";
    li.replaceChildren(el("span", { class: `badge ${d.review || ""}` }, d.review === "suggested" ? `${label}?` : label),
      " ", `${d.description || d.text}${who}${due}`, reviewButtons(event.type, d));
    if (!li.parentNode) list.append(li);
    count("work-count", list);
  } else if (event.type === "fact_check") {
    const list = $("checks");
    clearEmpty(list);
    const source = d.source || {};
    const verdict = d.verdict === "incorrect" ? `Documents say ${d.corrected_value}` : d.verdict;
    list.append(el("li", { "data-verdict": d.verdict },
      el("span", { class: `badge ${d.verdict}` }, d.verdict), " ", `“${d.claim}” — ${verdict}`,
      source.title ? el("div", { class: "sources" }, `${source.title}${source.page ? ` p.${source.page}` : ""}: ${source.snippet || ""}`) : null));
    count("checks-count", list);
  } else if (event.type === "suggestion" || event.type === "answer") {
    const list = $("answer-list");
    clearEmpty(list);
    const id = `answer-${d.id}`;
    if (document.getElementById(id)) return; // the spoken copy of an answer already shown
    list.prepend(el("li", { id, "data-kind": event.type },
      el("div", { class: "speaker" }, `${event.type === "answer" ? "You asked" : `${d.asker || "Customer"} asked`}: ${d.question}`),
      d.answer, sourcesLine(d.sources)));
    count("answers-count", list);
  } else if (event.type === "error") {
    showFailure(event.message);
  }
}

function showFailure(message) {
  $("failure").hidden = !message;
  $("failure").textContent = message || "";
}

function replay() {
  for (const map of [transcript, work]) map.clear();
  for (const id of ["transcript", "work", "checks", "answer-list"]) {
    const list = $(id);
    list.querySelectorAll("li:not(.empty)").forEach((li) => li.remove());
  }
  const s = session();
  if (s) s.events.forEach(onEvent);
}

port.onMessage.addListener(async (msg) => {
  if (msg.type === "snapshot") {
    const before = tabId;
    snap = msg;
    tabId = await activeTab();
    if (before !== tabId || !document.body.dataset.ready) replay();
    document.body.dataset.ready = "1";
    render();
  } else if (msg.type === "session" && snap) {
    snap.sessions = snap.sessions.filter((s) => s.tabId !== msg.session.tabId).concat([msg.session]);
    render();
  } else if (msg.type === "event" && msg.tabId === tabId) {
    const s = session();
    if (s) s.events.push(msg.event);
    onEvent(msg.event);
  } else if (msg.type === "health" && msg.tabId === tabId) {
    const s = session();
    if (s) s.health = msg.health;
    renderHealth(msg.health);
  } else if (msg.type === "reviewed") {
    const li = work.get(`${msg.kind}:${msg.id}`);
    if (li) {
      if (msg.review === "dismissed") li.remove();
      else { const actions = li.querySelector(".actions"); if (actions) actions.remove(); li.querySelector(".badge").className = "badge"; }
    }
  } else if (msg.type === "failure") showFailure(msg.message);
});

$("connect").addEventListener("click", () => port.postMessage({ type: "connect" }));
$("disconnect").addEventListener("click", () => port.postMessage({ type: "disconnect" }));
$("start").addEventListener("click", () => {
  showFailure("");
  port.postMessage({ type: "start", tabId, audio: $("with-audio").checked });
});
$("stop").addEventListener("click", () => port.postMessage({ type: "stop", tabId }));
$("ask").addEventListener("submit", (e) => {
  e.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  port.postMessage({ type: "ask", tabId, id: `panel-${Date.now()}-${++asked}`, question });
  $("question").value = "";
});
for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    document.querySelectorAll(".tab, .pane").forEach((n) => n.classList.remove("active"));
    tab.classList.add("active");
    $(tab.dataset.pane).classList.add("active");
  });
}
chrome.tabs.onActivated.addListener(async () => {
  if (pinnedTab) return;
  tabId = await activeTab();
  replay();
  render();
});
