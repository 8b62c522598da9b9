// Passkeys (WebAuthn), with no library: a form marked data-passkey="create" (the Security page)
// or "get" (the sign-in's second step) asks its data-options URL for the registry's options,
// hands them to the browser, and sends the browser's answer, as JSON in base64url, in the form's
// "passkey" field with the options' "challenge" id. Without this script the page says so.
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }

  function creationOptions(o) {
    return Object.assign({}, o, { challenge: toBytes(o.challenge), user: Object.assign({}, o.user, { id: toBytes(o.user.id) }),
                                  excludeCredentials: withIds(o.excludeCredentials) });
  }

  function requestOptions(o) {
    return Object.assign({}, o, { challenge: toBytes(o.challenge), allowCredentials: withIds(o.allowCredentials) });
  }

  function asJson(credential) {
    var r = credential.response;
    var answer = { id: credential.id, rawId: toText(credential.rawId), type: credential.type,
                   clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
                   response: { clientDataJSON: toText(r.clientDataJSON) } };
    if (credential.authenticatorAttachment) answer.authenticatorAttachment = credential.authenticatorAttachment;
    if (r.attestationObject) {
      answer.response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) answer.response.transports = r.getTransports();
    }
    if (r.authenticatorData) {
      answer.response.authenticatorData = toText(r.authenticatorData);
      answer.response.signature = toText(r.signature);
      if (r.userHandle) answer.response.userHandle = toText(r.userHandle);
    }
    return answer;
  }

  function start(form, status) {
    var body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    return fetch(form.dataset.options, { method: "POST", body: body, credentials: "same-origin",
                                         headers: { "Accept": "application/json" } })
      .then(function (answer) {
        if (!answer.ok) throw new Error("HTTP " + answer.status);
        return answer.json();
      })
      .then(function (given) {
        var asked = form.dataset.passkey === "create"
          ? navigator.credentials.create({ publicKey: creationOptions(given.options) })
          : navigator.credentials.get({ publicKey: requestOptions(given.options) });
        return asked.then(function (credential) {
          form.elements.passkey.value = JSON.stringify(asJson(credential));
          form.elements.challenge.value = given.challenge;
          form.submit();
        });
      })
      .catch(function () { status.textContent = form.dataset.failed; });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var status = form.querySelector("[data-passkey-status]");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      form.querySelector("button").disabled = true;
      status.textContent = form.dataset.failed;
      return;
    }
    form.addEventListener("submit", function (event) {
      if (form.elements.passkey.value) return;  // the browser's answer is in: send it
      event.preventDefault();
      status.textContent = "";
      start(form, status);
    });
  });
})();
