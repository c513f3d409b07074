// Reconnect delays: exponential with "equal jitter" (half fixed, half random), so a server restart is not
// met by every extension reconnecting in the same instant, and no client waits less than half the step.
(function (root) {
  function backoffDelay(attempt, { baseMs = 500, capMs = 30000, random = Math.random } = {}) {
    const step = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
    return Math.round(step / 2 + random() * (step / 2));
  }
  const api = { backoffDelay };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotBackoff = api;
})(typeof self !== "undefined" ? self : globalThis);
