/*
 * AI help on entries: the review of a suggestion, the review queue's keys, and choosing entries.
 *
 * The Content-Security-Policy only allows scripts from our own origin, so everything is wired through
 * data attributes:
 *
 *   [data-decision-input]      a field's accept / edit / reject radio: sets data-decision on its fieldset
 *                              (CSS shows the edit box or the confirmation), and focuses the edit box
 *   [data-review-queue]        the queue page: A applies, E edits the first field, S skips, R rejects;
 *                              Escape leaves an edit box so the keys work again
 *   [data-bulk-select]         ticks all or none of the entries to improve, then refreshes the estimate
 *   [data-assist-swap]         htmx swaps this element's 4xx answers too (they carry the error to show)
 */
(function () {
  'use strict';

  if (window.arAssistLoaded) {
    return;
  }
  window.arAssistLoaded = true;

  var SWAPPED_ERRORS = [400, 402, 403, 404, 409, 422];

  /* ------------------------------------------------------------- decisions */

  function fieldsetOf(element) {
    return element.closest('.ar-sg-field');
  }

  function focusEdit(fieldset) {
    var input = fieldset.querySelector('.ar-sg-edit textarea, .ar-sg-edit input');
    if (input) {
      input.focus();
      if (typeof input.setSelectionRange === 'function' && input.value) {
        input.setSelectionRange(input.value.length, input.value.length);
      }
    }
  }

  function setDecision(radio, focus) {
    var fieldset = fieldsetOf(radio);
    if (!fieldset) {
      return;
    }
    fieldset.setAttribute('data-decision', radio.value);
    if (focus && radio.value === 'edit') {
      focusEdit(fieldset);
    }
  }

  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute('data-decision-input') && target.checked) {
      setDecision(target, true);
    }
  });

  /* ---------------------------------------------------------------- queue */

  function typing(target) {
    if (!(target instanceof HTMLElement)) {
      return false;
    }
    if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') {
      return true;
    }
    return target.tagName === 'INPUT' && ['radio', 'checkbox', 'submit', 'button'].indexOf(target.type) < 0;
  }

  function press(button) {
    if (!button || button.disabled) {
      return false;
    }
    button.classList.add('is-pressed');
    if (window.htmx) {
      /* A card swapped in a moment ago may not be wired up yet: make sure htmx handles the click. */
      window.htmx.process(button.closest('form') || button);
      window.htmx.process(button);
    }
    button.click();
    return true;
  }

  document.addEventListener('keydown', function (event) {
    if (!document.querySelector('[data-review-queue]') || event.defaultPrevented) {
      return;
    }
    /* Escape leaves an edit box (keeping the text), so the queue's keys work again. */
    if (event.key === 'Escape' && event.target instanceof HTMLElement && event.target.closest('.ar-sg-edit')) {
      event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (document.querySelector('.modal.show')) {
      return;
    }
    var card = document.getElementById('queue-card');
    if (!card) {
      return;
    }
    var key = event.key.toLowerCase();
    var handled = false;
    if (key === 'a') {
      handled = press(card.querySelector('[data-review-accept]'));
    } else if (key === 'r') {
      handled = press(card.querySelector('[data-review-reject]'));
    } else if (key === 's') {
      handled = press(card.querySelector('[data-review-skip]'));
    } else if (key === 'e') {
      var radio = card.querySelector('.ar-sg-field [data-decision-input][value="edit"]');
      if (radio) {
        radio.checked = true;
        setDecision(radio, true);
        handled = true;
      }
    }
    if (handled) {
      event.preventDefault();
    }
  });

  /* A new card in the queue: put the focus on its title, so keys and screen readers start there. */
  document.addEventListener('htmx:afterSwap', function (event) {
    var target = event.detail && event.detail.target;
    if (!(target instanceof Element)) {
      return;
    }
    var card = document.getElementById('queue-card');
    if (card && (target === card || target.id === 'queue-card' || !document.body.contains(target))) {
      var title = card.querySelector('#queue-title');
      if (title) {
        title.setAttribute('tabindex', '-1');
        title.focus({ preventScroll: false });
      }
    }
  });

  /* ------------------------------------------------------------- choosing */

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target.closest('[data-bulk-select]') : null;
    if (!target) {
      return;
    }
    event.preventDefault();
    var card = target.closest('[data-bulk-entries]');
    var on = target.getAttribute('data-bulk-select') === 'all';
    if (!card) {
      return;
    }
    card.querySelectorAll('input[type="checkbox"][name="entry"]').forEach(function (box) {
      box.checked = on;
    });
    var list = card.querySelector('[hx-post]');
    if (list && window.htmx) {
      window.htmx.trigger(list, 'bulk:selection');
    }
  });

  /* ----------------------------------------------------------------- htmx */

  /* htmx leaves 4xx answers out by default; the assist panel and queue show them (they carry the error). */
  document.addEventListener('htmx:beforeSwap', function (event) {
    var status = event.detail.xhr.status;
    if (SWAPPED_ERRORS.indexOf(status) < 0) {
      return;
    }
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source instanceof Element && source.closest('[data-assist-swap]')) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
