// Small helpers the platform files share: each selector list is tried in order, first match wins.
(function (root) {
  function first(scope, selectors) {
    for (const selector of selectors) {
      const found = scope.querySelector(selector);
      if (found) return found;
    }
    return null;
  }

  function all(scope, selectors) {
    for (const selector of selectors) {
      const found = scope.querySelectorAll(selector);
      if (found.length) return [...found];
    }
    return [];
  }

  function text(node) {
    return node ? (node.innerText ?? node.textContent ?? "").replace(/\s+/g, " ").trim() : "";
  }

  // Reads caption blocks with a platform's selectors: [{key: element, speaker, text}].
  function readBlocks(doc, s) {
    const region = first(doc, s.region);
    if (!region) return { found: false, blocks: [] };
    const blocks = all(region, s.block).map((el) => ({
      key: el,
      speaker: text(first(el, s.speaker)),
      text: text(first(el, s.text)),
    }));
    return { found: true, blocks: blocks.filter((b) => b.text) };
  }

  // What every platform file builds from its selectors; `meeting(doc, loc)` is the platform's own part.
  function platform({ name, selectors, meeting }) {
    return {
      platform: name,
      selectors,
      readCaptions: (doc) => readBlocks(doc, selectors),
      // The CC button says whether captions are on (aria-pressed); without one, a captions region means on.
      captionsEnabled(doc) {
        const button = first(doc, selectors.captionsButton);
        if (button && button.hasAttribute("aria-pressed")) return button.getAttribute("aria-pressed") === "true";
        return first(doc, selectors.region) !== null ? true : null;
      },
      talking: (doc) => first(doc, selectors.talking) !== null,
      inCall: (doc) => first(doc, selectors.leaveButton) !== null,
      meeting,
    };
  }

  const api = { first, all, text, readBlocks, platform };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotDom = api;
})(typeof self !== "undefined" ? self : globalThis);
