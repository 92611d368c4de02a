// The template editor: a live preview of the text as typed (debounced calls of
// POST /api/templates/preview, which renders unsaved text for the chosen lead or the sample
// lead), mistakes shown with their line (the gutter marks it), the variables inserted at the
// cursor, and saving (a new template; or a new revision with If-Match, the ETag as read).
(function () {
  "use strict";
  var editor = document.getElementById("template-editor");
  if (!editor) return;
  var f = window.followup;
  var form = document.getElementById("template-form");
  var name = document.getElementById("t-name");
  var channelSelect = document.getElementById("t-channel");
  var subject = document.getElementById("t-subject");
  var body = document.getElementById("t-body");
  var gutter = document.getElementById("t-body-gutter");
  var lead = document.getElementById("preview-lead");
  var state = document.getElementById("preview-state");
  var saved = document.getElementById("save-said");
  var out = {subject: document.getElementById("preview-subject"),
             subjectWrap: document.getElementById("preview-subject-wrap"),
             body: document.getElementById("preview-body"),
             skipped: document.getElementById("preview-skipped"),
             count: document.getElementById("preview-count")};
  var last = body, asked = 0, timer = null;

  function channel() { return channelSelect ? channelSelect.value : editor.dataset.channel; }

  // The body's line numbers, the line of a mistake marked.
  function numbers(bad) {
    var count = body.value.split("\n").length, html = "";
    for (var i = 1; i <= count; i++)
      html += '<span' + (i === bad ? ' class="bad"' : "") + ">" + i + "</span>";
    gutter.innerHTML = html;
    gutter.scrollTop = body.scrollTop;
  }

  // SMS: characters and segments (GSM-7 when every character is in its basic set).
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡" +
            "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  function segments(text) {
    var gsm = Array.prototype.every.call(text, function (c) { return GSM.indexOf(c) >= 0; });
    var one = gsm ? 160 : 70, many = gsm ? 153 : 67;
    var n = text.length <= one ? 1 : Math.ceil(text.length / many);
    return text.length + " characters, " + n + " SMS segment" + (n === 1 ? "" : "s") +
           (gsm ? "" : " (Unicode)");
  }

  function shown(answer) {
    out.subject.textContent = answer.subject || "";
    out.body.textContent = answer.body || "";
    out.skipped.hidden = !answer.skipped;
    out.skipped.textContent = answer.skipped
      ? "A send to this lead would skip the step: " + answer.skipped + "." : "";
    out.count.textContent = channel() === "sms" && answer.body ? segments(answer.body) : "";
    // Nothing would be sent: no empty "Subject:" above the reason
    out.subjectWrap.hidden = channel() !== "email" || !!answer.skipped;
  }

  function preview() {
    var mine = ++asked;
    f.clearErrors(form);
    numbers(null);
    if (!body.value.trim()) {
      shown({});
      f.say(state, "Type the body to see it.");
      return;
    }
    var ask = {channel: channel(), body: body.value, leadId: lead.value || null};
    if (channel() !== "sms" && subject.value) ask.subject = subject.value;
    f.say(state, "Updating…");
    f.api("POST", "/api/templates/preview", ask).then(function (done) {
      if (mine !== asked) return;
      shown(done.body);
      f.say(state, "Up to date.", "ok");
    }, function (error) {
      if (mine !== asked) return;
      var first = (error.fields || [])[0] || {};
      f.showError(form, error, true);  // typing goes on where it was
      if (first.field === "body.body") numbers(first.line || null);
      shown({});
      f.say(state, "Not rendered: " + (first.reason ? f.lined(first) : error.message), "error");
    });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }

  [subject, body].forEach(function (el) {
    el.addEventListener("input", later);
    el.addEventListener("focus", function () { last = el; });
  });
  body.addEventListener("input", function () { numbers(null); });
  body.addEventListener("scroll", function () { gutter.scrollTop = body.scrollTop; });
  lead.addEventListener("change", preview);
  if (channelSelect) channelSelect.addEventListener("change", function () {
    document.getElementById("subject-field").hidden = channel() === "sms";
    out.subjectWrap.hidden = channel() === "sms";
    preview();
  });

  // A variable goes where the cursor was (in the subject or the body).
  editor.querySelectorAll("[data-insert]").forEach(function (button) {
    button.addEventListener("click", function () {
      var el = last.readOnly ? body : last, text = button.dataset.insert;
      var at = el.selectionStart, end = el.selectionEnd;
      el.value = el.value.slice(0, at) + text + el.value.slice(end);
      el.focus();
      el.selectionStart = el.selectionEnd = at + text.length;
      el.dispatchEvent(new Event("input", {bubbles: true}));
    });
  });

  function save(event) {
    event.preventDefault();
    var id = editor.dataset.templateId;
    var texts = {name: name.value, body: body.value,
                 subject: channel() === "sms" ? null : (subject.value || null)};
    f.clearErrors(form);
    f.say(saved, "Saving…");
    var call = id
      ? f.api("PUT", "/api/templates/" + id, texts, {"If-Match": editor.dataset.etag})
      : f.api("POST", "/api/templates", Object.assign({channel: channel()}, texts));
    call.then(function (done) {
      if (!id) { window.location.assign("/templates/" + done.body.id); return; }
      editor.dataset.etag = done.response.headers.get("ETag") || editor.dataset.etag;
      document.getElementById("revision-now").textContent = "Revision " + done.body.revision;
      f.say(saved, "Saved: revision " + done.body.revision + ".", "ok");
      f.refresh("#template-meta");
    }, function (error) {
      if (error.code === "stale") {
        f.say(saved, "Someone saved a newer revision while you were editing. Your text is " +
              "still here: copy it, reload the page, and apply it again.", "error");
        return;
      }
      var first = (error.fields || [])[0] || {};
      if (first.field === "body.body") numbers(first.line || null);
      f.say(saved, f.showError(form, error) ? "Not saved: see the fields marked."
                                            : error.message, "error");
    });
  }

  if (form.querySelector("[type=submit]")) {
    form.addEventListener("submit", save);
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
  numbers(null);
  preview();
})();
