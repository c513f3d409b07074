// Zoom in the browser (app.zoom.us / zoom.us/wc): its live transcript / captions, when the host enabled them.
// When Zoom changes its page, fix the selectors here.
(function (root) {
  const SELECTORS = {
    region: ['[data-caption-region]', ".live-transcription-subtitle__box", "#live-transcription-subtitle"],
    block: ['[data-caption-block]', ".live-transcription-subtitle__item", ":scope > div"],
    speaker: ['[data-caption-speaker]', ".live-transcription-subtitle__name"],
    text: ['[data-caption-text]', ".live-transcription-subtitle__text", "span"],
    captionsButton: ['button[aria-label*="caption" i][aria-pressed]'],
    talking: ['[data-speaking="true"]', ".speaker-active-container__video-frame"],
    leaveButton: ['button[aria-label*="Leave" i]', ".footer__leave-btn"],
    title: ['[data-meeting-title]', ".meeting-info-container__topic", ".meeting-topic"],
  };

  function create(dom) {
    return dom.platform({
      name: "zoom",
      selectors: SELECTORS,
      meeting(doc, loc) {
        const id = (/\/(?:wc|j)\/(\d+)/.exec(loc.pathname) || [])[1] || null;
        const title = dom.text(dom.first(doc, SELECTORS.title)) || (id ? `Zoom ${id}` : "Zoom meeting");
        return { platform: "zoom", title, url: id ? `https://zoom.us/j/${id}` : `${loc.origin}${loc.pathname}`, code: id };
      },
    });
  }

  const api = { SELECTORS, create };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MeetPilotPlatform = create(root.MeetPilotDom);
})(typeof self !== "undefined" ? self : globalThis);
