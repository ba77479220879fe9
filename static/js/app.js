// Behaviour shared by every page (no inline handlers: the Content-Security-Policy forbids them).
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});
