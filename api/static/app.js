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

  window.followup = {api: api, csrf: csrf, say: say};
})();
