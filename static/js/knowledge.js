// Knowledge base: drag-and-drop uploads with one live progress bar per file, and the Ask page
// reading the answer as a Server-Sent Events stream (fetch + ReadableStream, session cookie + CSRF).
(function () {
  "use strict";

  const { csrfToken, el } = window.MeetPilot;

  // --- uploads ---------------------------------------------------------------------------------

  function setupUpload(root) {
    const input = root.querySelector("#kb-files");
    const zone = root.querySelector("#kb-dropzone");
    const list = root.querySelector("#kb-uploads");
    const uploadUrl = root.dataset.uploadUrl;
    const statusUrl = root.dataset.statusUrl;
    const detailUrl = root.dataset.detailUrl;
    const queue = [];
    let running = 0;
    const MAX_PARALLEL = 2;

    function refreshTable() {
      const table = document.querySelector(root.dataset.table);
      if (table && window.htmx) {
        window.htmx.ajax("GET", window.location.pathname + window.location.search, { target: table, swap: "outerHTML" });
      }
    }

    function row(file) {
      const item = el("li", "kb-upload");
      const head = el("div", "row");
      const name = el("strong", "kb-upload-name", file.name);
      const stage = el("span", "small muted kb-upload-stage", "waiting");
      head.append(name, el("span", "spacer"), stage);
      const bar = el("div", "progress");
      const fill = el("span");
      fill.style.width = "0%";
      bar.append(fill);
      const note = el("div", "small kb-upload-note");
      item.append(head, bar, note);
      list.prepend(item);
      return {
        set(percent, label, state) {
          fill.style.width = Math.max(0, Math.min(100, percent)) + "%";
          stage.textContent = label;
          bar.classList.toggle("failed", state === "failed");
          bar.classList.toggle("done", state === "done");
        },
        note(text, link) {
          note.textContent = text || "";
          if (link) {
            const a = el("a", "", " Open");
            a.href = link;
            note.append(a);
          }
        },
      };
    }

    function poll(id, ui) {
      fetch(statusUrl.replace("{id}", id), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((s) => {
          if (s.status === "ready") {
            ui.set(100, "ready · " + s.chunk_count + " passages", "done");
            ui.note("", detailUrl.replace("/0/", "/" + id + "/"));
            refreshTable();
          } else if (s.status === "failed") {
            ui.set(100, "failed", "failed");
            ui.note(s.error);
            refreshTable();
          } else {
            ui.set(s.progress, (s.stage || "queued") + " · " + s.progress + "%");
            setTimeout(() => poll(id, ui), 1000);
          }
        })
        .catch(() => setTimeout(() => poll(id, ui), 3000));
    }

    function send(file, ui) {
      const form = new FormData();
      form.append("files", file, file.name);
      form.append("access_level", root.querySelector("#kb-access").value);
      form.append("tags", root.querySelector("#kb-tags").value);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (e) => {
        // The byte upload is the first 5% of the bar; processing moves it on from there.
        if (e.lengthComputable) ui.set((e.loaded / e.total) * 5, "uploading " + Math.round((e.loaded / e.total) * 100) + "%");
      };
      xhr.onload = () => {
        running -= 1;
        next();
        let body = {};
        try {
          body = JSON.parse(xhr.responseText || "{}");
        } catch (e) {
          body = {};
        }
        if (xhr.status === 201 && body.created && body.created.length) {
          const doc = body.created[0];
          ui.set(doc.progress, "queued");
          refreshTable();
          poll(doc.id, ui);
        } else if (xhr.status === 200 && body.duplicates && body.duplicates.length) {
          const dup = body.duplicates[0];
          ui.set(100, "already uploaded", "done");
          ui.note(dup.detail, detailUrl.replace("/0/", "/" + dup.document.id + "/"));
        } else {
          const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.detail).join(" ") : body.detail;
          ui.set(100, "refused", "failed");
          ui.note(detail || "The upload failed (HTTP " + xhr.status + ").");
        }
      };
      xhr.onerror = () => {
        running -= 1;
        next();
        ui.set(100, "failed", "failed");
        ui.note("The connection was lost during the upload. Try again.");
      };
      ui.set(0, "uploading");
      xhr.send(form);
    }

    function next() {
      while (running < MAX_PARALLEL && queue.length) {
        const job = queue.shift();
        running += 1;
        send(job.file, job.ui);
      }
    }

    function add(files) {
      Array.from(files).forEach((file) => queue.push({ file, ui: row(file) }));
      next();
    }

    input.addEventListener("change", () => {
      add(input.files);
      input.value = "";
    });
    ["dragenter", "dragover"].forEach((type) =>
      zone.addEventListener(type, (e) => {
        e.preventDefault();
        zone.classList.add("dragover");
      })
    );
    ["dragleave", "drop"].forEach((type) =>
      zone.addEventListener(type, (e) => {
        e.preventDefault();
        zone.classList.remove("dragover");
      })
    );
    zone.addEventListener("drop", (e) => add(e.dataTransfer.files));
  }

  // --- ask ---------------------------------------------------------------------------------------

  function setupAsk(root) {
    const form = root.querySelector("#kb-ask-form");
    const question = root.querySelector("#kb-question");
    const button = root.querySelector("#kb-ask-button");
    const box = root.querySelector("#kb-answer");
    const text = root.querySelector("#kb-answer-text");
    const sources = root.querySelector("#kb-sources");
    const sourcesTitle = root.querySelector("#kb-sources-title");
    const confidence = root.querySelector("#kb-confidence");
    const provider = root.querySelector("#kb-provider");
    const panel = root.querySelector("#kb-passage-panel");
    const passage = root.querySelector("#kb-passage");
    let controller = null;

    function openPassage(chunkId) {
      const url = root.dataset.passageUrl.replace("/0/", "/" + chunkId + "/");
      fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
        .then((html) => {
          passage.innerHTML = html; // server-rendered, escaped by Django templates
          panel.hidden = false;
        })
        .catch(() => {
          passage.textContent = "This passage is no longer available.";
          panel.hidden = false;
        });
    }

    root.querySelector("#kb-passage-close").addEventListener("click", () => {
      panel.hidden = true;
    });

    function renderDone(result) {
      text.textContent = result.answer;
      confidence.textContent = result.known ? result.confidence + " confidence" : "no answer found";
      confidence.className = "badge " + (result.known ? "kb-conf-" + result.confidence : "badge-warn");
      provider.textContent = (result.provider && !result.provider.startsWith("local") ? "written by the language model" : "quoted from your documents") +
        (result.fallback ? " (the language model was unavailable)" : "") + (result.cached ? " · cached" : "");
      sources.innerHTML = "";
      (result.sources || []).forEach((s, i) => {
        const li = el("li", "kb-source");
        const a = el("a", "", s.title || s.source_type);
        a.href = root.dataset.passageUrl.replace("/0/", "/" + s.chunk_id + "/");
        a.addEventListener("click", (e) => {
          e.preventDefault();
          openPassage(s.chunk_id);
        });
        const meta = el("span", "small muted", (s.page ? " · page " + s.page : "") + " · score " + Number(s.score).toFixed(2));
        const snippet = el("div", "small kb-snippet", s.snippet);
        li.append(el("span", "kb-source-n", "[" + (i + 1) + "] "), a, meta, snippet);
        sources.append(li);
      });
      sourcesTitle.hidden = !(result.sources || []).length;
    }

    function handle(event, data) {
      if (event === "delta") text.textContent += data.text;
      else if (event === "reset") text.textContent = "";
      else if (event === "done") renderDone(data);
      else if (event === "error") {
        text.textContent = data.detail;
        confidence.textContent = "error";
        confidence.className = "badge badge-bad";
      }
    }

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const q = question.value.trim();
      if (!q) return;
      if (controller) controller.abort();
      controller = new AbortController();
      box.hidden = false;
      text.textContent = "";
      sources.innerHTML = "";
      sourcesTitle.hidden = true;
      confidence.textContent = "thinking…";
      confidence.className = "badge";
      provider.textContent = "";
      button.disabled = true;
      try {
        const response = await fetch(root.dataset.streamUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({ question: q }),
          signal: controller.signal,
        });
        if (!response.ok || !response.body) {
          let detail = "The question could not be answered (HTTP " + response.status + ").";
          try {
            detail = (await response.json()).detail || detail;
          } catch (err) { /* not JSON */ }
          handle("error", { detail: typeof detail === "string" ? detail : JSON.stringify(detail) });
          return;
        }
        await window.MeetPilot.readEventStream(response, handle);
      } catch (err) {
        if (err.name !== "AbortError") handle("error", { detail: "The connection was lost. Try again." });
      } finally {
        button.disabled = false;
      }
    });

    if (question.value.trim()) form.requestSubmit();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const upload = document.getElementById("kb-upload");
    if (upload) setupUpload(upload);
    const ask = document.getElementById("kb-ask");
    if (ask) setupAsk(ask);
  });
})();
