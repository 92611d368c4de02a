// The builder's steps: each step a card made from <template id="step-template">, added from
// the palette (drag a channel, or press its button), reordered by drag and drop (SortableJS,
// forceFallback so pointer events drive it) and by keyboard alone (focus a step's handle, Space
// lifts it, the arrow keys move it, Space drops it, Escape puts it back; a live region says
// "step 2 of 3"), or with its Move up / Move down buttons; duplicated; removed. builder.js owns
// the draft and saves it: this file changes ctx.draft.steps and calls ctx.changed().
(function () {
  "use strict";
  var UNITS = {minutes: 1, hours: 60, days: 1440};
  var NAMES = {email: "Email", sms: "SMS", in_app: "In-app message"};

  function unitOf(minutes) {
    if (minutes && minutes % 1440 === 0) return "days";
    if (minutes && minutes % 60 === 0) return "hours";
    return "minutes";
  }

  function number(input) {
    var value = input.valueAsNumber;
    return isNaN(value) ? null : value;
  }

  function newId() {
    return "step-" + Date.now().toString(36) + Math.random().toString(36).slice(2, 7);
  }

  window.followupSteps = function (ctx) {
    var list = document.getElementById("steps");
    var template = document.getElementById("step-template");
    var conditionTemplate = document.getElementById("step-condition-template");
    var status = document.getElementById("reorder-status");
    var palette = document.getElementById("palette");
    var lifted = null;  // {step, from}: the step being moved by keyboard
    var counter = 0;

    function steps() { return ctx.draft.steps; }
    function indexOf(step) { return steps().indexOf(step); }
    function say(text) { status.textContent = ""; window.setTimeout(function () { status.textContent = text; }, 30); }
    function position(step) { return "step " + (indexOf(step) + 1) + " of " + steps().length; }
    function describe(step) { return NAMES[step.channel] + ", " + position(step); }

    // A step as the builder holds it: the API's step, a DOM key and the unit its delay shows in.
    function adopt(step) {
      step._key = step._key || "k" + (++counter);
      step.id = step.id || newId();
      step._unit = step._unit || unitOf(step.delayMinutes);
      step.conditions = step.conditions || [];
      return step;
    }

    function fresh(channel) {
      return adopt({channel: channel, templateId: null, delayMinutes: channel === "email" &&
                    steps().length === 0 ? 0 : 1440, conditions: []});
    }

    function copy(step) {
      var twin = JSON.parse(JSON.stringify(step, function (k, v) { return k[0] === "_" ? undefined : v; }));
      twin.id = newId();
      twin._unit = step._unit;
      return adopt(twin);
    }

    // Cards ----------------------------------------------------------------------------------

    function card(step) {
      var li = template.content.firstElementChild.cloneNode(true);
      li.dataset.key = step._key;
      li.dataset.channel = step.channel;
      li._step = step;
      ids(li, "s-" + step._key);
      fillTemplates(li, step);
      var unit = li.querySelector('[data-id="unit"]');
      unit.value = step._unit;
      li.querySelector('[data-id="delay"]').value = step.delayMinutes == null ? "" :
        step.delayMinutes / UNITS[step._unit];
      step.conditions.forEach(function (c) { li.querySelector("[data-conditions]").appendChild(conditionRow(step, c)); });
      label(li, step);
      bindCard(li, step);
      return li;
    }

    // Gives each copied id a prefix, and points each label at its input.
    function ids(root, prefix) {
      root.querySelectorAll("[data-id]").forEach(function (el) { el.id = prefix + "-" + el.dataset.id; });
      root.querySelectorAll("[data-for]").forEach(function (el) { el.htmlFor = prefix + "-" + el.dataset.for; });
    }

    function fillTemplates(li, step) {
      var select = li.querySelector('[data-id="template"]');
      select.innerHTML = "";
      var none = new Option("Choose a template…", "");
      select.add(none);
      (ctx.templates[step.channel] || []).forEach(function (t) { select.add(new Option(t.name, t.id)); });
      if (step.templateId && !select.querySelector('option[value="' + step.templateId + '"]')) {
        select.add(new Option("(a template not in your list)", step.templateId));
      }
      select.value = step.templateId || "";
      li.querySelector("[data-nt-subject-field]").hidden = step.channel === "sms";
      ctx.preview(step, li.querySelector("[data-template-preview]"));
    }

    // The words a card says of its step, which change with its place.
    function label(li, step) {
      var n = indexOf(step) + 1, total = steps().length, name = NAMES[step.channel];
      li.querySelector("[data-title]").textContent = "Step " + n + " · " + name;
      li.querySelector("[data-handle-label]").textContent = "Reorder step " + n + " (" + name + ")";
      li.querySelector("[data-delay-legend]").textContent = n === 1 ? "Wait after the trigger" : "Wait after step " + (n - 1);
      li.querySelector("[data-delay-amount-label]").textContent = "Step " + n + " wait: amount";
      li.querySelector("[data-delay-unit-label]").textContent = "Step " + n + " wait: unit";
      li.querySelector('[data-action="up"]').setAttribute("aria-disabled", String(n === 1));
      li.querySelector('[data-action="down"]').setAttribute("aria-disabled", String(n === total));
      li.querySelectorAll(".step-actions [data-which]").forEach(function (el) { el.textContent = " step " + n; });
      li.querySelectorAll("[data-condition]").forEach(function (row, j) {
        row.querySelector("[data-which]").textContent = " condition " + (j + 1) + " of step " + n;
      });
    }

    function relabel() {
      list.querySelectorAll("[data-step]").forEach(function (li) { label(li, li._step); });
      document.getElementById("no-steps").hidden = steps().length > 0;
    }

    function conditionRow(step, condition) {
      var row = conditionTemplate.content.firstElementChild.cloneNode(true);
      ids(row, "s-" + step._key + "-c" + (++counter));
      var kind = row.querySelector('[data-id="kind"]'), value = row.querySelector('[data-id="value"]');
      kind.value = condition.kind;
      value.value = condition.value == null ? "" : condition.value;
      row.querySelector("[data-value-field]").hidden = condition.kind !== "score_at_least";
      kind.addEventListener("change", function () {
        condition.kind = kind.value;
        row.querySelector("[data-value-field]").hidden = kind.value !== "score_at_least";
        if (kind.value === "score_at_least") { condition.value = number(value); } else { delete condition.value; }
        ctx.changed();
      });
      value.addEventListener("input", function () { condition.value = number(value); ctx.changed(); });
      row.querySelector('[data-action="remove-condition"]').addEventListener("click", function () {
        step.conditions.splice(step.conditions.indexOf(condition), 1);
        var li = row.closest("[data-step]");
        row.remove();
        label(li, step);
        li.querySelector('[data-action="add-condition"]').focus();
        ctx.changed();
      });
      return row;
    }

    function bindCard(li, step) {
      var select = li.querySelector('[data-id="template"]');
      select.addEventListener("change", function () {
        step.templateId = select.value || null;
        ctx.preview(step, li.querySelector("[data-template-preview]"));
        ctx.changed();
      });
      var delay = li.querySelector('[data-id="delay"]'), unit = li.querySelector('[data-id="unit"]');
      function setDelay() {
        step._unit = unit.value;
        var amount = number(delay);
        step.delayMinutes = amount == null ? null : amount * UNITS[unit.value];
        step._delayAmount = amount;
        ctx.changed();
      }
      delay.addEventListener("input", setDelay);
      unit.addEventListener("change", setDelay);
      li.querySelector('[data-action="add-condition"]').addEventListener("click", function () {
        var condition = {kind: indexOf(step) === 0 ? "score_at_least" : "previous_email_not_opened"};
        if (condition.kind === "score_at_least") condition.value = 50;
        step.conditions.push(condition);
        var row = conditionRow(step, condition);
        li.querySelector("[data-conditions]").appendChild(row);
        label(li, step);
        row.querySelector("select").focus();
        ctx.changed();
      });
      li.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-action]");
        if (!button || button.closest("[data-condition]")) return;
        var act = actions[button.dataset.action];
        if (act) act(step, li, button);
      });
      var handle = li.querySelector("[data-handle]");
      handle.addEventListener("keydown", function (event) { keyboard(event, step, li); });
      handle.addEventListener("blur", function () { if (lifted && lifted.step === step) drop(step, li); });
      ctx.newTemplate(li, step);
    }

    var actions = {
      up: function (step, li, button) { if (button.getAttribute("aria-disabled") !== "true") { move(step, li, -1); ctx.changed(); } },
      down: function (step, li, button) { if (button.getAttribute("aria-disabled") !== "true") { move(step, li, 1); ctx.changed(); } },
      duplicate: function (step) {
        var twin = copy(step);
        steps().splice(indexOf(step) + 1, 0, twin);
        render();
        focusCard(twin, "[data-handle]");
        say("Step " + (indexOf(twin) + 1) + " added: a copy of step " + (indexOf(step) + 1) + ".");
        ctx.changed();
      },
      remove: function (step) {
        var at = indexOf(step);
        steps().splice(at, 1);
        render();
        var next = steps()[Math.min(at, steps().length - 1)];
        if (next) { focusCard(next, "[data-handle]"); } else { palette.querySelector("button").focus(); }
        say("Step " + (at + 1) + " removed; " + steps().length + " left.");
        ctx.changed();
      }
    };

    // Moving -----------------------------------------------------------------------------------

    // One place up (-1) or down (+1): the neighbour moves round the card, so the card's own
    // control keeps the focus.
    function move(step, li, by) {
      var at = indexOf(step), to = at + by;
      if (to < 0 || to >= steps().length) return false;
      steps().splice(at, 1);
      steps().splice(to, 0, step);
      if (by < 0) { li.after(li.previousElementSibling); } else { li.before(li.nextElementSibling); }
      relabel();
      say(NAMES[step.channel] + ": " + position(step) + ".");
      return true;
    }

    function keyboard(event, step, li) {
      var key = event.key;
      if (!lifted && (key === " " || key === "Enter")) {
        event.preventDefault();
        lifted = {step: step, from: indexOf(step)};
        li.classList.add("lifted");
        event.currentTarget.setAttribute("aria-pressed", "true");
        say(describe(step) + ", lifted. Arrow keys move it, Space drops it, Escape cancels.");
      } else if (lifted && (key === "ArrowUp" || key === "ArrowLeft" || key === "ArrowDown" || key === "ArrowRight")) {
        event.preventDefault();
        if (!move(step, li, key === "ArrowUp" || key === "ArrowLeft" ? -1 : 1)) say(describe(step) + ": it cannot go further.");
      } else if (lifted && (key === " " || key === "Enter")) {
        event.preventDefault();
        drop(step, li);
      } else if (lifted && key === "Escape") {
        event.preventDefault();
        var from = lifted.from;
        while (indexOf(step) !== from) move(step, li, indexOf(step) < from ? 1 : -1);
        end(li);
        say("Move cancelled: " + describe(step) + ".");
      }
    }

    function drop(step, li) {
      var moved = lifted.from !== indexOf(step);
      end(li);
      say(describe(step) + ", dropped.");
      if (moved) ctx.changed();
    }

    function end(li) {
      lifted = null;
      li.classList.remove("lifted");
      li.querySelector("[data-handle]").setAttribute("aria-pressed", "false");
    }

    // Drag and drop: the steps among themselves, and a channel from the palette onto them.
    function sortable() {
      if (!window.Sortable) return;
      window.Sortable.create(list, {
        handle: "[data-handle]", forceFallback: true, animation: 150, draggable: "[data-step]",
        group: {name: "steps", pull: false, put: ["palette"]},
        onUpdate: function (event) {
          var step = steps().splice(event.oldDraggableIndex, 1)[0];
          steps().splice(event.newDraggableIndex, 0, step);
          relabel();
          say(NAMES[step.channel] + " moved: " + position(step) + ".");
          ctx.changed();
        },
        onAdd: function (event) {
          var channel = event.item.dataset.channel;
          event.item.remove();
          add(channel, event.newDraggableIndex);
        }
      });
      window.Sortable.create(palette, {
        group: {name: "palette", pull: "clone", put: false}, sort: false, forceFallback: true,
        draggable: ".palette-item", animation: 150
      });
    }

    function add(channel, at) {
      var step = fresh(channel);
      steps().splice(at == null ? steps().length : at, 0, step);
      render();
      focusCard(step, '[data-id="template"]');
      say(NAMES[channel] + " added: " + position(step) + ".");
      ctx.changed();
    }

    function focusCard(step, selector) {
      var li = list.querySelector('[data-key="' + step._key + '"]');
      if (li) li.querySelector(selector).focus();
    }

    function render() {
      steps().forEach(adopt);
      list.innerHTML = "";
      steps().forEach(function (step) { list.appendChild(card(step)); });
      relabel();
    }

    palette.addEventListener("click", function (event) {
      var button = event.target.closest("button.add-step");
      if (button) add(button.dataset.channel);
    });
    sortable();

    return {
      render: render, adopt: adopt,
      cardOf: function (index) { return list.querySelectorAll("[data-step]")[index] || null; },
      refreshTemplates: function () {
        list.querySelectorAll("[data-step]").forEach(function (li) { fillTemplates(li, li._step); });
      }
    };
  };
})();
