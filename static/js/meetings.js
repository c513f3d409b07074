// Meeting pages: live list bookkeeping, transcript follow/find, speaker rename, socket status.
(() => {
  "use strict";

  const followBox = () => document.getElementById("follow-transcript");
  const scroller = () => document.getElementById("transcript-scroll");

  function scrollTranscriptToEnd() {
    const box = scroller();
    if (box) box.scrollTop = box.scrollHeight;
  }

  function matchesFilter(row, query) {
    return !query || row.textContent.toLowerCase().includes(query);
  }

  function applyFilter(list, query) {
    for (const row of list.children) row.classList.toggle("is-hidden", !matchesFilter(row, query));
  }

  function filterQueryFor(list) {
    const input = document.querySelector(`[data-filter-list="${list.id}"]`);
    return input ? input.value.trim().toLowerCase() : "";
  }

  // Counters, highlight and follow for lists that the socket or HTMX add to.
  function watch(list) {
    const counter = document.querySelector(`[data-count-for="${list.id}"]`);
    new MutationObserver((mutations) => {
      let delta = 0;
      const query = filterQueryFor(list);
      for (const m of mutations) {
        for (const node of m.addedNodes) {
          if (node.nodeType !== 1) continue;
          delta += 1;
          // An item pushed again (re-analysed, edited elsewhere) replaces its older copy in place.
          const older = node.id && [...list.querySelectorAll(`#${CSS.escape(node.id)}`)].find((el) => el !== node);
          if (older) older.replaceWith(node);
          node.classList.add("is-new");
          if (query) node.classList.toggle("is-hidden", !matchesFilter(node, query));
        }
        for (const node of m.removedNodes) if (node.nodeType === 1) delta -= 1;
      }
      if (counter && delta) counter.textContent = String(Math.max(0, (parseInt(counter.textContent, 10) || 0) + delta));
      if (list.id === "transcript-list" && followBox() && followBox().checked) scrollTranscriptToEnd();
    }).observe(list, { childList: true });
  }

  function init() {
    document.querySelectorAll(".live-list[id]").forEach(watch);
    scrollTranscriptToEnd();

    // Stop following when the reader scrolls up; resume at the bottom.
    const box = scroller();
    if (box && followBox()) {
      box.addEventListener("scroll", () => {
        const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
        if (!atEnd && followBox().checked) followBox().checked = false;
        if (atEnd) followBox().checked = true;
      }, { passive: true });
    }
  }

  document.addEventListener("input", (event) => {
    const input = event.target.closest("[data-filter-list]");
    if (!input) return;
    const list = document.getElementById(input.dataset.filterList);
    if (list) applyFilter(list, input.value.trim().toLowerCase());
  });

  document.addEventListener("click", (event) => {
    const speaker = event.target.closest("[data-rename-speaker]");
    const dialog = document.getElementById("rename-dialog");
    if (speaker && dialog && speaker.dataset.renameSpeaker) {
      dialog.querySelector("[name=old_label]").value = speaker.dataset.renameSpeaker;
      dialog.querySelector("[data-rename-old]").textContent = speaker.dataset.renameSpeaker;
      const input = dialog.querySelector("[name=new_name]");
      input.value = "";
      dialog.showModal();
      input.focus();
      return;
    }
    if (event.target.closest("[data-close-dialog]")) {
      event.target.closest("dialog").close();
      return;
    }
    const confirmButton = event.target.closest("[data-confirm-click]");
    if (confirmButton && !window.confirm(confirmButton.dataset.confirmClick)) {
      event.preventDefault();
      return;
    }
    // Close an open menu when clicking elsewhere.
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Live socket status (events from htmx's ws extension).
  function setConnection(state, label) {
    const el = document.getElementById("live-conn");
    if (!el) return;
    el.dataset.state = state;
    el.querySelector(".conn-label").textContent = label;
  }
  document.addEventListener("htmx:wsOpen", () => setConnection("open", "Live"));
  document.addEventListener("htmx:wsClose", () => setConnection("closed", "Reconnecting…"));
  document.addEventListener("htmx:wsError", () => setConnection("closed", "Reconnecting…"));

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
