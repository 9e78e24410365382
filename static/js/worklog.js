/*
 * AfterResume work log: quick add from every page, the timeline, suggestions and evidence drop zones.
 *
 * Loaded (deferred) on every app page by the quick-add modal partial. Everything is wired through data
 * attributes because the Content-Security-Policy forbids inline scripts:
 *
 *   [data-quick-add]             opens the quick-add modal (so does the N key outside text fields)
 *   #quick-add-modal             its form is fetched with htmx the first time it opens
 *   [data-swap-errors]           htmx swaps 400/422 answers into this form (validation errors, typed text kept)
 *   worklog:entry-saved          (HX-Trigger) closes the modal and refreshes the timeline if it is on screen;
 *                                any element with hx-trigger="worklog:entry-saved from:body" (the dashboard's
 *                                cards) re-fetches itself too
 *   [data-suggest-add]           a suggested skill/tag chip: adds its data-value to the form's input
 *   [data-filed-under]           chips showing the employer and project the entry will be filed under;
 *                                they follow the fields as they are typed in, and [data-filed-remove]
 *                                clears its field (and focuses it, so another can be typed)
 *   [data-follow-up-toggle]      the "result not known yet" box shows [data-follow-up-field]
 *   [data-drop-zone]             drag files onto it; with data-auto-submit the form uploads at once
 */
(function () {
  'use strict';

  if (window.arWorklogLoaded) {
    return;
  }
  window.arWorklogLoaded = true;

  var FOLLOW_UP_DAYS = 30;

  function modalElement() {
    return document.getElementById('quick-add-modal');
  }

  function isTyping(target) {
    if (!(target instanceof Element)) {
      return false;
    }
    return Boolean(target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));
  }

  /* ------------------------------------------------------------- quick add */

  function loadQuickAddForm(modal) {
    if (!window.htmx || modal.hasAttribute('data-loaded')) {
      return;
    }
    modal.setAttribute('data-loaded', '');
    window.htmx
      .ajax('GET', modal.getAttribute('data-quick-add-url'), {
        target: modal.querySelector('.modal-content'),
        swap: 'outerHTML',
      })
      .then(function () {
        focusQuickAdd(modal);
      });
  }

  function focusQuickAdd(modal) {
    var field =
      modal.querySelector('[aria-invalid="true"]') ||
      modal.querySelector('input[name="title"]');
    if (field) {
      field.focus();
    }
  }

  function openQuickAdd() {
    var modal = modalElement();
    if (!modal || !window.bootstrap) {
      return;
    }
    window.bootstrap.Modal.getOrCreateInstance(modal).show();
  }

  document.addEventListener('show.bs.modal', function (event) {
    if (event.target === modalElement()) {
      loadQuickAddForm(event.target);
    }
  });

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    if (target.closest('[data-quick-add]')) {
      event.preventDefault();
      openQuickAdd();
      return;
    }
    var chip = target.closest('[data-suggest-add]');
    if (chip) {
      event.preventDefault();
      addSuggestion(chip);
      return;
    }
    var remove = target.closest('[data-filed-remove]');
    if (remove) {
      event.preventDefault();
      removeFiledUnder(remove);
    }
  });

  document.addEventListener('keydown', function (event) {
    var key = event.key;
    if (key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      var form = event.target instanceof Element ? event.target.closest('form#quick-add-form, form.ar-entry-form') : null;
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    if ((key !== 'n' && key !== 'N') || event.ctrlKey || event.metaKey || event.altKey || event.repeat) {
      return;
    }
    if (isTyping(event.target) || document.querySelector('.modal.show')) {
      return;
    }
    event.preventDefault();
    openQuickAdd();
  });

  /* A saved entry: close the modal and show the fresh timeline (filters kept) if it is on this page. */
  document.body.addEventListener('worklog:entry-saved', function (event) {
    var modal = modalElement();
    if (modal && window.bootstrap) {
      window.bootstrap.Modal.getOrCreateInstance(modal).hide();
    }
    var results = document.getElementById('timeline-results');
    if (!results || !window.htmx) {
      return;
    }
    var entryId = event.detail && event.detail.id;
    window.htmx
      .ajax('GET', window.location.pathname + window.location.search, { target: results, swap: 'outerHTML' })
      .then(function () {
        var row = entryId ? document.getElementById('entry-' + entryId) : null;
        if (row) {
          row.classList.add('is-new');
        }
      });
  });

  /* htmx leaves 4xx answers out by default; forms marked [data-swap-errors] show them (their errors). */
  document.addEventListener('htmx:beforeSwap', function (event) {
    var status = event.detail.xhr.status;
    if (status !== 400 && status !== 422) {
      return;
    }
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source instanceof Element && source.closest('[data-swap-errors]')) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  /* The timeline's URL keeps only the filters in use, so a bookmarked view reads cleanly. */
  document.addEventListener('htmx:configRequest', function (event) {
    var source = event.detail.elt;
    var formData = event.detail.formData;
    if (event.detail.verb !== 'get' || !(source instanceof Element) || !source.closest('#timeline-filters') || !formData) {
      return;
    }
    Array.from(formData.keys()).forEach(function (key) {
      if (formData.getAll(key).every(function (value) { return value === ''; })) {
        formData.delete(key);
      }
    });
  });

  document.addEventListener('htmx:afterSwap', function (event) {
    var modal = modalElement();
    if (modal && modal.contains(event.target) && modal.classList.contains('show')) {
      focusQuickAdd(modal);
    }
  });

  /* ----------------------------------------------------------- suggestions */

  function addSuggestion(chip) {
    var form = chip.closest('form');
    var kind = chip.getAttribute('data-suggest-add');
    var input = form ? form.querySelector(kind === 'tags' ? '[data-tag-input]' : '[data-skill-input]') : null;
    if (!input) {
      return;
    }
    var value = chip.getAttribute('data-value');
    var parts = input.value.split(',').map(function (part) {
      return part.trim();
    });
    if (chip.hasAttribute('data-complete') && parts.length && parts[parts.length - 1] !== '') {
      parts[parts.length - 1] = value; /* finish the name being typed */
    } else {
      parts = parts.filter(function (part) {
        return part !== '';
      });
      parts.push(value);
    }
    input.value = parts.filter(Boolean).join(', ') + ', ';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.focus();
  }

  /* ---------------------------------------------------------- filed under */

  function filedField(form, name) {
    return form ? form.querySelector('input[name="' + name + '"]') : null;
  }

  function syncFiledUnder(form) {
    var strip = form ? form.querySelector('[data-filed-under]') : null;
    if (!strip) {
      return;
    }
    var any = false;
    strip.querySelectorAll('[data-filed-chip]').forEach(function (chip) {
      var name = chip.getAttribute('data-filed-chip');
      var input = filedField(form, name);
      var value = input ? input.value.trim() : '';
      var label = chip.querySelector('[data-filed-value]');
      if (label) {
        label.textContent = value;
      }
      var nameLabel = chip.querySelector('.ar-filed-name');
      if (nameLabel) {
        nameLabel.title = (name === 'employer' ? 'Employer: ' : 'Project: ') + value;
      }
      chip.hidden = !value;
      any = any || Boolean(value);
    });
    var none = strip.querySelector('[data-filed-none]');
    if (none) {
      none.hidden = any;
    }
  }

  function removeFiledUnder(button) {
    var form = button.closest('form');
    var name = button.getAttribute('data-filed-remove');
    var input = filedField(form, name);
    if (!input) {
      return;
    }
    input.value = '';
    var hint = form.querySelector('[data-filed-hint]');
    if (hint) {
      hint.hidden = true;
    }
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.focus();
  }

  document.addEventListener('input', function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || (input.name !== 'employer' && input.name !== 'project')) {
      return;
    }
    syncFiledUnder(input.closest('form'));
  });

  /* -------------------------------------------------------------- follow-up */

  function isoDateInDays(days) {
    var day = new Date();
    day.setDate(day.getDate() + days);
    var month = String(day.getMonth() + 1).padStart(2, '0');
    return day.getFullYear() + '-' + month + '-' + String(day.getDate()).padStart(2, '0');
  }

  document.addEventListener('change', function (event) {
    var toggle = event.target;
    if (!(toggle instanceof HTMLInputElement) || !toggle.hasAttribute('data-follow-up-toggle')) {
      return;
    }
    var form = toggle.closest('form');
    var field = form ? form.querySelector('[data-follow-up-field]') : null;
    if (!field) {
      return;
    }
    field.hidden = !toggle.checked;
    var date = field.querySelector('input[type="date"]');
    if (toggle.checked && date && !date.value) {
      date.value = isoDateInDays(FOLLOW_UP_DAYS);
    }
  });

  /* ------------------------------------------------------------- drop zones */

  function showChosenFiles(zone, files) {
    var label = zone.querySelector('[data-drop-files]');
    if (!label) {
      return;
    }
    var names = Array.prototype.map.call(files, function (file) {
      return file.name;
    });
    label.textContent = names.length ? 'Chosen: ' + names.join(', ') : '';
  }

  function zoneFor(event) {
    return event.target instanceof Element ? event.target.closest('[data-drop-zone]') : null;
  }

  ['dragenter', 'dragover'].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var zone = zoneFor(event);
      if (zone) {
        event.preventDefault();
        zone.classList.add('is-dragging');
      }
    });
  });

  document.addEventListener('dragleave', function (event) {
    var zone = zoneFor(event);
    if (zone && !zone.contains(event.relatedTarget)) {
      zone.classList.remove('is-dragging');
    }
  });

  document.addEventListener('drop', function (event) {
    var zone = zoneFor(event);
    if (!zone) {
      return;
    }
    event.preventDefault();
    zone.classList.remove('is-dragging');
    var input = zone.querySelector('input[type="file"]');
    if (!input || !event.dataTransfer || !event.dataTransfer.files.length) {
      return;
    }
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });

  document.addEventListener('change', function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file') {
      return;
    }
    var zone = input.closest('[data-drop-zone]');
    if (!zone) {
      return;
    }
    showChosenFiles(zone, input.files);
    if (zone.hasAttribute('data-auto-submit') && input.files.length && input.form) {
      zone.classList.add('is-uploading');
      input.form.requestSubmit();
    }
  });
})();
