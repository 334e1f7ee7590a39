// Review page: a toggle between the diff and the full source (without
// JavaScript both are shown), and a busy state on the test-run button.
(function () {
  'use strict';
  var bar = document.getElementById('view-toggle');
  var diff = document.getElementById('diff-view');
  var source = document.getElementById('source-view');
  if (bar && diff && source) {
    var buttons = bar.querySelectorAll('button[data-view]');
    var show = function (which) {
      diff.hidden = which !== 'diff';
      source.hidden = which !== 'source';
      buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(b.dataset.view === which)); });
    };
    buttons.forEach(function (b) {
      b.addEventListener('click', function () { show(b.dataset.view); });
    });
    // Links to a source line (from the findings) show the source first.
    document.addEventListener('click', function (e) {
      var a = e.target.closest('a[href^="#L"]');
      if (a) { show('source'); }
    });
    window.addEventListener('hashchange', function () {
      if (location.hash.indexOf('#L') === 0) { show('source'); }
    });
    bar.hidden = false;
    show(location.hash.indexOf('#L') === 0 ? 'source' : 'diff');
  }

  document.querySelectorAll('form[data-busy]').forEach(function (form) {
    form.addEventListener('submit', function () {
      var b = form.querySelector('button[type=submit]');
      if (b) {
        // After the submission has started, so the form still posts.
        setTimeout(function () { b.disabled = true; b.textContent = form.dataset.busy; }, 0);
      }
    });
  });
})();
