/*
 * Staff refunds (form[data-refund-confirm="#modal"]): before the form posts, a Bootstrap modal shows the
 * amount going back to the card and the reason; only "Yes, refund it" sends it. A form with an empty or
 * unreadable field posts straight away, so the server says what is wrong and keeps what was typed.
 */
(function () {
  'use strict';

  /* "12.5" -> "$12.50"; null unless it is a positive amount with at most two decimals (text only, no float). */
  function dollars(raw) {
    var match = /^\s*(\d*)(?:\.(\d{0,2}))?\s*$/.exec(raw || '');
    if (!match || (match[1] === '' && !match[2])) {
      return null;
    }
    var whole = match[1].replace(/^0+/, '') || '0';
    var fraction = match[2] || '';
    while (fraction.length < 2) {
      fraction += '0';
    }
    if (whole === '0' && fraction === '00') {
      return null;
    }
    return '$' + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + fraction;
  }

  function setUp(form) {
    var modalElement = document.querySelector(form.getAttribute('data-refund-confirm'));
    if (!modalElement || !window.bootstrap) {
      return;
    }
    var modal = window.bootstrap.Modal.getOrCreateInstance(modalElement);
    var confirmed = false;
    var button = modalElement.querySelector('[data-refund-confirmed]');

    form.addEventListener('submit', function (event) {
      if (confirmed) {
        return;
      }
      var amount = dollars(form.elements.namedItem('amount').value);
      var reason = (form.elements.namedItem('reason').value || '').trim();
      if (!amount || !reason) {
        return;
      }
      event.preventDefault();
      modalElement.querySelector('#refund-confirm-amount').textContent = amount;
      modalElement.querySelector('#refund-confirm-reason').textContent = reason;
      modal.show();
    });

    button.addEventListener('click', function () {
      confirmed = true;
      button.disabled = true;
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    });
    modalElement.addEventListener('shown.bs.modal', function () {
      button.focus();
    });
  }

  function ready() {
    document.querySelectorAll('form[data-refund-confirm]').forEach(setUp);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();
