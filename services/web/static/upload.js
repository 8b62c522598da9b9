/* The report form, improved: its photos and videos are sent before the form, in parts, with
 * the tus protocol 1.0.0 through this site's /me/uploads (which relays to the media service on
 * behalf of the signed-in organisation). A progress bar per file; a dropped connection is
 * retried (the server says how far it got, and the upload goes on from there); a page reloaded
 * half-way picks up the same upload (its address kept in localStorage). Once every file is in,
 * their media ids go into the form as hidden `media_ids` fields and the form is sent as usual.
 *
 * Without this script (or in a browser it does not suit) the form sends the files itself. */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form || !window.XMLHttpRequest || !window.TextEncoder || !window.Promise || !window.Blob ||
      !Blob.prototype.slice) {
    return;
  }
  var input = form.querySelector("input[type=file][name=files]");
  var endpoint = form.getAttribute("data-uploads");
  if (!input || !endpoint) {
    return;
  }

  var TUS_VERSION = "1.0.0";
  var CHUNK = 5 * 1024 * 1024; // bytes per PATCH, unless the form says otherwise (data-chunk-size)
  var BACKOFF = [1000, 2000, 4000, 8000, 16000]; // milliseconds before each new try
  var STALL = 45000; // no upload progress for this long: the connection is taken for dead
  var STORE = "doa-upload:";
  var FORGET_ON = [404, 410, 413, 415]; // the upload is gone, or never will be taken

  var errorBox = document.getElementById("r-files-error");
  var list = document.getElementById("r-files-progress");
  var statusLine = document.getElementById("r-files-status");
  var button = form.querySelector("button[type=submit]");
  var busy = false;
  var finished = {}; // key -> media id, for files already in (a second try of the form sends them once)

  function message(name, values) {
    var text = form.getAttribute("data-msg-" + name) || name;
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && values[key] !== undefined ? String(values[key]) : whole;
    });
  }

  function say(text) {
    if (statusLine) {
      statusLine.textContent = text;
    }
  }

  function showError(text) {
    if (errorBox) {
      errorBox.textContent = text;
      errorBox.hidden = false;
    }
    input.setAttribute("aria-invalid", "true");
  }

  function clearError() {
    if (errorBox) {
      errorBox.textContent = "";
      errorBox.hidden = true;
    }
    input.removeAttribute("aria-invalid");
  }

  function base64(text) {
    var bytes = new TextEncoder().encode(String(text));
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary);
  }

  function metadata(values) {
    return Object.keys(values).map(function (key) {
      return key + " " + base64(values[key]);
    }).join(",");
  }

  function remembered(key) {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (e) {
      return null; // storage off, or not ours
    }
  }

  function remember(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage off or full: no resuming after a reload, that is all */ }
  }

  function forget(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (e) { /* as above */ }
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function lastSegment(url) {
    return url.split("?")[0].replace(/\/+$/, "").split("/").pop();
  }

  function NetworkError() {
    this.network = true;
    this.message = "network";
  }

  function Refusal(status, detail) {
    this.status = status;
    this.message = detail;
  }

  /* One request. Resolves with the XMLHttpRequest once an answer came (whatever its status);
   * rejects with a NetworkError when none did. */
  function request(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      var stalled = null;
      function watch() {
        clearTimeout(stalled);
        stalled = setTimeout(function () { xhr.abort(); }, STALL);
      }
      xhr.open(method, url);
      xhr.setRequestHeader("Tus-Resumable", TUS_VERSION);
      if (method !== "HEAD" && method !== "OPTIONS") {
        xhr.setRequestHeader("X-CSRF-Token", form.querySelector("input[name=csrf]").value);
      }
      Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (body && xhr.upload) {
        xhr.upload.onprogress = function (e) {
          watch();
          if (onProgress && e.lengthComputable) {
            onProgress(e.loaded);
          }
        };
        xhr.upload.onload = function () { clearTimeout(stalled); }; // sent: the server may take its time now
        watch();
      }
      xhr.onload = function () {
        clearTimeout(stalled);
        resolve(xhr);
      };
      xhr.onerror = xhr.onabort = xhr.ontimeout = function () {
        clearTimeout(stalled);
        reject(new NetworkError());
      };
      xhr.send(body || null);
    });
  }

  function refusal(xhr) {
    var detail = xhr.statusText || ("HTTP " + xhr.status);
    try {
      var problem = JSON.parse(xhr.responseText);
      detail = problem.detail || problem.title || detail;
    } catch (e) { /* no problem+json: the status says it */ }
    return new Refusal(xhr.status, detail);
  }

  /* A row per file: its name as the label of its progress bar, and the percentage as text. */
  function row(file, index) {
    var item = document.createElement("li");
    var label = document.createElement("label");
    var bar = document.createElement("progress");
    var percent = document.createElement("span");
    bar.id = "r-upload-" + index;
    bar.max = 100;
    bar.value = 0;
    label.htmlFor = bar.id;
    label.textContent = file.name + " ";
    percent.className = "upload-percent";
    percent.textContent = " 0 %";
    item.appendChild(label);
    item.appendChild(bar);
    item.appendChild(percent);
    list.appendChild(item);
    var shown = -1;
    return {
      progress: function (sent) {
        var value = file.size ? Math.min(100, Math.floor(sent * 100 / file.size)) : 100;
        if (value !== shown) {
          shown = value;
          bar.value = value;
          bar.setAttribute("aria-valuetext", value + " %");
          percent.textContent = " " + value + " %";
        }
      },
      done: function (text) {
        this.progress(file.size);
        percent.textContent = " 100 % — " + text;
      }
    };
  }

  /* Send one file; resolves with its media id. */
  function upload(file, options, ui) {
    var key = STORE + [file.name, file.size, file.lastModified].join("|");
    var meta = metadata({
      campaign_id: options.campaign_id, consent: options.consent, blur_faces: options.blur_faces, name: file.name
    });
    if (finished[key + meta]) {
      ui.done(message("received", {name: file.name, blur: ""}));
      return Promise.resolve(finished[key + meta]);
    }
    var chunk = parseInt(form.getAttribute("data-chunk-size"), 10) || CHUNK;
    var url = null;
    var offset = 0;
    var failures = 0;

    function complete(mediaLocation) {
      var id = lastSegment(mediaLocation);
      forget(key);
      finished[key + meta] = id;
      ui.done(message("received", {name: file.name, blur: options.blur_faces === "true" ? message("blur") : ""}));
      return id;
    }

    function refused(xhr) {
      var why = refusal(xhr);
      if (FORGET_ON.indexOf(xhr.status) >= 0) {
        forget(key);
      }
      throw why;
    }

    /* After a failure: wait a little longer each time, then do `again`; in the end, give up
     * (what arrived stays on the server, and the upload's address here: a later try goes on). */
    function retryLater(again) {
      failures += 1;
      if (failures > BACKOFF.length) {
        throw new Refusal(0, message("gave-up"));
      }
      var delay = BACKOFF[failures - 1];
      say(message("retrying", {seconds: Math.round(delay / 1000), attempt: failures, attempts: BACKOFF.length}));
      return wait(delay).then(again);
    }

    /* How far the server got; resolves with the media's location once the upload is complete. */
    function askOffset() {
      return request("HEAD", url).then(function (xhr) {
        if (xhr.status !== 200) {
          return xhr.status >= 500 ? recover() : refused(xhr);
        }
        offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10) || 0;
        ui.progress(offset);
        say(message("sending", {name: file.name}));
        return xhr.getResponseHeader("Media-Location");
      }, recover);
    }

    function recover() {
      return retryLater(askOffset);
    }

    function next() {
      if (offset >= file.size) { // all in, but the answer that named the media was lost: ask
        return recover().then(function (location) { return location ? complete(location) : next(); });
      }
      var body = file.slice(offset, offset + chunk);
      return request("PATCH", url, {"Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset)},
                     body, function (loaded) { ui.progress(offset + loaded); })
        .then(function (xhr) {
          if (xhr.status === 204) {
            failures = 0;
            offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10) || offset;
            ui.progress(offset);
            var location = xhr.getResponseHeader("Media-Location");
            return location ? complete(location) : next();
          }
          if (xhr.status === 409 || xhr.status === 423 || xhr.status >= 500) { // out of step, busy, or down
            return recover().then(function (location) { return location ? complete(location) : next(); });
          }
          return refused(xhr);
        }, function () {
          return recover().then(function (location) { return location ? complete(location) : next(); });
        });
    }

    function create() {
      return request("POST", endpoint, {"Upload-Length": String(file.size), "Upload-Metadata": meta})
        .then(function (xhr) {
          if (xhr.status !== 201) {
            return xhr.status >= 500 ? retryLater(create) : refused(xhr);
          }
          url = xhr.getResponseHeader("Location");
          offset = 0;
          remember(key, {url: url, meta: meta});
          return next();
        }, function () {
          return retryLater(create);
        });
    }

    say(message("sending", {name: file.name}));
    var saved = remembered(key);
    if (saved && saved.url && saved.meta === meta) { // the same file, chosen again after a reload: go on
      return request("HEAD", saved.url).then(function (xhr) {
        if (xhr.status !== 200) {
          forget(key);
          return create();
        }
        url = saved.url;
        offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10) || 0;
        ui.progress(offset);
        var location = xhr.getResponseHeader("Media-Location");
        return location ? complete(location) : next();
      }, create);
    }
    if (saved && saved.url) { // chosen again with other privacy choices: the half-sent copy goes
      request("DELETE", saved.url).catch(function () { /* it expires anyway */ });
      forget(key);
    }
    return create();
  }

  function sendAll(files) {
    busy = true;
    if (button) {
      button.disabled = true;
    }
    clearError();
    var options = {
      campaign_id: form.elements.namedItem("campaign_id").value,
      consent: form.elements.namedItem("consent").checked ? "true" : "false",
      blur_faces: form.elements.namedItem("blur_faces").checked ? "true" : "false"
    };
    list.textContent = "";
    list.hidden = false;
    var ids = [];
    var chain = Promise.resolve();
    files.forEach(function (file, index) {
      var ui = row(file, index);
      chain = chain.then(function () {
        return upload(file, options, ui).then(function (id) { ids.push(id); });
      }).catch(function (error) {
        if (!error.reported) { // the first refusal stops the rest
          error.reported = true;
          error.message = error.status ? message("refused", {name: file.name, detail: error.message}) : error.message;
        }
        throw error;
      });
    });
    chain.then(function () {
      Array.prototype.slice.call(form.querySelectorAll("input[type=hidden][name=media_ids]")).forEach(function (old) {
        old.remove();
      });
      ids.forEach(function (id) {
        var field = document.createElement("input");
        field.type = "hidden";
        field.name = "media_ids";
        field.value = id;
        form.appendChild(field);
      });
      input.value = ""; // the files are in: the form carries their ids, not their bytes again
      say(message("all-received"));
      HTMLFormElement.prototype.submit.call(form);
    }, function (error) {
      say("");
      showError(error.message || String(error));
      busy = false;
      if (button) {
        button.disabled = false;
      }
    });
  }

  form.addEventListener("submit", function (event) {
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) {
      return; // nothing to send first: the form goes as it is
    }
    event.preventDefault();
    if (!busy) {
      sendAll(files);
    }
  });

  input.addEventListener("change", clearError);

  window.addEventListener("pageshow", function () { // back from the next page: usable again
    busy = false;
    if (button) {
      button.disabled = false;
    }
  });
}());
