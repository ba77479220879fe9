// Sends the packing-video form with a progress bar (large files take a while), asking for
// JSON: on success the server says which page to open (its message waits there), on a
// refusal the reasons are shown in the form. Without this script the form posts normally.
(function () {
  "use strict";
  const form = document.getElementById("video-upload");
  const bar = document.getElementById("video-progress");
  const errors = document.getElementById("video-errors");
  if (!form || !bar || !errors || !window.XMLHttpRequest) return;
  const button = form.querySelector("button[type=submit]");

  function fail(message) {
    bar.hidden = true;
    button.disabled = false;
    errors.textContent = message;
    errors.hidden = false;
  }

  form.addEventListener("submit", function (ev) {
    if (!form.checkValidity()) return;
    ev.preventDefault();
    errors.hidden = true;
    button.disabled = true;
    bar.value = 0;
    bar.hidden = false;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.pathname);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = (e.loaded / e.total) * 100;
    });
    xhr.addEventListener("load", function () {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (data && data.redirect) { window.location.assign(data.redirect); return; }
      if (data && data.message) { fail(data.message); return; }
      form.submit(); // not an answer this script knows: let the browser post it
    });
    xhr.addEventListener("error", function () { form.submit(); });
    xhr.send(new FormData(form));
  });
})();
