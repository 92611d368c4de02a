// The browser app's shared behaviour, served from /assets/app/ (no inline script: the CSP
// allows only this app's files). A signed-in page carries its session's CSRF token in
// <meta name="csrf-token">; every request that changes something sends it as X-CSRF-Token,
// from htmx and from followup.api() alike.
(function () {
  "use strict";
  var SAFE = /^(GET|HEAD|OPTIONS)$/i;

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  document.addEventListener("htmx:config:request", function (event) {
    var request = event.detail.ctx.request;
    if (!SAFE.test(request.method)) request.headers["X-CSRF-Token"] = csrf();
  });

  // A JSON call to the API: resolves with the parsed body (null for 204); rejects with an
  // Error carrying the API's error body (.status, .code, .fields) and its message.
  function api(method, url, body, headers) {
    var init = {method: method, headers: Object.assign({Accept: "application/json"}, headers || {}),
                credentials: "same-origin"};
    if (!SAFE.test(method)) init.headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      if (response.status === 204) return {body: null, response: response};
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok) return {body: data, response: response};
        var e = (data && data.error) || {status: response.status, code: "http_error",
                                          message: response.statusText, fields: []};
        var error = new Error(e.message);
        Object.assign(error, e);
        throw error;
      });
    });
  }

  // Says something in a live region (role=status) so a screen reader hears it.
  function say(element, text, kind) {
    if (!element) return;
    element.textContent = text;
    element.classList.toggle("error", kind === "error");
    element.classList.toggle("ok", kind === "ok");
  }

  // Forms that talk to the JSON API: <form data-api="/api/..." data-method="POST">. Their
  // fields become a JSON body (by each field's data-json: "int", "bool", "null" (empty is
  // null), "omit" (empty is left out), "list" (checked boxes of a name), "map" ("key: value"
  // lines)); the API's refusal is shown beside each field it names (aria-describedby), and
  // in the form's [data-said] live region. On success the form fires "followup:done" with the
  // answer's body (and reloads the page with data-done="reload").
  function parsed(text) {
    if (/^-?\d+$/.test(text)) return parseInt(text, 10);
    if (/^-?\d+\.\d+$/.test(text)) return parseFloat(text);
    if (text === "true" || text === "false") return text === "true";
    if (/^[\[{]/.test(text)) { try { return JSON.parse(text); } catch (e) { return text; } }
    return text;
  }

  function lines(text) {
    var map = {};
    text.split("\n").forEach(function (line) {
      var at = line.indexOf(":");
      if (at < 1) return;
      map[line.slice(0, at).trim()] = parsed(line.slice(at + 1).trim());
    });
    return map;
  }

  function body(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "csrf" || el.hasAttribute("data-skip")) return;
      var kind = el.dataset.json || "";
      var value = el.value;
      if (kind === "list") {
        out[el.name] = out[el.name] || [];
        if (el.checked) out[el.name].push(value);
        return;
      }
      if (el.type === "checkbox") value = el.checked;
      else if (kind === "bool") value = value === "true";
      else if (kind === "int") { if (value === "") return; value = Number(value); }
      else if (kind === "map") value = lines(value);
      else if (kind === "null" && value.trim() === "") value = null;
      else if (kind === "omit" && value.trim() === "") return;
      out[el.name] = value;
    });
    return out;
  }

  function fieldOf(form, name) {
    var key = name.replace(/^body\./, "").split(/[.[]/)[0];
    if (!key) return null;
    return form.querySelector('[data-error-for="' + key + '"]') ||
           form.querySelector('[name="' + key + '"]');
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-of]").forEach(function (el) { el.remove(); });
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (el) {
      el.removeAttribute("aria-invalid");
      var ids = (el.getAttribute("aria-describedby") || "").split(" ")
        .filter(function (id) { return id && !/-error$/.test(id); });
      if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
      else el.removeAttribute("aria-describedby");
    });
  }

  // A refusal's reason, with its line (a template's mistake) unless the reason names it.
  function lined(f) {
    var named = f.line && new RegExp("\\bline " + f.line + "\\b").test(f.reason);
    return (f.line && !named ? "Line " + f.line + ": " : "") + f.reason;
  }

  // The fields a refusal names: a 422's fields, or the one field a 409 says stood in the way
  // (details.field: an email that already has an account), its reason as a sentence.
  function refusedFields(error) {
    if (error.fields && error.fields.length) return error.fields;
    var d = error.details || {};
    if (error.code !== "not_allowed_now" || !d.field || !d.reason) return [];
    var reason = String(d.reason);
    return [{field: d.field, reason: reason.charAt(0).toUpperCase() + reason.slice(1) +
             (/[.!?]$/.test(reason) ? "" : ".")}];
  }

  function showError(form, error, keepFocus) {
    var placed = false;
    refusedFields(error).forEach(function (f) {
      var input = fieldOf(form, f.field);
      if (!input || !input.id) return;
      var note = document.createElement("span");
      note.className = "field-error";
      note.id = input.id + "-error";
      note.dataset.errorOf = input.id;
      note.textContent = lined(f);
      (input.closest(".code-field") || input).insertAdjacentElement("afterend", note);
      input.setAttribute("aria-invalid", "true");
      var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      ids.push(note.id);
      input.setAttribute("aria-describedby", ids.join(" "));
      if (!placed && !keepFocus) input.focus();
      placed = true;
    });
    return placed;
  }

  // Fields that must repeat another (a new password twice): checked before anything is sent.
  function mismatched(form) {
    var wrong = [];
    form.querySelectorAll("[data-same-as]").forEach(function (el) {
      var other = document.getElementById(el.dataset.sameAs);
      if (other && other.value !== el.value)
        wrong.push({field: el.name, reason: "does not match the field before"});
    });
    return wrong;
  }

  // After a change: the parts of the page that show it, fetched again from their data-src.
  function refresh(selectors) {
    return Promise.all((selectors || "").split(",").filter(Boolean).map(function (selector) {
      var holder = document.querySelector(selector.trim());
      if (!holder || !holder.dataset.src) return null;
      return fetch(holder.dataset.src, {credentials: "same-origin"}).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) { if (html !== null) holder.innerHTML = html; });
    }));
  }

  function submit(form, event) {
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    var said = (form.dataset.saidIn && document.querySelector(form.dataset.saidIn)) ||
               form.querySelector("[data-said]") || form.parentElement.querySelector("[data-said]");
    var wrong = mismatched(form);
    if (wrong.length) {
      clearErrors(form);
      showError(form, {fields: wrong});
      say(said, "Not saved: see the fields marked.", "error");
      return;
    }
    // Busy, not disabled: a disabled button would lose the keyboard's focus.
    if (form.getAttribute("aria-busy") === "true") return;
    form.setAttribute("aria-busy", "true");
    clearErrors(form);
    say(said, "Saving…");
    api(form.dataset.method || "POST", form.dataset.api, body(form)).then(function (done) {
      say(said, form.dataset.saidDone || "Done.", "ok");
      if (form.dataset.done === "reload") { window.location.reload(); return; }
      if (form.dataset.reset !== undefined) form.reset();
      form.dispatchEvent(new CustomEvent("followup:done", {bubbles: true,
        detail: {body: done.body, form: form, said: said}}));
      refresh(form.dataset.refresh);
    }, function (error) {
      var placed = showError(form, error);
      say(said, placed ? "Not saved: see the fields marked." : error.message, "error");
    }).finally(function () {
      form.removeAttribute("aria-busy");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.api) submit(form, event);
  });

  window.followup = {api: api, csrf: csrf, say: say, body: body, showError: showError,
                     clearErrors: clearErrors, refresh: refresh, lined: lined};
})();
