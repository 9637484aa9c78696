/* jubao staff console — the case page: the tip as written, the reporter by pseudonym,
 * evidence previews (fetched with the bearer token into blob: URLs), clocks, the staff
 * timeline, messages, and one form for each action the API says the caller may take now
 * (`actions` in GET /api/v1/cases/{id}); nothing else is offered. The reward panel is
 * built by reward.js. */
(function () {
  'use strict';
  var C = window.Console;
  var h = C.h;
  var blobUrls = [];

  window.addEventListener('hashchange', function () {
    blobUrls.forEach(function (u) { URL.revokeObjectURL(u); });
    blobUrls = [];
  });

  function kv(pairs) {
    var dl = h('dl.kv');
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === '') return;
      dl.appendChild(h('dt', C.t(p[0])));
      dl.appendChild(h('dd', p[1]));
    });
    return dl;
  }
  function section(key, id) {
    return h('section.card', { id: id, 'aria-labelledby': id + '-h' }, h('h2', { id: id + '-h' }, C.t(key)));
  }
  function lines(s) {
    return String(s || '').split('\n').map(function (l) { return l.trim(); }).filter(Boolean);
  }
  function textarea(name, opts) {
    opts = opts || {};
    return h('textarea', { name: name, rows: opts.rows || '3', required: opts.optional ? null : true, maxlength: opts.max || '2000' });
  }
  function amountInput(name) {
    return h('input', { name: name, inputmode: 'decimal', autocomplete: 'off', pattern: '[0-9,]+(\\.[0-9]{1,2})?', value: '0' });
  }

  // ---------- action forms ----------
  // Each builds its fields into `form` and returns () => [path, body] (or throws a message).
  var FORMS = {
    accept: function (f) { return transition(f, 'accepted'); },
    start_check: function (f) { return transition(f, 'checking'); },
    not_accept: function (f) {
      var g = C.select('ground', 'ground', ['outside_scope', 'no_clear_target', 'under_investigation', 'closed_no_new_lead', 'litigation_or_review'], { required: true });
      f.appendChild(C.field('f.ground', g));
      return transition(f, 'not_accepted', function (b) { b.ground = g.value; });
    },
    transfer: function (f) {
      var d = C.select('destination', 'dest', ['police', 'discipline', 'health', 'market', 'other_region'], { required: true });
      var r = h('input', { name: 'destination_region', inputmode: 'numeric', maxlength: '6' });
      f.appendChild(C.field('f.destination', d));
      f.appendChild(C.field('f.destinationRegion', r, null, true));
      return transition(f, 'transferred', function (b) {
        b.destination = d.value;
        if (d.value === 'other_region' || r.value.trim()) b.destination_region = r.value.trim();
      });
    },
    merge: function (f) {
      var m = h('input', { name: 'merge_into', required: true });
      f.appendChild(C.field('f.mergeInto', m));
      return transition(f, 'merged', function (b) { b.merge_into = m.value.trim(); });
    },
    decide: function (f) {
      var o = C.select('outcome', 'outcomeopt', ['substantiated', 'partly', 'not_substantiated'], { required: true });
      var v = amountInput('verified_yuan');
      var rc = amountInput('recovered_yuan');
      var pen = textarea('penalties', { optional: true, rows: '2' });
      var rd = h('input', { type: 'checkbox', name: 'reward_due', id: C.id('rd') });
      f.appendChild(C.field('f.outcome', o));
      f.appendChild(C.field('f.verified', v, 'f.amountHint'));
      f.appendChild(C.field('f.recovered', rc, 'f.amountHint'));
      f.appendChild(C.field('f.penalties', pen, null, true));
      f.appendChild(h('div.field', h('label.check', { for: rd.id }, rd, ' ', C.t('f.rewardDue'))));
      return transition(f, 'decided', function (b) {
        var vf = C.parseYuan(v.value);
        var rf = C.parseYuan(rc.value);
        if (vf === null) throw { field: v, msg: C.t('f.amountInvalid') };
        if (rf === null) throw { field: rc, msg: C.t('f.amountInvalid') };
        b.outcome = o.value;
        b.verified_fen = vf;
        b.recovered_fen = rf;
        b.reward_due = rd.checked;
        b.penalties = lines(pen.value).map(function (l) {
          var m = /^(.*?)\s+([0-9,]+(?:\.[0-9]{1,2})?)$/.exec(l);
          if (!m) return { kind: l };
          var fen = C.parseYuan(m[2]);
          if (fen === null) throw { field: pen, msg: C.t('f.amountInvalid') };
          return { kind: m[1].trim(), amount_fen: fen };
        });
      });
    },
    close: function (f) {
      var fb = textarea('feedback', { rows: '4' });
      f.appendChild(C.field('f.feedback', fb));
      return transition(f, 'closed', function (b) { b.feedback = fb.value; });
    },
    finding: function (f, c) {
      var summary = textarea('summary', { rows: '4', max: '5000' });
      var list = h('div.evidence-rows');
      var add = h('button.btn.small', { type: 'button' }, C.t('f.addEvidence'));
      function row() {
        var k = C.select('evidence_kind', 'ek', ['documentary', 'physical', 'audio_visual', 'electronic_data', 'witness_testimony', 'party_statement', 'expert_opinion', 'inspection_record']);
        var d = h('input', { name: 'evidence_description', required: true });
        var rm = h('button.btn.small', { type: 'button' }, C.t('f.removeEvidence'));
        var r = h('div.evidence-row', C.field('f.evidenceKind', k), C.field('f.evidenceDesc', d), rm);
        rm.addEventListener('click', function () { r.remove(); add.focus(); });
        list.appendChild(r);
        return k;
      }
      add.addEventListener('click', function () { row().focus(); });
      row();
      var onSite = h('input', { type: 'checkbox', name: 'on_site', id: C.id('os') });
      var insp = textarea('inspectors', { optional: true, rows: '2' });
      f.appendChild(C.field('f.summary', summary));
      f.appendChild(list);
      f.appendChild(add);
      f.appendChild(h('div.field', h('label.check', { for: onSite.id }, onSite, ' ', C.t('f.onSite'))));
      f.appendChild(C.field('f.inspectors', insp, null, true));
      return function () {
        var ev = [];
        list.querySelectorAll('.evidence-row').forEach(function (r) {
          var d = r.querySelector('input').value.trim();
          if (d) ev.push({ kind: r.querySelector('select').value, description: d });
        });
        return ['/findings', { summary: summary.value, evidence: ev, on_site: onSite.checked, inspectors: lines(insp.value) }];
      };
    },
    party_notice: function (f) { return note(f, '/party-notice'); },
    statement: function (f) { return note(f, '/statement'); },
    mark_major: function (f) { return note(f, '/major'); },
    collective_decision: function (f) {
      var d = h('input', { type: 'date', name: 'meeting_date', required: true });
      var p = textarea('participants', { rows: '3' });
      var c = textarea('conclusion', { rows: '3' });
      f.appendChild(C.field('f.meetingDate', d));
      f.appendChild(C.field('f.participants', p));
      f.appendChild(C.field('f.conclusion', c));
      return function () { return ['/collective-decisions', { meeting_date: d.value, participants: lines(p.value), conclusion: c.value }]; };
    },
    legal_review: function (f) {
      var o = C.select('opinion', 'opinion', ['approve', 'reject'], { required: true });
      var n = textarea('note', { optional: true });
      f.appendChild(C.field('f.opinion', o));
      f.appendChild(C.field('f.note', n, null, true));
      return function () { return ['/legal-review', { opinion: o.value, note: n.value.trim() || null }]; };
    },
    request_extension: function (f) {
      var k = C.select('kind', 'ext', ['complex', 'major'], { required: true });
      var r = textarea('reason');
      f.appendChild(C.field('f.extKind', k));
      f.appendChild(C.field('f.reason', r));
      return function () { return ['/extensions', { kind: k.value, reason: r.value }]; };
    },
    decide_extension: function (f, c) {
      var pending = pendingExtensions(c);
      var s = h('select', { name: 'request', required: true }, pending.map(function (p) {
        return h('option', { value: p.id }, C.label('ext', p.kind) + ' · ' + (p.actor || '') + ' · ' + (p.reason || ''));
      }));
      var ok = h('select', { name: 'approve' }, h('option', { value: 'true' }, C.t('f.approve')), h('option', { value: 'false' }, C.t('f.deny')));
      var r = textarea('reason');
      f.appendChild(C.field('f.pendingExt', s));
      f.appendChild(C.field('f.opinion', ok));
      f.appendChild(C.field('f.reason', r));
      return function () { return ['/extensions/' + encodeURIComponent(s.value) + '/decision', { approve: ok.value === 'true', reason: r.value }]; };
    },
    assign: function (f, c) {
      var a = h('input', { name: 'assignee', required: true, autocomplete: 'off', value: '' });
      var r = textarea('reason');
      f.appendChild(C.field('f.assignee', a));
      f.appendChild(C.field('f.reason', r));
      return function () { return ['/assignment', { assignee: a.value.trim(), reason: r.value }]; };
    },
    message: function (f) {
      var b = textarea('body', { rows: '4' });
      f.appendChild(C.field('f.body', b));
      return function () { return ['/messages', { body: b.value }]; };
    },
    request_identity: function (f) { return note(f, '/identity-requests'); }
  };

  function transition(f, to, extra) {
    var r = textarea('reason');
    f.appendChild(C.field('f.reason', r));
    return function () {
      var b = { to: to, reason: r.value };
      if (extra) extra(b);
      return ['/transitions', b];
    };
  }
  function note(f, path) {
    var r = textarea('reason');
    f.appendChild(C.field('f.reason', r));
    return function () { return [path, { reason: r.value }]; };
  }
  function pendingExtensions(c) {
    var decided = {};
    c.events.forEach(function (e) { if (e.kind === 'extension' && e.data && e.data.request) decided[e.data.request] = true; });
    return c.events.filter(function (e) { return e.kind === 'extension_request' && e.data && e.data.request && !decided[e.data.request]; })
      .map(function (e) { return { id: e.data.request, kind: e.data.kind, actor: e.actor, reason: e.reason }; });
  }

  function actionPanel(c, action, reload) {
    var build = FORMS[action];
    if (!build) return null;
    if (action === 'decide_extension' && !pendingExtensions(c).length) return null;
    var form = h('form.action-form', { novalidate: true, 'data-action': action });
    var err = h('p.error', { role: 'alert', hidden: true });
    var collect = build(form, c);
    var btn = h('button.btn.primary', { type: 'submit' }, C.t('action.' + action));
    form.appendChild(err);
    form.appendChild(btn);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      err.hidden = true;
      var req;
      try { req = collect(); } catch (x) {
        err.textContent = x.msg || String(x);
        err.hidden = false;
        if (x.field) x.field.focus();
        return;
      }
      btn.disabled = true;
      C.post('/api/v1/cases/' + encodeURIComponent(c.id) + req[0], req[1]).then(function () {
        C.flash(C.t('action.' + action) + ' — ' + C.t('done'));
        reload();
      }, function (e2) {
        err.textContent = C.errorText(e2);
        err.hidden = false;
        var fname = e2.body && e2.body.error && e2.body.error.field;
        var fe = fname && form.querySelector('[name="' + fname.replace(/_fen$/, '_yuan') + '"]');
        if (fe) fe.focus(); else err.focus && err.setAttribute('tabindex', '-1');
      }).finally(function () { btn.disabled = false; });
    });
    return h('details.action', { 'data-action': action }, h('summary', C.t('action.' + action)), form);
  }

  // ---------- evidence ----------
  function evidenceItem(c, e) {
    var li = h('li.evidence', { 'data-evidence': e.id });
    var meta = h('span.small', e.media_type + ' · ' + Math.ceil(e.size_bytes / 1024) + ' KB' + (e.has_working_copy ? ' · ' + C.t('case.evidenceSanitized') : ''));
    var path = '/api/v1/cases/' + encodeURIComponent(c.id) + '/evidence/' + encodeURIComponent(e.id);
    if (e.held_sealed) {
      // No copy without metadata could be made: the server refuses the download.
      li.appendChild(h('p', meta, ' · ', h('span.small', C.t('case.evidenceHeldSealed'))));
    } else if (/^image\//.test(e.working_media_type || '')) {
      var img = h('img', { alt: C.t('case.evidence') + ' ' + e.id.slice(-6), loading: 'lazy' });
      li.appendChild(h('figure', img, h('figcaption', meta)));
      C.api('GET', path, null, { blob: true }).then(function (b) {
        var u = URL.createObjectURL(b);
        blobUrls.push(u);
        img.src = u;
      }, function (err) { li.appendChild(h('p.error', C.errorText(err))); });
    } else {
      var a = h('button.btn.small', { type: 'button' }, C.t('case.evidenceOpen'));
      a.addEventListener('click', function () {
        C.api('GET', path, null, { blob: true }).then(function (b) {
          var u = URL.createObjectURL(b);
          blobUrls.push(u);
          var link = h('a', { href: u, download: e.id + '.' + (e.media_type.split('/')[1] || 'bin') });
          document.body.appendChild(link);
          link.click();
          link.remove();
        }, function (err) { C.flash(C.errorText(err), 'error'); });
      });
      li.appendChild(h('p', meta, ' ', a));
    }
    if (C.has('handler') || C.has('supervisor')) li.appendChild(originalRequest(path));
    return li;
  }

  /** The original may identify the reporter: it is asked for like an identity. */
  function originalRequest(path) {
    var why = h('textarea', { name: 'reason', required: true, rows: 2 });
    var err = h('p.error', { role: 'alert', hidden: true });
    var form = h('form', { novalidate: true }, h('p.hint', C.t('original.lead')),
      C.field('identity.reason', why), err, h('button.btn', { type: 'submit' }, C.t('original.ask')));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      err.hidden = true;
      C.post(path + '/original-requests', { reason: why.value.trim() }).then(function () {
        form.reset();
        C.flash(C.t('original.asked'));
      }, function (e2) { err.textContent = C.errorText(e2); err.hidden = false; });
    });
    return h('details.original', h('summary', C.t('original.ask')), form);
  }

  function eventText(e) {
    var parts = [];
    if (e.from_status || e.to_status) parts.push(C.label('status', e.from_status) + ' → ' + C.label('status', e.to_status));
    if (e.reason) parts.push(e.reason);
    var d = e.data || {};
    if (d.summary) parts.push(d.summary);
    if (d.ground) parts.push(C.label('ground', d.ground));
    if (d.destination) parts.push(C.label('dest', d.destination));
    if (d.outcome) parts.push(C.label('outcomeopt', d.outcome));
    if (typeof d.verified_fen === 'number') parts.push(C.t('case.verified') + ' ' + C.fmtFen(d.verified_fen));
    if (typeof d.recovered_fen === 'number') parts.push(C.t('case.recovered') + ' ' + C.fmtFen(d.recovered_fen));
    if (d.evidence && d.evidence.length) parts.push(d.evidence.map(function (x) { return C.label('ek', x.kind) + '：' + x.description; }).join('；'));
    if (d.inspectors && d.inspectors.length) parts.push(d.inspectors.join('、'));
    if (d.opinion) parts.push(C.label('opinion', d.opinion));
    if (d.conclusion) parts.push(d.conclusion);
    if (d.state) parts.push(C.label('istate', d.state));
    if (d.due_on) parts.push(C.t('case.clockDue') + ' ' + d.due_on);
    if (/^reward_/.test(e.kind) && typeof d.amount_fen === 'number') parts.push(C.t('reward.amount') + ' ' + C.fmtFen(d.amount_fen));
    if (d.claim_by) parts.push(C.t('reward.claimBy') + ' ' + d.claim_by);
    return parts.join(' · ');
  }

  // ---------- the page ----------
  /** The case and, when it has one, what its reward panel shows (reward.js). */
  function load(id) {
    return C.get('/api/v1/cases/' + encodeURIComponent(id)).then(function (c) {
      if (!C.reward.relevant(c)) return [c, null];
      return C.reward.load(c).then(function (rd) { return [c, rd]; });
    });
  }

  C.casePage = function (el, id) {
    return load(id).then(function (x) {
      render(el, x[0], x[1]);
    });
  };

  function render(el, c, rewardData) {
    var reload = function () {
      return load(c.id).then(function (x) {
        C.clear(el);
        render(el, x[0], x[1]);
        var t = el.querySelector('h1');
        if (t) t.focus();
      }, function (e) { C.flash(C.errorText(e), 'error'); });
    };
    el.setAttribute('data-case', c.id);
    el.setAttribute('data-status', c.status);
    el.appendChild(h('p', h('a', { href: '#/inbox' }, '← ' + C.t('case.back'))));
    el.appendChild(h('h1#page-title', { tabindex: '-1' }, C.t('case.title', { id: c.id.slice(-12) }), ' ',
      h('span.status.s-' + c.status + '#case-status', C.label('status', c.status)),
      c.major ? h('span.tag.major', C.t('major')) : null));
    el.appendChild(kv([
      ['col.channel', C.label('channel', c.channel)], ['col.region', c.region],
      ['case.receivedOn', c.received_on], [c.received_on ? 'case.recordedAt' : 'col.received', C.fmtTime(c.received_at)],
      ['case.assignee', c.assignee || C.t('case.unassigned')], ['case.recordedBy', c.recorded_by],
      ['case.mergedInto', c.merged_into], ['case.version', String(c.version)]]));

    var grid = h('div.case-grid');
    var left = h('div.col');
    var right = h('div.col');
    grid.appendChild(left);
    grid.appendChild(right);
    el.appendChild(grid);

    // The tip as written.
    var tip = section('case.tip', 'tip');
    var t = c.target || {};
    tip.appendChild(kv([
      ['case.target', t.name], ['case.kind', C.label('kind', t.kind)], ['case.targetRegion', t.region_code], ['case.address', t.address],
      ['col.categories', c.categories.map(function (k) { return h('span.cat', C.label('cat', k)); })],
      ['case.occurred', c.occurred_from || c.occurred_to ? (c.occurred_from || '…') + ' — ' + (c.occurred_to || '…') : null],
      ['case.estimate', c.amount_estimate_fen !== null && c.amount_estimate_fen !== undefined ? C.fmtFen(c.amount_estimate_fen) : null]]));
    tip.appendChild(h('h3', C.t('case.description')));
    tip.appendChild(h('blockquote.tip-text#tip-text', c.description));
    left.appendChild(tip);

    // Priority and related tips (related.js).
    left.appendChild(C.related.triage(c));
    left.appendChild(C.related.panel(c, reload));

    // Reporter: pseudonym only.
    var rep = section('case.reporter', 'reporter');
    var r = c.reporter || {};
    rep.appendChild(kv([['case.pseudonym', r.pseudonym], ['case.anonymous', C.t(r.anonymous ? 'yes' : 'no')],
      ['case.relation', r.relation ? C.label('relation', r.relation) : null], ['case.identityOnFile', C.t(r.identity_on_file ? 'yes' : 'no')]]));
    left.appendChild(rep);

    // Decision.
    var d = c.decision || {};
    if (d.outcome) {
      var dec = section('case.decision', 'decision');
      dec.appendChild(kv([['f.outcome', C.label('outcomeopt', d.outcome)], ['case.verified', C.fmtFen(d.verified_fen)],
        ['case.recovered', C.fmtFen(d.recovered_fen)], ['case.rewardDue', d.reward_due === null || d.reward_due === undefined ? null : C.t(d.reward_due ? 'yes' : 'no')]]));
      left.appendChild(dec);
    }

    // Evidence.
    var ev = section('case.evidence', 'evidence');
    if (!c.evidence.length) ev.appendChild(h('p', C.t('case.evidenceNone')));
    else ev.appendChild(h('ul.evidence-list', c.evidence.map(function (e) { return evidenceItem(c, e); })));
    left.appendChild(ev);

    // Messages.
    var msgs = section('case.messages', 'messages');
    if (!c.messages.length) msgs.appendChild(h('p', C.t('case.messagesNone')));
    else msgs.appendChild(h('ol.messages', c.messages.map(function (m) {
      return h('li.msg.' + (m.author === 'staff' ? 'staff' : 'reporter'), h('span.small', C.label('case.author', m.author) + ' · ' + C.fmtTime(m.at)), h('p', m.body));
    })));
    left.appendChild(msgs);

    // Actions: exactly the ones the API lists.
    var act = section('case.actions', 'actions');
    var panels = c.actions.map(function (a) { return actionPanel(c, a, reload); }).filter(Boolean);
    if (!panels.length) act.appendChild(h('p', C.t('case.actionsNone')));
    panels.forEach(function (p) { act.appendChild(p); });
    right.appendChild(act);

    // The reward: its computation, status, claim, payment and the steps the user may take.
    if (rewardData) right.appendChild(C.reward.panel(c, rewardData, reload));

    // Retention and legal hold; drafting a typical case (publish.js).
    right.appendChild(C.publish.retention(c, reload));
    var typical = C.publish.draft(c);
    if (typical) right.appendChild(typical);

    // Clocks.
    var cl = section('case.clocks', 'clocks');
    if (!c.clocks.length) cl.appendChild(h('p', C.t('empty')));
    else cl.appendChild(C.table(['col.clock', 'case.clockStarted', 'case.clockDue', 'case.clockState'], c.clocks.map(function (k) {
      var state = k.closed_at ? C.t(k.outcome === 'met' ? 'case.clockMet' : k.outcome === 'missed' ? 'case.clockMissed' : 'case.clockClosed') : null;
      return h('tr', { 'data-clock': k.kind, 'data-provisional': k.provisional ? '1' : '0' },
        h('td', C.label('clock', k.kind), k.extension ? ' (' + C.label('ext', k.extension) + ')' : '',
          k.rule ? h('span.small.rule', { title: C.t('case.clockRule') }, ' ' + k.rule) : null),
        h('td', k.start_on || C.fmtTime(k.started_at)),
        h('td', k.due_on, k.provisional ? C.provisionalTag() : null),
        h('td', state || C.dueBadge(k.working_days_left, k.due_on)));
    })));
    right.appendChild(cl);

    // Timeline.
    var tl = section('case.timeline', 'timeline');
    if (!c.events.length) tl.appendChild(h('p', C.t('empty')));
    else tl.appendChild(h('ol.timeline', c.events.map(function (e) {
      return h('li', { 'data-event': e.kind }, h('span.small', C.fmtTime(e.at) + ' · ' + (e.actor || '—')), ' ',
        h('strong', C.label('event', e.kind)), h('p', eventText(e)));
    })));
    right.appendChild(tl);

    // How each notice to the reporter went out, or why it waits.
    var nt = section('case.notices', 'notices');
    var notices = c.notices || [];
    if (!notices.length) nt.appendChild(h('p', C.t('empty')));
    else nt.appendChild(C.table(['case.noticeAt', 'col.status', 'case.noticeState', 'case.noticeVia'], notices.map(function (n) {
      var how = n.state === 'sent' ? C.label('via', n.via) + ' · ' + C.fmtTime(n.sent_at)
        : (n.reason ? C.label('wait', n.reason) : '—');
      return h('tr', { 'data-notice': n.state },
        h('td', C.fmtTime(n.at)), h('td', n.kind === 'message' ? C.t('case.noticeMessage') : C.label('status', n.status)),
        h('td', C.t('notice.' + n.state)), h('td', how));
    })));
    right.appendChild(nt);
  }
})();
