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

  function update() {
    var mine = ++asked, q = query();
    fetch("/leads?" + (q ? q + "&" : "") + "part=results", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null || mine !== asked) return;
        results.innerHTML = html;
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
