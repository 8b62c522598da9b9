// The event's start in the reader's own time zone, as the browser knows it. Without this
// script the page offers a field to name the zone (?tz=), and the server answers with it.
(function () {
  "use strict";
  var place = document.getElementById("your-time");
  if (!place || place.dataset.given || !window.Intl || !Intl.DateTimeFormat) {
    return;
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var start = new Date(place.dataset.startsAt);
  if (!zone || isNaN(start.getTime())) {
    return;
  }
  // As the server writes times (2027-05-01 16:00), whatever the browser's own conventions.
  var parts = {};
  new Intl.DateTimeFormat("en-US", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    timeZone: zone
  }).formatToParts(start).forEach(function (part) { parts[part.type] = part.value; });
  place.textContent = parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute +
    " (" + zone + ")";
})();
