// The builder's trigger conditions (lead field, operator, value) and its error marks: each
// problem of the draft (GET /api/workflows/{id}/problems, the checks publishing makes) and each
// field a save was refused for (422) is shown next to the control that is wrong, tied to it by
// aria-describedby, and listed in "Before publishing" with a link to it.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var counter = 0;

  // Lead conditions of the trigger ------------------------------------------------------------

  var conditions = null, changed = function () {};

  function parse(op, text) {
    if (op === "in") return text.split(",").map(function (v) { return coerce(v.trim()); }).filter(function (v) { return v !== ""; });
    if (op === "gte" || op === "lte") { var n = Number(text); return text.trim() === "" || isNaN(n) ? null : n; }
    return coerce(text.trim());
  }

  function coerce(text) {
    return text !== "" && !isNaN(Number(text)) ? Number(text) : text;
  }

  function shown(value) {
    return Array.isArray(value) ? value.join(", ") : value == null ? "" : String(value);
  }

  function row(condition) {
    var li = $("lead-condition-template").content.firstElementChild.cloneNode(true);
    var prefix = "tc" + (++counter);
    li.querySelectorAll("[data-id]").forEach(function (el) { el.id = prefix + "-" + el.dataset.id; });
    li.querySelectorAll("[data-for]").forEach(function (el) { el.htmlFor = prefix + "-" + el.dataset.for; });
    var field = li.querySelector('[data-id="field"]'), key = li.querySelector('[data-id="key"]');
    var op = li.querySelector('[data-id="op"]'), value = li.querySelector('[data-id="value"]');
    var preference = condition.field.indexOf("preferences.") === 0;
    field.value = preference ? "preferences." : condition.field;
    key.value = preference ? condition.field.slice("preferences.".length) : "";
    op.value = condition.op;
    value.value = shown(condition.value);
    function fit() {
      var allowed = field.selectedOptions[0].dataset.ops.split(" ");
      Array.prototype.forEach.call(op.options, function (o) { o.hidden = o.disabled = allowed.indexOf(o.value) < 0; });
      if (allowed.indexOf(op.value) < 0) op.value = allowed[0];
      li.querySelector("[data-key-field]").hidden = field.value !== "preferences.";
      value.inputMode = op.value === "gte" || op.value === "lte" ? "decimal" : "text";
    }
    function read() {
      fit();
      condition.field = field.value === "preferences." ? "preferences." + key.value.trim() : field.value;
      condition.op = op.value;
      condition.value = parse(op.value, value.value);
      changed();
    }
    fit();
    [field, op].forEach(function (el) { el.addEventListener("change", read); });
    [key, value].forEach(function (el) { el.addEventListener("input", read); });
    li.querySelector('[data-action="remove-condition"]').addEventListener("click", function () {
      conditions.splice(conditions.indexOf(condition), 1);
      li.remove();
      labels();
      $("tr-add-condition").focus();
      changed();
    });
    return li;
  }

  function labels() {
    document.querySelectorAll("#tr-conditions [data-condition]").forEach(function (li, j) {
      li.querySelector("[data-which]").textContent = " lead condition " + (j + 1);
    });
  }

  window.followupConditions = {
    render: function (list) {
      conditions = list;
      var ul = $("tr-conditions");
      ul.innerHTML = "";
      list.forEach(function (c) { ul.appendChild(row(c)); });
      labels();
    },
    bind: function (onChange) {
      changed = onChange;
      $("tr-add-condition").addEventListener("click", function () {
        var condition = {field: "source", op: "eq", value: ""};
        conditions.push(condition);
        var li = row(condition);
        $("tr-conditions").appendChild(li);
        labels();
        li.querySelector("select").focus();
        changed();
      });
    }
  };

  // Errors on the controls that are wrong ------------------------------------------------------

  var TRIGGER = {scoreThreshold: "tr-threshold", delayMinutes: "tr-delay-amount", reentry: "tr-reentry-days",
                 hysteresis: "tr-hysteresis", priority: "tr-priority", exclusiveGroup: "tr-group",
                 triggerType: "tr-type", onRegistration: "tr-registration"};
  var NAMES = {scoreThreshold: "score threshold", delayMinutes: "delay", reentry: "entering again",
               hysteresis: "hysteresis", priority: "priority", exclusiveGroup: "exclusive group",
               templateId: "template", delay: "wait", conditions: "conditions"};

  // Where a problem's field is shown: [the error's element, the control it is about, a name].
  function place(field, cardOf) {
    var m = /^steps\[(\d+)\](?:\.(\w+))?(?:\[(\d+)\])?/.exec(field);
    if (m) return stepPlace(+m[1], m[2] || "", m[3], cardOf);
    m = /^trigger\.(\w+)(?:\[(\d+)\])?/.exec(field);
    if (m && m[1] === "conditions" && m[2] != null) {
      var row = document.querySelectorAll("#tr-conditions [data-condition]")[+m[2]];
      if (row) return [row.querySelector('[data-id="error"]'), row.querySelector("select"), "Trigger, lead condition " + (+m[2] + 1)];
    }
    if (m && TRIGGER[m[1]]) return [$(TRIGGER[m[1]] + "-error") || $("builder-alert"), $(TRIGGER[m[1]]), "Trigger, " + (NAMES[m[1]] || m[1])];
    m = /^sendWindows\.(\w+)/.exec(field);
    if (m && $("win-" + m[1] + "-error")) return [$("win-" + m[1] + "-error"), $("win-" + m[1] + "-on"), "When to send, " + m[1]];
    // No steps: the summary's link goes to the palette, but no button of it is wrong.
    if (field === "steps") return [$("steps-error"), null, "Steps", document.querySelector(".add-step")];
    if (field === "businessDaysOnly") return [$("business-days-error"), $("business-days"), "Business days"];
    if (field === "name") return [$("wf-name-error"), $("wf-name"), "Name"];
    return [$("builder-alert"), null, field];
  }

  function stepPlace(index, part, item, cardOf) {
    var card = cardOf(index), name = "Step " + (index + 1);
    if (!card) return [$("steps-error"), null, name];
    if (part === "conditions" && item != null) {
      var row = card.querySelectorAll("[data-condition]")[+item];
      if (row) return [row.querySelector('[data-id="error"]'), row.querySelector("select"), name + ", condition " + (+item + 1)];
    }
    var slot = {templateId: "template", delay: "delay", delayMinutes: "delay", conditions: "conditions"}[part] || "template";
    var control = card.querySelector('[data-id="' + (slot === "conditions" ? "template" : slot) + '"]');
    return [card.querySelector('[data-id="' + slot + '-error"]'), control, name + ", " + (NAMES[part] || "step")];
  }

  function clear() {
    document.querySelectorAll("[data-marked]").forEach(function (el) {
      if (el.classList.contains("field-error") || el.id === "builder-alert") { el.hidden = true; el.textContent = ""; }
      else {
        el.removeAttribute("aria-invalid");
        if (el.dataset.describedby) { el.setAttribute("aria-describedby", el.dataset.describedby); }
        else { el.removeAttribute("aria-describedby"); }
      }
      delete el.dataset.marked;
    });
  }

  function mark(error, control, text) {
    error.textContent = error.dataset.marked ? error.textContent + " " + text : text;
    error.hidden = false;
    error.dataset.marked = "1";
    if (!error.id) error.id = "err-" + (++counter);
    if (control && !control.dataset.marked) {
      control.dataset.describedby = control.getAttribute("aria-describedby") || "";
      control.setAttribute("aria-describedby", (control.dataset.describedby + " " + error.id).trim());
      control.setAttribute("aria-invalid", "true");
      control.dataset.marked = "1";
    }
  }

  function summary(found) {
    var list = $("problems");
    list.innerHTML = "";
    $("problems-none").hidden = found.length > 0;
    found.forEach(function (p) {
      var li = document.createElement("li"), target = p.control;
      var text = (p.refused ? "Not saved — " : "") + p.name + ": " + p.reason;
      if (target && target.id) {
        var a = document.createElement("a");
        a.href = "#" + target.id;
        a.textContent = text;
        a.addEventListener("click", function (event) { event.preventDefault(); target.focus(); });
        li.appendChild(a);
      } else {
        li.textContent = text;
      }
      li.className = p.refused ? "error" : "";
      list.appendChild(li);
    });
  }

  window.followupErrors = {
    show: function (problems, cardOf) {
      clear();
      var found = problems.map(function (p) {
        var at = place(p.field, cardOf);
        mark(at[0], at[1], (p.refused ? "Not saved: " : "") + p.reason);
        return {name: at[2], control: at[1] || at[3], reason: p.reason, refused: p.refused};
      });
      summary(found);
    }
  };
})();
