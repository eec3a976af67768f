/* Keeps regions of a page up to date without reloading it: every N seconds
 * (the smallest `data-live-refresh` of the page, 20 by default) the page is
 * fetched again and each `[data-live-refresh][id]` region is swapped for its
 * fresh copy when it changed. Progressive enhancement: without JavaScript the
 * page is complete and reloading refreshes it. Nothing is fetched while the
 * tab is hidden; a region that holds the focus is left alone. */
(function () {
  "use strict";

  var regions = Array.prototype.slice.call(document.querySelectorAll("[data-live-refresh][id]"));
  if (!regions.length || !window.fetch || !window.DOMParser) {
    return;
  }
  var seconds = Math.min.apply(
    null,
    regions.map(function (region) {
      return parseInt(region.getAttribute("data-live-refresh"), 10) || 20;
    })
  );
  var busy = false;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    regions.forEach(function (region) {
      var copy = fresh.getElementById(region.id);
      if (copy && !region.contains(document.activeElement) && copy.innerHTML !== region.innerHTML) {
        region.innerHTML = copy.innerHTML;
      }
    });
  }

  function refresh() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(swap)
      .catch(function () {
        /* The next round tries again; the page stays as it was. */
      })
      .finally(function () {
        busy = false;
      });
  }

  window.setInterval(refresh, Math.max(seconds, 5) * 1000);
})();
