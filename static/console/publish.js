/* jubao staff console — retention and publication (issue 19).
 * On the case page: its retention standing (GET /api/v1/cases/{id}/retention) with the legal
 * hold a supervisor places or lifts, and, on a substantiated decided or closed case, the form
 * that drafts a typical case (典型案例). The page #/typical lists typical cases with the steps
 * the user may take: legal review (legal), approval that publishes and withdrawal
 * (supervisor); nobody reviews or approves their own draft (the API refuses it too). */
(function () {
  'use strict';
  var C = window.Console;
  var h = C.h;

  function me() {
    return C.session.user ? C.session.user.username : '';
  }

  /** A small form: `controls` is [[labelKey, element]], `send()` returns the request's promise. */
  function form(id, controls, submitKey, send, done) {
    var err = h('p.error', { role: 'alert', hidden: true });
    var btn = h('button.btn.primary', { type: 'submit' }, C.t(submitKey));
    var f = h('form.action-form', { id: id, novalidate: true });
    controls.forEach(function (c) { f.appendChild(C.field(c[0], c[1], c[2], c[3])); });
    f.appendChild(err);
    f.appendChild(btn);
    f.addEventListener('submit', function (e) {
      e.preventDefault();
      err.hidden = true;
      btn.disabled = true;
      send().then(function (r) {
        C.flash(C.t('done'));
        done(r);
      }, function (e2) {
        err.textContent = C.errorText(e2) + (e2 && e2.body && e2.body.error && e2.body.error.field ? ' (' + e2.body.error.field + ')' : '');
        err.hidden = false;
        var name = e2 && e2.body && e2.body.error && e2.body.error.field;
        var bad = name ? f.querySelector('[name="' + name + '"]') : null;
        if (bad) { bad.setAttribute('aria-invalid', 'true'); bad.focus(); }
      }).finally(function () { btn.disabled = false; });
    });
    return f;
  }

  function area(name, max, rows) {
    return h('textarea', { name: name, rows: rows || '3', maxlength: String(max), required: true });
  }

  function kv(pairs) {
    var dl = h('dl.kv');
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined) return;
      dl.appendChild(h('dt', C.t(p[0])));
      dl.appendChild(h('dd', p[1]));
    });
    return dl;
  }

  function retentionPanel(c, reload) {
    var sec = h('section.card#retention', { 'aria-labelledby': 'retention-h' }, h('h2#retention-h', C.t('retention.title')));
    var base = '/api/v1/cases/' + encodeURIComponent(c.id);
    C.get(base + '/retention').then(function (s) {
      sec.appendChild(kv([
        ['retention.ended', s.ended_on || C.t('retention.waiting.' + (s.waiting || 'open'))],
        ['retention.policy', s.policy],
        ['retention.identityOn', s.identity_purge_on],
        ['retention.sanitizedOn', s.sanitized_purge_on]
      ]));
      s.purged.forEach(function (p) {
        sec.appendChild(h('p.small', C.t('retention.purged.' + p.stage, { at: C.fmtTime(p.purged_at) })));
      });
      var inForce = s.holds.filter(function (x) { return !x.lifted_at; })[0];
      s.holds.forEach(function (x) {
        sec.appendChild(h('p.small', { 'data-hold': x.lifted_at ? 'lifted' : 'in-force' },
          C.t(x.lifted_at ? 'retention.holdLifted' : 'retention.holdInForce', { by: x.placed_by, at: C.fmtTime(x.placed_at) }) + ' — ' + x.reason));
      });
      if (!C.has('supervisor')) return;
      var reason = area('reason', 2000, 2);
      var gone = s.purged.some(function (p) { return p.stage === 'sanitized'; });
      if (inForce) {
        sec.appendChild(form('hold-lift', [['f.reason', reason]], 'retention.lift', function () {
          return C.post(base + '/legal-hold/lift', { reason: reason.value });
        }, reload));
      } else if (!gone) {
        sec.appendChild(form('hold-place', [['f.reason', reason, 'retention.holdHint']], 'retention.hold', function () {
          return C.post(base + '/legal-hold', { reason: reason.value });
        }, reload));
      }
    }, function (e) {
      sec.appendChild(h('p.error', C.errorText(e)));
    });
    return sec;
  }

  function draftPanel(c) {
    var d = c.decision || {};
    var decided = (c.status === 'decided' || c.status === 'closed') && (d.outcome === 'substantiated' || d.outcome === 'partly');
    if (!decided || !C.hasAny(['handler', 'supervisor'])) return null;
    var title = h('input', { name: 'title', maxlength: '100', required: true });
    var kind = h('input', { name: 'institution_kind', maxlength: '50', required: true });
    var region = h('input', { name: 'region', maxlength: '6', inputmode: 'numeric', value: c.region ? c.region.slice(0, 4) + '00' : '' });
    var summary = area('summary', 5000, 5);
    var basis = area('legal_basis', 2000, 2);
    var penalty = area('penalty', 2000, 2);
    var f = form('typical-draft', [
      ['typical.f.title', title], ['typical.f.kind', kind, 'typical.f.kindHint'], ['typical.f.region', region],
      ['typical.f.summary', summary, 'typical.f.summaryHint'], ['typical.f.basis', basis], ['typical.f.penalty', penalty]
    ], 'typical.draft', function () {
      return C.post('/api/v1/cases/' + encodeURIComponent(c.id) + '/typical-cases', {
        title: title.value, institution_kind: kind.value, region: region.value || null,
        summary: summary.value, legal_basis: basis.value, penalty: penalty.value
      });
    }, function () { location.hash = '#/typical'; });
    return h('section.card#typical', { 'aria-labelledby': 'typical-h' }, h('h2#typical-h', C.t('typical.title')),
      h('details.publish', h('summary', C.t('typical.draftOpen')), h('p.small', C.t('typical.draftHint')), f));
  }

  function steps(t, reload) {
    var out = [];
    var path = '/api/v1/typical-cases/' + encodeURIComponent(t.id);
    var own = t.drafted_by === me();
    if (t.status === 'draft' && C.has('legal') && !own) {
      var note = h('textarea', { name: 'note', rows: '2', maxlength: '2000' });
      var verdict = h('select', { name: 'approve' }, h('option', { value: 'true' }, C.t('typical.reviewOk')), h('option', { value: 'false' }, C.t('typical.reviewReturn')));
      out.push(form('review-' + t.id, [['typical.review', verdict], ['typical.note', note, null, true]], 'submit', function () {
        return C.post(path + '/legal-review', { approve: verdict.value === 'true', note: note.value || null });
      }, reload));
    }
    if (t.status === 'reviewed' && C.has('supervisor') && !own) {
      out.push(form('approve-' + t.id, [], 'typical.approve', function () { return C.post(path + '/approve', {}); }, reload));
    }
    if (t.status === 'published' && C.has('supervisor')) {
      var why = area('reason', 2000, 2);
      out.push(form('withdraw-' + t.id, [['f.reason', why]], 'typical.withdraw', function () {
        return C.post(path + '/withdraw', { reason: why.value });
      }, reload));
    }
    if (own && (t.status === 'draft' || t.status === 'reviewed')) out.push(h('p.small', C.t('typical.ownDraft')));
    return out;
  }

  function typicalView(el) {
    function load() {
      return C.get('/api/v1/typical-cases').then(function (list) {
        C.clear(el);
        el.appendChild(h('h1#page-title', C.t('typical.page')));
        if (!list.length) { el.appendChild(h('p', C.t('empty'))); return; }
        list.forEach(function (t) {
          el.appendChild(h('section.card', { 'data-typical': t.id, 'data-status': t.status },
            h('h2', t.title),
            kv([['typical.status', C.t('typical.s.' + t.status)], ['typical.f.kind', t.institution_kind],
              ['typical.f.region', t.region], ['typical.drafter', t.drafted_by], ['typical.reviewer', t.reviewed_by],
              ['typical.approver', t.approved_by], ['typical.note', t.review_note], ['f.reason', t.withdraw_reason]]),
            h('p', t.summary), h('p.small', t.legal_basis + ' · ' + t.penalty),
            h('p', h('a', { href: '#/cases/' + encodeURIComponent(t.report_id) }, C.t('typical.case'))),
            steps(t, function () { load(); })));
        });
      });
    }
    return load();
  }

  C.publish = { retention: retentionPanel, draft: draftPanel };
  C.views.typical = typicalView;
})();
