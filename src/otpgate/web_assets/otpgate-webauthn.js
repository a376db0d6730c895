/*
 * otpgate-webauthn.js: ask the browser for a passkey, with the options otpgate hands over.
 *
 * otpgate's challenge carries `browser_options`: WebAuthn creation options (adding a
 * passkey) or request options (signing in, step-up, confirming a transaction), as JSON with
 * base64url bytes. This script turns them into what navigator.credentials needs, and the
 * browser's answer back into JSON for otpgate (the `credential`, or the `code` of a form).
 * It uses PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON and
 * toJSON where the browser has them, and its own base64url conversion otherwise.
 *
 *   const credential = await OtpgateWebAuthn.create(options);  // adding a passkey
 *   const credential = await OtpgateWebAuthn.get(options);     // using one
 *
 * Both resolve to a plain JSON-able object, and reject with the browser's DOMException
 * (NotAllowedError when the user cancels or the time runs out).
 *
 * Forms: a <form data-otpgate-webauthn="get|create"> whose data-otpgate-options attribute
 * holds the options JSON gets its submit intercepted: the answer goes, as JSON text, into
 * its input named by data-otpgate-field (default "otp_code"), then the form is submitted.
 * A cancelled ceremony shows the element named by data-otpgate-error (by id), if any; a
 * creation the authenticator refuses because it already holds a passkey of the account
 * (InvalidStateError, from excludeCredentials: trying again can never work) shows the one
 * named by data-otpgate-error-exists instead, if any.
 */
(function (global) {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (buffer === null || buffer === undefined) return null;
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      var copy = Object.assign({}, item);
      copy.id = toBytes(item.id);
      return copy;
    });
  }

  function creationOptions(json) {
    var PKC = global.PublicKeyCredential;
    if (PKC && typeof PKC.parseCreationOptionsFromJSON === "function") {
      return PKC.parseCreationOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var PKC = global.PublicKeyCredential;
    if (PKC && typeof PKC.parseRequestOptionsFromJSON === "function") {
      return PKC.parseRequestOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  function answerJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      if (typeof response.getTransports === "function") {
        out.response.transports = response.getTransports();
      }
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      out.response.userHandle = toText(response.userHandle);
    }
    return out;
  }

  function supported() {
    return !!(global.PublicKeyCredential && global.navigator && global.navigator.credentials);
  }

  function create(json) {
    return global.navigator.credentials
      .create({ publicKey: creationOptions(json) })
      .then(answerJSON);
  }

  function get(json) {
    return global.navigator.credentials.get({ publicKey: requestOptions(json) }).then(answerJSON);
  }

  function wire(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.otpgateAnswered === "1") return;
      event.preventDefault();
      var ceremony = form.dataset.otpgateWebauthn === "create" ? create : get;
      var field = form.elements.namedItem(form.dataset.otpgateField || "otp_code");
      var error = form.dataset.otpgateError && document.getElementById(form.dataset.otpgateError);
      var exists =
        form.dataset.otpgateErrorExists &&
        document.getElementById(form.dataset.otpgateErrorExists);
      if (error) error.hidden = true;
      if (exists) exists.hidden = true;
      ceremony(JSON.parse(form.dataset.otpgateOptions))
        .then(function (answer) {
          field.value = JSON.stringify(answer);
          form.dataset.otpgateAnswered = "1";
          if (typeof form.requestSubmit === "function") form.requestSubmit();
          else form.submit();
        })
        .catch(function (failure) {
          var already = failure && failure.name === "InvalidStateError" && exists;
          var shown = already ? exists : error;
          if (shown) shown.hidden = false;
        });
    });
  }

  global.OtpgateWebAuthn = { supported: supported, create: create, get: get, wire: wire };

  if (global.document) {
    var start = function () {
      var forms = document.querySelectorAll("form[data-otpgate-webauthn]");
      for (var i = 0; i < forms.length; i++) wire(forms[i]);
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
})(typeof window !== "undefined" ? window : this);
