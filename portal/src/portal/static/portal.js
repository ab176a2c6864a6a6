// Small improvements on top of pages that work without JavaScript.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Errors: move focus to the summary so keyboard and screen reader users hear it first.
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
    // Print buttons (the page prints itself; without JavaScript the browser's print works).
    document.querySelectorAll("[data-print]").forEach(function (el) {
      el.hidden = false;
      el.addEventListener("click", function () { window.print(); });
    });
    // Copy link buttons copy the field they name (without JavaScript the field is selectable).
    document.querySelectorAll("[data-copy]").forEach(function (el) {
      el.addEventListener("click", function () {
        var field = document.querySelector(el.getAttribute("data-copy"));
        if (!field) { return; }
        field.select();
        var done = function () { el.textContent = "Copied"; };
        if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, done); }
        else { document.execCommand("copy"); done(); }
      });
    });
    // Escape closes the account menu.
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        document.querySelectorAll("details.account[open]").forEach(function (d) {
          d.open = false; d.querySelector("summary").focus();
        });
      }
    });
  });
})();
