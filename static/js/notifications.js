/*
 * The bell in the top bar and the notifications page.
 *
 * - The unread badge (#notification-count) stays current: htmx re-fetches it every data-bell-poll-ms while the
 *   tab is visible, when the tab comes back, and whenever something fires `notifications-changed` on <body>
 *   (an htmx response can send it with an `HX-Trigger` header). Actions that change it (mark read, mark all
 *   read) also send the fresh badge out of band, so it changes at once.
 * - The bell's menu (#notification-menu) is fetched each time the dropdown opens, so pages pay nothing for it.
 * - After "Mark all read" in the bell, an open notifications page reloads its list (`notifications-read-all`).
 * - Signed out meanwhile (another tab, an expired session), the server swaps nothing and shows a notice
 *   with a sign-in link (apps/core/middleware.py); its `signed-out` event stops the badge polling.
 *
 * Loaded by the bell on every app page; running it twice does nothing more.
 */
(function () {
  'use strict';

  if (window.afterresumeNotifications) {
    return;
  }
  window.afterresumeNotifications = true;

  var DEFAULT_POLL_MS = 30000;
  var signedOut = false;

  function bell() {
    return document.getElementById('notification-bell');
  }

  function refreshBadge() {
    var element = bell();
    var badge = document.getElementById('notification-count');
    if (!element || !badge || !window.htmx || document.hidden || signedOut) {
      return;
    }
    window.htmx.ajax('GET', element.getAttribute('data-bell-badge-url'), { target: badge, swap: 'outerHTML' });
  }

  function loadMenu() {
    var element = bell();
    if (!element || !window.htmx) {
      return;
    }
    window.htmx.ajax('GET', element.getAttribute('data-bell-menu-url'), {
      target: '#notification-menu',
      swap: 'innerHTML',
    });
  }

  function reloadPageList() {
    var card = document.querySelector('[data-notification-page]');
    if (!card || !window.htmx) {
      return;
    }
    window.htmx.ajax('GET', card.getAttribute('data-notification-page'), {
      target: '#notification-list-region',
      swap: 'outerHTML',
    });
  }

  function start() {
    var element = bell();
    if (!element) {
      return;
    }
    var poll = parseInt(element.getAttribute('data-bell-poll-ms'), 10);
    window.setInterval(refreshBadge, poll > 0 ? poll : DEFAULT_POLL_MS);
    element.addEventListener('show.bs.dropdown', loadMenu);
    document.body.addEventListener('notifications-changed', refreshBadge);
    document.body.addEventListener('notifications-read-all', reloadPageList);
    document.body.addEventListener('signed-out', function () {
      signedOut = true;
    });
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) {
        refreshBadge();
      }
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
