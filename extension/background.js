// The extension's service worker: owns the connection to MeetPilot and every caption not yet confirmed.
//
// One session per meeting tab: the meeting on the server (found or created through
// POST /api/v1/meetings/join), one WebSocket (docs/protocol.md, version 1) and the queue of captions the
// server has not acknowledged (lib/resend.js), kept in chrome.storage so a stopped service worker or a
// restarted browser resends them. The socket reconnects with exponential backoff and jitter; a ping every
// 20 s keeps both the socket and this worker alive. Side panels connect through a port named "panel".
importScripts("config.js", "lib/backoff.js", "lib/resend.js", "lib/health.js", "lib/audio.js");

const VERSION = chrome.runtime.getManifest().version;
const PING_MS = 20000;
const HEALTH_MS = 2000;
const MAX_EVENTS = 300;
const sessions = new Map(); // tabId -> session
const pages = new Map(); // tabId -> the latest page state from the content script
const panels = new Set();

// --- storage ------------------------------------------------------------------------------------
async function auth() {
  const { auth } = await chrome.storage.local.get("auth");
  return auth && auth.token ? auth : null;
}

function serverUrl(a) {
  return ((a && a.server) || self.MEETPILOT_CONFIG.serverUrl).replace(/\/$/, "");
}

async function clientId() {
  let { clientId } = await chrome.storage.local.get("clientId");
  if (!clientId) {
    clientId = `chrome-${crypto.randomUUID().slice(0, 12)}`;
    await chrome.storage.local.set({ clientId });
  }
  return clientId;
}

async function loadQueue(meetingId) {
  const key = `queue:${meetingId}`;
  const saved = (await chrome.storage.local.get(key))[key];
  return self.MeetPilotResend.ResendQueue.from(saved);
}

function saveQueue(session) {
  // Writes are chained so an older snapshot never lands after a newer one.
  session.saving = (session.saving || Promise.resolve()).then(() =>
    chrome.storage.local.set({ [`queue:${session.meeting.id}`]: session.queue.toJSON() }));
  return session.saving;
}

async function saveSessions() {
  const open = {};
  for (const [tabId, s] of sessions) open[tabId] = { meeting: s.meeting, lastEventId: s.lastEventId };
  await chrome.storage.local.set({ sessions: open });
}

// --- the REST API ---------------------------------------------------------------------------------
async function api(path, { method = "GET", body } = {}) {
  const a = await auth();
  if (!a) throw new Error("not connected");
  const response = await fetch(`${serverUrl(a)}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${a.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && (data.detail || data.message)) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

// --- panels ----------------------------------------------------------------------------------------
function sessionView(s) {
  return { tabId: s.tabId, meeting: s.meeting, socket: s.socketState, pending: s.queue.size,
           health: s.health.state(), events: s.events, canStream: s.canStream, stopping: s.stopping };
}

async function snapshot() {
  const a = await auth();
  return {
    type: "snapshot", version: VERSION, connected: Boolean(a), server: serverUrl(a),
    user: a ? a.user : null, company: a ? a.company : null,
    pages: Object.fromEntries([...pages].map(([tabId, p]) => [tabId, { meeting: p.meeting, inCall: p.inCall,
      captionsEnabled: p.captionsEnabled, started: sessions.has(tabId) }])),
    sessions: [...sessions.values()].map(sessionView),
  };
}

function broadcast(message) {
  for (const port of panels) {
    try { port.postMessage(message); } catch (err) { panels.delete(port); }
  }
}

async function refreshBadge(tabId) {
  const s = sessions.get(tabId);
  const page = pages.get(tabId);
  let text = "";
  let color = "#2563eb";
  if (s && !s.health.state().ok) { text = "!"; color = "#dc2626"; }
  else if (s) text = "REC";
  else if (page && page.inCall) text = "?";
  try {
    await chrome.action.setBadgeText({ tabId, text });
    await chrome.action.setBadgeBackgroundColor({ tabId, color });
  } catch (err) { /* the tab is gone */ }
}

// --- sessions -------------------------------------------------------------------------------------
function newSession(tabId, meeting, queue, lastEventId = null) {
  return { tabId, meeting, queue, lastEventId, socket: null, socketState: "closed", attempt: 0, events: [],
           canStream: true, stopping: false, retryTimer: null, pingTimer: null,
           gapsSent: new Set(), gapsClosed: 0, gapReports: [], sendingGaps: false,
           health: new self.MeetPilotHealth.CaptureHealth() };
}

async function start(tabId, { audio = false } = {}) {
  if (sessions.has(tabId)) return sessions.get(tabId);
  const page = pages.get(tabId);
  if (!page) throw new Error("No meeting in this tab.");
  const m = page.meeting;
  const meeting = await api("/meetings/join", { method: "POST", body: { meeting_url: m.url, title: m.title,
                                                                      platform: m.platform } });
  const s = newSession(tabId, meeting, await loadQueue(meeting.id));
  sessions.set(tabId, s);
  if (audio) await startAudio(s);
  await saveSessions();
  open(s);
  refreshBadge(tabId);
  broadcast(await snapshot());
  return s;
}

async function open(s) {
  const a = await auth();
  if (!a || s.socket) return;
  const url = `${serverUrl(a).replace(/^http/, "ws")}/ws/meetings/${s.meeting.id}/`;
  const socket = new WebSocket(url, ["meetpilot.v1", `meetpilot.token.${a.token}`]);
  s.socket = socket;
  s.socketState = "connecting";
  socket.onopen = async () => {
    s.socketState = "open";
    s.attempt = 0;
    socket.send(JSON.stringify({ type: "hello", protocol: 1, client: { name: "meetpilot-chrome", version: VERSION },
                                 capabilities: s.audio ? ["captions", "audio"] : ["captions"],
                                 client_id: await clientId(),
                                 last_event_id: s.lastEventId }));
    for (const frame of s.queue.reconnected()) transmit(s, frame);
    if (s.audio) for (const frame of s.audio.pending()) socket.send(frame);
    clearInterval(s.pingTimer);
    let nonce = 0;
    s.pingTimer = setInterval(() => socket.readyState === 1 && socket.send(JSON.stringify({ type: "ping", nonce: ++nonce })), PING_MS);
    broadcast({ type: "session", session: sessionView(s) });
  };
  socket.onmessage = (event) => received(s, JSON.parse(event.data));
  socket.onclose = (event) => closed(s, socket, event.code);
}

function transmit(s, frame) {
  if (!s.socket || s.socket.readyState !== 1) return;
  s.socket.send(JSON.stringify(frame));
  s.queue.sent(frame);
}

async function closed(s, socket, code) {
  if (s.socket !== socket) return;
  clearInterval(s.pingTimer);
  s.socket = null;
  s.socketState = "closed";
  broadcast({ type: "session", session: sessionView(s) });
  if (!sessions.has(s.tabId) || code === 4404) return;
  if (code === 4401) return disconnect({ revoke: false });
  s.attempt += 1;
  s.socketState = "waiting";
  s.retryTimer = setTimeout(() => { s.retryTimer = null; open(s); },
                            self.MeetPilotBackoff.backoffDelay(s.attempt - 1));
}

function received(s, msg) {
  if (msg.type === "ack") {
    if (msg.stream === "audio") { if (s.audio) s.audio.ack(msg.sequence); }
    else if (s.queue.ack(msg.sequence)) saveQueue(s);
    if (s.stopping && s.queue.size === 0) finish(s);
    return;
  }
  if (msg.type === "pong") return;
  if (msg.type === "status" && msg.data && msg.data.kind === "hello") {
    s.canStream = msg.data.can_stream !== false;
    return;
  }
  if (msg.type === "error" && msg.code === "meeting_ended") {
    s.queue = self.MeetPilotResend.ResendQueue.from(null);
    saveQueue(s);
  }
  if (msg.event_id) {
    s.lastEventId = Math.max(s.lastEventId || 0, msg.event_id);
    saveSessions();
  }
  s.events.push(msg);
  if (s.events.length > MAX_EVENTS) s.events.splice(0, s.events.length - MAX_EVENTS);
  broadcast({ type: "event", tabId: s.tabId, meetingId: s.meeting.id, event: msg });
}

function captions(tabId, updates) {
  const s = sessions.get(tabId);
  if (!s) return;
  for (const update of updates) {
    const frame = s.queue.put(update);
    if (frame) transmit(s, frame);
  }
  s.health.captured();
  saveQueue(s);
}

// Leaving the meeting: send what is left, wait for the acks, then end the meeting on the server.
async function stop(tabId, { end = true } = {}) {
  const s = sessions.get(tabId);
  if (!s || s.stopping) return;
  s.stopping = true;
  s.endMeeting = end;
  if (s.queue.size === 0) return finish(s);
  s.finishTimer = setTimeout(() => finish(s), 30000); // the queue stays stored for the next start
}

async function finish(s) {
  clearTimeout(s.finishTimer);
  if (!sessions.has(s.tabId)) return;
  if (s.audio) await stopAudio(s);
  if (s.endMeeting && s.canStream && s.socket && s.socket.readyState === 1) s.socket.send(JSON.stringify({ type: "end" }));
  sessions.delete(s.tabId);
  clearTimeout(s.retryTimer);
  clearInterval(s.pingTimer);
  await saveSessions();
  setTimeout(() => s.socket && s.socket.close(1000), 500);
  refreshBadge(s.tabId);
  broadcast(await snapshot());
}

async function disconnect({ revoke = true } = {}) {
  if (revoke) {
    try { await api("/tokens/current", { method: "DELETE" }); } catch (err) { /* revoked already */ }
  }
  for (const s of [...sessions.values()]) {
    sessions.delete(s.tabId);
    clearTimeout(s.retryTimer);
    clearInterval(s.pingTimer);
    if (s.socket) s.socket.close(1000);
  }
  await chrome.storage.local.remove(["auth", "sessions"]);
  broadcast(await snapshot());
}

// --- audio ----------------------------------------------------------------------------------------
// Optional: the tab's sound, for companies that transcribe audio. Chrome lets one offscreen document
// capture it (tabCapture needs the user to have opened the extension on that tab, as the side panel is).
let audioSession = null;

async function startAudio(s) {
  const streamId = await chrome.tabCapture.getMediaStreamId({ targetTabId: s.tabId });
  if (!(await chrome.offscreen.hasDocument())) {
    await chrome.offscreen.createDocument({ url: "offscreen.html", reasons: ["USER_MEDIA"],
                                            justification: "Capture the meeting tab's sound for transcription" });
  }
  s.audio = s.audio || new self.MeetPilotAudio.AudioOutbox();
  audioSession = s;
  await chrome.runtime.sendMessage({ target: "offscreen", type: "start", streamId });
}

async function stopAudio(s) {
  if (audioSession === s) audioSession = null;
  if (await chrome.offscreen.hasDocument()) {
    await chrome.runtime.sendMessage({ target: "offscreen", type: "stop" }).catch(() => {});
    await chrome.offscreen.closeDocument().catch(() => {});
  }
}

function audioChunk(base64) {
  const s = audioSession;
  if (!s || !s.audio) return;
  const bytes = self.MeetPilotAudio.fromBase64(base64);
  const frame = s.audio.add(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1));
  if (s.socket && s.socket.readyState === 1) s.socket.send(frame);
}

// --- health ---------------------------------------------------------------------------------------
const GAP_CODES = ["captions_off", "page_changed", "no_captions"];

// The server keeps what the extension could not capture (the meeting page and the report show it): a gap is
// reported when it starts (open) and again when it ends. Unsent reports are retried on the next check.
function queueGapReports(s, state) {
  for (const p of state.problems) {
    const key = `${p.code}@${p.since}`;
    if (GAP_CODES.includes(p.code) && !s.gapsSent.has(key)) {
      s.gapsSent.add(key);
      s.gapReports.push({ reason: p.code, started_at: new Date(p.since).toISOString(), ended_at: null });
    }
  }
  for (const gap of state.gaps.slice(s.gapsClosed)) {
    s.gapReports.push({ reason: gap.code, started_at: new Date(gap.start).toISOString(),
                        ended_at: new Date(gap.end).toISOString() });
  }
  s.gapsClosed = state.gaps.length;
}

async function sendGapReports(s) {
  if (s.sendingGaps || !s.gapReports.length) return;
  s.sendingGaps = true;
  try {
    const id = await clientId();
    while (s.gapReports.length) {
      await api(`/meetings/${s.meeting.id}/capture-gaps`, { method: "POST", body: { ...s.gapReports[0], client_id: id } });
      s.gapReports.shift();
    }
  } catch (err) {
    // offline or the server is restarting: the next check sends them
  } finally {
    s.sendingGaps = false;
  }
}

function checkHealth() {
  for (const s of sessions.values()) {
    const page = pages.get(s.tabId) || {};
    const before = JSON.stringify(s.health.state().problems.map((p) => p.code));
    const state = s.health.update({
      page: { captionsEnabled: page.captionsEnabled, selectorsMatched: page.selectorsMatched, talking: page.talking },
      link: { socketOpen: s.socketState === "open", oldestUnackedMs: s.queue.oldestAgeMs() },
    });
    if (JSON.stringify(state.problems.map((p) => p.code)) !== before) {
      broadcast({ type: "health", tabId: s.tabId, health: state });
      refreshBadge(s.tabId);
    }
    if (s.canStream) {
      queueGapReports(s, state);
      sendGapReports(s);
    }
  }
}
setInterval(checkHealth, HEALTH_MS);

// --- messages ---------------------------------------------------------------------------------------
chrome.runtime.onMessage.addListener((message, sender, reply) => {
  const tabId = sender.tab && sender.tab.id;
  if (message.target === "offscreen") return false;
  if (message.type === "audio") audioChunk(message.data);
  else if (message.type === "audio-failed") broadcast({ type: "failure", request: "audio", message: message.message });
  else if (message.type === "captions") captions(tabId, message.updates);
  else if (message.type === "page") {
    const first = !pages.has(tabId);
    pages.set(tabId, message);
    checkHealth();
    refreshBadge(tabId);
    if (first || !message.inCall) snapshot().then(broadcast);
    chrome.storage.local.get("autoStart").then(({ autoStart }) => {
      if (autoStart && message.inCall && !sessions.has(tabId)) start(tabId).catch(() => {});
    });
  } else if (message.type === "left") stop(tabId);
  else if (message.type === "connected") {
    chrome.storage.local.set({ auth: { token: message.token, tokenId: message.tokenId, user: message.user,
                                       company: message.company, server: message.server } })
      .then(snapshot).then((snap) => { broadcast(snap); reply({ ok: true }); });
    return true;
  }
  return false;
});

chrome.runtime.onConnect.addListener((port) => {
  if (port.name !== "panel") return;
  panels.add(port);
  port.onDisconnect.addListener(() => panels.delete(port));
  port.onMessage.addListener((msg) => panelMessage(port, msg));
  snapshot().then((snap) => port.postMessage(snap));
});

async function panelMessage(port, msg) {
  try {
    if (msg.type === "start") await start(msg.tabId, { audio: Boolean(msg.audio) });
    else if (msg.type === "stop") await stop(msg.tabId, { end: msg.end !== false });
    else if (msg.type === "ask") {
      const s = sessions.get(msg.tabId);
      if (!s || !s.socket || s.socket.readyState !== 1) throw new Error("Start MeetPilot in this meeting first.");
      s.socket.send(JSON.stringify({ type: "ask", id: msg.id, question: msg.question }));
    } else if (msg.type === "review") {
      const path = msg.kind === "decision" ? `/decisions/${msg.id}/review` : `/action-items/${msg.id}/review`;
      const row = await api(path, { method: "POST", body: { review: msg.review } });
      port.postMessage({ type: "reviewed", kind: msg.kind, id: msg.id, review: row.review });
      return;
    } else if (msg.type === "connect") {
      const browser = `Chrome on ${navigator.userAgentData ? navigator.userAgentData.platform : navigator.platform}`;
      await chrome.tabs.create({ url: `${serverUrl(null)}/extension/connect/?browser=${encodeURIComponent(browser)}` });
    } else if (msg.type === "disconnect") await disconnect();
    else if (msg.type === "settings") await chrome.storage.local.set({ autoStart: Boolean(msg.autoStart) });
    port.postMessage(await snapshot());
  } catch (err) {
    port.postMessage({ type: "failure", request: msg.type, message: String(err.message || err) });
  }
}

chrome.tabs.onRemoved.addListener((tabId) => {
  pages.delete(tabId);
  stop(tabId);
});

// A restarted service worker picks its meetings up again: the queues are in storage.
async function resume() {
  // Audio does not survive a restarted worker (its chunks were in memory): captions carry on, and the side
  // panel offers audio again on the next start.
  if (await chrome.offscreen.hasDocument()) await chrome.offscreen.closeDocument().catch(() => {});
  const { sessions: saved } = await chrome.storage.local.get("sessions");
  for (const [tabId, entry] of Object.entries(saved || {})) {
    const id = Number(tabId);
    if (sessions.has(id)) continue;
    const tab = await chrome.tabs.get(id).catch(() => null);
    if (!tab) continue;
    const s = newSession(id, entry.meeting, await loadQueue(entry.meeting.id), entry.lastEventId);
    sessions.set(id, s);
    open(s);
  }
  await saveSessions();
}

chrome.runtime.onInstalled.addListener(() => {
  chrome.sidePanel.setPanelBehavior({ openPanelOnActionClick: true }).catch(() => {});
});
resume();
