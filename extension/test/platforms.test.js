// The selectors of each platform against a minimal page in the shape the platform renders
// (and the shape the end-to-end test's fake meeting page uses).
const test = require("node:test");
const assert = require("node:assert/strict");
const dom = require("../lib/dom.js");

// A tiny DOM: enough of querySelector/querySelectorAll for attribute and class selectors.
class Node {
  constructor(attrs = {}, children = [], text = "") {
    this.attrs = attrs;
    this.children = children;
    this.ownText = text;
  }
  get textContent() { return this.ownText + this.children.map((c) => c.textContent).join(" "); }
  get innerText() { return this.textContent; }
  hasAttribute(name) { return name in this.attrs; }
  getAttribute(name) { return this.attrs[name] ?? null; }
  // Compound selectors of tags, classes and attribute tests ([a], [a="v"], [a*="v" i]); no combinators.
  matches(selector) {
    return selector.split(",").some((part) => {
      const s = part.trim();
      const tag = /^[a-z]+/.exec(s);
      if (tag && this.attrs.tag !== tag[0]) return false;
      for (const [, cls] of s.matchAll(/\.([\w-]+)/g)) {
        if (!(this.attrs.class || "").split(" ").includes(cls)) return false;
      }
      const tests = [...s.matchAll(/\[([\w-]+)(?:(\*?=)["']?([^"'\]]*)["']?(?:\s+i)?)?\]/g)];
      if (!tag && !tests.length && !s.startsWith(".")) return false;
      return tests.every(([, name, op, value]) => {
        if (!(name in this.attrs)) return false;
        if (!op) return true;
        const actual = String(this.attrs[name]).toLowerCase();
        return op === "=" ? actual === value.toLowerCase() : actual.includes(value.toLowerCase());
      });
    });
  }
  *walk() { for (const c of this.children) { yield c; yield* c.walk(); } }
  querySelectorAll(selector) {
    if (selector.startsWith(":scope")) return [];
    return [...this.walk()].filter((n) => n.matches(selector));
  }
  querySelector(selector) { return this.querySelectorAll(selector)[0] || null; }
}

const block = (speaker, text) => new Node({ "data-caption-block": "" }, [
  new Node({ "data-caption-speaker": "" }, [], speaker), new Node({ "data-caption-text": "" }, [], text)]);

function page(regionAttrs, blocks, extra = []) {
  return new Node({}, [new Node(regionAttrs, blocks), ...extra]);
}

for (const [name, region] of [["meet", { role: "region", "aria-label": "Captions" }],
                              ["zoom", { "data-caption-region": "" }], ["teams", { "data-caption-region": "" }]]) {
  test(`${name}: reads speakers and text of each caption block`, () => {
    const platform = require(`../platforms/${name}.js`).create(dom);
    const doc = page(region, [block("Priya Buyer", "Does it support Okta?"), block("Sam Seller", "Yes, it does.")]);
    const { found, blocks } = platform.readCaptions(doc);
    assert.equal(found, true);
    assert.deepEqual(blocks.map((b) => [b.speaker, b.text]), [["Priya Buyer", "Does it support Okta?"], ["Sam Seller", "Yes, it does."]]);
  });

  test(`${name}: no caption region means nothing found`, () => {
    const platform = require(`../platforms/${name}.js`).create(dom);
    assert.deepEqual(platform.readCaptions(page({}, [])), { found: false, blocks: [] });
  });
}

test("meet: the CC button tells whether captions are on; the leave button whether we are in the call", () => {
  const meet = require("../platforms/meet.js");
  const platform = meet.create(dom);
  const cc = (pressed) => new Node({ tag: "button", "aria-label": "Turn on captions", "aria-pressed": pressed });
  const leave = new Node({ tag: "button", "aria-label": "Leave call" });
  assert.equal(platform.captionsEnabled(page({}, [], [cc("false")])), false);
  assert.equal(platform.captionsEnabled(page({}, [], [cc("true")])), true);
  assert.equal(platform.inCall(page({}, [], [leave])), true);
  assert.equal(platform.inCall(page({}, [])), false);
  assert.equal(platform.talking(page({}, [], [new Node({ "data-speaking": "true" })])), true);
});

test("meet: the meeting code and link come from the address", () => {
  const meet = require("../platforms/meet.js");
  const loc = { origin: "https://meet.google.com", pathname: "/abc-defg-hij" };
  assert.equal(meet.meetingCode(loc), "abc-defg-hij");
  assert.equal(meet.meetingCode({ pathname: "/landing" }), null);
  const info = meet.create(dom).meeting(page({}, [], [new Node({ "data-meeting-title": "" }, [], "Weekly sync")]), loc);
  assert.deepEqual(info, { platform: "google_meet", title: "Weekly sync", url: "https://meet.google.com/abc-defg-hij", code: "abc-defg-hij" });
});
