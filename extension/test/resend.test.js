const test = require("node:test");
const assert = require("node:assert/strict");
const { ResendQueue } = require("../lib/resend.js");
const { backoffDelay } = require("../lib/backoff.js");

const caption = (block, text, isFinal, timestamp = 1000) => ({ block, speaker: "Ana", text, isFinal, timestamp });

test("a block keeps its sequence from interim to final; blocks get increasing sequences", () => {
  const q = new ResendQueue();
  assert.equal(q.put(caption("a", "Hel", false)).sequence, 0);
  assert.equal(q.put(caption("b", "Yes", false)).sequence, 1);
  assert.equal(q.put(caption("a", "Hello", true)).sequence, 0);
  assert.deepEqual(q.pending().map((f) => [f.sequence, f.text, f.is_final]), [[0, "Hello", true], [1, "Yes", false]]);
});

test("an ack for an older version in flight does not drop a newer one", () => {
  const q = new ResendQueue();
  q.sent(q.put(caption("a", "Hel", false)));
  q.sent(q.put(caption("a", "Hello", true)));
  assert.equal(q.ack(0), false); // acks the interim: the final is still waiting
  assert.equal(q.size, 1);
  assert.equal(q.ack(0), true);
  assert.equal(q.size, 0);
});

test("a later interim never replaces a final; unacked frames come back in order after a reconnect", () => {
  const q = new ResendQueue();
  q.sent(q.put(caption("a", "One.", true)));
  assert.equal(q.put(caption("a", "One", false)), null);
  q.sent(q.put(caption("b", "Two.", true)));
  q.sent(q.put(caption("c", "Three.", true)));
  assert.equal(q.ack(1), true);
  assert.deepEqual(q.reconnected().map((f) => f.text), ["One.", "Three."]);
  assert.equal(q.ack(0), false); // nothing in flight after the reconnect until sent again
  for (const f of q.pending()) q.sent(f);
  assert.equal(q.ack(0), true);
  assert.equal(q.ack(2), true);
  assert.equal(q.size, 0);
});

test("the queue survives a JSON round trip (a stopped service worker)", () => {
  const q = new ResendQueue();
  q.put(caption("a", "Kept.", true));
  q.put(caption("b", "Also", false));
  const back = ResendQueue.from(JSON.parse(JSON.stringify(q)));
  assert.deepEqual(back.pending(), q.pending());
  assert.equal(back.put(caption("c", "New", false)).sequence, 2);
  assert.equal(back.put(caption("a", "Kept!", true)).sequence, 0);
  assert.equal(back.oldestAgeMs(4000), 3000);
});

test("reconnect delays grow exponentially with jitter and stop at the cap", () => {
  assert.equal(backoffDelay(0, { random: () => 0 }), 250);
  assert.equal(backoffDelay(0, { random: () => 1 }), 500);
  assert.equal(backoffDelay(3, { random: () => 0.5 }), 3000);
  assert.equal(backoffDelay(20, { random: () => 1 }), 30000);
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
  assert.ok(spread.size > 10);
  for (const d of spread) assert.ok(d >= 4000 && d <= 8000);
});
