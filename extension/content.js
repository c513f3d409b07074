// Runs in the meeting page, after lib/dom.js, lib/captions.js and the platform's file.
// Reads captions as they grow and tells the service worker; it never talks to the server itself.
(function () {
  const platform = self.MeetPilotPlatform;
  if (!platform || self.__meetpilotContent) return;
  self.__meetpilotContent = true;

  const loadId = Math.random().toString(36).slice(2, 10);
  const tracker = new self.MeetPilotCaptions.CaptionTracker({ idPrefix: `${loadId}-` });
  let lastPage = "";
  let inCallSeen = false;

  function send(message) {
    try {
      chrome.runtime.sendMessage(message).catch(() => {});
    } catch (err) {
      // The extension was reloaded or updated: this page's script is orphaned and stops.
      observer.disconnect();
      clearInterval(timer);
    }
  }

  function forward(updates) {
    if (!updates.length) return;
    // Each caption is stamped with when its utterance began: an outbox keeps only a caption's newest
    // version, so a final sent after a reconnect must still say when it was spoken.
    const at = Date.now();
    send({ type: "captions", updates: updates.map(({ startedAt, ...u }) => ({ ...u, timestamp: startedAt ?? at })) });
  }

  function pageState() {
    const { found, blocks } = platform.readCaptions(document);
    return {
      type: "page",
      meeting: platform.meeting(document, location),
      inCall: platform.inCall(document),
      captionsEnabled: platform.captionsEnabled(document),
      selectorsMatched: found,
      talking: platform.talking(document),
      blocks,
    };
  }

  function scan() {
    const state = pageState();
    forward(tracker.observe(state.blocks));
    delete state.blocks;
    if (state.inCall) inCallSeen = true;
    const summary = JSON.stringify(state);
    if (summary !== lastPage) {
      lastPage = summary;
      send(state);
    }
    if (inCallSeen && !state.inCall) left();
  }

  function left() {
    inCallSeen = false;
    forward(tracker.flush());
    send({ type: "left" });
  }

  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    setTimeout(() => { pending = false; scan(); }, 150);
  });
  observer.observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true,
                                                attributeFilter: ["aria-pressed", "data-speaking"] });
  const timer = setInterval(() => { forward(tracker.tick()); scan(); }, 1000);
  addEventListener("pagehide", () => { if (inCallSeen) left(); });
  scan();
})();
