// Hands the token this page was rendered with to the MeetPilot extension (its content script on this
// origin listens), then removes it from the page. If no extension answers, says so.
(function () {
  const script = document.getElementById("extension-handoff");
  if (!script) return;
  const handoff = JSON.parse(script.textContent);
  script.remove();
  const card = document.getElementById("handoff-card");
  const show = (state, title, text) => {
    card.dataset.state = state;
    document.getElementById("handoff-title").textContent = title;
    document.getElementById("handoff-text").textContent = text;
  };
  let done = false;
  window.addEventListener("message", (event) => {
    if (event.source !== window || !event.data || event.data.source !== "meetpilot-extension") return;
    if (event.data.present && !done) window.postMessage(handoff, location.origin);
    if ("connected" in event.data) {
      done = true;
      if (event.data.connected) show("connected", "Connected", "The extension is connected. You can close this tab.");
      else show("failed", "Not connected", "The extension refused the connection. Try again from the extension.");
    }
  });
  window.postMessage(handoff, location.origin);
  setTimeout(() => {
    if (!done) show("missing", "The extension did not answer",
      "Is the MeetPilot extension installed and enabled in this browser? Open it and choose Connect again.");
  }, 5000);
})();
