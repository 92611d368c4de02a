// Dead letters: what a replay of all of them did, said in words (the list is fetched again).
(function () {
  "use strict";
  document.addEventListener("followup:done", function (event) {
    var form = event.detail.form, report = event.detail.body || {};
    if (form.dataset.report !== "replay") return;
    var text = "Replayed " + (report.replayed || []).length + ".";
    (report.refused || []).forEach(function (r) { text += " Not replayed: " + r.reason + "."; });
    window.followup.say(event.detail.said, text, "ok");
  });
})();
