/*
 * Loaded synchronously in <head> so the colour theme is set before the first paint.
 * The choice made with the theme toggle (see app.js) wins; otherwise follow the system.
 */
(function () {
  'use strict';
  var theme = null;
  try {
    theme = window.localStorage.getItem('afterresume-theme');
  } catch (error) {
    theme = null;
  }
  if (theme !== 'light' && theme !== 'dark') {
    theme = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  document.documentElement.setAttribute('data-bs-theme', theme);
})();
