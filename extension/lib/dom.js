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

  const api = { first, all, text, readBlocks };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotDom = api;
})(typeof self !== "undefined" ? self : globalThis);
