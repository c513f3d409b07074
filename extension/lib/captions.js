// Turns what a meeting page shows as captions into caption updates for the server.
//
// A page shows caption blocks (one per speaker turn) whose text grows and is revised while the person
// speaks. `observe(blocks)` gets the blocks visible now, each with a `key` that stays the same for the
// same block (the DOM element itself in the content script), and returns the updates to send:
// `{block, speaker, text, isFinal, startedAt}`. A block gets an interim update when its text changes (at most every
// `interimEveryMs`) and one final update when it is done: unchanged for `finalAfterMs`, gone from the
// page, or flushed (the meeting is left). A finished block that is revised later is not sent again: the
// server keeps the final text it acknowledged.
(function (root) {
  function clean(text) {
    return String(text || "").replace(/\s+/g, " ").trim();
  }

  class CaptionTracker {
    constructor({ now = () => Date.now(), finalAfterMs = 2000, interimEveryMs = 400, idPrefix = "b" } = {}) {
      this.now = now;
      this.finalAfterMs = finalAfterMs;
      this.interimEveryMs = interimEveryMs;
      this.idPrefix = idPrefix;
      this.counter = 0;
      this.open = new Map(); // key -> {block, speaker, text, changedAt, sentText, sentAt}
      this.done = new WeakSet();
      this.doneKeys = new Set(); // for keys that cannot go in a WeakSet (strings in tests)
    }

    _isDone(key) {
      return typeof key === "object" && key !== null ? this.done.has(key) : this.doneKeys.has(key);
    }

    _markDone(key) {
      if (typeof key === "object" && key !== null) this.done.add(key);
      else this.doneKeys.add(key);
    }

    observe(blocks) {
      const t = this.now();
      const updates = [];
      const seen = new Set();
      for (const { key, speaker, text } of blocks) {
        const body = clean(text);
        seen.add(key);
        if (this._isDone(key) || !body) continue;
        let state = this.open.get(key);
        if (!state) {
          state = { block: `${this.idPrefix}${++this.counter}`, speaker: clean(speaker), text: body, changedAt: t,
                    startedAt: t, sentText: "", sentAt: -Infinity };
          this.open.set(key, state);
        } else if (state.text !== body || (speaker && clean(speaker) !== state.speaker)) {
          state.text = body;
          if (speaker) state.speaker = clean(speaker);
          state.changedAt = t;
        }
        if (state.text !== state.sentText && t - state.sentAt >= this.interimEveryMs) {
          updates.push(this._emit(state, false, t));
        }
      }
      for (const key of [...this.open.keys()]) {
        if (!seen.has(key)) updates.push(this._finish(key, t));
      }
      return updates.concat(this.tick());
    }

    // Blocks that stopped changing are final.
    tick() {
      const t = this.now();
      const updates = [];
      for (const [key, state] of [...this.open.entries()]) {
        if (t - state.changedAt >= this.finalAfterMs) updates.push(this._finish(key, t));
        else if (state.text !== state.sentText && t - state.sentAt >= this.interimEveryMs) {
          updates.push(this._emit(state, false, t));
        }
      }
      return updates;
    }

    // Everything still open is final now (the meeting was left or capture stopped).
    flush() {
      const t = this.now();
      return [...this.open.keys()].map((key) => this._finish(key, t));
    }

    _emit(state, isFinal, t) {
      state.sentText = state.text;
      state.sentAt = t;
      // startedAt: when the block appeared, i.e. when the utterance began (its final comes seconds later).
      return { block: state.block, speaker: state.speaker, text: state.text, isFinal, startedAt: state.startedAt };
    }

    _finish(key, t) {
      const state = this.open.get(key);
      this.open.delete(key);
      this._markDone(key);
      return this._emit(state, true, t);
    }
  }

  const api = { CaptionTracker, clean };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotCaptions = api;
})(typeof self !== "undefined" ? self : globalThis);
