// The builder of one workflow (/workflows/{id}), over the JSON API. It reads the draft with its
// ETag, and saves each change a moment after the last keystroke (PUT with If-Match; a 412 means
// someone else changed it: the page reloads it and says so). Undo and redo go through the
// draft's own history on the server, so they survive a reload (buttons, Ctrl/Cmd+Z and
// Ctrl/Cmd+Shift+Z outside text fields, which keep their own undo). The problems publishing
// would refuse are shown on the cards that are wrong. Steps: builder-steps.js; publishing,
// versions, pause: builder-publish.js.
(function () {
  "use strict";
  var api = window.followup.api, say = window.followup.say;
  var UNITS = {minutes: 1, hours: 60, days: 1440};
  var SAVE_AFTER_MS = 700;
  var root = document.getElementById("builder");
  if (!root) return;
  var base = "/api/workflows/" + root.dataset.workflowId;
  var $ = function (id) { return document.getElementById(id); };
  var statusLine = $("save-status");

  // refused: the page holds a change the server refused (not saved, so not in the draft's
  // history): undo takes it back, and redo waits until it is fixed or taken back.
  var S = {etag: null, workflow: null, dirty: false, refused: false, timer: null, saving: null,
           saveErrors: [], problems: [], units: {}};
  var ctx = {draft: {steps: []}, templates: {email: [], sms: [], in_app: []},
             changed: changed, preview: preview, newTemplate: newTemplate};
  var steps = window.followupSteps(ctx);

  // Loading ----------------------------------------------------------------------------------

  function took(result) {
    S.etag = result.response.headers.get("ETag") || S.etag;
    S.workflow = result.body;
    return result.body;
  }

  function load(body) {
    var d = JSON.parse(JSON.stringify(body));
    ctx.draft.name = d.name;
    ctx.draft.trigger = d.trigger;
    ctx.draft.sendWindows = d.sendWindows || {};
    ctx.draft.businessDaysOnly = d.businessDaysOnly;
    ctx.draft.steps.length = 0;
    d.steps.forEach(function (s) { ctx.draft.steps.push(s); });
    S.units.trigger = unitOf(d.trigger.delayMinutes);
    S.saveErrors = [];
    S.refused = false;
    renderAll();
  }

  function reload() {
    return api("GET", base).then(function (r) { load(took(r)); return problems(); });
  }

  // The templates the workflow's steps may use, as the page lists them (data, not script).
  function templates() {
    JSON.parse($("template-choices").textContent).forEach(function (t) { ctx.templates[t.channel].push(t); });
  }

  function unitOf(minutes) {
    if (minutes && minutes % 1440 === 0) return "days";
    if (minutes && minutes % 60 === 0) return "hours";
    return "minutes";
  }

  // Rendering the draft into the form ---------------------------------------------------------

  function renderAll() {
    var d = ctx.draft, t = d.trigger;
    $("wf-name").value = d.name;
    $("workflow-title").textContent = d.name;
    $("tr-threshold").value = t.scoreThreshold;
    $("tr-type").value = t.triggerType;
    $("tr-delay").hidden = t.triggerType !== "delayed";
    $("tr-delay-unit").value = S.units.trigger;
    $("tr-delay-amount").value = t.triggerType === "delayed" ? t.delayMinutes / UNITS[S.units.trigger] : "";
    $("tr-reentry").value = t.reentry.mode;
    $("tr-reentry-days-field").hidden = t.reentry.mode !== "after_days";
    $("tr-reentry-days").value = t.reentry.days == null ? "" : t.reentry.days;
    $("tr-hysteresis").value = t.hysteresis;
    $("tr-priority").value = t.priority;
    $("tr-group").value = t.exclusiveGroup || "";
    $("tr-registration").value = t.onRegistration;
    window.followupConditions.render(t.conditions);
    renderWindows();
    $("business-days").checked = !!d.businessDaysOnly;
    steps.render();
    renderState();
  }

  function renderWindows() {
    document.querySelectorAll("[data-window]").forEach(function (set) {
      var w = ctx.draft.sendWindows[set.dataset.window];
      set.querySelector("[data-window-on]").checked = !!w;
      set.querySelector("[data-window-detail]").hidden = !w;
      set.querySelector("[data-window-start]").value = w ? w.start : "09:00";
      set.querySelector("[data-window-end]").value = w ? (w.end === "24:00" ? "23:59" : w.end) : "17:00";
      set.querySelectorAll("[data-window-day]").forEach(function (box) {
        box.checked = w ? w.weekdays.indexOf(box.value) >= 0 : true;
      });
    });
  }

  // The workflow's state around the draft: status, versions, what undo and redo can do.
  function renderState() {
    var w = S.workflow;
    $("undo").disabled = !(w.canUndo || S.dirty || S.refused);
    $("redo").disabled = !w.canRedo || S.dirty || S.refused;
    window.followupPublish.render(w);
  }

  // Reading the form into the draft ------------------------------------------------------------

  function num(id) { var v = $(id).valueAsNumber; return isNaN(v) ? null : v; }

  function bindTrigger() {
    var t = function () { return ctx.draft.trigger; };
    on("wf-name", "input", function (el) { ctx.draft.name = el.value; });
    on("tr-threshold", "input", function () { t().scoreThreshold = num("tr-threshold"); });
    on("tr-type", "change", function (el) {
      t().triggerType = el.value;
      $("tr-delay").hidden = el.value !== "delayed";
      if (el.value === "delayed" && !$("tr-delay-amount").value) $("tr-delay-amount").value = 1;
      triggerDelay();
    });
    on("tr-delay-amount", "input", triggerDelay);
    on("tr-delay-unit", "change", triggerDelay);
    on("tr-reentry", "change", function (el) {
      t().reentry.mode = el.value;
      $("tr-reentry-days-field").hidden = el.value !== "after_days";
      if (el.value === "after_days" && !$("tr-reentry-days").value) $("tr-reentry-days").value = 30;
      t().reentry.days = el.value === "after_days" ? num("tr-reentry-days") : null;
    });
    on("tr-reentry-days", "input", function () { t().reentry.days = num("tr-reentry-days"); });
    on("tr-hysteresis", "input", function () { t().hysteresis = num("tr-hysteresis"); });
    on("tr-priority", "input", function () { t().priority = num("tr-priority"); });
    on("tr-group", "input", function (el) { t().exclusiveGroup = el.value.trim() || null; });
    on("tr-registration", "change", function (el) { t().onRegistration = el.value; });
    on("business-days", "change", function (el) { ctx.draft.businessDaysOnly = el.checked; });
  }

  function triggerDelay() {
    var t = ctx.draft.trigger;
    S.units.trigger = $("tr-delay-unit").value;
    var amount = num("tr-delay-amount");
    t.delayMinutes = t.triggerType !== "delayed" ? 0 : amount == null ? null : amount * UNITS[S.units.trigger];
  }

  function on(id, kind, read) {
    $(id).addEventListener(kind, function (event) { read(event.currentTarget); changed(); });
  }

  function bindWindows() {
    document.querySelectorAll("[data-window]").forEach(function (set) {
      var channel = set.dataset.window;
      function read() {
        var enabled = set.querySelector("[data-window-on]").checked;
        set.querySelector("[data-window-detail]").hidden = !enabled;
        if (!enabled) { delete ctx.draft.sendWindows[channel]; return; }
        var days = [];
        set.querySelectorAll("[data-window-day]").forEach(function (box) { if (box.checked) days.push(box.value); });
        ctx.draft.sendWindows[channel] = {start: set.querySelector("[data-window-start]").value,
                                          end: set.querySelector("[data-window-end]").value, weekdays: days};
      }
      set.addEventListener("change", function () { read(); changed(); });
    });
  }

  // What goes to PUT /api/workflows/{id}.
  function body() {
    var d = ctx.draft;
    return {
      name: d.name, trigger: d.trigger, businessDaysOnly: !!d.businessDaysOnly,
      sendWindows: d.sendWindows,
      steps: d.steps.map(function (s) {
        return {id: s.id, channel: s.channel, templateId: s.templateId || null,
                delay: {amount: s.delayMinutes == null ? null : s.delayMinutes / UNITS[s._unit], unit: s._unit},
                conditions: s.conditions.map(function (c) {
                  return c.kind === "score_at_least" ? {kind: c.kind, value: c.value} : {kind: c.kind};
                })};
      })
    };
  }

  // Saving ----------------------------------------------------------------------------------

  function changed() {
    S.dirty = true;
    say(statusLine, "Unsaved changes…");
    window.clearTimeout(S.timer);
    S.timer = window.setTimeout(save, SAVE_AFTER_MS);
    renderState();
  }

  // Saves what is unsaved; resolves once the draft on the server is the page's (or a save was
  // refused: then with false).
  function save() {
    window.clearTimeout(S.timer);
    if (S.saving) return S.saving.then(function () { return S.dirty ? save() : true; });
    if (!S.dirty) return Promise.resolve(true);
    S.dirty = false;
    say(statusLine, "Saving…");
    S.saving = api("PUT", base, body(), {"If-Match": S.etag}).then(function (r) {
      took(r);
      S.saveErrors = [];
      S.refused = false;
      say(statusLine, S.dirty ? "Unsaved changes…" : "All changes saved.", "ok");
      return problems().then(function () { return true; });
    }, refusedSave).then(function (ok) {
      S.saving = null;
      renderState();
      return S.dirty ? save() : ok;
    });
    return S.saving;
  }

  function refusedSave(e) {
    if (e.status === 412) {
      S.dirty = false;
      return reload().then(function () {
        alertOnce("This workflow was changed elsewhere (another tab or another person) after this page read it. " +
                  "It has been reloaded as it is now; your last change was not saved, so make it again if you still want it.");
        say(statusLine, "Reloaded: changed elsewhere.", "error");
        return false;
      });
    }
    S.saveErrors = e.status === 422 ? e.fields || [] : [];
    S.refused = true;
    say(statusLine, "Not saved: " + (e.status === 422 ? "fix the field marked below." : e.message), "error");
    showErrors();
    return false;
  }

  function alertOnce(text) {
    var box = $("builder-alert");
    box.textContent = text;
    box.hidden = false;
  }

  // A change still waiting when the page goes away is sent anyway.
  window.addEventListener("pagehide", function () {
    if (!S.dirty || S.saving) return;
    fetch(base, {method: "PUT", keepalive: true, credentials: "same-origin", body: JSON.stringify(body()),
                 headers: {"Content-Type": "application/json", "If-Match": S.etag,
                           "X-CSRF-Token": window.followup.csrf()}});
  });

  // Problems and refusals, on the cards that are wrong ------------------------------------------

  function problems() {
    return api("GET", base + "/problems").then(function (r) {
      S.problems = r.body.problems;
      showErrors();
    });
  }

  // The trigger's wait goes as minutes: its limit is said in the unit the agent chose.
  function inUnit(f) {
    var most = /^must be at most (\d+)$/.exec(f.reason), unit = S.units.trigger;
    if (f.field !== "body.trigger.delayMinutes" || !most || !UNITS[unit]) return f.reason;
    return "must be at most " + Math.floor(+most[1] / UNITS[unit]) + " " + unit;
  }

  function showErrors() {
    window.followupErrors.show(S.saveErrors.map(function (f) {
      return {field: f.field.replace(/^body\./, ""), reason: inUnit(f), refused: true};
    }).concat(S.problems), steps.cardOf);
  }

  // Undo and redo -----------------------------------------------------------------------------

  function history(action) {
    if (action === "undo" && S.refused && !S.dirty) {  // the change that was not saved goes
      window.clearTimeout(S.timer);
      return reload().then(function () {
        renderState();
        say(statusLine, "Undone: the change that was not saved is taken back.", "ok");
      });
    }
    return save().then(function (saved) {
      if (saved === false) return;
      return api("POST", base + "/" + action, undefined, {"If-Match": S.etag}).then(function (r) {
        load(took(r));
        say(statusLine, action === "undo" ? "Undone: the draft is back to before its last change." :
                                             "Redone: the change is back.", "ok");
        return problems();
      }, function (e) {
        if (e.status === 412) return refusedSave(e);
        say(statusLine, action === "undo" ? "Nothing to undo." : "Nothing to redo.", "error");
      });
    });
  }

  function typing(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/.test(el.type);
  }

  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || typing(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    var key = event.key.toLowerCase();
    if (key === "z" || key === "y") {
      event.preventDefault();
      history(key === "y" || event.shiftKey ? "redo" : "undo");
    }
  });
  $("undo").addEventListener("click", function () { history("undo"); });
  $("redo").addEventListener("click", function () { history("redo"); });

  // Templates: the sample preview under a step's picker, and one made on the spot ---------------

  var previews = {};
  function preview(step, el) {
    el.textContent = "";
    if (!step.templateId) return;
    var id = step.templateId;
    previews[id] = previews[id] || api("GET", "/api/templates/" + id + "/preview").then(function (r) {
      var text = (r.body.subject ? r.body.subject + " — " : "") + (r.body.body || "");
      return text.length > 140 ? text.slice(0, 139) + "…" : text;
    }).catch(function () { return ""; });
    previews[id].then(function (text) { if (step.templateId === id && text) el.textContent = "Sample: " + text; });
  }

  function newTemplate(li, step) {
    var form = li.querySelector("[data-new-template]"), open = li.querySelector('[data-action="new-template"]');
    var field = function (name) { return li.querySelector('[data-id="nt-' + name + '"]'); };
    function show(visible) {
      form.hidden = !visible;
      open.setAttribute("aria-expanded", String(visible));
      (visible ? field("name") : open).focus();
    }
    li.addEventListener("click", function (event) {
      var action = event.target.closest("button") && event.target.closest("button").dataset.action;
      if (action === "new-template") show(form.hidden);
      if (action === "cancel-template") show(false);
      if (action === "save-template") saveTemplate(step, field, show);
    });
  }

  function saveTemplate(step, field, show) {
    clearTemplateFields(field);
    var made = {name: field("name").value, channel: step.channel, body: field("body").value};
    if (step.channel !== "sms" && field("subject").value) made.subject = field("subject").value;
    api("POST", "/api/templates", made).then(function (r) {
      ctx.templates[step.channel].push(r.body);
      step.templateId = r.body.id;
      steps.refreshTemplates();
      show(false);
      changed();
    }, function (e) {
      var error = field("error"), placed = false;
      (e.fields || []).forEach(function (f) {
        var name = f.field.replace(/^body\./, ""), input = NEW_TEMPLATE[name] && field(NEW_TEMPLATE[name]);
        if (!input) return;
        markTemplateField(input, field(NEW_TEMPLATE[name] + "-error"), window.followup.lined(f));
        if (!placed) input.focus();
        placed = true;
      });
      error.textContent = placed ? "Not saved: see the fields marked." : e.message;
      error.hidden = false;
    });
  }

  // The inline template's fields by the API's names (a refusal is shown on its own field).
  var NEW_TEMPLATE = {name: "name", subject: "subject", body: "body"};

  function clearTemplateFields(field) {
    Object.keys(NEW_TEMPLATE).forEach(function (key) {
      var input = field(NEW_TEMPLATE[key]), note = field(NEW_TEMPLATE[key] + "-error");
      if (!input || !note) return;
      note.hidden = true;
      note.textContent = "";
      input.removeAttribute("aria-invalid");
      var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) { return id && id !== note.id; });
      if (ids.length) input.setAttribute("aria-describedby", ids.join(" ")); else input.removeAttribute("aria-describedby");
    });
    field("error").hidden = true;
    field("error").textContent = "";
  }

  function markTemplateField(input, note, text) {
    note.textContent = text;
    note.hidden = false;
    input.setAttribute("aria-invalid", "true");
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (ids.indexOf(note.id) < 0) ids.push(note.id);
    input.setAttribute("aria-describedby", ids.join(" "));
  }

  // Start -------------------------------------------------------------------------------------

  window.followupBuilder = {base: base, reload: reload, save: save, took: took, status: function (t, k) { say(statusLine, t, k); },
                            state: S, draft: ctx.draft, templates: ctx.templates};
  bindTrigger();
  bindWindows();
  window.followupConditions.bind(changed);
  templates();
  reload().then(function () {
    say(statusLine, "All changes saved.");
  }, function (e) { say(statusLine, "The draft could not be read: " + e.message, "error"); });
})();
