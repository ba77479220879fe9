// Uploads each chosen or dropped photo in its own request so every file gets its own
// result line, then polls until the worker has fingerprinted the stored ones.
(function () {
  "use strict";
  const form = document.getElementById("photo-upload");
  if (!form) return;
  document.documentElement.classList.add("js");
  const input = document.getElementById("photo-files");
  const zone = document.getElementById("dropzone");
  const results = document.getElementById("upload-results");
  const grid = document.getElementById("photo-grid");
  const t = window.RG_I18N || {};
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const pending = new Map(); // photo id -> result line

  function line(name) {
    const li = document.createElement("li");
    li.className = "result result-uploading";
    const n = document.createElement("span"); n.className = "result-name"; n.textContent = name;
    const b = document.createElement("span"); b.className = "badge badge-pending"; b.textContent = t.uploading;
    const m = document.createElement("span"); m.className = "result-msg";
    li.append(n, " ", b, " ", m);
    results.append(li);
    return { li, badge: b, msg: m };
  }

  function show(row, status, message) {
    row.li.className = "result result-" + status;
    row.badge.className = "badge badge-" + status;
    row.badge.textContent = t[status] || status;
    row.msg.textContent = message || "";
  }

  async function send(file) {
    const row = line(file.name);
    const body = new FormData();
    body.append("files", file, file.name);
    try {
      const resp = await fetch(form.action || window.location.pathname, {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      });
      const data = await resp.json().catch(() => ({ status: "rejected", message: t.failedNetwork }));
      show(row, data.status || "rejected", data.message);
      if (data.photo && data.status === "stored") {
        pending.set(data.photo.id, row);
        addCard(data.photo);
      }
    } catch (err) {
      show(row, "rejected", t.failedNetwork);
    }
  }

  function addCard(photo) {
    if (!grid || grid.querySelector('[data-photo-id="' + photo.id + '"]')) return;
    const empty = document.getElementById("photos-empty");
    if (empty) empty.remove();
    const fig = document.createElement("figure");
    fig.className = "photo"; fig.dataset.photoId = photo.id; fig.dataset.status = photo.status;
    const a = document.createElement("a"); a.className = "photo-frame"; a.href = photo.original_url; a.target = "_blank"; a.rel = "noopener";
    const ph = document.createElement("span"); ph.className = "placeholder"; ph.textContent = "…"; a.append(ph);
    const cap = document.createElement("figcaption");
    const fn = document.createElement("span"); fn.className = "filename"; fn.textContent = photo.name;
    const st = document.createElement("span"); st.className = "badge badge-" + photo.status; st.textContent = photo.status_label;
    cap.append(fn, " ", st);
    // The size and SHA-256 the server's card shows (templates/evidence/_photo_card.html).
    if (photo.sha256) {
      const facts = document.createElement("span"); facts.className = "small muted photo-facts";
      const code = document.createElement("code"); code.title = "SHA-256 " + photo.sha256; code.textContent = photo.sha256.slice(0, 12);
      facts.append(photo.width + "×" + photo.height + " · " + photo.size_label + " · ", code);
      cap.append(facts);
    }
    fig.append(a, cap);
    grid.prepend(fig);
    const count = document.getElementById("photo-count");
    if (count) count.textContent = String(Number(count.textContent) + 1);
  }

  function refreshCard(photo) {
    const fig = grid && grid.querySelector('[data-photo-id="' + photo.id + '"]');
    if (!fig) return;
    fig.dataset.status = photo.status;
    const badge = fig.querySelector(".badge");
    badge.className = "badge badge-" + photo.status; badge.textContent = photo.status_label;
    if (photo.thumbnail_url && !fig.querySelector("img")) {
      const img = document.createElement("img"); img.src = photo.thumbnail_url; img.alt = photo.name;
      const frame = fig.querySelector(".photo-frame"); frame.textContent = ""; frame.append(img);
    }
    if (photo.failure_reason && !fig.querySelector(".error-text")) {
      const e = document.createElement("span"); e.className = "small error-text"; e.textContent = photo.failure_reason;
      fig.querySelector("figcaption").append(e);
    }
  }

  async function poll() {
    const ids = [...pending.keys()];
    if (ids.length) {
      try {
        const resp = await fetch(form.dataset.statusUrl + "?ids=" + ids.join(","), { credentials: "same-origin", headers: { "Accept": "application/json" } });
        const data = await resp.json();
        for (const photo of data.photos) {
          refreshCard(photo);
          if (photo.status === "fingerprinted" || photo.status === "failed") pending.delete(photo.id);
        }
      } catch (err) { /* try again on the next tick */ }
    }
    window.setTimeout(poll, 1500);
  }

  async function sendAll(files) {
    for (const file of files) await send(file); // one at a time keeps the server calm
    input.value = "";
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); if (input.files.length) sendAll([...input.files]); });
  input.addEventListener("change", () => { if (input.files.length) sendAll([...input.files]); });
  // Files chosen before this (deferred) script ran missed the change event: send them now.
  if (input.files.length) sendAll([...input.files]);
  ["dragenter", "dragover"].forEach((n) => zone.addEventListener(n, (ev) => { ev.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach((n) => zone.addEventListener(n, (ev) => { ev.preventDefault(); zone.classList.remove("over"); }));
  zone.addEventListener("drop", (ev) => { if (ev.dataTransfer && ev.dataTransfer.files.length) sendAll([...ev.dataTransfer.files]); });
  if (grid) {
    grid.querySelectorAll(".photo").forEach((fig) => {
      if (fig.dataset.status === "pending" || fig.dataset.status === "processing") pending.set(Number(fig.dataset.photoId), null);
    });
  }
  poll();
})();
