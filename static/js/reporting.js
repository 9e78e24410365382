/*
 * Report pages (CSP: no inline scripts; everything through data attributes).
 *
 *   [data-for-kinds="a b"]      shown (and enabled) only while one of those report kinds is chosen
 *   [data-for-audience="x"]     shown only while that audience is chosen
 *   [data-arrange] [data-move]  moves a section row up or down in its list
 *   [data-print]                prints the page; [data-window-close] closes the print view
 */
(function () {
  'use strict';

  function checkedValue(form, name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : '';
  }

  function syncReportForm(form) {
    var kind = checkedValue(form, 'kind');
    var audience = checkedValue(form, 'audience');
    form.querySelectorAll('[data-for-kinds]').forEach(function (element) {
      var on = element.getAttribute('data-for-kinds').split(/\s+/).indexOf(kind) !== -1;
      element.hidden = !on;
      if (element.tagName === 'FIELDSET') {
        element.disabled = !on; /* a hidden fieldset's inputs are not sent */
      }
    });
    form.querySelectorAll('[data-for-audience]').forEach(function (element) {
      element.hidden = element.getAttribute('data-for-audience') !== audience;
    });
  }

  function moveRow(button) {
    var row = button.closest('[data-arrange-row]');
    if (!row) {
      return;
    }
    var up = button.getAttribute('data-move') === 'up';
    var sibling = up ? row.previousElementSibling : row.nextElementSibling;
    if (!sibling) {
      return;
    }
    if (up) {
      row.parentNode.insertBefore(row, sibling);
    } else {
      row.parentNode.insertBefore(sibling, row);
    }
    button.focus();
    row.dispatchEvent(new Event('change', { bubbles: true }));
  }

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    var move = target.closest('[data-move]');
    if (move) {
      event.preventDefault();
      moveRow(move);
      return;
    }
    if (target.closest('[data-print]')) {
      event.preventDefault();
      window.print();
      return;
    }
    if (target.closest('[data-window-close]')) {
      event.preventDefault();
      window.close();
    }
  });

  document.addEventListener('change', function (event) {
    var form = event.target instanceof Element ? event.target.closest('#report-form') : null;
    if (form && (event.target.name === 'kind' || event.target.name === 'audience')) {
      syncReportForm(form);
    }
  });

  function start() {
    var form = document.getElementById('report-form');
    if (form) {
      syncReportForm(form);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
