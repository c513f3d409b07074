// Microsoft Teams in the browser (teams.microsoft.com / teams.live.com): live captions, when turned on.
// When Teams changes its page, fix the selectors here.
(function (root) {
  const SELECTORS = {
    region: ['[data-caption-region]', '[data-tid="closed-caption-v2-window-wrapper"]', '[data-tid="closed-captions-renderer"]'],
    block: ['[data-caption-block]', ".fui-ChatMessageCompact", '[data-tid="closed-caption-message"]'],
    speaker: ['[data-caption-speaker]', '[data-tid="author"]'],
    text: ['[data-caption-text]', '[data-tid="closed-caption-text"]'],
    captionsButton: ['[data-caption-toggle][aria-pressed]'],
    talking: ['[data-speaking="true"]', '[data-tid="voice-level-stream-outline"]'],
    leaveButton: ['button[aria-label*="Leave" i]', '#hangup-button', '[data-tid="hangup-main-btn"]'],
    title: ['[data-meeting-title]', '[data-tid="call-title"]'],
  };

  function create(dom) {
    return dom.platform({
      name: "teams",
      selectors: SELECTORS,
      meeting(doc, loc) {
        const title = dom.text(dom.first(doc, SELECTORS.title)) || "Teams meeting";
        return { platform: "teams", title, url: `${loc.origin}${loc.pathname}`, code: null };
      },
    });
  }

  const api = { SELECTORS, create };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotPlatform = create(root.MeetPilotDom);
})(typeof self !== "undefined" ? self : globalThis);
