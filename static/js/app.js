/*
 * AfterResume front-end behaviour.
 *
 * The Content-Security-Policy only allows scripts from our own origin, so every interaction
 * is wired up here through data attributes instead of inline handlers:
 *
 *   [data-theme-toggle]              switches light/dark mode (theme.js sets it before paint)
 *   .toast                           Bootstrap toasts are shown as soon as they appear, however they are
 *                                    inserted (page load, htmx swap, out-of-band swap into #toasts)
 *   [data-copy-target="#id"]         copies the value/text of #id, label flips to "Copied"
 *   form[data-confirm="…"]           asks window.confirm() before submitting
 *   (also on a submit button)
 *   .modal[data-open-on-load]        opens the modal right away (e.g. a form with errors)
 *   [data-select-on-focus]           selects the whole value of an input when focused
 *   input[data-time-zone-detect]     an empty time-zone field gets the browser's zone (Intl), mapped to
 *                                    its canonical name with the JSON alias list named by
 *                                    data-time-zone-aliases
 *
 * htmx requests carry the CSRF token from <meta name="csrf-token">.
 */
(function () {
  'use strict';

  var THEME_KEY = 'afterresume-theme';
  var COPY_RESET_MS = 2000;

  /* ------------------------------------------------------------------ theme */

  function storedTheme() {
    try {
      var value = window.localStorage.getItem(THEME_KEY);
      return value === 'light' || value === 'dark' ? value : null;
    } catch (error) {
      return null;
    }
  }

  function systemTheme() {
    return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }

  function currentTheme() {
    return document.documentElement.getAttribute('data-bs-theme') === 'dark' ? 'dark' : 'light';
  }

  function syncThemeToggles() {
    var dark = currentTheme() === 'dark';
    document.querySelectorAll('[data-theme-toggle]').forEach(function (button) {
      var label = dark ? 'Switch to light mode' : 'Switch to dark mode';
      button.setAttribute('aria-pressed', dark ? 'true' : 'false');
      button.setAttribute('aria-label', label);
      button.setAttribute('title', label);
    });
  }

  function applyTheme(theme, persist) {
    document.documentElement.setAttribute('data-bs-theme', theme);
    if (persist) {
      try {
        window.localStorage.setItem(THEME_KEY, theme);
      } catch (error) {
        /* Storage can be unavailable (private mode); the choice then lasts for this page only. */
      }
    }
    syncThemeToggles();
  }

  if (window.matchMedia) {
    var media = window.matchMedia('(prefers-color-scheme: dark)');
    var onSystemChange = function () {
      if (!storedTheme()) {
        applyTheme(systemTheme(), false);
      }
    };
    if (media.addEventListener) {
      media.addEventListener('change', onSystemChange);
    } else if (media.addListener) {
      media.addListener(onSystemChange);
    }
  }

  /* -------------------------------------------------------------- clipboard */

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var buffer = document.createElement('textarea');
      buffer.value = text;
      buffer.setAttribute('readonly', '');
      buffer.className = 'ar-copy-buffer';
      document.body.appendChild(buffer);
      buffer.select();
      var copied = false;
      try {
        copied = document.execCommand('copy');
      } catch (error) {
        copied = false;
      }
      document.body.removeChild(buffer);
      if (copied) {
        resolve();
      } else {
        reject(new Error('Copy command was refused'));
      }
    });
  }

  function copySource(button) {
    var selector = button.getAttribute('data-copy-target');
    if (!selector) {
      return null;
    }
    try {
      return document.querySelector(selector);
    } catch (error) {
      return null;
    }
  }

  function sourceText(element) {
    if (element.tagName === 'INPUT' || element.tagName === 'TEXTAREA' || element.tagName === 'SELECT') {
      return element.value;
    }
    return element.textContent.trim();
  }

  function setCopyFeedback(button, text, state) {
    var label = button.querySelector('[data-copy-label]') || button;
    var icon = button.querySelector('.bi');
    if (!button.hasAttribute('data-copy-original')) {
      button.setAttribute('data-copy-original', label.textContent);
      if (icon) {
        button.setAttribute('data-copy-icon', icon.className);
      }
    }
    label.textContent = text;
    if (icon) {
      icon.className = state === 'done' ? 'bi bi-check2' : 'bi bi-exclamation-circle';
    }
    button.classList.add(state === 'done' ? 'is-copied' : 'is-copy-failed');

    window.clearTimeout(button._arCopyTimer);
    button._arCopyTimer = window.setTimeout(function () {
      label.textContent = button.getAttribute('data-copy-original');
      if (icon && button.hasAttribute('data-copy-icon')) {
        icon.className = button.getAttribute('data-copy-icon');
      }
      button.classList.remove('is-copied', 'is-copy-failed');
      button.removeAttribute('data-copy-original');
      button.removeAttribute('data-copy-icon');
    }, COPY_RESET_MS);
  }

  function handleCopy(button) {
    var source = copySource(button);
    if (!source) {
      return;
    }
    copyText(sourceText(source)).then(
      function () {
        setCopyFeedback(button, 'Copied', 'done');
      },
      function () {
        /* Leave the text selected so it can be copied with the keyboard. */
        if (typeof source.select === 'function') {
          source.focus();
          source.select();
        }
        setCopyFeedback(button, 'Press Ctrl+C to copy', 'failed');
      }
    );
  }

  /* ------------------------------------------------------- bootstrap pieces */

  function showToasts(root) {
    if (!window.bootstrap) {
      return;
    }
    root.querySelectorAll('.toast').forEach(function (element) {
      if (element.hasAttribute('data-ar-shown')) {
        return;
      }
      element.setAttribute('data-ar-shown', '');
      element.addEventListener('hidden.bs.toast', function () {
        element.remove();
      });
      window.bootstrap.Toast.getOrCreateInstance(element).show();
    });
  }

  /* Out-of-band swaps into #toasts do not always raise htmx:load on the new toast, so the toast area
     is watched directly: anything added to it is shown. */
  function watchToasts() {
    var area = document.getElementById('toasts');
    if (!area || !window.MutationObserver || area.hasAttribute('data-ar-watched')) {
      return;
    }
    area.setAttribute('data-ar-watched', '');
    new window.MutationObserver(function () {
      showToasts(area);
    }).observe(area, { childList: true, subtree: true });
  }

  function openModals(root) {
    if (!window.bootstrap) {
      return;
    }
    root.querySelectorAll('.modal[data-open-on-load]').forEach(function (element) {
      if (element.hasAttribute('data-ar-opened')) {
        return;
      }
      element.setAttribute('data-ar-opened', '');
      window.bootstrap.Modal.getOrCreateInstance(element).show();
    });
  }

  /* Put the cursor where it is useful when a modal opens: the first field with an error,
     else an [autofocus] field, else the first field. Not when the person already put it somewhere in
     the modal while it was opening: the end of the opening animation must not take it back. */
  document.addEventListener('shown.bs.modal', function (event) {
    var modal = event.target;
    var active = document.activeElement;
    if (active && active !== modal && modal.contains(active)) {
      return;
    }
    var field =
      modal.querySelector('[aria-invalid="true"]') ||
      modal.querySelector('[autofocus]') ||
      modal.querySelector('input:not([type="hidden"]):not([disabled]), select:not([disabled]), textarea:not([disabled])');
    if (field) {
      field.focus();
    }
  });

  /* -------------------------------------------------------------- time zone */

  function browserTimeZone() {
    try {
      return (window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone) || '';
    } catch (error) {
      return '';
    }
  }

  function canonicalTimeZone(input, zone) {
    var listId = input.getAttribute('data-time-zone-aliases');
    var data = listId ? document.getElementById(listId) : null;
    if (!data) {
      return zone;
    }
    try {
      var aliases = JSON.parse(data.textContent);
      return aliases[zone.toLowerCase()] || zone;
    } catch (error) {
      return zone;
    }
  }

  function detectTimeZones(root) {
    root.querySelectorAll('input[data-time-zone-detect]').forEach(function (input) {
      if (input.value || input.hasAttribute('data-ar-detected')) {
        return;
      }
      input.setAttribute('data-ar-detected', '');
      var zone = browserTimeZone();
      if (zone) {
        input.value = canonicalTimeZone(input, zone);
      }
    });
  }

  function init(root) {
    watchToasts();
    detectTimeZones(root);
    showToasts(root);
    openModals(root);
    syncThemeToggles();
  }

  /* ------------------------------------------------------------ delegation */

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }

    var toggle = target.closest('[data-theme-toggle]');
    if (toggle) {
      event.preventDefault();
      applyTheme(currentTheme() === 'dark' ? 'light' : 'dark', true);
      return;
    }

    var copyButton = target.closest('[data-copy-target]');
    if (copyButton) {
      event.preventDefault();
      handleCopy(copyButton);
    }
  });

  /* Capture phase, so a cancelled confirmation also stops htmx-powered forms. */
  document.addEventListener(
    'submit',
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) {
        return;
      }
      var submitter = event.submitter;
      var message =
        (submitter && submitter.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );

  document.addEventListener('focusin', function (event) {
    var target = event.target;
    if (target instanceof HTMLElement && target.hasAttribute('data-select-on-focus') && typeof target.select === 'function') {
      target.select();
    }
  });

  /* ------------------------------------------------------------------ htmx */

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  document.addEventListener('htmx:configRequest', function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers['X-CSRFToken'] = token;
    }
  });

  /* New content swapped in by htmx gets the same treatment as the initial page. */
  document.addEventListener('htmx:load', function (event) {
    if (event.target instanceof Element) {
      init(event.target);
    }
  });

  /* ------------------------------------------------------------------ start */

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () {
      init(document);
    });
  } else {
    init(document);
  }
})();
