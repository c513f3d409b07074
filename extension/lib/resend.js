// The captions of one meeting that the server has not acknowledged yet.
//
// Every caption frame has a sequence number: a caption block keeps its number from its first interim to
// its final text (the server replaces an interim by the next frame of the same sequence). Frames stay here
// until the server acks the newest version sent; after a reconnect `pending()` gives them again in order.
// A final is never replaced by a later interim of its block. Acks arrive in the order frames were sent on
// one socket, so each sequence keeps the versions in flight and an ack settles the oldest of them.
// The whole state round-trips through JSON (`toJSON` / `ResendQueue.from`) so it survives the service
// worker being stopped by the browser.
(function (root) {
  class ResendQueue {
    constructor({ nextSequence = 0, blocks = {}, items = [] } = {}) {
      this.nextSequence = nextSequence;
      this.blocks = new Map(Object.entries(blocks)); // block id -> sequence
      this.items = new Map(items.map((item) => [item.frame.sequence, item])); // sequence -> {frame, version}
      this.inflight = new Map(); // sequence -> [versions sent, oldest first]; not persisted (per socket)
    }

    static from(saved) {
      return new ResendQueue(saved || {});
    }

    sequenceFor(block) {
      if (!this.blocks.has(block)) {
        this.blocks.set(block, this.nextSequence++);
        // Only recent blocks can still change: keep the map small.
        if (this.blocks.size > 500) this.blocks.delete(this.blocks.keys().next().value);
      }
      return this.blocks.get(block);
    }

    // Queue a caption update; returns the frame to send now, or null when it would replace a final.
    put({ block, speaker, text, isFinal, timestamp }) {
      const sequence = this.sequenceFor(block);
      const held = this.items.get(sequence);
      if (held && held.frame.is_final && !isFinal) return null;
      const frame = { type: "caption", sequence, speaker, text, is_final: Boolean(isFinal), timestamp };
      const version = held ? held.version + 1 : 1;
      this.items.set(sequence, { frame, version });
      return frame;
    }

    // The socket sent `frame` (as queued now).
    sent(frame) {
      const item = this.items.get(frame.sequence);
      if (!item) return;
      const versions = this.inflight.get(frame.sequence) || [];
      versions.push(item.version);
      this.inflight.set(frame.sequence, versions);
    }

    // The server acked `sequence` (stored, updated, duplicate or stale): drop the frame when the ack is
    // for the newest version we hold. Returns true when the frame left the queue.
    ack(sequence) {
      const versions = this.inflight.get(sequence) || [];
      const version = versions.shift();
      if (!versions.length) this.inflight.delete(sequence);
      const item = this.items.get(sequence);
      if (!item || version === undefined || version !== item.version) return false;
      this.items.delete(sequence);
      return true;
    }

    // A new socket: nothing is in flight; everything held is sent again, in order.
    reconnected() {
      this.inflight.clear();
      return this.pending();
    }

    pending() {
      return [...this.items.values()].map((item) => item.frame).sort((a, b) => a.sequence - b.sequence);
    }

    get size() {
      return this.items.size;
    }

    oldestAgeMs(now = Date.now()) {
      let oldest = null;
      for (const { frame } of this.items.values()) {
        if (frame.timestamp && (oldest === null || frame.timestamp < oldest)) oldest = frame.timestamp;
      }
      return oldest === null ? 0 : Math.max(0, now - oldest);
    }

    toJSON() {
      return { nextSequence: this.nextSequence, blocks: Object.fromEntries(this.blocks),
               items: [...this.items.values()] };
    }
  }

  const api = { ResendQueue };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotResend = api;
})(typeof self !== "undefined" ? self : globalThis);
