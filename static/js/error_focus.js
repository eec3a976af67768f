// After a submit that failed, move focus to the error summary (#form-errors,
// from includes/form_errors.html) so that keyboard and screen-reader users
// land on the list of errors, whose links lead to each field. The page's
// <title> starts with "Erreur : " where the page says so. Loaded by base.html
// on every page; no inline script (CSP).
(function () {
  "use strict";
  function focusSummary() {
    var summary = document.getElementById("form-errors");
    if (!summary) {
      return;
    }
    if (!summary.hasAttribute("tabindex")) {
      summary.setAttribute("tabindex", "-1");
    }
    summary.focus();
    if (summary.scrollIntoView) {
      summary.scrollIntoView({ block: "start" });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusSummary);
  } else {
    focusSummary();
  }
})();
