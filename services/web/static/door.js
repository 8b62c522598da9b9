/* The door's page (door.html): with this script a tap never waits for the network. Each action
   (+1, −1, a participant's code or private link) is given its id when tapped (crypto.randomUUID),
   kept in localStorage, and sent in batches to the page's …/door/actions whenever the phone is
   online — at once, when the connection comes back, and every few seconds after a failure. The
   notify API keeps each action by its id, so a batch sent twice counts once; the count shown is
   the API's own `checked_in`. Without this script the forms post one action each. */
(function () {
  'use strict';
  var root = document.getElementById('door');
  if (!root || !window.localStorage || !window.fetch) return;
  var STORE = 'doa-door-' + root.getAttribute('data-event');
  var RETRY_MS = 5000;
  var BATCH = 500;
  var CODE = /^[A-Za-z0-9 -]{4,20}$/;
  var LINK = /\/p\/([A-Za-z0-9_-]{43})(?:[\/?#]|$)/;
  var count = document.getElementById('door-count');
  var list = document.getElementById('door-queue');
  var none = document.getElementById('door-none');
  var offline = document.getElementById('door-offline');
  var said = document.getElementById('door-said');
  var unknownLine = document.getElementById('door-unknown');
  var sending = false;
  var timer = null;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function queued() {
    try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch (e) { return []; }
  }

  function keep(actions) {
    localStorage.setItem(STORE, JSON.stringify(actions));
    show(actions);
  }

  function words(action) {
    if (action.kind === 'door') return list.getAttribute(action.delta > 0 ? 'data-plus' : 'data-minus');
    return list.getAttribute('data-code') + ': ' + (action.code || '…' + action.key.slice(-4));
  }

  function show(actions) {
    list.textContent = '';
    actions.forEach(function (action) {
      var item = document.createElement('li');
      var time = document.createElement('span');
      time.className = 'meta';
      time.textContent = ' ' + new Date(action.at).toLocaleTimeString();
      item.textContent = words(action);
      item.setAttribute('dir', 'auto');
      item.appendChild(time);
      list.appendChild(item);
    });
    none.hidden = actions.length > 0;
    offline.hidden = navigator.onLine;
  }

  function retry() {
    if (!timer) timer = setTimeout(function () { timer = null; send(); }, RETRY_MS);
  }

  function answered(batch, answer) {
    var sent = {};
    batch.forEach(function (action) { sent[action.id] = true; });
    keep(queued().filter(function (action) { return !sent[action.id]; }));
    if (typeof answer.checked_in === 'number') count.textContent = String(answer.checked_in);
    var unknown = (answer.unknown || []).length;
    unknownLine.hidden = !unknown;
    if (unknown) unknownLine.textContent = unknownLine.getAttribute('data-text') + ' (' + unknown + ')';
  }

  function send() {
    var batch = queued().slice(0, BATCH);
    show(queued());
    if (sending || !batch.length || !navigator.onLine) return;
    sending = true;
    fetch(root.getAttribute('data-actions'), {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                'X-CSRF-Token': root.getAttribute('data-csrf')},
      body: JSON.stringify({actions: batch})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        sending = false;
        if (response.ok) { answered(batch, answer); if (queued().length) send(); return; }
        if (response.status === 422) { answered(batch, {}); said.hidden = false; said.textContent = answer.detail || ''; return; }
        retry();  // signed out, a service down, too many: the actions wait, and are sent again
      });
    }).catch(function () { sending = false; retry(); });
  }

  function tapped(form) {
    var kind = form.getAttribute('data-door');
    var action = {id: uuid(), at: new Date().toISOString()};
    if (kind === 'code') {
      var field = form.querySelector('[name=code]');
      var text = field.value.trim();
      var link = LINK.exec(text);
      if (link) { action.kind = 'participant'; action.key = link[1]; }
      else if (CODE.test(text)) { action.kind = 'participant'; action.code = text; }
      else return false;  // the server says what is wrong, under the field
      field.value = '';
    } else {
      action.kind = 'door';
      action.delta = Number(kind);
    }
    var actions = queued();
    actions.push(action);
    keep(actions);
    send();
    return true;
  }

  Array.prototype.forEach.call(root.querySelectorAll('form[data-door]'), function (form) {
    form.addEventListener('submit', function (event) {
      if (tapped(form)) event.preventDefault();
    });
  });

  function scanner() {
    var button = document.getElementById('door-scan');
    var video = document.getElementById('door-video');
    if (!('BarcodeDetector' in window) || !navigator.mediaDevices) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      var detector = new window.BarcodeDetector({formats: ['qr_code']});
      navigator.mediaDevices.getUserMedia({video: {facingMode: 'environment'}}).then(function (stream) {
        video.srcObject = stream; video.hidden = false; video.play();
        function look() {
          detector.detect(video).then(function (codes) {
            var link = codes.length && LINK.exec(codes[0].rawValue);
            if (!link) { requestAnimationFrame(look); return; }
            stream.getTracks().forEach(function (track) { track.stop(); });
            video.hidden = true;
            var form = root.querySelector('form[data-door=code]');
            form.querySelector('[name=code]').value = codes[0].rawValue;
            tapped(form);
          }).catch(function () { requestAnimationFrame(look); });
        }
        look();
      }).catch(function () { button.hidden = true; });
    });
  }

  window.addEventListener('online', send);
  window.addEventListener('offline', function () { show(queued()); });
  setInterval(send, 15000);
  scanner();
  send();
}());
