// API tokens: a new token's secret is shown once, with a way to copy it.
(function () {
  "use strict";
  var box = document.getElementById("token-secret");
  var value = document.getElementById("secret-value");
  var said = document.getElementById("copy-said");
  if (!box) return;

  document.addEventListener("followup:done", function (event) {
    if (event.detail.form.id !== "token-form" || !event.detail.body) return;
    value.value = event.detail.body.token;
    box.hidden = false;
    event.detail.form.reset();
    value.focus();
    value.select();
  });

  document.getElementById("copy-secret").addEventListener("click", function () {
    value.select();
    var copied = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(value.value)
      : Promise.resolve(document.execCommand("copy"));
    copied.then(function () { said.textContent = "Copied."; },
                function () { said.textContent = "Select the token and copy it yourself."; });
  });
})();
