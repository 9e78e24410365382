/*
 * Keeps the top bar's reserve badge current: htmx re-fetches the badge partial every 30 seconds while
 * the tab is visible, when the tab comes back, and whenever something fires `reserve-changed` on <body>
 * (an htmx response can send it with an `HX-Trigger: reserve-changed` header).
 */
(function () {
  'use strict';

  var REFRESH_MS = 30000;

  function refresh() {
    var badge = document.getElementById('reserve-badge');
    if (!badge || !window.htmx || document.hidden) {
      return;
    }
    window.htmx.ajax('GET', badge.getAttribute('data-refresh-url'), { target: badge, swap: 'outerHTML' });
  }

  window.setInterval(refresh, REFRESH_MS);
  document.body.addEventListener('reserve-changed', refresh);
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) {
      refresh();
    }
  });
})();
