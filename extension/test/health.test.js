const test = require("node:test");
const assert = require("node:assert/strict");
const { CaptureHealth } = require("../lib/health.js");

test("captions switched off is a problem at once and a gap once they are back", () => {
  const c = { t: 0 };
  const h = new CaptureHealth({ now: () => c.t });
  assert.equal(h.update({ page: { captionsEnabled: true }, link: { socketOpen: true } }).ok, true);
  c.t = 10000;
  const off = h.update({ page: { captionsEnabled: false }, link: { socketOpen: true } });
  assert.deepEqual(off.problems.map((p) => p.code), ["captions_off"]);
  c.t = 70000;
  const back = h.update({ page: { captionsEnabled: true }, link: { socketOpen: true } });
  assert.equal(back.ok, true);
  assert.deepEqual(back.gaps, [{ code: "captions_off", start: 10000, end: 70000 }]);
});

test("selectors matching nothing while people talk means the page changed", () => {
  const h = new CaptureHealth({ now: () => 0 });
  const s = h.update({ page: { captionsEnabled: true, selectorsMatched: false, talking: true } });
  assert.deepEqual(s.problems.map((p) => p.code), ["page_changed"]);
  assert.equal(h.update({ page: { captionsEnabled: true, selectorsMatched: false, talking: false } }).ok, true);
});

test("silence while people talk, a socket down and slow acks are each reported", () => {
  const c = { t: 0 };
  const h = new CaptureHealth({ now: () => c.t, silentMs: 30000, ackLagMs: 10000 });
  h.captured();
  c.t = 31000;
  let s = h.update({ page: { captionsEnabled: true, selectorsMatched: true, talking: true },
                     link: { socketOpen: true, oldestUnackedMs: 12000 } });
  assert.deepEqual(s.problems.map((p) => p.code).sort(), ["acks_behind", "no_captions"]);
  assert.equal(s.problems.find((p) => p.code === "no_captions").since, 0);
  s = h.update({ page: { captionsEnabled: true, talking: false }, link: { socketOpen: false, oldestUnackedMs: 12000 } });
  assert.deepEqual(s.problems.map((p) => p.code), ["socket_down"]);
  assert.deepEqual(s.gaps.map((g) => g.code), ["no_captions"]);
});
