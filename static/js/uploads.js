// Drag and drop for the upload page, with an upload progress bar. Without JavaScript the forms still post.
(function () {
  function setup(form) {
    const zone = form.querySelector("[data-dropzone]");
    const input = form.querySelector("[data-file-input]");
    const nameEl = form.querySelector("[data-file-name]");
    const bar = form.querySelector("[data-upload-progress]");
    const errorEl = form.querySelector("[data-upload-error]");
    const showName = () => { nameEl.textContent = input.files.length ? input.files[0].name : ""; };
    input.addEventListener("change", showName);
    ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragover");
    }));
    ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("dragover")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showName();
      }
    });
    form.addEventListener("submit", (event) => {
      if (!input.files.length) return;
      event.preventDefault();
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      errorEl.hidden = true;
      if (bar) {
        bar.hidden = false;
        xhr.upload.addEventListener("progress", (e) => {
          if (e.lengthComputable) bar.firstElementChild.style.width = Math.round((100 * e.loaded) / e.total) + "%";
        });
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = { detail: "Unexpected answer from the server." }; }
        if (xhr.status >= 200 && xhr.status < 300 && body.redirect) {
          window.location.assign(body.redirect);
          return;
        }
        button.disabled = false;
        if (bar) bar.hidden = true;
        errorEl.textContent = typeof body.detail === "string" ? body.detail : "The upload failed.";
        errorEl.hidden = false;
      };
      xhr.onerror = () => {
        button.disabled = false;
        errorEl.textContent = "The upload was interrupted. Check the connection and try again.";
        errorEl.hidden = false;
      };
      xhr.send(new FormData(form));
    });
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-upload-form]").forEach(setup);
  });
})();
