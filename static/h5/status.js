/* jubao H5 — checking a report with tracking code + passcode, and adding information.
 * The code and passcode live only in this closure: never in storage, never in a URL. */
(function () {
  'use strict';

  var J = window.Jubao;
  var $ = J.$;

  var S = (J.status = {});
  var creds = null; // {tracking_code, passcode} after a successful lookup
  var last = null; // the last lookup response, re-rendered on a language switch
  var moreFiles;
  var busy = false;

  function setLookupBusy(on) {
    busy = on;
    J.setBusy('lookup-submit', on, 'status.loading', 'status.submit');
  }

  function showSummary(text) {
    var s = $('summary-lookup');
    s.textContent = text || '';
    s.hidden = !text;
  }

  function lookup(c) {
    return J.request({ method: 'POST', url: '/api/v1/reports/lookup', json: c });
  }

  function onLookup(e) {
    e.preventDefault();
    if (busy) return;
    J.clearFieldError('lookup_code');
    J.clearFieldError('lookup_passcode');
    showSummary('');
    var code = J.normalizeCode($('lookup_code').value);
    var pass = J.normalizeCode($('lookup_passcode').value);
    var bad = false;
    if (!code) {
      J.setFieldError('lookup_code', 'status.needCode');
      bad = true;
    }
    if (!pass) {
      J.setFieldError('lookup_passcode', 'status.needPasscode');
      bad = true;
    }
    if (bad) {
      $(code ? 'lookup_passcode' : 'lookup_code').focus();
      return;
    }
    var c = { tracking_code: code, passcode: pass };
    setLookupBusy(true);
    lookup(c).then(function (res) {
      setLookupBusy(false);
      if (res.status === 200 && res.body) {
        creds = c;
        last = res.body;
        $('lookup_passcode').value = '';
        $('lookup-form').hidden = true;
        render();
        $('case').hidden = false;
        var st = $('case-status');
        st.setAttribute('tabindex', '-1');
        st.focus();
        return;
      }
      var err = J.apiError(res);
      var msg;
      if (res.network) msg = J.t('status.network');
      else if (res.status === 404) msg = J.t('status.notFound');
      else msg = (err && err.message) || J.t('submit.server');
      showSummary(msg);
      $('lookup-status').textContent = msg;
    });
  }

  function label(prefix, code) {
    var key = prefix + code;
    return J.has(key) ? J.t(key) : String(code);
  }

  function render() {
    var b = last;
    if (!b) return;
    $('case-status').textContent = label('st.', b.status);
    var by = $('case-accept-by');
    by.hidden = !b.accept_by;
    by.textContent = b.accept_by ? J.t('receipt.acceptBy', { date: J.formatDay(b.accept_by) }) : '';
    $('case-provisional').hidden = !(b.accept_by && b.accept_by_provisional);

    // Oldest first as the server sends them (same-second entries keep its order); the status
    // is named where it changes, so an "information added" entry reads as just that.
    var tl = $('case-timeline');
    J.clear(tl);
    var entries = (b.timeline || []).map(function (t, i) {
      return { t: t, i: i };
    });
    entries.sort(function (x, y) {
      var a = Date.parse(x.t.at) || 0;
      var c = Date.parse(y.t.at) || 0;
      return a !== c ? a - c : x.i - y.i;
    });
    var items = entries.map(function (e, k) {
      var t = e.t;
      var changed = k === 0 || t.status !== entries[k - 1].t.status;
      return J.el('li', { 'data-status': t.status }, [
        J.el('time', { datetime: t.at, text: J.formatInstant(t.at) }),
        changed ? J.el('strong', { class: 'tl-status', text: label('stl.', t.status) }) : null,
        t.note ? J.el('p', { class: 'tl-note', text: t.note }) : null
      ]);
    });
    items.reverse(); // newest first: what happened last is what people look for
    if (items.length) items[0].className = 'latest';
    items.forEach(function (li) {
      tl.appendChild(li);
    });

    var ml = $('case-messages');
    J.clear(ml);
    var msgs = (b.messages || []).slice().sort(function (x, y) {
      return String(x.at) < String(y.at) ? -1 : String(x.at) > String(y.at) ? 1 : 0;
    });
    if (!msgs.length) ml.appendChild(J.el('li', { class: 'empty', text: J.t('status.noMessages') }));
    msgs.forEach(function (m) {
      var staff = m.from === 'staff';
      ml.appendChild(J.el('li', { class: staff ? 'msg staff' : 'msg mine' }, [
        J.el('p', { class: 'msg-meta' }, [
          J.el('strong', { text: J.t(staff ? 'status.fromStaff' : 'status.fromReporter') }),
          ' ',
          J.el('time', { datetime: m.at, text: J.formatInstant(m.at) })
        ]),
        m.body ? J.el('p', { class: 'msg-body', text: m.body }) : null,
        m.attachments ? J.el('p', { class: 'msg-files', text: J.t('status.attachments', { n: m.attachments }) }) : null
      ]));
    });

    $('passcode-prompt').hidden = !b.passcode_change_suggested;
    if (b.passcode_change_suggested) $('passcode-details').open = true;

    var rw = b.reward;
    var box = $('case-reward');
    if (rw && typeof rw === 'object') {
      box.hidden = false;
      $('reward-state').textContent = rw.status ? J.t('status.rewardState', { state: label('rw.', rw.status) }) : '';
      $('reward-amount').textContent =
        rw.amount_fen !== null && rw.amount_fen !== undefined ? J.t('status.rewardAmount', { amount: J.formatFen(rw.amount_fen) }) : '';
      $('reward-claim').textContent = rw.claim_by && rw.status === 'notified' ? J.t('status.rewardClaimBy', { date: J.formatDay(rw.claim_by) }) : '';
      $('claim-form').hidden = rw.status !== 'notified';
      if (rw.status !== 'notified') $('claim-ok').textContent = rw.status === 'claimed' ? J.t('claim.done') : '';
    } else {
      box.hidden = true;
    }
  }

  function claimMethod() {
    var r = document.querySelector('input[name="claim_method"]:checked');
    return r ? r.value : 'bank_transfer';
  }

  function syncClaimMethod() {
    $('w-claim_bank_account').hidden = claimMethod() !== 'bank_transfer';
  }

  /** Claim a reward told to the reporter: bank account (sealed by the server) or in person,
   * and the last six characters of the ID number. */
  function onClaim(e) {
    e.preventDefault();
    if (busy || !creds) return;
    ['claim_bank_account', 'claim_id_last6', 'claim_submit'].forEach(J.clearFieldError);
    var bank = claimMethod() === 'bank_transfer';
    var account = $('claim_bank_account').value.trim();
    var last6 = $('claim_id_last6').value.trim().toUpperCase();
    if (bank && !account) {
      J.setFieldError('claim_bank_account', 'claim.needAccount');
      $('claim_bank_account').focus();
      return;
    }
    if (bank && !last6) {
      J.setFieldError('claim_id_last6', 'claim.needLast6');
      $('claim_id_last6').focus();
      return;
    }
    var body = { tracking_code: creds.tracking_code, passcode: creds.passcode, locale: J.lang };
    if (last6) body.id_last6 = last6;
    if (bank) body.bank_account = account;
    busy = true;
    J.setBusy('claim-submit', true, 'claim.sending', 'claim.send');
    J.request({ method: 'POST', url: '/api/v1/reports/reward/claim', json: body }).then(function (res) {
      if (res.status >= 200 && res.status < 300) {
        $('claim_bank_account').value = '';
        $('claim_id_last6').value = '';
        return lookup(creds).then(function (r2) {
          busy = false;
          J.setBusy('claim-submit', false, 'claim.sending', 'claim.send');
          if (r2.status === 200 && r2.body) {
            last = r2.body;
            render();
          }
          $('claim-ok').textContent = J.t('claim.done');
        });
      }
      busy = false;
      J.setBusy('claim-submit', false, 'claim.sending', 'claim.send');
      var err = J.apiError(res);
      if (res.network) {
        J.setFieldError('claim_submit', 'status.network');
      } else if (err && err.field === 'bank_account') {
        J.setFieldError('claim_bank_account', null, err.message);
        $('claim_bank_account').focus();
      } else if (err && err.field === 'id_last6') {
        J.setFieldError('claim_id_last6', null, err.message);
        $('claim_id_last6').focus();
      } else {
        J.setFieldError('claim_submit', null, (err && err.message) || J.t('submit.server'));
      }
    });
  }

  /** Replace the passcode (old one from the lookup, new one typed twice). */
  function onPasscode(e) {
    e.preventDefault();
    if (busy || !creds) return;
    ['new_passcode', 'new_passcode2', 'passcode_submit'].forEach(J.clearFieldError);
    $('passcode-ok').textContent = '';
    var np = J.normalizeCode($('new_passcode').value);
    var np2 = J.normalizeCode($('new_passcode2').value);
    if (np.length < 10 || np.length > 64) {
      J.setFieldError('new_passcode', 'passcode.needNew');
      $('new_passcode').focus();
      return;
    }
    if (np !== np2) {
      J.setFieldError('new_passcode2', 'passcode.mismatch');
      $('new_passcode2').focus();
      return;
    }
    busy = true;
    J.setBusy('passcode-submit', true, 'passcode.sending', 'passcode.send');
    var body = { tracking_code: creds.tracking_code, passcode: creds.passcode, new_passcode: np, locale: J.lang };
    J.request({ method: 'POST', url: '/api/v1/reports/passcode', json: body }).then(function (res) {
      busy = false;
      J.setBusy('passcode-submit', false, 'passcode.sending', 'passcode.send');
      if (res.status >= 200 && res.status < 300) {
        creds = { tracking_code: creds.tracking_code, passcode: np };
        $('new_passcode').value = '';
        $('new_passcode2').value = '';
        if (last) last.passcode_change_suggested = false;
        render();
        $('passcode-ok').textContent = J.t('passcode.done');
        return;
      }
      var err = J.apiError(res);
      if (res.network) J.setFieldError('passcode_submit', 'status.network');
      else if (err && err.field === 'new_passcode') J.setFieldError('new_passcode', null, err.message);
      else J.setFieldError('passcode_submit', null, (err && err.message) || J.t('submit.server'));
    });
  }

  function setMoreBusy(on) {
    busy = on;
    J.setBusy('more-submit', on, 'more.sending', 'more.send');
  }

  function onMore(e) {
    e.preventDefault();
    if (busy || !creds) return;
    J.clearFieldError('more_body');
    J.clearFieldError('more_files');
    J.clearFieldError('more_submit');
    $('more-ok').textContent = '';
    var body = $('more_body').value.trim();
    if (!body) {
      J.setFieldError('more_body', 'more.needBody');
      $('more_body').focus();
      return;
    }
    if (moreFiles.busy()) {
      J.setFieldError('more_files', 'evidence.busy');
      return;
    }
    var msg = { tracking_code: creds.tracking_code, passcode: creds.passcode, body: body };
    var its = moreFiles.items();
    var req = { method: 'POST', url: '/api/v1/reports/messages' };
    if (its.length) {
      var fd = new FormData();
      fd.append('message', JSON.stringify(msg));
      its.forEach(function (i) {
        fd.append('evidence', i.blob, i.name);
      });
      req.form = fd;
    } else {
      req.json = msg;
    }
    setMoreBusy(true);
    J.request(req).then(function (res) {
      if (res.status >= 200 && res.status < 300) {
        $('more_body').value = '';
        moreFiles.clear();
        return lookup(creds).then(function (r2) {
          setMoreBusy(false);
          if (r2.status === 200 && r2.body) {
            last = r2.body;
            render();
          }
          $('more-ok').textContent = J.t('more.sent');
        });
      }
      setMoreBusy(false);
      var err = J.apiError(res);
      if (res.network) {
        J.setFieldError('more_submit', 'status.network');
      } else if (res.status === 404) {
        J.setFieldError('more_submit', 'status.notFound');
      } else if (err && err.field === 'body') {
        J.setFieldError('more_body', null, err.message);
        $('more_body').focus();
      } else if (err && err.field && String(err.field).indexOf('evidence') === 0) {
        J.setFieldError('more_files', null, err.message);
      } else {
        J.setFieldError('more_submit', null, (err && err.message) || J.t('submit.server'));
      }
    });
  }

  /** Forget the case shown and go back to an empty lookup form. */
  S.reset = function () {
    creds = null;
    last = null;
    $('case').hidden = true;
    $('lookup-form').hidden = false;
    $('lookup_passcode').value = '';
    $('more_body').value = '';
    moreFiles.clear();
    showSummary('');
  };

  /** Called when the status view is shown. */
  S.enter = function () {
    if (!creds && J.report && J.report.receipt && !$('lookup_code').value) {
      $('lookup_code').value = J.report.receipt.tracking_code; // convenience; passcode is typed
    }
  };

  S.init = function () {
    $('lookup-form').addEventListener('submit', onLookup);
    $('message-form').addEventListener('submit', onMore);
    $('claim-form').addEventListener('submit', onClaim);
    $('passcode-form').addEventListener('submit', onPasscode);
    document.querySelectorAll('input[name="claim_method"]').forEach(function (r) {
      r.addEventListener('change', syncClaimMethod);
    });
    syncClaimMethod();
    $('lookup-again').addEventListener('click', function () {
      S.reset();
      $('lookup_code').value = '';
      $('lookup_code').focus();
    });
    $('lookup-form').addEventListener('input', function (e) {
      if (e.target.id) J.clearFieldError(e.target.id);
    });
    moreFiles = J.createFileList({
      input: [$('more-files')],
      list: $('more-list'),
      count: null,
      errorId: 'more_files',
      max: 9
    });
    J.onLangChange(function () {
      render();
      moreFiles.render();
      if (!busy) {
        $('lookup-submit').textContent = J.t('status.submit');
        $('more-submit').textContent = J.t('more.send');
      }
    });
  };
})();
