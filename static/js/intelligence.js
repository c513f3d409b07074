// Chat with your meetings: POST the question, read the server-sent events as they stream.
(function () {
  "use strict";

  const { csrfToken, el } = window.MeetPilot;

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  // Answer text with [n] turned into links to the citation list (text nodes only: no HTML injection).
  function renderAnswer(target, text, messageId) {
    target.textContent = "";
    const parts = text.split(/(\[\d{1,2}\]|\n)/);
    for (const part of parts) {
      const cite = /^\[(\d{1,2})\]$/.exec(part);
      if (cite) {
        const a = el("a", "cite", part);
        a.href = `#cite-${messageId}-${cite[1]}`;
        target.appendChild(a);
      } else if (part === "\n") {
        target.appendChild(document.createElement("br"));
      } else if (part) {
        target.appendChild(document.createTextNode(part));
      }
    }
  }

  function renderCitations(list, citations, messageId) {
    list.textContent = "";
    const shown = citations.filter((c) => c.cited);
    for (const c of shown) {
      const li = el("li");
      li.id = `cite-${messageId}-${c.n}`;
      li.value = c.n;
      const a = el("a", "", c.meeting_title ? `${c.meeting_title}${c.start_time ? " · " + clock(c.start_time) : ""}` : c.title);
      a.href = c.url || "#";
      li.appendChild(a);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "small muted", (c.snippet || "").slice(0, 160)));
      list.appendChild(li);
    }
    list.hidden = shown.length === 0;
  }

  function setup() {
    const form = document.getElementById("chat-form");
    const log = document.getElementById("chat-log");
    if (!form || !log) return;
    const input = document.getElementById("chat-input");
    const send = document.getElementById("chat-send");
    log.scrollTop = log.scrollHeight;

    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const question = input.value.trim();
      if (!question) return;
      const empty = log.querySelector(".chat-empty");
      if (empty) empty.remove();
      const mine = el("li", "msg msg-user");
      mine.appendChild(el("div", "msg-body", question));
      log.appendChild(mine);
      const reply = el("li", "msg msg-assistant msg-streaming");
      const body = el("div", "msg-body");
      body.appendChild(el("span", "typing", "Thinking…"));
      const cites = el("ol", "citations");
      cites.hidden = true;
      const provider = el("div", "small muted msg-provider");
      reply.append(body, cites, provider);
      log.appendChild(reply);
      log.scrollTop = log.scrollHeight;
      input.value = "";
      send.disabled = true;

      let text = "", messageId = "new";
      try {
        const response = await fetch(form.dataset.url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "text/event-stream" },
          body: JSON.stringify({ content: question, stream: true }),
        });
        if (!response.ok || !response.body) {
          let detail = `The question could not be sent (${response.status}).`;
          try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
          throw new Error(typeof detail === "string" ? detail : "The question could not be sent.");
        }
        await window.MeetPilot.readEventStream(response, (name, data) => {
          if (name === "start") {
            messageId = data.message_id;
            provider.textContent = data.provider || "";
          } else if (name === "token") {
            text += data.text || "";
            renderAnswer(body, text, messageId);
          } else if (name === "done") {
            renderAnswer(body, data.content || text, messageId);
            renderCitations(cites, data.citations || [], messageId);
            provider.textContent = data.provider || "";
            reply.classList.remove("msg-streaming");
          } else if (name === "error") {
            reply.classList.add("msg-failed");
            provider.textContent = data.detail || "The answer could not be completed.";
          }
          log.scrollTop = log.scrollHeight;
        });
      } catch (error) {
        reply.classList.add("msg-failed");
        body.textContent = error.message || "The question could not be sent.";
      } finally {
        reply.classList.remove("msg-streaming");
        send.disabled = false;
        input.focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
