/*
 * Billing pages.
 *
 * - Keeps the top bar's reserve badge current: htmx re-fetches the badge partial every 30 seconds while
 *   the tab is visible, when the tab comes back, and whenever something fires `reserve-changed` on <body>
 *   (an htmx response can send it with an `HX-Trigger: reserve-changed` header).
 * - Staff adjustments (form[data-adjust-confirm="#modal"]): before the form posts, a Bootstrap modal shows
 *   the workspace, the signed amount and the reason; only "Yes, record it" sends it. A form with an empty
 *   field posts straight away, so the server explains what is missing and keeps what was typed.
 *
 * Loaded by the badge on every app page and by the staff billing page; running it twice does nothing more.
 */
(function () {
  'use strict';

  if (window.afterresumeBilling) {
    return;
  }
  window.afterresumeBilling = true;

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

  /*
   * "-1.5" -> { negative: true, text: "-$1.50" }; null when it is not a non-zero decimal amount.
   * Done on the digits as text, so no float ever touches the amount.
   */
  function signedDollars(raw) {
    var match = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(raw || '');
    if (!match || (match[2] === '' && !match[3])) {
      return null;
    }
    var whole = match[2].replace(/^0+/, '') || '0';
    var fraction = (match[3] || '').replace(/0+$/, '');
    if (whole === '0' && fraction === '') {
      return null;
    }
    while (fraction.length < 2) {
      fraction += '0';
    }
    var negative = match[1] === '-';
    var grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return { negative: negative, text: (negative ? '-' : '+') + '$' + grouped + '.' + fraction };
  }

  function setUpAdjustment(form) {
    var modalElement = document.querySelector(form.getAttribute('data-adjust-confirm'));
    if (!modalElement || !window.bootstrap) {
      return;
    }
    var modal = window.bootstrap.Modal.getOrCreateInstance(modalElement);
    var confirmed = false;
    var submitter = null;

    function field(name) {
      return form.elements.namedItem(name);
    }

    form.addEventListener('submit', function (event) {
      if (confirmed) {
        return;
      }
      var workspace = field('tenant');
      var amount = signedDollars(field('amount') && field('amount').value);
      var reason = ((field('reason') && field('reason').value) || '').trim();
      if (!workspace || !workspace.value || !amount || !reason) {
        return; // the server says what is missing and keeps what was typed
      }
      event.preventDefault();
      submitter = event.submitter || null;
      var option = workspace.options[workspace.selectedIndex];
      modalElement.querySelector('#adjust-confirm-workspace').textContent = option ? option.text : '';
      var amountElement = modalElement.querySelector('#adjust-confirm-amount');
      amountElement.textContent = amount.text;
      amountElement.classList.toggle('text-danger', amount.negative);
      amountElement.classList.toggle('text-success', !amount.negative);
      modalElement.querySelector('#adjust-confirm-direction').textContent = amount.negative
        ? 'taken from the reserve'
        : 'added to the reserve';
      modalElement.querySelector('#adjust-confirm-reason').textContent = reason;
      modal.show();
    });

    modalElement.querySelector('[data-adjust-confirmed]').addEventListener('click', function (event) {
      confirmed = true;
      event.currentTarget.disabled = true;
      if (form.requestSubmit) {
        form.requestSubmit(submitter || undefined);
      } else {
        form.submit();
      }
    });

    modalElement.addEventListener('shown.bs.modal', function () {
      modalElement.querySelector('[data-adjust-confirmed]').focus();
    });
    modalElement.addEventListener('hidden.bs.modal', function () {
      if (!confirmed) {
        var amountField = field('amount');
        if (amountField) {
          amountField.focus();
        }
      }
    });
  }

  function ready() {
    document.querySelectorAll('form[data-adjust-confirm]').forEach(setUpAdjustment);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();
