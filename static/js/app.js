// Progressive enhancement only: every form works without this file.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var message = button && button.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
    return;
  }
  // A double click sends the form once: later submits are dropped, and the buttons are
  // disabled once the browser has taken the form's data (disabling at once would drop
  // the clicked button's own name and value from it).
  if (form.getAttribute("data-submitted")) {
    event.preventDefault();
    return;
  }
  if (form.method.toLowerCase() === "post") {
    form.setAttribute("data-submitted", "1");
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]")
        .forEach(function (b) { b.disabled = true; b.setAttribute("aria-busy", "true"); });
    }, 0);
  }
});
// Back/forward cache: a page shown again must have its buttons working.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-submitted]").forEach(function (form) {
    form.removeAttribute("data-submitted");
    form.querySelectorAll("[aria-busy]").forEach(function (b) {
      b.disabled = false; b.removeAttribute("aria-busy");
    });
  });
});
