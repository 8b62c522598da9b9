/* Keyboard shortcuts for the coordinators' queue (/me): j and k move between the items
   waiting for a decision, a approves (or publishes) the item in focus, r goes to its reason
   to reject. The page works without this script; with it, the help line is shown. Keys typed
   into a field are the field's. Non-Latin keyboards use the same keys (by their place). */
(function () {
  'use strict';
  var items = Array.prototype.slice.call(document.querySelectorAll('.queue-item'));
  if (!items.length) return;
  var help = document.getElementById('queue-keys');
  if (help) help.hidden = false;
  var PLACES = {KeyJ: 'j', KeyK: 'k', KeyA: 'a', KeyR: 'r'};

  function pressed(event) {
    return /^[a-z]$/.test(event.key) ? event.key : PLACES[event.code];
  }

  function typing(element) {
    return element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName);
  }

  function current() {
    for (var i = 0; i < items.length; i++) {
      if (items[i].contains(document.activeElement)) return i;
    }
    return -1;
  }

  function go(index) {
    var item = items[Math.max(0, Math.min(items.length - 1, index))];
    item.focus();
    item.scrollIntoView({block: 'nearest'});
  }

  document.addEventListener('keydown', function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.shiftKey ||
        typing(event.target)) return;
    var key = pressed(event), at = current(), target = null;
    if (key === 'j') {
      go(at + 1);
    } else if (key === 'k') {
      go(at < 0 ? 0 : at - 1);
    } else if (key === 'a' && at >= 0) {
      target = items[at].querySelector('.decision button[value=approve], .decision button[value=publish]');
      if (!target) return;
      target.click();
    } else if (key === 'r' && at >= 0) {
      target = items[at].querySelector('.decision form.reject input[name=reason]');
      if (!target) return;
      target.focus();
    } else {
      return;
    }
    event.preventDefault();
  });
})();
