// Times in the reader's own zone, as the browser knows it, in the page's language: the
// event page's "your time", each event card's start, and the zone sent with a subscription
// (reminders in the reader's time). Without this script the pages show each event's local
// time, and the event page offers a field to name a zone (?tz=), answered by the server.
(function () {
  "use strict";
  if (!window.Intl || !Intl.DateTimeFormat) {
    return;
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) {
    return;
  }
  var lang = document.documentElement.lang || "en";
  var format;
  try {
    format = new Intl.DateTimeFormat(lang, {weekday: "short", day: "numeric", month: "short", hour: "2-digit",
                                            minute: "2-digit", hourCycle: "h23", timeZone: zone,
                                            calendar: "gregory", numberingSystem: "latn"});  // the day of action's calendar, as the server writes dates
  } catch (e) {
    return;
  }
  function inZone(instant) {
    var start = new Date(instant);
    return isNaN(start.getTime()) ? null : format.format(start);
  }

  var place = document.getElementById("your-time");
  if (place && !place.dataset.given) {
    var mine = inZone(place.dataset.startsAt);
    if (mine) {
      place.textContent = mine + " (" + zone + ")";
    }
  }
  // Each card: the reader's time first; the local one stays beside it, named as such.
  Array.prototype.forEach.call(document.querySelectorAll("time[data-starts-at][data-city]"), function (time) {
    var mine = inZone(time.dataset.startsAt);
    if (mine) {
      time.textContent = mine;
      time.title = zone;
      var local = time.parentNode.querySelector(".meta");
      if (local && local.dataset.yours) {
        local.textContent = "(" + local.dataset.yours + ")";
      }
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("input[data-browser-zone]"), function (input) {
    if (!input.value) {
      input.value = zone;
    }
  });
})();
