// The lead page: its forms post to the JSON API (app.js); after a change, and whenever the
// lead's history moves (server-sent events from /leads/{id}/events), the parts that show it
// are fetched again and swapped in, and new timeline entries are added at the top.
(function () {
  "use strict";
  var page = document.getElementById("lead-page");
  if (!page) return;
  var lead = page.dataset.leadId;
  var said = document.getElementById("lead-said");
  // Which parts an entry of each aggregate can change (forms are left alone while in use).
  var MOVES = {Lead: ["summary", "status", "consent", "profile", "score"],
               WorkflowExecution: ["executions"], Message: ["inbox", "executions"]};

  // A part is left alone while the agent is in one of its fields, has the profile's edit form
  // open, or has changed the status or profile form and not sent it: a live update would
  // otherwise close the form or put back what they chose. (The follow-ups keep moving: a
  // resume policy chosen there is lost to an update.)
  function inUse(holder) {
    var el = document.activeElement;
    return holder.dataset.unsent === "yes" || !!holder.querySelector("details.edit[open]") ||
           (holder.contains(el) && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName));
  }
  ["input", "change"].forEach(function (kind) {
    page.addEventListener(kind, function (event) {
      var holder = event.target.closest && event.target.closest("#part-status, #part-profile");
      if (holder && event.target.form) holder.dataset.unsent = "yes";
    });
  });

  // Where the keyboard was, to put it back after the part is swapped: the same control, else
  // the first control of the same execution.
  function place(holder) {
    var el = document.activeElement;
    if (!holder.contains(el)) return null;
    var item = el.closest(".execution");
    return {id: el.id, item: item && item.id};
  }

  function restore(spot) {
    if (!spot) return;
    var el = (spot.id && document.getElementById(spot.id)) ||
             (spot.item && document.querySelector("#" + spot.item + " button"));
    if (el) el.focus();
  }

  // The newest fetch of each part: an answer to an older one (answers may arrive out of
  // order) would put back what the page has already moved past, and is dropped.
  var asked = {};

  function refresh(parts) {
    parts.forEach(function (part) {
      var holder = document.getElementById("part-" + part);
      if (!holder || inUse(holder)) return;
      var mine = asked[part] = (asked[part] || 0) + 1;
      fetch("/leads/" + lead + "/parts/" + part, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null || mine !== asked[part] || inUse(holder)) return;
          var spot = place(holder);
          holder.innerHTML = html;
          restore(spot);
          if (part === "status") offer();
        });
    });
  }

  function followUps(n) { return n + (n === 1 ? " follow-up" : " follow-ups"); }

  // After a form of the page succeeded: what it said, and the parts it changes.
  document.addEventListener("followup:done", function (event) {
    var form = event.detail.form, answer = event.detail.body || {};
    var part = form.dataset.part;
    var holder = form.closest("[id^='part-']");
    if (holder) {  // sent: live updates may swap it again
      delete holder.dataset.unsent;
      var editing = holder.querySelector("details.edit[open]");
      if (editing) editing.open = false;
    }
    if (part === "status") {
      var text = "Status is now " + answer.status + ".";
      if (answer.pausedExecutions && answer.pausedExecutions.length)
        text += " Paused " + followUps(answer.pausedExecutions.length) + ".";
      if (answer.resumedExecutions && answer.resumedExecutions.length)
        text += " Resumed " + followUps(answer.resumedExecutions.length) + ".";
      if (answer.resumableExecutions && answer.resumableExecutions.length)
        text += " " + followUps(answer.resumableExecutions.length) +
                (answer.resumableExecutions.length === 1 ? " stays" : " stay") +
                " paused: resume " + (answer.resumableExecutions.length === 1 ? "it" : "them") + " below.";
      window.followup.say(said, text, "ok");
      refresh(["summary", "status", "executions"]);
    } else if (part === "profile") {
      window.followup.say(said, "Profile saved.", "ok");
      refresh(["summary", "profile"]);
    } else if (part) {
      refresh([part]);
    }
  });

  // The offer to resume what Closed or Lost paused shows while the chosen status reopens the
  // lead; while it stays Closed or Lost it is hidden and not sent.
  function offer() {
    var select = document.getElementById("status-select");
    var choice = document.querySelector("#part-status .resume-choice");
    if (!select || !choice) return;
    var stays = (page.dataset.stopping || "").split(" ").indexOf(select.value) >= 0;
    choice.hidden = choice.disabled = stays;
  }
  document.addEventListener("change", function (event) {
    if (event.target.id === "status-select") offer();
  });

  // "Show earlier entries": the next batch of the timeline, below what it shows (in a list of
  // its own, so a screen reader's live timeline does not read a hundred entries out).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#show-earlier");
    if (!button || button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    fetch("/leads/" + lead + "/earlier?before=" + button.dataset.before, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r); })
      .then(function (html) {
        var batch = document.createElement("div");
        batch.innerHTML = html;
        var next = batch.querySelector("#next-more");
        batch.removeChild(next);
        document.getElementById("timeline-earlier").insertAdjacentHTML("beforeend", batch.innerHTML);
        document.getElementById("timeline-more").outerHTML = next.innerHTML;
        var more = document.getElementById("show-earlier") || document.getElementById("timeline-more");
        if (more) more.focus();
      }, function () {
        button.removeAttribute("aria-busy");
        window.followup.say(said, "The earlier entries could not be loaded: try again.", "error");
      });
  });

  function follow() {
    if (!window.EventSource) return;
    var live = document.getElementById("live-state");
    var source = new EventSource("/leads/" + lead + "/events?after=" + page.dataset.after);
    source.addEventListener("history", function (event) {
      var news = JSON.parse(event.data);
      document.getElementById("timeline").insertAdjacentHTML("afterbegin", news.html);
      page.dataset.after = event.lastEventId;
      var parts = {};
      news.kinds.forEach(function (kind) {
        (MOVES[kind.split(".")[0]] || []).forEach(function (p) { parts[p] = true; });
      });
      refresh(Object.keys(parts));
    });
    source.addEventListener("open", function () { if (live) live.textContent = "Updates by itself"; });
    source.addEventListener("error", function () {
      if (live) live.textContent = source.readyState === EventSource.CLOSED
        ? "Not updating: reload the page" : "Reconnecting…";
    });
  }

  offer();
  follow();
})();
