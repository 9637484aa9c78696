/* jubao staff console — the reward panel of the case page (DOMAIN §5, docs/rewards.md):
 * how the amount is computed (the stored computation once proposed, else
 * GET …/reward/preview), the reward's status and history, the claim and the payment, and a
 * form for each step the signed-in user may take now. The API has no list of reward
 * actions, so `C.reward.actions` derives them from the user's roles, the case and the
 * reward exactly as src/rewards/flow.rs checks them; nothing else is offered. */
(function () {
  'use strict';
  var C = window.Console;
  var h = C.h;
  var R = (C.reward = {});

  var REWARD_EVENTS = ['reward_flags', 'reward_proposed', 'reward_approval', 'reward_returned', 'reward_notified',
    'reward_identity_check', 'reward_paid', 'reward_reversal_requested', 'reward_reversed', 'reward_expired'];
  var FLAG_STATUSES = ['accepted', 'checking', 'decided', 'closed'];
  R.STATUSES = ['proposed', 'returned', 'approved', 'notified', 'claimed', 'paid', 'expired', 'reversed'];
  R.EXCLUDED = ['medical_insurance_staff', 'supervisory_body_staff', 'statutory_duty', 'not_natural_person', 'declined'];

  function caseUrl(c, tail) { return '/api/v1/cases/' + encodeURIComponent(c.id) + tail; }
  function has(user, role) { return user.roles.indexOf(role) >= 0; }

  /** A decided or closed case whose (partly) substantiated decision grants a reward. */
  function due(c) {
    var d = c.decision || {};
    return (c.status === 'decided' || c.status === 'closed') &&
      (d.outcome === 'substantiated' || d.outcome === 'partly') && d.reward_due === true;
  }
  R.due = due;
  function proposed(c) { return c.events.some(function (e) { return e.kind === 'reward_proposed'; }); }
  function history(c) { return c.events.filter(function (e) { return REWARD_EVENTS.indexOf(e.kind) >= 0; }); }
  function last(c, kind) {
    var l = c.events.filter(function (e) { return e.kind === kind; });
    return l.length ? l[l.length - 1] : null;
  }

  /** The steps `user` may take now on case `c` with reward `r` (null before a proposal),
   * mirroring the checks of src/rewards/flow.rs. */
  R.actions = function (c, r, user) {
    var out = [];
    var st = r ? r.status : null;
    var me = user.id;
    var fin = has(user, 'finance');
    var sup = has(user, 'supervisor');
    var assignee = has(user, 'handler') && !!c.assignee && c.assignee === user.username;
    if (sup && FLAG_STATUSES.indexOf(c.status) >= 0 && (!r || st === 'returned')) out.push('flags');
    if (!due(c)) return out;
    if (assignee && (!r || st === 'returned')) out.push('propose');
    if (!r) return out;
    if (st === 'proposed' && (fin || sup) && r.proposed_by !== me) {
      var already = r.finance_approved_by === me || r.supervisor_approved_by === me;
      var financeSlot = fin && !r.finance_approved_by;
      var supervisorSlot = sup && r.needs_supervisor && !r.supervisor_approved_by;
      if (!already && (financeSlot || supervisorSlot)) out.push('approve');
      out.push('return');
    }
    if (st === 'approved' && (assignee || fin)) out.push('notice');
    var claimedShare = (r.shares || []).some(function (s) { return s.status === 'claimed'; });
    // In person: two finance officers record the identity check before the payment.
    var inPerson = (r.shares || []).some(function (s) { return s.status === 'claimed' && s.claim_method === 'in_person'; });
    if (inPerson && fin) out.push('identity_check');
    if ((st === 'claimed' || (['notified', 'paid'].indexOf(st) >= 0 && claimedShare)) && fin && r.proposed_by !== me) out.push('payment');
    if (['approved', 'notified', 'claimed', 'paid'].indexOf(st) >= 0 && (fin || sup)) {
      if (!r.reversal_requested_by) out.push('reversal_request');
      else if (r.reversal_requested_by !== me) {
        var first = r.reversal_requested_roles || [];
        if ((first.indexOf('supervisor') >= 0 && fin) || (first.indexOf('finance') >= 0 && sup)) out.push('reversal_confirm');
      }
    }
    return out;
  };

  /** Whether the case page shows a reward panel at all. */
  R.relevant = function (c) {
    return due(c) || R.actions(c, null, C.session.user).length > 0;
  };

  function previewQuery(inputs) {
    return C.qs({ grade: inputs.grade || '', no_loss_amount_fen: inputs.noLoss === null || inputs.noLoss === undefined ? '' : inputs.noLoss });
  }
  function verifiedZero(c) { return (c.decision || {}).verified_fen === 0; }

  /** What the panel shows: the reward once one was proposed (known from the timeline, so a
   * case without one costs no 404), and the preview while none is in force. Errors are
   * kept for the panel rather than failing the page. */
  R.load = function (c, inputs) {
    inputs = inputs || {};
    var data = { inputs: inputs };
    if (!due(c)) return Promise.resolve(data);
    var first = proposed(c)
      ? C.get(caseUrl(c, '/reward')).then(function (r) { data.reward = r; }, function (e) { data.rewardError = e; })
      : Promise.resolve();
    return first.then(function () {
      if (data.reward && data.reward.status !== 'returned') return data;
      if (verifiedZero(c) && (inputs.noLoss === null || inputs.noLoss === undefined)) { data.needsNoLoss = true; return data; }
      return C.get(caseUrl(c, '/reward/preview' + previewQuery(inputs))).then(function (p) { data.preview = p; }, function (e) {
        data.previewError = e;
        var f = e.body && e.body.error && e.body.error.field;
        if (f === 'grade') data.needsGrade = true;
        if (f === 'no_loss_amount_fen') data.needsNoLoss = true;
      }).then(function () { return data; });
    });
  };

  // ---------- display ----------
  function kv(pairs) {
    var dl = h('dl.kv');
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === '') return;
      dl.appendChild(h('dt', C.t(p[0])));
      dl.appendChild(h('dd', p[2] ? { 'data-k': p[2] } : null, p[1]));
    });
    return dl;
  }

  /** The computation as finance and auditors recompute it: policy, lines, uplift, heavy
   * multiplier, floor and cap, rounding. */
  R.computation = function (comp) {
    var box = h('div.computation', { 'data-amount-fen': String(comp.amount_fen) });
    box.appendChild(kv([
      ['reward.policy', comp.policy_id + ' · ' + C.t('reward.version', { v: comp.policy_version }), 'policy'],
      ['reward.verified', C.fmtFen(comp.verified_fen)],
      ['reward.grade', comp.grade ? C.label('grade', comp.grade) : null]]));
    var rows = comp.lines.map(function (l) {
      var range = l.key === 'no_loss' ? '—' : l.key === 'grade_rate' ? C.t('reward.whole')
        : C.fmtFen(l.from_fen) + ' – ' + (l.to_fen === null || l.to_fen === undefined ? C.t('reward.open') : C.fmtFen(l.to_fen));
      var rate = l.key === 'fixed_band' || l.key === 'no_loss' ? '—' : C.fmtBp(l.rate_bp);
      return h('tr', { 'data-line': l.key }, h('th', { scope: 'row' }, C.label('line', l.key)), h('td', range),
        h('td', l.key === 'no_loss' ? '—' : C.fmtFen(l.base_fen)), h('td', rate), h('td.num', C.fmtFen(l.amount_fen)));
    });
    box.appendChild(C.table(['reward.line', 'reward.range', 'reward.base', 'reward.rate', 'reward.lineAmount'], rows, C.t('reward.lines')));
    var applied = function (on) { return C.t(on ? 'reward.applied' : 'reward.notApplied'); };
    box.appendChild(kv([
      ['reward.subtotal', C.fmtFen(comp.subtotal_fen)],
      ['reward.uplift', comp.insider_uplift_applied ? C.t('reward.upliftOn', { rate: C.fmtBp(comp.insider_uplift_bp) }) : applied(false), 'uplift'],
      ['reward.heavy', comp.heavy_multiplier_applied ? C.t('reward.heavyOn', { pct: comp.heavy_multiplier_pct, amount: C.fmtFen(comp.multiplied_fen) }) : applied(false), 'heavy'],
      ['reward.floor', C.fmtFen(comp.floor_fen) + ' · ' + applied(comp.floor_applied), 'floor'],
      ['reward.cap', C.fmtFen(comp.cap_fen) + ' · ' + applied(comp.cap_applied), 'cap'],
      ['reward.amount', h('strong', C.fmtFen(comp.amount_fen)), 'amount']]));
    box.appendChild(h('p.hint', C.t('reward.rounding')));
    return box;
  };

  function claimText(r) {
    if (r.status === 'expired') return C.t('reward.claimExpired', { at: C.fmtTime(r.expired_at) });
    if (r.claimed_at) return C.t('reward.claimDone', { at: C.fmtTime(r.claimed_at), method: C.label('pay', r.claim_method) });
    if (r.notified_at) {
      if (r.claim_by && r.claim_by < C.todayShanghai()) return C.t('reward.claimLapsed', { by: r.claim_by });
      return C.t('reward.claimOpen', { by: r.claim_by });
    }
    return C.t('reward.claimNotYet');
  }

  function approvalsText(c, r) {
    var by = {};
    history(c).forEach(function (e) {
      if (e.kind === 'reward_approval' && e.data && e.data.as) by[e.data.as] = e.actor;
    });
    var parts = [];
    var line = function (role, done, who) {
      return C.t('reward.approvalLine', { role: C.t(role), who: done ? who || '✓' : C.t('reward.pending') });
    };
    parts.push(line('reward.approvalFinance', r.finance_approved_by, by.finance));
    if (r.needs_supervisor) parts.push(line('reward.approvalSupervisor', r.supervisor_approved_by, by.supervisor));
    return parts.join(C.t('reward.listSep'));
  }

  function eventLine(e) {
    var d = e.data || {};
    var parts = [];
    if (typeof d.amount_fen === 'number') parts.push(C.fmtFen(d.amount_fen));
    if (d.as) parts.push(C.label('reward.as', d.as));
    if (typeof d.quick === 'boolean') parts.push(C.t('reward.approvalLine', { role: C.t('reward.quick'), who: C.t(d.quick ? 'yes' : 'no') }));
    if (typeof d.heavy === 'boolean') parts.push(C.t('reward.approvalLine', { role: C.t('reward.heavyFlag'), who: C.t(d.heavy ? 'yes' : 'no') }));
    if (d.claim_by) parts.push(C.t('reward.claimBy') + ' ' + d.claim_by);
    if (d.method) parts.push(C.label('pay', d.method));
    if (d.reference) parts.push(C.t('reward.reference') + ' ' + d.reference);
    if (d.paid_on) parts.push(C.t('reward.paidOn') + ' ' + d.paid_on);
    if (typeof d.repayment_due_fen === 'number' && d.repayment_due_fen > 0) parts.push(C.t('reward.repayment', { amount: C.fmtFen(d.repayment_due_fen) }));
    if (e.reason) parts.push(e.reason);
    return parts.join(' · ');
  }

  // ---------- forms ----------
  function textarea(name, optional) {
    return h('textarea', { name: name, rows: '2', maxlength: '2000', required: optional ? null : true });
  }
  function yuanInput(name) {
    return h('input', { name: name, inputmode: 'decimal', autocomplete: 'off', required: true, pattern: '[0-9,]+(\\.[0-9]{1,2})?' });
  }
  function checkbox(name, labelKey, checked) {
    var cb = h('input', { type: 'checkbox', name: name, id: C.id(name), checked: !!checked });
    return { el: h('div.field', h('label.check', { for: cb.id }, cb, ' ', C.t(labelKey))), input: cb };
  }
  function amount(input, required) {
    var fen = C.parseYuan(input.value, required);
    if (fen === null) throw { field: input, msg: C.t('f.amountInvalid') };
    return fen;
  }

  // Each builds its fields into `f` and returns () => [path tail, body].
  var FORMS = {
    flags: function (f, c) {
      var now = last(c, 'reward_flags');
      var d = (now && now.data) || {};
      var q = checkbox('quick', 'reward.quickLabel', d.quick);
      var hv = checkbox('heavy', 'reward.heavyLabel', d.heavy);
      var r = textarea('reason');
      f.appendChild(h('p.hint', C.t('reward.flagsLead')));
      f.appendChild(q.el);
      f.appendChild(hv.el);
      f.appendChild(C.field('f.reason', r));
      return function () { return ['/reward/flags', { quick: q.input.checked, heavy: hv.input.checked, reason: r.value }]; };
    },
    propose: function (f, c, r, data, onInputs) {
      var inputs = data.inputs || {};
      var prior = r && r.input && r.input.input ? r.input.input : {};
      var current = function () {
        var nl = noLoss ? C.parseYuan(noLoss.value, true) : null;
        return { grade: grade ? grade.value : '', noLoss: nl === null ? undefined : nl };
      };
      var grade = null;
      if (data.needsGrade || inputs.grade || prior.grade) {
        grade = C.select('grade', 'grade', ['A', 'B', 'C'], { required: true, empty: 'reward.choose', value: inputs.grade || prior.grade || '' });
        f.appendChild(C.field('reward.grade', grade, 'reward.gradeHint'));
        grade.addEventListener('change', function () { onInputs(current()); });
      }
      var noLoss = null;
      if (verifiedZero(c)) {
        noLoss = yuanInput('no_loss_amount_yuan');
        if (inputs.noLoss !== null && inputs.noLoss !== undefined) noLoss.value = C.fmtFen(inputs.noLoss).replace(/^¥/, '');
        f.appendChild(C.field('reward.noLoss', noLoss, 'reward.noLossHint'));
        noLoss.addEventListener('change', function () { onInputs(current()); });
      }
      var kind = C.select('excluded_kind', 'excluded', R.EXCLUDED, { empty: 'reward.eligible' });
      var known = checkbox('facts_already_known', 'reward.factsKnown', false);
      var merged = h('textarea', { name: 'excluded_merged', rows: '2', maxlength: '2000' });
      var why = textarea('reason');
      f.appendChild(C.field('reward.excludedKind', kind, 'reward.excludedHint'));
      f.appendChild(known.el);
      f.appendChild(C.field('reward.excludedMerged', merged, 'reward.excludedMergedHint', true));
      var co = h('textarea', { name: 'co_reporters', rows: '3', maxlength: '2000' });
      f.appendChild(C.field('reward.coReporters', co, 'reward.coReportersHint', true));
      f.appendChild(C.field('f.reason', why));
      return function () {
        var body = { reason: why.value, facts_already_known: known.input.checked,
          excluded_merged: merged.value.split(/[\s,，]+/).filter(Boolean) };
        if (grade) {
          if (!grade.value) throw { field: grade, msg: C.t('reward.gradeNeeded') };
          body.grade = grade.value;
        }
        if (noLoss) body.no_loss_amount_fen = amount(noLoss, true);
        if (kind.value) body.excluded_kind = kind.value;
        var lines = co.value.split(/\n+/).map(function (l) { return l.trim(); }).filter(Boolean);
        if (lines.length) {
          body.co_reporters = lines.map(function (l) {
            var m = /^(\S+)[\s,，:：]+(\d+)$/.exec(l);
            if (!m) throw { field: co, msg: C.t('reward.coReportersBad', { line: l }) };
            return { tip: m[1], weight: parseInt(m[2], 10) };
          });
        }
        return ['/reward', body];
      };
    },
    approve: function (f, c, r) {
      var n = textarea('reason', true);
      f.appendChild(h('p', C.t('reward.approveLead', { amount: C.fmtFen(r.amount_fen) })));
      f.appendChild(C.field('reward.note', n, null, true));
      return function () { return ['/reward/approve', { reason: n.value.trim() || null }]; };
    },
    'return': function (f) {
      var n = textarea('reason');
      f.appendChild(C.field('f.reason', n));
      return function () { return ['/reward/return', { reason: n.value }]; };
    },
    notice: function (f, c, r) {
      f.appendChild(h('p', C.t('reward.noticeLead', { amount: C.fmtFen(r.amount_fen) })));
      return function () { return ['/reward/notice', {}]; };
    },
    identity_check: function (f, c, r) {
      var last6 = h('input', { name: 'id_last6', maxlength: '6', required: true, autocomplete: 'off', pattern: '[0-9]{5}[0-9Xx]' });
      var open = (r.shares || []).filter(function (s) { return s.status === 'claimed' && s.claim_method === 'in_person'; });
      var tip = null;
      f.appendChild(h('p', C.t('reward.identityCheckLead')));
      if ((r.shares || []).length > 1) {
        tip = h('select', { name: 'tip', required: true, id: 'f-check-tip' }, open.map(function (s) {
          return h('option', { value: s.share_id }, C.t('reward.shareOf', { case: s.case_id.slice(-6) }) + ' · ' + C.fmtFen(s.amount_fen));
        }));
        f.appendChild(C.field('reward.shareTip', tip, 'reward.shareTipHint'));
      }
      f.appendChild(C.field('reward.idLast6', last6, 'reward.idLast6Hint'));
      return function () {
        var body = { id_last6: last6.value.trim() };
        if (tip) body.tip = tip.value;
        return ['/reward/identity-check', body];
      };
    },
    payment: function (f, c, r) {
      var method = C.select('method', 'pay', ['bank_transfer', 'in_person'], { required: true, value: r.claim_method || 'bank_transfer' });
      var ref = h('input', { name: 'reference', required: true, maxlength: '100', autocomplete: 'off' });
      var amt = yuanInput('amount_yuan');
      var on = h('input', { name: 'paid_on', type: 'date', max: C.todayShanghai() });
      // The payee's account, masked, only here and only on request: each look is audited.
      var shown = h('span#reward-account', { 'aria-live': 'polite' });
      var look = h('button.btn', { type: 'button' }, C.t('reward.showAccount'));
      var accountField = h('div.field', h('p.hint', C.t('reward.showAccountHint')), look, ' ', shown);
      var personNote = h('p.hint', C.t('reward.inPersonNote'));
      var sync = function () { accountField.hidden = method.value !== 'bank_transfer'; personNote.hidden = method.value !== 'in_person'; };
      method.addEventListener('change', sync);
      var shares = r.shares || [];
      var tip = null;
      var dueFen = r.amount_fen;
      if (shares.length > 1) {
        var open = shares.filter(function (s) { return s.status === 'claimed'; });
        tip = h('select', { name: 'tip', required: true, id: 'f-tip' }, open.map(function (s) {
          return h('option', { value: s.share_id }, C.t('reward.shareOf', { case: s.case_id.slice(-6) }) + ' · ' + C.fmtFen(s.amount_fen));
        }));
        dueFen = open.length ? open[0].amount_fen : 0;
        tip.addEventListener('change', function () {
          var s = open.filter(function (x) { return x.share_id === tip.value; })[0];
          if (s) hint.textContent = C.t('reward.payAmountHint', { amount: C.fmtFen(s.amount_fen) });
        });
        f.appendChild(C.field('reward.shareTip', tip, 'reward.shareTipHint'));
      }
      f.appendChild(C.field('reward.method', method));
      f.appendChild(C.field('reward.reference', ref, 'reward.referenceHint'));
      f.appendChild(C.field('reward.payAmount', amt, null));
      amt.setAttribute('aria-describedby', amt.id + '-due');
      var hint = h('p.hint', { id: amt.id + '-due' }, C.t('reward.payAmountHint', { amount: C.fmtFen(dueFen) }));
      f.appendChild(hint);
      f.appendChild(C.field('reward.paidOn', on, 'reward.paidOnHint', true));
      f.appendChild(accountField);
      f.appendChild(personNote);
      look.addEventListener('click', function () {
        var q = tip ? '?tip=' + encodeURIComponent(tip.value) : '';
        C.get(caseUrl(c, '/reward/bank-account' + q)).then(function (a) {
          shown.textContent = a.bank_account;
        }, function (e) { shown.textContent = C.errorText(e); });
      });
      sync();
      return function () {
        var body = { method: method.value, reference: ref.value.trim(), amount_fen: amount(amt, true), paid_on: on.value || null };
        if (tip) body.tip = tip.value;
        return ['/reward/payment', body];
      };
    },
    reversal_request: function (f) {
      var n = textarea('reason');
      f.appendChild(h('p.warn', C.t('reward.reversalLead')));
      f.appendChild(C.field('f.reason', n));
      return function () { return ['/reward/reversal', { reason: n.value }]; };
    },
    reversal_confirm: function (f, c, r) {
      var n = textarea('reason');
      f.appendChild(h('p.warn', C.t('reward.reversalConfirmLead', { reason: r.reversal_reason || '' })));
      f.appendChild(C.field('f.reason', n));
      return function () { return ['/reward/reversal', { reason: n.value }]; };
    }
  };

  function form(c, r, data, action, reload, onInputs) {
    var f = h('form.action-form', { novalidate: true, 'data-reward-action': action });
    var err = h('p.error', { role: 'alert', hidden: true, tabindex: '-1' });
    var collect = FORMS[action](f, c, r, data, onInputs);
    var btn = h('button.btn.primary', { type: 'submit' }, C.t('reward.do.' + action));
    f.appendChild(err);
    f.appendChild(btn);
    f.addEventListener('submit', function (e) {
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
      // On expiry C.api signs in again over the page and sends this again: the form stays.
      C.post(caseUrl(c, req[0]), req[1]).then(function () {
        C.flash(C.t('reward.do.' + action) + ' — ' + C.t('done'));
        reload();
      }, function (e2) {
        err.textContent = C.errorText(e2);
        err.hidden = false;
        var name = e2.body && e2.body.error && e2.body.error.field;
        var fe = name && f.querySelector('[name="' + name.replace(/_fen$/, '_yuan') + '"]');
        if (fe) fe.focus(); else err.focus();
      }).finally(function () { btn.disabled = false; });
    });
    return h('details.reward-action', { 'data-reward-action': action }, h('summary', C.t('reward.do.' + action)), f);
  }

  function showComputation(box, d) {
    C.clear(box);
    var comp = d.preview;
    var inputs = d.inputs || {};
    if (comp && comp.lines) box.appendChild(R.computation(comp));
    else if (d.needsGrade && !inputs.grade) box.appendChild(h('p.notice', C.t('reward.needsGrade')));
    else if (d.needsNoLoss && (inputs.noLoss === null || inputs.noLoss === undefined)) box.appendChild(h('p.notice', C.t('reward.needsNoLoss')));
    else if (d.previewError) box.appendChild(h('p.error', { role: 'alert' }, C.errorText(d.previewError)));
  }

  /** The panel: `data` from R.load; `reload()` re-renders the case page. */
  R.panel = function (c, data, reload) {
    var user = C.session.user;
    var onInputs = function () {};
    var r = data.reward || null;
    var sec = h('section.card.reward#reward', { 'aria-labelledby': 'reward-h', 'data-reward-status': r ? r.status : 'none' },
      h('h2#reward-h', C.t('reward.title')));
    if (data.rewardError) sec.appendChild(h('p.error', { role: 'alert' }, C.errorText(data.rewardError)));

    if (due(c)) {
      if (r) {
        sec.appendChild(kv([
          ['reward.status', h('span.rstatus.r-' + r.status + '#reward-status', C.label('rstatus', r.status))],
          ['reward.amount', h('strong#reward-amount', C.fmtFen(r.amount_fen))],
          ['reward.proposedBy', (last(c, 'reward_proposed') || {}).actor + ' · ' + C.fmtTime(r.proposed_at)],
          ['reward.approvals', approvalsText(c, r)],
          ['reward.approvedAt', r.approved_at ? C.fmtTime(r.approved_at) : null],
          ['reward.returned', r.status === 'returned' ? r.return_reason : null],
          ['reward.beneficiary', r.beneficiary_case_id === c.id ? C.t('reward.beneficiaryCase') : C.t('reward.beneficiaryMerged', { id: r.beneficiary_case_id.slice(-12) })],
          ['reward.claim', h('span#reward-claim', claimText(r))],
          ['reward.reversal', r.reversal_requested_by && !r.reversed_at ? C.t('reward.reversalPending', { reason: r.reversal_reason || '' }) : r.reversed_at ? C.t('reward.reversedAt', { at: C.fmtTime(r.reversed_at) }) : null]]));
        if (r.shares && r.shares.length > 1) {
          sec.appendChild(h('div#reward-shares', h('h3', C.t('reward.shares')),
            h('table.grid', h('thead', h('tr', h('th', { scope: 'col' }, C.t('reward.shareTip')), h('th', { scope: 'col' }, C.t('reward.shareWeight')),
              h('th', { scope: 'col' }, C.t('reward.amount')), h('th', { scope: 'col' }, C.t('reward.status')))),
            h('tbody', r.shares.map(function (s) {
              return h('tr', { 'data-share': s.share_id }, h('td', C.t('reward.shareOf', { case: s.case_id.slice(-6) })), h('td.num', String(s.weight)),
                h('td.num', C.fmtFen(s.amount_fen)), h('td', C.label('rstatus', s.status)));
            })))));
        }
        var paid = last(c, 'reward_paid');
        if (r.paid_at) {
          var pd = (paid && paid.data) || {};
          sec.appendChild(h('div#reward-payment', h('h3', C.t('reward.payment')), kv([
            ['reward.paidOn', pd.paid_on || C.fmtTime(r.paid_at)], ['reward.method', C.label('pay', pd.method)],
            ['reward.reference', pd.reference], ['reward.paidAmount', C.fmtFen(r.amount_fen)], ['reward.recordedBy', paid ? paid.actor : null]])));
        }
      } else {
        sec.appendChild(h('p.hint#reward-none', C.t('reward.noneYet')));
      }
      var stored = r && r.status !== 'returned';
      sec.appendChild(h('h3', C.t(stored ? 'reward.computation' : 'reward.preview')));
      var compBox = h('div#reward-computation', { 'aria-live': 'polite' });
      sec.appendChild(compBox);
      showComputation(compBox, stored ? { preview: r.computation, inputs: {} } : data);
      // A grade or no-loss amount typed into the proposal: the preview follows, in place,
      // so nothing typed into the form is lost.
      onInputs = function (inputs) {
        C.get(caseUrl(c, '/reward/preview' + previewQuery(inputs))).then(function (p) {
          showComputation(compBox, { preview: p, inputs: inputs });
        }, function (e) { showComputation(compBox, { previewError: e, inputs: inputs }); });
      };
    }

    var acts = R.actions(c, r, user);
    var box = h('div.reward-actions#reward-actions');
    acts.forEach(function (a) { box.appendChild(form(c, r, data, a, reload, function (i) { onInputs(i); })); });
    if (r && r.status === 'proposed' && r.proposed_by === user.id && (has(user, 'finance') || has(user, 'supervisor'))) {
      box.appendChild(h('p.hint#reward-own', C.t('reward.ownProposal')));
    }
    if (acts.length) sec.appendChild(h('h3', C.t('reward.actions')));
    sec.appendChild(box);

    var hist = history(c);
    if (hist.length) {
      sec.appendChild(h('h3', C.t('reward.history')));
      sec.appendChild(h('ol.timeline#reward-history', hist.map(function (e) {
        return h('li', { 'data-event': e.kind }, h('span.small', C.fmtTime(e.at) + ' · ' + (e.actor || C.t('reward.system'))), ' ',
          h('strong', C.label('event', e.kind)), h('p', eventLine(e)));
      })));
    }
    return sec;
  };
})();
