/* otpgate: passkey forms on otpgate's pages (Django and Flask). First-party, no CDN.
 *
 * Needs otpgate-webauthn.js (loaded before this file). Every form with
 * data-otpgate-webauthn="create" (add a passkey) or "get" (use one) holds:
 *   - <script type="application/json">: the options the server handed over for this form's
 *     challenge (base64url JSON);
 *   - <input type="hidden" data-otpgate-webauthn-response>: filled with the browser's answer
 *     (JSON) before the form is posted;
 *   - [data-otpgate-webauthn-message] (role="alert"): where a failure in the browser is said,
 *     in the page's language (data-otpgate-canceled / data-otpgate-unsupported on the form).
 * The ceremony starts inside the submit event (a user gesture, as Safari requires); the
 * form is then posted as usual, so the server answers with a page, never JSON to parse here.
 */
(function () {
  "use strict";

  function say(form, text) {
    var box = form.querySelector("[data-otpgate-webauthn-message]");
    if (box) {
      box.textContent = text;
      box.hidden = !text;
    }
  }

  function ceremony(mode, options) {
    var api = window.otpgateWebAuthn;
    return mode === "create" ? api.register(options) : api.authenticate(options);
  }

  function arm(form) {
    var mode = form.getAttribute("data-otpgate-webauthn");
    var source = form.querySelector("script[type='application/json']");
    var answer = form.querySelector("[data-otpgate-webauthn-response]");
    var button = form.querySelector("button[type=submit], button:not([type])");
    if (!window.PublicKeyCredential || !window.otpgateWebAuthn || !source || !answer) {
      say(form, form.getAttribute("data-otpgate-unsupported") || "");
      if (button) { button.disabled = true; }
      return;
    }
    form.addEventListener("submit", function (event) {
      if (answer.value) { return; } // answered: post it
      event.preventDefault();
      say(form, "");
      if (button) { button.disabled = true; }
      var options = JSON.parse(source.textContent);
      ceremony(mode, options).then(function (credential) {
        answer.value = typeof credential === "string" ? credential : JSON.stringify(credential);
        form.submit();
      }, function () {
        // Canceled, timed out, or no passkey for this site on this device.
        say(form, form.getAttribute("data-otpgate-canceled") || "");
        if (button) { button.disabled = false; button.focus(); }
      });
    });
  }

  function start() {
    var forms = document.querySelectorAll("form[data-otpgate-webauthn]");
    for (var i = 0; i < forms.length; i += 1) { arm(forms[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
