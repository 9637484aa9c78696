/* jubao H5 — the reporting wizard (steps 1–5) and the receipt. */
(function () {
  'use strict';

  var J = window.Jubao;
  var $ = J.$;

  var CATEGORIES = ['fake_patient', 'fake_condition', 'fake_documents', 'fictitious_services',
    'identity_misuse', 'split_or_bed_hospitalization', 'excessive_treatment', 'overcharging',
    'substitution', 'drug_resale', 'out_of_scope_billing', 'duplicate_benefits',
    'agency_misconduct', 'other'];
  var KINDS = ['hospital', 'clinic', 'pharmacy', 'insured_person', 'agency_staff', 'other'];
  var RELATIONS = ['insider', 'patient', 'relative', 'public', 'other', ''];
  var STEPS = 5;

  // Where a server error's `field` (a JSON path) is shown: [element id, step].
  var FIELD_MAP = {
    'target.name': ['target_name', 2],
    'target.kind': ['target_kind', 2],
    'target.region_code': ['region_code', 2],
    'target.address': ['address', 2],
    target: ['target_name', 2],
    categories: ['categories', 1],
    description: ['description', 1],
    occurred_from: ['occurred_from', 1],
    occurred_to: ['occurred_to', 1],
    amount_estimate_fen: ['amount', 1],
    'reporter.name': ['rep_name', 4],
    'reporter.id_number': ['rep_id', 4],
    'reporter.phone': ['rep_phone', 4],
    'reporter.email': ['rep_email', 4],
    'reporter.relation': ['rep_relation', 4],
    'reporter.notify_by': ['rep_notify', 4],
    'reporter.claim_verifier': ['rep_verifier', 4],
    'reporter.anonymous': ['reporter_mode', 4],
    reporter: ['reporter_mode', 4],
    evidence: ['evidence', 3]
  };

  var STEP_FIELDS = {
    1: ['categories', 'description', 'occurred_from', 'occurred_to', 'amount'],
    2: ['target_name', 'target_kind', 'region_code', 'address'],
    3: ['evidence'],
    4: ['reporter_mode', 'rep_name', 'rep_id', 'rep_phone', 'rep_email', 'rep_relation'],
    5: ['submit']
  };

  var R = (J.report = {
    maxStep: 1,
    current: 1,
    receipt: null,
    returnToReview: false
  });

  var form = $('report-form');
  var files;
  var sending = false;
  var attempt = { key: null, fingerprint: null };

  // ---------- building the choices ----------

  function choice(type, name, value, id, titleKey, exKey) {
    // Named by its title only; the example is its description (not part of the name).
    var input = J.el('input', {
      type: type,
      id: id,
      name: name,
      value: value,
      'aria-labelledby': id + '-title',
      'aria-describedby': exKey ? id + '-ex' : null
    });
    var body = J.el('span', { class: 'choice-body' }, [
      J.el('span', { class: 'choice-title', id: id + '-title', 'data-i18n': titleKey }),
      exKey ? J.el('span', { class: 'choice-ex', id: id + '-ex', 'data-i18n': exKey }) : null
    ]);
    return J.el('label', { class: 'choice', for: id }, [input, body]);
  }

  function buildChoices() {
    var cl = $('category-list');
    CATEGORIES.forEach(function (c) {
      cl.appendChild(choice('checkbox', 'categories', c, 'cat-' + c, 'cat.' + c, 'cat.' + c + '.ex'));
    });
    var kl = $('kind-list');
    KINDS.forEach(function (k) {
      kl.appendChild(choice('radio', 'kind', k, 'kind-' + k, 'kind.' + k));
    });
    var rl = $('relation-list');
    RELATIONS.forEach(function (r) {
      rl.appendChild(choice('radio', 'relation', r, 'rel-' + (r || 'none'), 'relation.' + (r || 'none')));
    });
    $('rel-none').checked = true;
    $('rel-none').defaultChecked = true;
    buildRegions();
  }

  function buildRegions() {
    var sel = $('region_code');
    var current = sel.value;
    J.clear(sel);
    sel.appendChild(J.el('option', { value: '', text: J.t('region.choose') }));
    window.JUBAO_I18N.provinces.forEach(function (p) {
      sel.appendChild(J.el('option', { value: p[0], text: J.lang === 'en' ? p[2] : p[1] }));
    });
    sel.value = current;
  }

  function regionName(code) {
    var list = window.JUBAO_I18N.provinces;
    for (var i = 0; i < list.length; i++) {
      if (list[i][0] === code) return J.lang === 'en' ? list[i][2] : list[i][1];
    }
    return code;
  }

  // ---------- reading the form ----------

  function checkedValues(name) {
    var els = form.querySelectorAll('input[name="' + name + '"]:checked');
    return Array.prototype.map.call(els, function (e) {
      return e.value;
    });
  }

  function radioValue(name) {
    var v = checkedValues(name);
    return v.length ? v[0] : '';
  }

  function isNamed() {
    return radioValue('mode') === 'named';
  }

  function val(id) {
    return $(id).value.trim();
  }

  // ---------- validation ----------

  function validDate(s) {
    return /^\d{4}-\d{2}-\d{2}$/.test(s);
  }

  /** Errors of one step as [[fieldId, dictionaryKey], ...]. */
  function problems(step) {
    var out = [];
    if (step === 1) {
      if (!checkedValues('categories').length) out.push(['categories', 'err.categories']);
      var n = J.charCount(val('description'));
      if (n < 10) out.push(['description', 'err.descShort']);
      else if (n > 5000) out.push(['description', 'err.descLong']);
      var from = val('occurred_from');
      var to = val('occurred_to');
      var today = J.today();
      if (from && !validDate(from)) out.push(['occurred_from', 'err.dateFormat']);
      else if (from && from > today) out.push(['occurred_from', 'err.dateFuture']);
      if (to && !validDate(to)) out.push(['occurred_to', 'err.dateFormat']);
      else if (to && to > today) out.push(['occurred_to', 'err.dateFuture']);
      else if (from && to && validDate(from) && to < from) out.push(['occurred_to', 'err.dateOrder']);
      var amt = J.parseYuanToFen($('amount').value);
      if (!amt.empty && !amt.ok) out.push(['amount', 'err.amount']);
    } else if (step === 2) {
      if (!val('target_name')) out.push(['target_name', 'err.targetName']);
      if (!radioValue('kind')) out.push(['target_kind', 'err.kind']);
    } else if (step === 3) {
      if (files.busy()) out.push(['evidence', 'evidence.busy']);
    } else if (step === 4 && isNamed()) {
      if (!val('rep_name')) out.push(['rep_name', 'err.repName']);
      var id = J.checkIdNumber($('rep_id').value);
      if (id === 'length') out.push(['rep_id', 'err.idLength']);
      else if (id === 'checksum') out.push(['rep_id', 'err.idChecksum']);
      if (!J.validPhone($('rep_phone').value)) out.push(['rep_phone', 'err.phone']);
      if (val('rep_email') && !J.validEmail($('rep_email').value)) out.push(['rep_email', 'err.email']);
    }
    return out;
  }

  function showProblems(step, list) {
    STEP_FIELDS[step].forEach(J.clearFieldError);
    list.forEach(function (p) {
      J.setFieldError(p[0], p[1]);
    });
    setSummary(step, list.length);
    if (list.length) focusField(list[0][0]);
  }

  function setSummary(step, n) {
    var s = $('summary-' + step);
    if (!s) return;
    if (n) {
      s.setAttribute('data-n', String(n));
      s.textContent = J.t('step.fixErrors', { n: n });
      s.hidden = false;
    } else {
      s.hidden = true;
      s.textContent = '';
    }
  }

  function focusField(id) {
    var el = $(id);
    if (!el) return;
    if (el.tagName === 'FIELDSET') {
      var first = el.querySelector('input:checked') || el.querySelector('input');
      if (first) el = first;
    } else if (id === 'evidence') {
      el = $('evidence-photos');
    }
    var wrap = $('w-' + id) || el;
    try {
      el.focus({ preventScroll: true });
    } catch (e) {
      el.focus();
    }
    if (wrap.scrollIntoView) wrap.scrollIntoView({ block: 'center' });
  }

  // ---------- navigation ----------

  function go(n) {
    R.maxStep = Math.max(R.maxStep, n);
    window.location.hash = '#report-' + n;
  }

  R.showStep = function (n) {
    R.current = n;
    for (var i = 1; i <= STEPS; i++) $('step-' + i).hidden = i !== n;
    $('step-count').textContent = J.t('step.progress', { n: n });
    var dots = $('stepbar').querySelectorAll('.dots li');
    for (var d = 0; d < dots.length; d++) {
      dots[d].className = d + 1 < n ? 'done' : d + 1 === n ? 'current' : '';
    }
    updateNextLabels();
    if (n === 5) renderReview();
    if (n === 1) updateCounter();
    document.title = J.t('step' + n + '.title') + ' · ' + J.t('doc.title');
  };

  function updateNextLabels() {
    for (var i = 1; i < STEPS; i++) {
      var btn = $('step-' + i).querySelector('button[type="submit"]');
      var key = R.returnToReview ? 'step.saveReturn' : 'step.next';
      btn.setAttribute('data-i18n', key);
      btn.textContent = J.t(key);
    }
  }

  function onNext() {
    var n = R.current;
    if (n === 5) {
      submit();
      return;
    }
    var list = problems(n);
    showProblems(n, list);
    if (list.length) {
      J.announce(J.t('step.fixErrors', { n: list.length }));
      return;
    }
    if (R.returnToReview) {
      // Everything before the review must still be valid.
      var bad = firstInvalidStep();
      go(bad || 5);
      return;
    }
    go(n + 1);
  }

  function onBack() {
    if (R.current <= 1) window.location.hash = '';
    else go(R.current - 1);
  }

  function firstInvalidStep() {
    for (var s = 1; s < STEPS; s++) {
      var list = problems(s);
      if (list.length) return s;
    }
    return 0;
  }

  // ---------- review ----------

  function reviewSection(titleKey, step, rows) {
    var edit = J.el('button', {
      type: 'button',
      class: 'edit',
      'aria-label': J.t('review.editLabel', { section: J.t(titleKey) }),
      text: J.t('review.edit')
    });
    edit.addEventListener('click', function () {
      R.returnToReview = true;
      go(step);
    });
    var dl = J.el('dl', { class: 'review-list' });
    rows.forEach(function (r) {
      if (!r) return;
      dl.appendChild(J.el('div', { class: 'review-row' }, [
        J.el('dt', { text: J.t(r[0]) }),
        J.el('dd', { class: r[2] || null, text: r[1] })
      ]));
    });
    return J.el('section', { class: 'review-card', 'data-review-step': String(step) }, [
      J.el('div', { class: 'review-head' }, [J.el('h2', { text: J.t(titleKey) }), edit]),
      dl
    ]);
  }

  function renderReview() {
    var box = $('review');
    J.clear(box);
    var cats = checkedValues('categories').map(function (c) {
      return J.t('cat.' + c);
    });
    var from = val('occurred_from');
    var to = val('occurred_to');
    var when = null;
    if (from && to) when = J.t('review.whenRange', { from: J.formatDay(from), to: J.formatDay(to) });
    else if (from) when = J.t('review.whenFrom', { from: J.formatDay(from) });
    else if (to) when = J.t('review.whenTo', { to: J.formatDay(to) });
    var amt = J.parseYuanToFen($('amount').value);
    var notGiven = J.t('review.notGiven');
    box.appendChild(reviewSection('review.what', 1, [
      ['review.categories', cats.join(J.lang === 'en' ? '; ' : '；')],
      ['review.description', val('description'), 'pre'],
      ['review.when', when || notGiven],
      ['review.amount', amt.ok ? J.t('review.yuan', { amount: J.formatFen(amt.fen) }) : notGiven]
    ]));
    var kind = radioValue('kind');
    box.appendChild(reviewSection('review.who', 2, [
      ['review.name', val('target_name')],
      ['review.kind', kind ? J.t('kind.' + kind) : notGiven],
      ['review.region', val('region_code') ? regionName(val('region_code')) : notGiven],
      ['review.address', val('address') || notGiven]
    ]));
    var its = files.items();
    box.appendChild(reviewSection('review.evidence', 3, [
      ['review.filesLabel', its.length ? J.t('review.files', {
        n: its.length,
        names: its.map(function (i) {
          return i.name;
        }).join(J.lang === 'en' ? ', ' : '、')
      }) : J.t('review.noFiles')]
    ]));
    var rel = radioValue('relation');
    var you = [['review.mode', J.t(isNamed() ? 'review.named' : 'review.anonymous')]];
    if (isNamed()) {
      you.push(['rep.name', val('rep_name')]);
      you.push(['review.id', J.normalizeId($('rep_id').value)]);
      you.push(['review.phone', J.normalizePhone($('rep_phone').value)]);
      if (val('rep_email')) you.push(['review.email', val('rep_email')]);
    }
    you.push(['review.relation', rel ? J.t('relation.' + rel) : J.t('relation.none')]);
    you.push(['rep.notify', J.t('notify.' + (val('rep_notify') || 'channel'))]);
    box.appendChild(reviewSection('review.you', 4, you));
  }

  // ---------- submitting ----------

  function buildPayload() {
    var target = { name: val('target_name'), kind: radioValue('kind') };
    if (val('region_code')) target.region_code = val('region_code');
    if (val('address')) target.address = val('address');
    var p = {
      target: target,
      categories: checkedValues('categories'),
      description: val('description')
    };
    if (val('occurred_from')) p.occurred_from = val('occurred_from');
    if (val('occurred_to')) p.occurred_to = val('occurred_to');
    var amt = J.parseYuanToFen($('amount').value);
    if (amt.ok) p.amount_estimate_fen = amt.fen;
    var rel = radioValue('relation');
    var reporter;
    if (isNamed()) {
      reporter = {
        anonymous: false,
        name: val('rep_name'),
        id_number: J.normalizeId($('rep_id').value),
        phone: J.normalizePhone($('rep_phone').value)
      };
      if (val('rep_email')) reporter.email = val('rep_email');
    } else {
      reporter = { anonymous: true }; // no identity fields at all: the server rejects them
    }
    if (rel) reporter.relation = rel;
    if (val('rep_notify')) reporter.notify_by = val('rep_notify');
    var verifier = J.normalizeId($('rep_verifier').value);
    if (verifier) reporter.claim_verifier = verifier;
    p.reporter = reporter;
    p.locale = J.lang === 'en' ? 'en' : 'zh-CN';
    return p;
  }

  function setSending(on) {
    sending = on;
    J.setBusy('submit-report', on, 'submit.sending', 'submit.button');
    var back = $('step-5').querySelector('[data-back]');
    back.disabled = on;
    $('send-progress').hidden = !on;
  }

  function progress(fraction) {
    var p = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    $('upload-bar').value = p;
    var text = J.t('submit.progress', { p: p });
    $('upload-label').textContent = text;
    var live = $('send-status');
    if (p === 0 || p === 100 || p - (Number(live.getAttribute('data-p')) || 0) >= 25) {
      live.setAttribute('data-p', String(p));
      live.textContent = text;
    }
  }

  function submit() {
    if (sending) return; // a second tap while the first is on its way does nothing
    J.clearFieldError('submit');
    var bad = firstInvalidStep();
    if (bad) {
      R.returnToReview = true;
      go(bad);
      setTimeout(function () {
        showProblems(bad, problems(bad));
      }, 0);
      return;
    }
    var payload = buildPayload();
    var json = JSON.stringify(payload);
    var its = files.items();
    var fingerprint = json + '\n' + its.map(function (i) {
      return i.id + ':' + i.blob.size;
    }).join(',');
    // One key per distinct submission: a retry of the same content reuses it, so the
    // server files one tip however many times the request reaches it.
    if (fingerprint !== attempt.fingerprint) {
      attempt.key = J.uuid();
      attempt.fingerprint = fingerprint;
    }
    var fd = new FormData();
    fd.append('report', json);
    its.forEach(function (i) {
      fd.append('evidence', i.blob, i.name);
    });
    setSending(true);
    progress(0);
    J.request({
      method: 'POST',
      url: '/api/v1/reports',
      form: fd,
      headers: { 'Idempotency-Key': attempt.key },
      onProgress: progress,
      onUploaded: function () {
        $('upload-label').textContent = J.t('submit.processing');
        $('upload-bar').value = 100;
      }
    }).then(function (res) {
      setSending(false);
      if ((res.status === 201 || res.status === 200) && res.body && res.body.tracking_code) {
        done(res.body);
        return;
      }
      var err = J.apiError(res);
      if (!res.network && res.status >= 400 && res.status < 500 && res.status !== 429) {
        // Rejected: nothing was filed. Whatever the person sends next is a new attempt.
        attempt = { key: null, fingerprint: null };
      }
      if (res.network) {
        J.setFieldError('submit', 'submit.network');
        J.announce(J.t('submit.network'));
      } else if (err && err.field && res.status < 500) {
        showServerError(err);
      } else if (err && err.message) {
        J.setFieldError('submit', null, err.message);
        J.announce(err.message);
      } else {
        J.setFieldError('submit', 'submit.server');
        J.announce(J.t('submit.server'));
      }
    });
  }

  function mapField(field) {
    var f = String(field).replace(/\[\d+\]/g, '');
    while (f) {
      if (FIELD_MAP[f]) return FIELD_MAP[f];
      var dot = f.lastIndexOf('.');
      if (dot < 0) break;
      f = f.slice(0, dot);
    }
    return null;
  }

  function showServerError(err) {
    var where = mapField(err.field);
    if (!where) {
      J.setFieldError('submit', null, err.message);
      J.announce(err.message);
      return;
    }
    var id = where[0];
    var step = where[1];
    if ((id === 'rep_name' || id === 'rep_id' || id === 'rep_phone' || id === 'rep_email') && !isNamed()) {
      id = 'reporter_mode';
    }
    R.returnToReview = true;
    go(step);
    // The hash change renders the step asynchronously; show the error once it is up.
    setTimeout(function () {
      J.setFieldError(id, null, err.message);
      setSummary(step, 1);
      focusField(id);
      J.announce(err.message);
    }, 0);
  }

  function done(body) {
    R.receipt = body;
    form.reset();
    files.clear();
    STEP_FIELDS[1].concat(STEP_FIELDS[2], STEP_FIELDS[3], STEP_FIELDS[4], STEP_FIELDS[5]).forEach(J.clearFieldError);
    for (var s = 1; s < STEPS; s++) setSummary(s, 0);
    toggleNamed();
    updateCounter();
    attempt = { key: null, fingerprint: null };
    R.maxStep = 1;
    R.returnToReview = false;
    renderReceipt();
    window.location.replace('#done');
  }

  // ---------- receipt ----------

  function renderReceipt() {
    var r = R.receipt;
    if (!r) return;
    $('receipt-code').textContent = J.groupCode(r.tracking_code);
    $('receipt-passcode').textContent = J.groupCode(r.passcode);
    $('receipt-code').setAttribute('data-raw', r.tracking_code);
    $('receipt-passcode').setAttribute('data-raw', r.passcode);
    $('receipt-accept-by').textContent = r.accept_by ? J.t('receipt.acceptBy', { date: J.formatDay(r.accept_by) }) : '';
    $('receipt-provisional').hidden = !r.accept_by_provisional;
    $('copy-msg').textContent = '';
  }
  R.renderReceipt = renderReceipt;

  function selectCodes() {
    var node = $('receipt-codes');
    var sel = window.getSelection && window.getSelection();
    if (!sel || !document.createRange) return false;
    var range = document.createRange();
    range.selectNodeContents(node);
    sel.removeAllRanges();
    sel.addRange(range);
    return true;
  }

  function copyCodes() {
    var r = R.receipt;
    if (!r) return;
    var text = J.t('receipt.copyText', { code: r.tracking_code, passcode: r.passcode });
    var msg = $('copy-msg');
    var ok = function () {
      msg.textContent = J.t('receipt.copied');
    };
    var fallback = function () {
      var copied = false;
      var ta = J.el('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
      ta.value = text;
      document.body.appendChild(ta);
      try {
        ta.select();
        copied = document.execCommand('copy');
      } catch (e) {
        copied = false;
      }
      document.body.removeChild(ta);
      if (copied) {
        ok();
      } else {
        selectCodes();
        msg.textContent = J.t('receipt.copyManual');
      }
    };
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(ok, fallback);
    } else {
      fallback();
    }
  }

  // ---------- little live behaviours ----------

  function updateCounter() {
    var n = J.charCount(val('description'));
    var c = $('description-count');
    c.textContent = J.t('desc.counter', { n: n });
    c.classList.toggle('over', n > 5000);
  }

  function toggleNamed() {
    var named = isNamed();
    $('named-fields').hidden = !named;
    if (!named) ['rep_name', 'rep_id', 'rep_phone', 'rep_email'].forEach(J.clearFieldError);
  }

  /** A corrected field loses its red mark as soon as the person changes it. */
  function fixed(id) {
    var err = $('e-' + id);
    if (!err || err.hidden) return;
    J.clearFieldError(id);
    var step = $('step-' + R.current);
    if (step && !step.querySelector('.error:not([hidden])')) setSummary(R.current, 0);
  }

  // ---------- wiring ----------

  function init() {
    buildChoices();
    J.applyI18n(form);
    files = J.createFileList({
      input: [$('evidence-photos'), $('evidence-files')],
      list: $('evidence-list'),
      count: $('evidence-count'),
      errorId: 'evidence',
      max: 9,
      onChange: function () {
        if (R.current === 3 && !$('step-3').querySelector('.error:not([hidden])')) setSummary(3, 0);
      }
    });
    var today = J.today();
    $('occurred_from').max = today;
    $('occurred_to').max = today;

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      onNext();
    });
    Array.prototype.forEach.call(form.querySelectorAll('[data-back]'), function (b) {
      b.addEventListener('click', onBack);
    });
    $('description').addEventListener('input', updateCounter);
    form.addEventListener('change', function (e) {
      var t = e.target;
      if (t.name === 'mode') toggleNamed();
      if (t.name === 'categories') fixed('categories');
      if (t.name === 'kind') fixed('target_kind');
      if (t.name === 'relation') fixed('rep_relation');
    });
    form.addEventListener('input', function (e) {
      if (e.target.id) fixed(e.target.id);
    });
    $('copy-codes').addEventListener('click', copyCodes);
    toggleNamed();
    updateCounter();

    J.onLangChange(function () {
      buildRegions();
      updateCounter();
      files.render();
      if (R.current) $('step-count').textContent = J.t('step.progress', { n: R.current });
      for (var s = 1; s < STEPS; s++) {
        var sum = $('summary-' + s);
        if (!sum.hidden) sum.textContent = J.t('step.fixErrors', { n: Number(sum.getAttribute('data-n')) || 1 });
      }
      if (!$('step-5').hidden) renderReview();
      if (!sending) $('submit-report').textContent = J.t('submit.button');
      renderReceipt();
    });
  }

  R.init = init;
})();
