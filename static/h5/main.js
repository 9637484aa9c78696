/* jubao H5 — start-up and the hash router:
 *   (empty)      start page
 *   #report-1…5  the reporting steps
 *   #done        the receipt of the report just sent
 *   #status      check a report / add information
 * Hash routing keeps the phone's back button working inside WeChat without losing input. */
(function () {
  'use strict';

  var J = window.Jubao;
  var $ = J.$;
  var VIEWS = ['view-home', 'report-form', 'view-receipt', 'view-status'];
  var shown = null;
  var firstRoute = true;

  function show(id) {
    VIEWS.forEach(function (v) {
      $(v).hidden = v !== id;
    });
    var changed = shown !== id;
    shown = id;
    return changed;
  }

  var quiet = false; // re-rendering for a language switch: keep focus and scroll

  function focusHeading(sel) {
    var h = document.querySelector(sel);
    if (!h) return;
    if (firstRoute || quiet) return; // do not move focus on page load
    try {
      h.focus({ preventScroll: true });
    } catch (e) {
      h.focus();
    }
  }

  function route() {
    var h = window.location.hash.replace(/^#\/?/, '');
    var m = /^report-([1-5])$/.exec(h);
    if (!quiet) window.scrollTo(0, 0);
    if (m) {
      var n = Number(m[1]);
      if (n > J.report.maxStep) {
        window.location.replace('#report-' + J.report.maxStep);
        return;
      }
      show('report-form');
      J.report.showStep(n);
      focusHeading('#step-' + n + '-title');
    } else if (h === 'done' && J.report.receipt) {
      show('view-receipt');
      J.report.renderReceipt();
      document.title = J.t('receipt.title') + ' · ' + J.t('doc.title');
      focusHeading('#receipt-title');
    } else if (h === 'status') {
      show('view-status');
      J.status.enter();
      document.title = J.t('status.title') + ' · ' + J.t('doc.title');
      focusHeading('#status-title');
    } else {
      show('view-home');
      J.report.returnToReview = false;
      document.title = J.t('doc.title');
      focusHeading('#home-title');
    }
    firstRoute = false;
  }

  function init() {
    document.documentElement.lang = J.lang;
    J.applyI18n(document);
    J.report.init();
    J.status.init();
    $('lang-toggle').addEventListener('click', function () {
      J.setLang(J.lang === 'en' ? 'zh-CN' : 'en');
      $('lang-toggle').setAttribute('lang', J.lang === 'en' ? 'zh-CN' : 'en');
      quiet = true;
      route();
      quiet = false;
    });
    $('lang-toggle').setAttribute('lang', J.lang === 'en' ? 'zh-CN' : 'en');
    $('receipt-again').addEventListener('click', function () {
      J.report.returnToReview = false;
    });
    window.addEventListener('hashchange', route);
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
