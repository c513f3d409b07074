// Runs on the MeetPilot server's "Connect the extension" page: hands the token the page created to the
// service worker, so nobody copies and pastes it. The page posts it to its own window; only this
// extension's content script, on the server's own origin, reads it.
(function () {
  addEventListener("message", (event) => {
    if (event.source !== window || event.origin !== location.origin) return;
    const data = event.data || {};
    if (data.source !== "meetpilot-connect" || !data.token) return;
    chrome.runtime.sendMessage({ type: "connected", token: data.token, tokenId: data.tokenId, user: data.user,
                                 company: data.company, server: location.origin }).then((reply) => {
      document.documentElement.dataset.meetpilotExtension = reply && reply.ok ? "connected" : "failed";
      window.postMessage({ source: "meetpilot-extension", connected: Boolean(reply && reply.ok) }, location.origin);
    });
  });
  document.documentElement.dataset.meetpilotExtension = "present";
  window.postMessage({ source: "meetpilot-extension", present: true }, location.origin);
})();
