// Google Meet: where its page shows captions, who is talking and the meeting's name.
// When Meet changes its page, fix the selectors here (first match wins; keep the old ones as fallbacks).
(function (root) {
  const SELECTORS = {
    // The captions panel and its blocks (one per speaker turn: avatar, name, growing text).
    region: ['[role="region"][aria-label="Captions"]', 'div[jsname="dsyhDe"]', 'div[jscontroller="KPn5nb"]'],
    block: ['[data-caption-block]', ".nMcdL", ":scope > div > div"],
    speaker: ['[data-caption-speaker]', ".NWpY1d", ".KcIKyf", ".zs7s8d"],
    text: ['[data-caption-text]', ".ygicle", ".bh44bd", ".iTTPOb"],
    // The CC button says whether captions are on (aria-pressed).
    captionsButton: ['button[aria-label*="captions" i][aria-pressed]', 'button[jsname="r8qRAd"]'],
    // A participant tile that shows the speaking animation.
    talking: ['[data-speaking="true"]', "div[jsname='QgSmzd'][class*='gjg47c']", ".IisKdb.gjg47c"],
    leaveButton: ['button[aria-label*="Leave call" i]', 'button[jsname="CQylAd"]'],
    title: ['[data-meeting-title]', 'div[jsname="r4nke"]', ".u6vdEc"],
  };

  function meetingCode(loc) {
    const match = /\/([a-z]{3}-[a-z]{4}-[a-z]{3})(?:$|[/?#])/.exec(loc.pathname);
    return match ? match[1] : null;
  }

  function create(dom) {
    return dom.platform({
      name: "google_meet",
      selectors: SELECTORS,
      meeting(doc, loc) {
        const code = meetingCode(loc);
        const title = dom.text(dom.first(doc, SELECTORS.title)) || (code ? `Google Meet ${code}` : "Google Meet");
        return { platform: "google_meet", title, url: `${loc.origin}${loc.pathname}`.replace(/\/$/, ""), code };
      },
    });
  }

  const api = { SELECTORS, meetingCode, create };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotPlatform = create(root.MeetPilotDom);
})(typeof self !== "undefined" ? self : globalThis);
