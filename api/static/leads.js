// The leads list: the results follow the filters as they are typed (the form also works by
// itself, without this script), and the address keeps them, for the back button and links.
(function () {
  "use strict";
  var form = document.getElementById("lead-filters");
  var results = document.getElementById("results");
  if (!form || !results) return;
  var timer = null, asked = 0;

  function query() {
    var params = new URLSearchParams(new FormData(form));
    Array.from(params.keys()).forEach(function (key) {
      if (!params.get(key)) params.delete(key);
    });
    return params.toString();
  }

  // What the results say when the search could not be asked (never the last answer's words).
  function unanswered() {
    return '<section class="card" aria-labelledby="results-title"><h2 id="results-title">Filters to fix</h2>' +
      '<p class="error" id="filter-errors">The search could not be run with these filters: check them and try again.</p></section>';
  }

  // The filters the answer refuses are marked (the page's first marks went with its answer).
  function marked() {
    form.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    results.querySelectorAll("#filter-errors [data-input]").forEach(function (li) {
      var input = li.dataset.input && document.getElementById(li.dataset.input);
      if (!input) return;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", li.id);
    });
  }

  function update() {
    var mine = ++asked, q = query();
    fetch("/leads?" + (q ? q + "&" : "") + "part=results", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : unanswered(); }, unanswered)
      .then(function (html) {
        if (mine !== asked) return;
        results.innerHTML = html;  // a new answer always replaces the last, its message too
        marked();
        window.history.replaceState(null, "", "/leads" + (q ? "?" + q : ""));
      });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 300);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    update();
  });
})();
