/* jubao staff console — related tips on the case page (issue 18): the tips that share this
 * one's target, reporter (by the blind index: "same reporter", never who) or facts, from
 * GET /api/v1/cases/{id}/related, with their reasons and score. When the caller may merge
 * this case, one form merges it into the earliest valid earlier tip of the list, so the
 * first valid reporter keeps priority (DOMAIN §3, §5). */
(function () {
  'use strict';
  var C = window.Console;
  var h = C.h;
  var INVALID = { merged: 1, not_accepted: 1, transferred: 1 };

  /** The earliest related tip received before `c` that a merge may go into. */
  function earliestValid(c, list) {
    return list.filter(function (r) { return !INVALID[r.status] && r.received_at < c.received_at; })
      .sort(function (a, b) { return a.received_at < b.received_at ? -1 : a.received_at > b.received_at ? 1 : 0; })[0] || null;
  }

  function mergeForm(c, into, reload) {
    var reason = h('textarea', { name: 'reason', rows: '2', required: true, maxlength: '2000' });
    var err = h('p.error', { role: 'alert', hidden: true });
    var btn = h('button.btn.primary', { type: 'submit' }, C.t('related.merge', { id: into.id.slice(-12) }));
    var form = h('form.action-form#related-merge', { novalidate: true, 'data-into': into.id },
      h('p.small', C.t('related.mergeHint')), C.field('f.reason', reason), err, btn);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      err.hidden = true;
      btn.disabled = true;
      C.post('/api/v1/cases/' + encodeURIComponent(c.id) + '/transitions',
        { to: 'merged', reason: reason.value, merge_into: into.id }).then(function () {
        C.flash(C.t('action.merge') + ' — ' + C.t('done'));
        reload();
      }, function (e2) {
        err.textContent = C.errorText(e2);
        err.hidden = false;
      }).finally(function () { btn.disabled = false; });
    });
    return form;
  }

  function render(sec, c, list, reload) {
    if (!list.length) {
      sec.appendChild(h('p', C.t('related.none')));
      return;
    }
    sec.appendChild(C.table(['related.tip', 'col.received', 'col.status', 'related.reasons', 'related.score'], list.map(function (r) {
      return h('tr', { 'data-related': r.id },
        h('td', h('a', { href: '#/cases/' + encodeURIComponent(r.id) }, r.id.slice(-12))),
        h('td', C.fmtTime(r.received_at)),
        h('td', h('span.status.s-' + r.status, C.label('status', r.status))),
        h('td', r.reasons.map(function (k) { return h('span.cat', C.label('reason', k)); })),
        h('td', String(r.score)));
    })));
    var into = c.actions.indexOf('merge') >= 0 ? earliestValid(c, list) : null;
    if (into) sec.appendChild(mergeForm(c, into, reload));
  }

  /** The tip's priority and why: every factor with its points, which add up to the score. */
  function triagePanel(c) {
    var sec = h('section.card#triage', { 'aria-labelledby': 'triage-h' }, h('h2#triage-h', C.t('triage.title')));
    var t = c.triage;
    if (!t) {
      sec.appendChild(h('p', C.t('triage.pending')));
      return sec;
    }
    sec.appendChild(h('p', C.t('triage.score') + ' ', h('strong#triage-score', String(t.score)),
      t.repeated ? h('span.tag', ' ' + C.t('inbox.repeated')) : null,
      h('span.small', ' · ' + C.t('triage.policy') + ' ' + t.policy)));
    sec.appendChild(C.table(['triage.factor', 'triage.value', 'triage.weight', 'triage.points'], t.factors.map(function (f) {
      var value = f.factor === 'categories' && f.detail ? C.label('cat', f.detail) : f.detail || String(f.value);
      return h('tr', { 'data-factor': f.factor },
        h('td', C.t('factor.' + f.factor)), h('td', value), h('td', String(f.weight)), h('td', String(f.points)));
    })));
    return sec;
  }

  C.related = {
    triage: triagePanel,
    /** The section, filled when the list arrives (the case page does not wait for it). */
    panel: function (c, reload) {
      var sec = h('section.card#related', { 'aria-labelledby': 'related-h' }, h('h2#related-h', C.t('related.title')));
      C.get('/api/v1/cases/' + encodeURIComponent(c.id) + '/related').then(function (list) {
        render(sec, c, list, reload);
      }, function (e) {
        sec.appendChild(h('p.error', C.errorText(e)));
      });
      return sec;
    },
    earliestValid: earliestValid,
  };
})();
