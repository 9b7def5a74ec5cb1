// Progressive enhancement for every page; each page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // The page's units (?units=, ?unit_system=) go into its address when they came from the unit
  // switch's cookie, so that the address bar's link opens in them for anyone (the URL wins over
  // the cookie on the server, so nothing the address already says is changed).
  function unitsIntoAddress() {
    var shown = new URLSearchParams(document.body.getAttribute("data-view-query") || "");
    var address = new URL(window.location.href);
    var changed = false;
    shown.forEach(function (value, key) {
      if (!address.searchParams.get(key)) { address.searchParams.set(key, value); changed = true; }
    });
    if (changed && window.history && window.history.replaceState) {
      window.history.replaceState(window.history.state, "", address.pathname + address.search + address.hash);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    unitsIntoAddress();
    // A unit picker applies itself as soon as a unit is chosen.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    // A filter example fills the filter box (the link itself also works: it runs the search).
    var filter = document.getElementById("filter");
    if (filter) {
      document.querySelectorAll("a.example[data-filter]").forEach(function (link) {
        link.addEventListener("click", function (event) {
          if (event.metaKey || event.ctrlKey || event.shiftKey) { return; }
          event.preventDefault();
          filter.value = link.getAttribute("data-filter");
          filter.form.requestSubmit ? filter.form.requestSubmit() : filter.form.submit();
        });
      });
    }
    // Search: on a phone the facets come after the results, folded; the link above the results opens them.
    var fold = document.querySelector(".facets-fold");
    if (fold) {
      // the stylesheet decides where it folds: it shows the fold's summary only there
      if (getComputedStyle(fold.querySelector("summary")).display !== "none") { fold.open = false; }
      document.querySelectorAll(".to-facets a").forEach(function (link) {
        link.addEventListener("click", function () { fold.open = true; });
      });
    }
    // Compare: at most six ticks.
    var picks = document.querySelectorAll(".compare-form input[name=ids]");
    picks.forEach(function (box) {
      box.addEventListener("change", function () {
        var ticked = document.querySelectorAll(".compare-form input[name=ids]:checked").length;
        picks.forEach(function (other) { if (!other.checked) { other.disabled = ticked >= 6; } });
      });
    });
  });
})();
