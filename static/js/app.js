// Behaviour shared by every page (no inline handlers: the Content-Security-Policy forbids them).
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});

// Live panels: an element with an id and data-refresh="URL" is fetched again every two
// seconds and replaced by the element with the same id in the answer, until the fresh
// one no longer asks to be refreshed (analysis progress, keyframes, evidence packs).
(function () {
  function poll(id) {
    const timer = setInterval(async function () {
      const box = document.getElementById(id);
      if (!box || !box.dataset.refresh) { clearInterval(timer); return; }
      try {
        const resp = await fetch(box.dataset.refresh, { credentials: "same-origin" });
        if (!resp.ok) return;
        const tmp = document.createElement("div");
        tmp.innerHTML = await resp.text();
        const fresh = tmp.querySelector("#" + id);
        if (!fresh) return;
        box.replaceWith(fresh);
        // Other parts of the page the answer carries (the dispute's risk chip and audit
        // trail): each element marked data-live replaces the page's element with its id.
        tmp.querySelectorAll("[data-live][id]").forEach(function (part) {
          const old = document.getElementById(part.id);
          if (old) old.replaceWith(part);
        });
        // A panel may carry the dispute's status and version: keep the header badge and
        // the decision form in step, without a reload.
        const badge = document.getElementById("dispute-status");
        if (badge && fresh.dataset.statusLabel) {
          badge.textContent = fresh.dataset.statusLabel;
          badge.className = "badge big badge-" + fresh.dataset.status;
        }
        const version = document.querySelector("#decision-form input[name=version]");
        if (version && fresh.dataset.version) version.value = fresh.dataset.version;
        if (!fresh.dataset.refresh) clearInterval(timer);
      } catch (e) { /* a dropped request: keep polling */ }
    }, 2000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh][id]").forEach(function (el) { poll(el.id); });
  });
})();

// The dispute page's heatmap strength slider and changed-region toggle.
document.addEventListener("input", function (ev) {
  if (!ev.target.classList.contains("heatmap-opacity")) return;
  ev.target.closest(".claim").querySelectorAll(".heatmap").forEach(function (el) { el.style.opacity = ev.target.value / 100; });
});
document.addEventListener("change", function (ev) {
  if (!ev.target.classList.contains("region-toggle")) return;
  ev.target.closest(".claim").querySelectorAll(".region").forEach(function (el) { el.hidden = !ev.target.checked; });
});
