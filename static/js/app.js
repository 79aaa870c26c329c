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
  // getAttribute: a field named "method" (the consultation form has one) shadows form.method.
  if ((form.getAttribute("method") || "get").toLowerCase() === "post") {
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
// Phones (≤ 600px): the list's filters fold away behind their summary button; wider screens
// always show them. Without this file they simply stay open.
(function () {
  var folds = document.querySelectorAll("details[data-fold-narrow]");
  if (!folds.length || !window.matchMedia) return;
  var narrow = window.matchMedia("(max-width: 600px)");
  function apply() {
    folds.forEach(function (fold) { fold.open = !narrow.matches; });
  }
  apply();
  if (narrow.addEventListener) narrow.addEventListener("change", apply);
})();
