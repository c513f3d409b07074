const test = require("node:test");
const assert = require("node:assert/strict");
const { CaptionTracker } = require("../lib/captions.js");

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

test("a growing block sends interims, then one final when it stops changing", () => {
  const c = clock();
  const tracker = new CaptionTracker({ now: c.now, finalAfterMs: 2000, interimEveryMs: 0 });
  assert.deepEqual(tracker.observe([{ key: "a", speaker: "Priya", text: "Does it" }]),
    [{ block: "b1", speaker: "Priya", text: "Does it", isFinal: false, startedAt: 0 }]);
  c.t = 500;
  assert.deepEqual(tracker.observe([{ key: "a", speaker: "Priya", text: "Does it support  Okta?" }]),
    [{ block: "b1", speaker: "Priya", text: "Does it support Okta?", isFinal: false, startedAt: 0 }]);
  c.t = 1000;
  assert.deepEqual(tracker.observe([{ key: "a", speaker: "Priya", text: "Does it support Okta?" }]), []);
  c.t = 2600;
  // the final, 2.6 s in, still says when the utterance began
  assert.deepEqual(tracker.tick(),
    [{ block: "b1", speaker: "Priya", text: "Does it support Okta?", isFinal: true, startedAt: 0 }]);
  c.t = 4000; // a late revision of a finished block is not sent again
  assert.deepEqual(tracker.observe([{ key: "a", speaker: "Priya", text: "Does it support Okta SSO?" }]), []);
});

test("interims are throttled but the final carries the newest text", () => {
  const c = clock();
  const tracker = new CaptionTracker({ now: c.now, finalAfterMs: 2000, interimEveryMs: 400 });
  assert.equal(tracker.observe([{ key: "a", speaker: "Sam", text: "We" }]).length, 1);
  c.t = 100;
  assert.deepEqual(tracker.observe([{ key: "a", speaker: "Sam", text: "We will" }]), []);
  c.t = 450;
  assert.deepEqual(tracker.tick(), [{ block: "b1", speaker: "Sam", text: "We will", isFinal: false, startedAt: 0 }]);
  c.t = 500;
  tracker.observe([{ key: "a", speaker: "Sam", text: "We will ship Friday" }]);
  assert.deepEqual(tracker.flush(), [{ block: "b1", speaker: "Sam", text: "We will ship Friday", isFinal: true, startedAt: 0 }]);
  assert.deepEqual(tracker.flush(), []);
});

test("a block that leaves the page is final; blocks keep their own ids and speakers", () => {
  const c = clock();
  const tracker = new CaptionTracker({ now: c.now, interimEveryMs: 0, idPrefix: "x-" });
  tracker.observe([{ key: "a", speaker: "Ana", text: "Hello" }, { key: "b", speaker: "Ben", text: "Hi" }]);
  c.t = 300;
  const updates = tracker.observe([{ key: "b", speaker: "Ben", text: "Hi there" }]);
  assert.deepEqual(updates, [
    { block: "x-2", speaker: "Ben", text: "Hi there", isFinal: false, startedAt: 0 },
    { block: "x-1", speaker: "Ana", text: "Hello", isFinal: true, startedAt: 0 },
  ]);
});

test("empty blocks are ignored until they have text", () => {
  const tracker = new CaptionTracker({ now: () => 0, interimEveryMs: 0 });
  assert.deepEqual(tracker.observe([{ key: "a", speaker: "Ana", text: "   " }]), []);
  assert.equal(tracker.observe([{ key: "a", speaker: "Ana", text: "ok" }])[0].block, "b1");
});
