/*
 * Staff dashboards (/staff/metrics/, /staff/system/).
 *
 * - Charts: every <canvas data-chart="key"> is drawn with Chart.js from the JSON block #metrics-charts
 *   ({key, type, stacked, money, labels, datasets: [{key, label, data}]}); money is integer micros and is
 *   only turned into dollars for the axis and tooltips. Charts are drawn again after an htmx swap and
 *   when the colour theme changes.
 * - Auto-refresh: an element with data-refresh-url and data-auto-refresh-seconds is fetched again (htmx,
 *   outerHTML) on that interval while the "Auto-refresh" switch is on and the tab is visible, and never
 *   while someone is typing in a form inside it. The switch is remembered in localStorage.
 *
 * The Content-Security-Policy allows no inline script: everything is wired here through data attributes.
 */
(function () {
  'use strict';

  var AUTO_KEY = 'afterresume-auto-refresh';
  var charts = [];
  var timers = [];
  var drawnFrom = null; // the JSON block the charts on the page were drawn from

  /* ---------------------------------------------------------------------------------------- colours */

  var LIGHT = ['#2f6fde', '#e07b24', '#2e9e6a', '#b54ac4', '#d04545', '#6b7a8f'];
  var DARK = ['#7aa7ff', '#f3a35f', '#5fd09b', '#d98ae6', '#f07c7c', '#a3b0c2'];

  function dark() {
    return document.documentElement.getAttribute('data-bs-theme') === 'dark';
  }

  function cssVar(name, fallback) {
    var value = window.getComputedStyle(document.body).getPropertyValue(name);
    return (value && value.trim()) || fallback;
  }

  /* ------------------------------------------------------------------------------------------ money */

  function dollars(micros, fine) {
    if (micros === null || micros === undefined) {
      return '';
    }
    var negative = micros < 0;
    var cents = Math.round(Math.abs(micros) / 10000);
    var text;
    if (fine && Math.abs(micros) < 10000 && micros !== 0) {
      text = '$' + (Math.abs(micros) / 1000000).toFixed(4);
    } else if (!fine && cents >= 100000) {
      text = '$' + (cents / 100000).toFixed(cents >= 1000000 ? 0 : 1) + 'k';
    } else {
      var whole = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
      var rest = (cents % 100).toString();
      text = '$' + whole + '.' + (rest.length < 2 ? '0' + rest : rest);
    }
    return (negative ? '-' : '') + text;
  }

  function count(value) {
    if (value === null || value === undefined) {
      return '';
    }
    return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  /* ----------------------------------------------------------------------------------------- charts */

  function destroyCharts() {
    charts.forEach(function (chart) {
      chart.destroy();
    });
    charts = [];
  }

  function chartData() {
    var block = document.getElementById('metrics-charts');
    if (!block) {
      return [];
    }
    try {
      return JSON.parse(block.textContent);
    } catch (error) {
      return [];
    }
  }

  function draw() {
    destroyCharts();
    drawnFrom = document.getElementById('metrics-charts');
    if (!window.Chart) {
      return;
    }
    var palette = dark() ? DARK : LIGHT;
    var text = cssVar('--bs-secondary-color', dark() ? '#adb5bd' : '#6c757d');
    var grid = cssVar('--bs-border-color-translucent', 'rgba(0,0,0,0.1)');
    chartData().forEach(function (spec) {
      var canvas = document.querySelector('canvas[data-chart="' + spec.key + '"]');
      if (!canvas) {
        return;
      }
      var line = spec.type === 'line';
      var format = spec.money ? dollars : count;
      var datasets = spec.datasets.map(function (set, index) {
        var colour = palette[index % palette.length];
        return {
          label: set.label,
          data: set.data,
          borderColor: colour,
          backgroundColor: line ? colour : colour + 'cc',
          borderWidth: line ? 2 : 0,
          pointRadius: spec.labels.length > 60 ? 0 : 2,
          pointHoverRadius: 4,
          tension: 0.25,
          spanGaps: false,
          borderRadius: line ? 0 : 2,
          maxBarThickness: 28
        };
      });
      var chart = new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: 'index', intersect: false },
          plugins: {
            legend: { position: 'bottom', labels: { color: text, boxWidth: 12, boxHeight: 12 } },
            tooltip: {
              callbacks: {
                title: function (items) {
                  var index = items.length ? items[0].dataIndex : 0;
                  var start = spec.labels[index];
                  var end = spec.ends[index];
                  return start === end ? start : start + ' to ' + end;
                },
                label: function (item) {
                  var value = item.raw;
                  return item.dataset.label + ': ' + (value === null ? 'no snapshot' : format(value, true));
                }
              }
            }
          },
          scales: {
            x: {
              stacked: spec.stacked,
              ticks: { color: text, maxRotation: 0, autoSkip: true, maxTicksLimit: 8 },
              grid: { display: false }
            },
            y: {
              stacked: spec.stacked,
              beginAtZero: true,
              ticks: {
                color: text,
                maxTicksLimit: 6,
                callback: function (value) {
                  return format(value, false);
                }
              },
              grid: { color: grid }
            }
          }
        }
      });
      charts.push(chart);
    });
    document.body.setAttribute('data-charts-drawn', String(charts.length));
  }

  /* ----------------------------------------------------------------------------------- auto-refresh */

  function autoOn() {
    var toggle = document.querySelector('[data-auto-refresh-toggle]');
    return !!toggle && toggle.checked;
  }

  function typingIn(region) {
    var active = document.activeElement;
    return !!active && region.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
  }

  function refresh(id) {
    var region = document.getElementById(id);
    if (!region || !window.htmx || document.hidden || !autoOn() || typingIn(region)) {
      return;
    }
    window.htmx.ajax('GET', region.getAttribute('data-refresh-url'), { target: region, swap: 'outerHTML' });
  }

  function schedule() {
    timers.forEach(window.clearInterval);
    timers = [];
    document.querySelectorAll('[data-refresh-url][data-auto-refresh-seconds]').forEach(function (region) {
      var seconds = parseInt(region.getAttribute('data-auto-refresh-seconds'), 10);
      if (!region.id || !(seconds > 0)) {
        return;
      }
      timers.push(window.setInterval(refresh.bind(null, region.id), seconds * 1000));
    });
  }

  function setUpToggle() {
    var toggle = document.querySelector('[data-auto-refresh-toggle]');
    if (!toggle) {
      return;
    }
    try {
      var stored = window.localStorage.getItem(AUTO_KEY);
      if (stored === 'off') {
        toggle.checked = false;
      }
    } catch (error) {
      /* no storage: the switch starts on */
    }
    toggle.addEventListener('change', function () {
      try {
        window.localStorage.setItem(AUTO_KEY, toggle.checked ? 'on' : 'off');
      } catch (error) {
        /* the choice lasts for this page */
      }
    });
  }

  /* ------------------------------------------------------------------------------------------ setup */

  function ready() {
    setUpToggle();
    draw();
    schedule();
    document.body.addEventListener('htmx:afterSettle', function () {
      if (document.getElementById('metrics-charts') !== drawnFrom) {
        draw();
      }
      schedule();
    });
    new window.MutationObserver(draw).observe(document.documentElement, {
      attributes: true,
      attributeFilter: ['data-bs-theme']
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();
