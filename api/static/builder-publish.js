// The builder's publishing: the impact preview before a publish (leads already above the
// threshold, with the choice to start it for them; running executions per version, kept or
// moved, and those a move would leave behind), the version history (view a version as frozen,
// roll back to it: a new publish), and pausing or resuming the whole workflow.
(function () {
  "use strict";
  var api = window.followup.api;
  var $ = function (id) { return document.getElementById(id); };
  var B = function () { return window.followupBuilder; };
  var NAMES = {email: "Email", sms: "SMS", in_app: "In-app message"};
  var viewing = null;  // the version number the version dialog shows

  function when(iso) {
    var d = new Date(iso);
    return d.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"});
  }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function wait(minutes) {
    if (!minutes) return "at once";
    if (minutes % 1440 === 0) return plural(minutes / 1440, "day", "days") + " later";
    if (minutes % 60 === 0) return plural(minutes / 60, "hour", "hours") + " later";
    return plural(minutes, "minute", "minutes") + " later";
  }

  // The workflow's status, live version, versions and the pause control.
  function render(w) {
    var badge = $("workflow-status");
    badge.textContent = w.status.charAt(0).toUpperCase() + w.status.slice(1);
    badge.className = "badge " + w.status;
    var live = w.versions.length ? w.versions[w.versions.length - 1].number : null;
    $("live-version").textContent = live ? "Live: version " + live + (w.draftChanged ? " · the draft has unpublished changes" : "") :
      "Not published yet";
    $("pause").hidden = w.status !== "published";
    $("resume").hidden = w.status !== "paused";
    versions(w, live);
  }

  function versions(w, live) {
    var list = $("versions");
    list.innerHTML = "";
    $("no-versions").hidden = w.versions.length > 0;
    w.versions.slice().reverse().forEach(function (v) {
      var li = document.createElement("li"), text = document.createElement("span");
      text.textContent = "Version " + v.number + (v.number === live ? " (live)" : "") + " · " + when(v.publishedAt) +
        (v.restoredFrom ? " · again version " + v.restoredFrom : "");
      var view = document.createElement("button");
      view.type = "button";
      view.className = "button-link";
      view.textContent = "View";
      view.setAttribute("aria-label", "View version " + v.number);
      view.addEventListener("click", function () { show(v.number, live); });
      li.appendChild(text);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(view);
      list.appendChild(li);
    });
  }

  // Viewing a version and rolling back to it --------------------------------------------------

  function show(number, live) {
    api("GET", B().base + "/versions/" + number).then(function (r) {
      viewing = number;
      var d = r.body.definition, body = $("version-body");
      $("version-title").textContent = "Version " + number;
      body.innerHTML = "";
      var facts = document.createElement("dl");
      facts.className = "facts";
      fact(facts, "Published", when(r.body.publishedAt));
      fact(facts, "Starts at score", String(d.trigger.scoreThreshold));
      d.steps.forEach(function (s) {
        fact(facts, "Step " + s.sequence, NAMES[s.channel] + ", " + wait(s.delayMinutes) + " — " + templateName(s));
      });
      Object.keys(d.sendWindows).forEach(function (c) {
        var win = d.sendWindows[c];
        fact(facts, NAMES[c] + " window", win.start + "–" + win.end + ", " + win.weekdays.join(" "));
      });
      body.appendChild(facts);
      $("version-rollback").hidden = number === live;
      $("version-rollback").textContent = "Roll back to version " + number;
      $("version-dialog").showModal();
    }, function (e) { B().status("The version could not be read: " + e.message, "error"); });
  }

  function templateName(step) {
    var found = (B().templates[step.channel] || []).filter(function (t) { return t.id === step.templateId; })[0];
    return found ? found.name : "a template not in your list";
  }

  function fact(dl, term, text) {
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = text;
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function rollback() {
    var number = viewing;
    B().save().then(function () {
      return api("POST", B().base + "/rollback", {version: number});
    }).then(function (r) {
      $("version-dialog").close();
      return B().reload().then(function () {
        B().status("Version " + number + " is live again, as version " + r.body.version +
                   ". The draft is now that version: Undo brings back the draft you had.", "ok");
      });
    }, function (e) { B().status("Not rolled back: " + e.message, "error"); $("version-dialog").close(); });
  }

  // Publishing through the preview -----------------------------------------------------------

  function preview() {
    B().save().then(function () { return api("GET", B().base + "/publish-preview"); }).then(function (r) {
      fill(r.body);
      $("publish-dialog").showModal();
    }, function (e) { B().status("The publish preview could not be read: " + e.message, "error"); });
  }

  function fill(p) {
    $("pp-version").textContent = p.nextVersion;
    var list = $("pp-steps");
    list.innerHTML = "";
    B().draft.steps.forEach(function (s) {
      var li = document.createElement("li");
      li.textContent = NAMES[s.channel] + ", " + wait(s.delayMinutes) + " — " + templateName(s);
      list.appendChild(li);
    });
    var problems = B().state.problems, box = $("pp-problems");
    box.hidden = problems.length === 0;
    box.textContent = problems.length ? "It cannot be published yet: " + problems.map(function (x) { return x.field + ": " + x.reason; }).join("; ") +
      ". Fix what \u201cBefore publishing\u201d lists." : "";
    $("pp-confirm").disabled = problems.length > 0 || !!p.problem;
    $("pp-backfill-count").textContent = p.backfillCandidates ?
      plural(p.backfillCandidates, "lead is", "leads are") + " already at or above the threshold. Left alone, they start only when their score rises to it again." :
      "No lead is at or above the threshold now.";
    $("pp-backfill").checked = false;
    $("pp-backfill").disabled = !p.backfillCandidates;
    running(p);
    $("pp-error").hidden = true;
  }

  function running(p) {
    var versions = Object.keys(p.runningExecutions);
    $("pp-running").textContent = versions.length ? versions.map(function (v) {
      return plural(p.runningExecutions[v], "lead", "leads") + " on version " + v; }).join(", ") + "." :
      "No lead is running an earlier version.";
    document.querySelector('input[name="migrate"][value="keep"]').checked = true;
    $("pp-move").disabled = !versions.length || p.moveBlockedBy.length > 0;
    $("pp-migrate-choice").hidden = !versions.length;  // nobody to keep or move
    var blocked = $("pp-blocked");
    blocked.hidden = p.moveBlockedBy.length === 0;
    blocked.textContent = p.moveBlockedBy.length ? plural(p.moveBlockedBy.length, "lead has", "leads have") +
      " reached a step the new version does not have (" + p.moveBlockedBy.map(function (b) { return "step " + b.currentStep; }).join(", ") +
      "), so they cannot move: keep them on their version." : "";
  }

  function publish() {
    var migrate = document.querySelector('input[name="migrate"]:checked').value;
    $("pp-confirm").disabled = true;
    api("POST", B().base + "/publish", {backfill: $("pp-backfill").checked, migrate: migrate}).then(function (r) {
      $("publish-dialog").close();
      return B().reload().then(function () {
        var p = r.body;
        B().status("Published version " + p.version + "." + (p.backfilled ? " Started for " + plural(p.backfilled, "lead", "leads") + " already above the threshold." : "") +
                   (p.migrated ? " " + plural(p.migrated, "lead", "leads") + " moved to it." : ""), "ok");
        $("publish").focus();
      });
    }, function (e) {
      var error = $("pp-error");
      error.textContent = "Not published: " + e.message;
      error.hidden = false;
      $("pp-confirm").disabled = false;
    });
  }

  // Pause and resume -----------------------------------------------------------------------------

  function hold(action) {
    api("POST", B().base + "/" + action).then(function () {
      return B().reload();
    }).then(function () {
      B().status(action === "pause" ? "Paused: no lead enters, nothing is sent, until you resume." :
                                      "Resumed: steps held meanwhile go out now.", "ok");
      $(action === "pause" ? "resume" : "pause").focus();
    }, function (e) { B().status("Not done: " + e.message, "error"); });
  }

  $("publish").addEventListener("click", preview);
  $("pp-confirm").addEventListener("click", publish);
  $("pp-cancel").addEventListener("click", function () { $("publish-dialog").close(); });
  $("version-rollback").addEventListener("click", rollback);
  $("version-close").addEventListener("click", function () { $("version-dialog").close(); });
  $("pause").addEventListener("click", function () { hold("pause"); });
  $("resume").addEventListener("click", function () { hold("resume"); });

  window.followupPublish = {render: render};
})();
