// Capture health: is the meeting really reaching the server?
//
// Fed with what the content script and the socket see, it names each problem the moment it starts and
// keeps the list of gaps (when captions were missing) so the user sees them at once and the server can
// mark them on the meeting's timeline. Problems:
//   captions_off    the meeting's captions are switched off
//   page_changed    the caption selectors match nothing while people are talking (the page changed)
//   no_captions     nothing captured for `silentMs` while people are talking
//   socket_down     the connection to MeetPilot is down
//   acks_behind     captions wait longer than `ackLagMs` for the server's acknowledgement
(function (root) {
  const MESSAGES = {
    captions_off: "Captions are off in the meeting: turn them on (CC) so MeetPilot can follow.",
    page_changed: "The meeting page changed and captions cannot be read. Update the extension.",
    no_captions: "Nothing captured although people are talking.",
    socket_down: "Not connected to MeetPilot: reconnecting. Captions are kept and sent when back.",
    acks_behind: "MeetPilot is slow to confirm captions: they are kept until confirmed.",
  };
  const GAP_CODES = new Set(["captions_off", "page_changed", "no_captions"]);

  class CaptureHealth {
    constructor({ now = () => Date.now(), silentMs = 30000, ackLagMs = 10000 } = {}) {
      this.now = now;
      this.silentMs = silentMs;
      this.ackLagMs = ackLagMs;
      this.since = new Map(); // code -> when it started
      this.gaps = []; // {code, start, end}
      this.lastCaptionAt = null;
      this.startedAt = now();
    }

    captured() {
      this.lastCaptionAt = this.now();
    }

    // `page`: {captionsEnabled, selectorsMatched, talking}; `link`: {socketOpen, oldestUnackedMs}
    update({ page = {}, link = {} } = {}) {
      const t = this.now();
      const quietSince = this.lastCaptionAt ?? this.startedAt;
      const active = new Set();
      if (page.captionsEnabled === false) active.add("captions_off");
      else if (page.talking && page.selectorsMatched === false) active.add("page_changed");
      else if (page.talking && t - quietSince >= this.silentMs) active.add("no_captions");
      if (link.socketOpen === false) active.add("socket_down");
      if ((link.oldestUnackedMs || 0) >= this.ackLagMs && link.socketOpen !== false) active.add("acks_behind");
      for (const code of active) if (!this.since.has(code)) this.since.set(code, code === "no_captions" ? quietSince : t);
      for (const [code, start] of [...this.since.entries()]) {
        if (active.has(code)) continue;
        this.since.delete(code);
        if (GAP_CODES.has(code)) this.gaps.push({ code, start, end: t });
      }
      return this.state();
    }

    state() {
      const problems = [...this.since.entries()].map(([code, since]) => ({ code, since, message: MESSAGES[code] }));
      return { ok: problems.length === 0, problems, gaps: this.gaps.slice() };
    }
  }

  const api = { CaptureHealth, MESSAGES };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotHealth = api;
})(typeof self !== "undefined" ? self : globalThis);
