/* jubao staff console — list pages: inbox, overdue board, identity requests, audit log,
 * administration, my account, and rewards with their budgets (the reward panel of a case
 * is in reward.js). */
(function () {
  'use strict';
  var C = window.Console;
  var h = C.h;
  var V = (C.views = {});

  function title(key, vars) { return h('h1#page-title', C.t(key, vars)); }
  function caseLink(id) { return h('a', { href: '#/cases/' + encodeURIComponent(id) }, id.slice(-12)); }
  function errorBox(el) { return function (e) { el.appendChild(h('p.error', { role: 'alert' }, C.errorText(e))); }; }

  // ---------- inbox ----------
  var lastFilters = {};
  V.inbox = function (el) {
    var handlerOnly = !C.hasAny(['intake', 'supervisor', 'legal', 'finance', 'custodian', 'auditor']);
    var f = {
      status: C.select('status', 'status', C.STATUSES, { empty: 'inbox.openOnly', value: lastFilters.status || '' }),
      channel: C.select('channel', 'channel', C.CHANNELS, { empty: 'inbox.all', value: lastFilters.channel || '' }),
      category: C.select('category', 'cat', C.CATEGORIES, { empty: 'inbox.all', value: lastFilters.category || '' }),
      region: h('input', { name: 'region', inputmode: 'numeric', maxlength: '6', pattern: '[0-9]{6}', value: lastFilters.region || '' }),
      due_before: h('input', { name: 'due_before', type: 'date', value: lastFilters.due_before || '' }),
      sort: h('select', { name: 'sort' },
        h('option', { value: 'received' }, C.t('inbox.sortReceived')),
        h('option', { value: 'priority' }, C.t('inbox.sortPriority')))
    };
    f.sort.value = lastFilters.sort || 'received';
    var assigned = null;
    if (!handlerOnly) {
      assigned = h('select', { name: 'assigned' },
        h('option', { value: 'any' }, C.t('inbox.assignedAny')),
        h('option', { value: 'unassigned' }, C.t('inbox.assignedNone')),
        C.has('handler') ? h('option', { value: 'me' }, C.t('inbox.assignedMe')) : null);
      assigned.value = lastFilters.assigned || 'any';
    }
    var form = h('form.filters', { 'aria-label': C.t('inbox.filters') },
      C.field('inbox.status', f.status), C.field('inbox.channel', f.channel), C.field('inbox.category', f.category),
      C.field('inbox.region', f.region), C.field('inbox.due', f.due_before), C.field('inbox.sort', f.sort),
      assigned ? C.field('inbox.assigned', assigned) : null,
      h('div.field.buttons', h('button.btn.primary', { type: 'submit' }, C.t('inbox.apply')),
        h('button.btn', { type: 'reset' }, C.t('inbox.reset'))));
    var count = h('p.hint', { 'aria-live': 'polite' });
    var tbody = h('tbody');
    var more = h('button.btn', { type: 'button', hidden: true }, C.t('more'));
    var rows = 0;
    var lastReceived = null;
    function query(before) {
      var q = {};
      Object.keys(f).forEach(function (k) { q[k] = f[k].value; });
      if (assigned) q.assigned = assigned.value;
      lastFilters = Object.assign({}, q);
      q.limit = 50;
      q.before = before || '';
      return C.get('/api/v1/cases' + C.qs(q));
    }
    function show(list, append) {
      if (!append) { C.clear(tbody); rows = 0; }
      list.forEach(function (c) {
        rows++;
        tbody.appendChild(h('tr', { 'data-case': c.id },
          h('td', caseLink(c.id), c.major ? h('span.tag.major', C.t('major')) : null),
          h('td', c.target_name),
          h('td', c.categories.map(function (k) { return h('span.cat', C.label('cat', k)); })),
          h('td', h('span.status.s-' + c.status, C.label('status', c.status))),
          h('td', C.label('channel', c.channel)),
          h('td', c.region),
          h('td', C.fmtTime(c.received_at)),
          h('td', c.assignee || '—'),
          h('td', { 'data-priority': c.priority === null ? '' : String(c.priority) },
            c.priority === null || c.priority === undefined ? '—' : String(c.priority),
            c.repeated ? h('span.tag', ' ' + C.t('inbox.repeated')) : null),
          h('td', C.dueBadge(c.working_days_left, c.next_due), c.next_clock ? h('span.small', ' ' + C.label('clock', c.next_clock)) : null,
            c.provisional ? C.provisionalTag() : null)));
      });
      if (list.length) lastReceived = list[list.length - 1].received_at;
      // Paging goes by time; the priority order is the first page only.
      more.hidden = list.length < 50 || f.sort.value === 'priority';
      count.textContent = C.t('inbox.count', { n: rows });
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      query().then(function (l) { show(l, false); }, function (e2) { C.flash(C.errorText(e2), 'error'); });
    });
    form.addEventListener('reset', function () {
      setTimeout(function () { form.dispatchEvent(new Event('submit', { cancelable: true })); }, 0);
    });
    more.addEventListener('click', function () {
      query(lastReceived).then(function (l) { show(l, true); }, function (e2) { C.flash(C.errorText(e2), 'error'); });
    });
    var heads = ['col.case', 'col.target', 'col.categories', 'col.status', 'col.channel', 'col.region', 'col.received', 'col.assignee', 'col.priority', 'col.due'];
    el.appendChild(title('inbox.title'));
    el.appendChild(form);
    el.appendChild(count);
    var t = h('table.data#inbox-table',
      h('thead', h('tr', heads.map(function (k) { return h('th', { scope: 'col' }, C.t(k)); }))), tbody);
    el.appendChild(h('div.table-wrap', t));
    el.appendChild(more);
    return query().then(function (l) { show(l, false); });
  };

  // ---------- independent reporters (supervisors) ----------
  V.targets = function (el) {
    var from = h('input', { name: 'from', type: 'date' });
    var to = h('input', { name: 'to', type: 'date' });
    var min = h('input', { name: 'min_reporters', type: 'number', min: '2', value: '2' });
    var body = h('div');
    var form = h('form.filters', { 'aria-label': C.t('targets.title') },
      C.field('targets.from', from, null, true), C.field('targets.to', to, null, true), C.field('targets.min', min),
      h('div.field.buttons', h('button.btn.primary', { type: 'submit' }, C.t('inbox.apply'))));
    function load() {
      return C.get('/api/v1/targets/independent-reporters' + C.qs({ from: from.value, to: to.value, min_reporters: min.value })).then(function (list) {
        C.clear(body);
        if (!list.length) { body.appendChild(h('p', C.t('empty'))); return; }
        body.appendChild(C.table(['col.target', 'col.region', 'targets.reporters', 'targets.tips', 'targets.byChannel', 'targets.period'], list.map(function (t) {
          return h('tr', { 'data-target': t.target_name },
            h('td', t.target_name), h('td', t.region),
            h('td', h('strong', String(t.reporters))), h('td', String(t.tips)),
            h('td', t.by_channel.map(function (c) { return h('span.cat', C.label('channel', c.channel) + ' ' + c.tips); })),
            h('td', C.fmtTime(t.first_received_at) + ' — ' + C.fmtTime(t.last_received_at)));
        })));
      });
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      load().catch(function (e2) { C.flash(C.errorText(e2), 'error'); });
    });
    el.appendChild(title('targets.title'));
    el.appendChild(h('p.hint', C.t('targets.lead')));
    el.appendChild(form);
    el.appendChild(body);
    return load();
  };

  // ---------- overdue board ----------
  V.overdue = function (el) {
    el.appendChild(title('overdue.title'));
    el.appendChild(h('p.hint', C.t('overdue.lead')));
    return C.get('/api/v1/cases/overdue?limit=500').then(function (list) {
      list.sort(function (a, b) { return b.working_days_late - a.working_days_late; });
      if (!list.length) { el.appendChild(h('p', C.t('empty'))); return; }
      el.appendChild(C.table(['col.case', 'col.target', 'col.clock', 'col.due', 'col.late', 'col.status', 'col.region', 'col.assignee'],
        list.map(function (o) {
          return h('tr', { 'data-case': o.case_id },
            h('td', caseLink(o.case_id)), h('td', o.target_name), h('td', C.label('clock', o.clock)), h('td', o.due_on, o.provisional ? C.provisionalTag() : null),
            h('td', C.dueBadge(-o.working_days_late, o.due_on)), h('td', C.label('status', o.status)),
            h('td', o.region), h('td', o.assignee || '—'));
        })));
    }).then(function () {
      // Notices to reporters that nothing could carry, past the feedback deadline.
      return C.get('/api/v1/notices/waiting').then(function (list) {
        var sec = h('section#waiting-notices', h('h2', C.t('notice.waitingTitle')), h('p.hint', C.t('notice.waitingLead')));
        if (!list.length) sec.appendChild(h('p', C.t('empty')));
        else sec.appendChild(C.table(['col.case', 'col.region', 'notice.channel', 'notice.since', 'notice.days', 'notice.reason'],
          list.map(function (n) {
            return h('tr', { 'data-case': n.case_id }, h('td', caseLink(n.case_id)), h('td', n.region),
              h('td', C.label('channel', n.channel)), h('td', C.fmtTime(n.waiting_since)), h('td', String(n.working_days)),
              h('td', n.reason ? C.label('wait', n.reason) : '—'));
          })));
        el.appendChild(sec);
      }, function () { /* not a role that sees them */ });
    });
  };

  // ---------- identity requests ----------
  function reasonForm(id, onDone) {
    var reason = h('textarea', { name: 'reason', required: true, rows: '2', maxlength: '2000' });
    var err = h('p.error', { role: 'alert', hidden: true });
    var approve = h('button.btn.primary', { type: 'button', 'data-decide': 'approve' }, C.t('identity.approve'));
    var deny = h('button.btn.danger', { type: 'button', 'data-decide': 'deny' }, C.t('identity.deny'));
    function send(ok) {
      err.hidden = true;
      C.post('/api/v1/identity-requests/' + encodeURIComponent(id) + '/decision', { approve: ok, reason: reason.value })
        .then(onDone, function (e) { err.textContent = C.errorText(e); err.hidden = false; reason.focus(); });
    }
    approve.addEventListener('click', function () { send(true); });
    deny.addEventListener('click', function () { send(false); });
    return h('div.inline-form', C.field('identity.decision', reason), err, h('div.buttons', approve, deny));
  }

  /** The one-time reveal: shown in a dialog, never stored, gone when closed. */
  C.revealOnce = function (id) {
    return C.post('/api/v1/identity-requests/' + encodeURIComponent(id) + '/reveal').then(function (r) {
      var dlg = document.getElementById('reveal-dialog');
      C.clear(dlg);
      var none = C.t('identity.none');
      var closeBtn = h('button.btn.primary', { type: 'button' }, C.t('close'));
      dlg.appendChild(h('h2#reveal-title', C.t('identity.revealed')));
      dlg.appendChild(h('p.warn', C.t('identity.revealWarn')));
      dlg.appendChild(h('dl.kv#revealed',
        h('dt', C.t('identity.name')), h('dd', r.name || none),
        h('dt', C.t('identity.idNumber')), h('dd', r.id_number || none),
        h('dt', C.t('identity.phone')), h('dd', r.phone || none),
        h('dt', C.t('identity.email')), h('dd', r.email || none),
        h('dt', C.t('identity.caller')), h('dd', r.caller_number || none),
        h('dt', C.t('case.relation')), h('dd', C.label('relation', r.relation))));
      dlg.appendChild(closeBtn);
      closeBtn.addEventListener('click', function () { dlg.close(); });
      dlg.onclose = function () { C.clear(dlg); };
      dlg.showModal();
      closeBtn.focus();
    });
  };

  V.identity = function (el) {
    el.appendChild(title('identity.title'));
    var custodian = C.has('custodian');
    var me = C.session.user.username;
    function render() {
      return C.get('/api/v1/identity-requests').then(function (list) {
        var box = h('div');
        var pending = list.filter(function (r) { return custodian && r.state === 'pending' && r.requested_by !== me; });
        var mine = list.filter(function (r) { return r.requested_by === me; });
        if (custodian) {
          box.appendChild(h('h2', C.t('identity.queue')));
          if (!pending.length) box.appendChild(h('p', C.t('empty')));
          pending.forEach(function (r) {
            box.appendChild(h('article.card.request', { 'data-request': r.id, 'data-case': r.report_id },
              h('dl.kv', h('dt', C.t('identity.case')), h('dd', caseLink(r.report_id)),
                h('dt', C.t('col.region')), h('dd', r.case_region),
                h('dt', C.t('identity.requestedBy')), h('dd', r.requested_by),
                h('dt', C.t('identity.reason')), h('dd', (r.evidence_id ? C.t('original.kind') + ' ' : '') + r.reason),
                h('dt', C.t('col.received')), h('dd', C.fmtTime(r.requested_at))),
              reasonForm(r.id, function () { C.flash(C.t('done')); rerender(); })));
          });
        }
        var others = list.filter(function (r) { return pending.indexOf(r) < 0; });
        var shown = custodian || C.has('auditor') ? others : mine;
        box.appendChild(h('h2', C.t(custodian || C.has('auditor') ? 'identity.all' : 'identity.mine')));
        if (!shown.length) box.appendChild(h('p', C.t('empty')));
        else {
          box.appendChild(C.table(['identity.case', 'identity.requestedBy', 'identity.reason', 'identity.state', 'identity.decision', ''],
            shown.map(function (r) {
              var act = null;
              if (r.requested_by === me && r.state === 'approved' && r.evidence_id) {
                act = h('button.btn.primary', { type: 'button', 'data-original': r.id }, C.t('original.download'));
                act.addEventListener('click', function () {
                  var path = '/api/v1/cases/' + encodeURIComponent(r.report_id) + '/evidence/' +
                    encodeURIComponent(r.evidence_id) + '?variant=original&request=' + encodeURIComponent(r.id);
                  C.api('GET', path, null, { blob: true }).then(function (b) {
                    var u = URL.createObjectURL(b);
                    var link = h('a', { href: u, download: r.evidence_id });
                    document.body.appendChild(link);
                    link.click();
                    link.remove();
                    setTimeout(function () { URL.revokeObjectURL(u); }, 60000);
                  }, function (e) { C.flash(C.errorText(e), 'error'); });
                });
              } else if (r.requested_by === me && r.state === 'approved') {
                act = h('button.btn.primary', { type: 'button', 'data-reveal': r.id }, C.t('identity.reveal'));
                act.addEventListener('click', function () {
                  act.disabled = true;
                  C.revealOnce(r.id).then(rerender, function (e) { act.disabled = false; C.flash(C.errorText(e), 'error'); });
                });
              }
              return h('tr', { 'data-request': r.id },
                h('td', caseLink(r.report_id)), h('td', r.requested_by),
                h('td', (r.evidence_id ? C.t('original.kind') + ' ' : '') + r.reason),
                h('td', h('span.istate.i-' + r.state, C.label('istate', r.state))),
                h('td', r.decision_reason ? (r.decided_by || '') + '：' + r.decision_reason : '—'), h('td', act));
            })));
        }
        return box;
      });
    }
    var holder = h('div');
    el.appendChild(holder);
    function rerender() {
      return render().then(function (b) { C.clear(holder); holder.appendChild(b); }, errorBox(holder));
    }
    return rerender();
  };

  // ---------- audit ----------
  V.audit = function (el) {
    el.appendChild(title('audit.title'));
    var f = {
      actor: h('input', { name: 'actor' }),
      action: h('input', { name: 'action', placeholder: 'identity.reveal' }),
      outcome: h('select', { name: 'outcome' }, h('option', { value: '' }, C.t('inbox.all')),
        h('option', { value: 'ok' }, C.t('outcome.ok')), h('option', { value: 'denied' }, C.t('outcome.denied'))),
      report_id: h('input', { name: 'report_id' })
    };
    var verifyOut = h('p#verify-result', { role: 'status' });
    var verifyBtn = h('button.btn#audit-verify', { type: 'button' }, C.t('audit.verify'));
    verifyBtn.addEventListener('click', function () {
      verifyBtn.disabled = true;
      C.get('/api/v1/audit/verify').then(function (v) {
        verifyOut.className = v.first_broken ? 'error' : 'ok-text';
        verifyOut.textContent = v.first_broken
          ? C.t('audit.verifyBad', { seq: v.first_broken, problem: v.problem || '' })
          : C.t('audit.verifyOk', { n: v.entries });
      }, function (e) { verifyOut.textContent = C.errorText(e); }).finally(function () { verifyBtn.disabled = false; });
    });
    var tbody = h('tbody');
    var more = h('button.btn', { type: 'button', hidden: true }, C.t('more'));
    var lastSeq = null;
    function load(append) {
      var q = { limit: 100, before_seq: append ? lastSeq : '' };
      Object.keys(f).forEach(function (k) { q[k] = f[k].value.trim(); });
      return C.get('/api/v1/audit' + C.qs(q)).then(function (list) {
        if (!append) C.clear(tbody);
        list.forEach(function (a) {
          tbody.appendChild(h('tr', h('td', String(a.seq)), h('td', C.fmtTime(a.at)), h('td', a.actor), h('td', h('code', a.action)),
            h('td', C.label('outcome', a.outcome)), h('td', a.report_id ? caseLinkOrText(a.report_id) : '—'),
            h('td', h('code.detail', JSON.stringify(a.detail)))));
        });
        if (list.length) lastSeq = list[list.length - 1].seq;
        more.hidden = list.length < 100;
      });
    }
    function caseLinkOrText(id) { return C.hasAny(['auditor']) ? h('span', id.slice(-12)) : caseLink(id); }
    var form = h('form.filters', C.field('audit.actor', f.actor), C.field('audit.action', f.action),
      C.field('audit.outcome', f.outcome), C.field('audit.report', f.report_id),
      h('div.field.buttons', h('button.btn.primary', { type: 'submit' }, C.t('inbox.apply'))));
    form.addEventListener('submit', function (e) { e.preventDefault(); load(false).catch(function (e2) { C.flash(C.errorText(e2), 'error'); }); });
    more.addEventListener('click', function () { load(true); });
    el.appendChild(h('div.verify', verifyBtn, verifyOut));
    el.appendChild(form);
    el.appendChild(h('div.table-wrap', h('table.data#audit-table', h('thead', h('tr',
      ['audit.seq', 'audit.at', 'audit.actor', 'audit.action', 'audit.outcome', 'audit.report', 'audit.detail'].map(function (k) { return h('th', { scope: 'col' }, C.t(k)); }))), tbody)));
    el.appendChild(more);
    return load(false);
  };

  // ---------- admin ----------
  V.admin = function (el) {
    el.appendChild(title('admin.title'));
    var me = C.session.user;
    var users = h('section');
    var grants = h('section#role-grants');
    var resets = h('section#totp-resets');
    var channels = h('section');
    var dead = h('section');
    el.appendChild(users);
    el.appendChild(grants);
    el.appendChild(resets);
    el.appendChild(newUserForm());
    el.appendChild(rolesForm());
    el.appendChild(resetForm());
    el.appendChild(conflictForm());
    el.appendChild(channels);
    el.appendChild(dead);
    var roleList = function (roles) { return roles.length ? roles.map(function (r) { return C.label('role', r); }).join('、') : '—'; };
    function loadUsers() {
      return C.get('/api/v1/admin/users').then(function (list) {
        C.clear(users);
        users.appendChild(h('h2', C.t('admin.users')));
        users.appendChild(C.table(['admin.username', 'admin.displayName', 'admin.roles', 'admin.pendingRoles', 'user.region', 'admin.active', 'admin.totp', 'admin.ownPassword'],
          list.map(function (u) {
            return h('tr', h('td', u.username), h('td', u.display_name), h('td', roleList(u.roles)), h('td', roleList(u.pending_roles || [])),
              h('td', u.region), h('td', C.t(u.active ? 'yes' : 'no')), h('td', C.t(u.totp_enabled ? 'yes' : 'no')),
              h('td', C.t(u.password_change_required ? 'admin.ownPasswordNot' : 'yes')));
          })));
        users.setAttribute('data-users', list.map(function (u) { return u.username; }).join(' '));
        userIds = {};
        list.forEach(function (u) { userIds[u.username] = u.id; });
      });
    }
    var userIds = {};
    /** Approve / refuse buttons for a request another admin made (never one's own). */
    function decisionCell(req, path, reload) {
      if (req.requested_by === me.id || req.user_id === me.id) return h('td', C.t('admin.awaitOther'));
      var reason = h('input', { name: 'reason', 'aria-label': C.t('admin.decisionReason') });
      var ok = h('button.btn.primary', { type: 'button' }, C.t('admin.approve'));
      var no = h('button.btn', { type: 'button' }, C.t('admin.refuse'));
      var decide = function (approve) {
        C.post(path + req.id + '/decision', { approve: approve, reason: reason.value.trim() || null }).then(function () {
          C.flash(C.t(approve ? 'admin.approved' : 'admin.refused'));
          return Promise.all([reload(), loadUsers()]);
        }, function (e) { C.flash(C.errorText(e), 'error'); reason.focus(); });
      };
      ok.addEventListener('click', function () { decide(true); });
      no.addEventListener('click', function () { decide(false); });
      return h('td', reason, ' ', ok, ' ', no);
    }
    function loadGrants() {
      return C.get('/api/v1/admin/role-grants').then(function (list) {
        C.clear(grants);
        grants.appendChild(h('h2', C.t('admin.grants')));
        grants.appendChild(h('p.hint', C.t('admin.grantsLead')));
        if (!list.length) { grants.appendChild(h('p', C.t('empty'))); return; }
        grants.appendChild(C.table(['admin.username', 'admin.role', 'admin.requestedBy', 'admin.requestedAt', 'admin.decision'],
          list.map(function (g) {
            return h('tr', { 'data-grant': g.username + ':' + g.role }, h('td', g.username), h('td', C.label('role', g.role)),
              h('td', g.requested_by_name), h('td', C.fmtTime(g.requested_at)), decisionCell(g, '/api/v1/admin/role-grants/', loadGrants));
          })));
      });
    }
    function loadResets() {
      return C.get('/api/v1/admin/totp-resets').then(function (list) {
        C.clear(resets);
        resets.appendChild(h('h2', C.t('admin.resets')));
        if (!list.length) { resets.appendChild(h('p', C.t('empty'))); return; }
        resets.appendChild(C.table(['admin.username', 'admin.resetReason', 'admin.requestedBy', 'admin.requestedAt', 'admin.decision'],
          list.map(function (r) {
            return h('tr', h('td', r.username), h('td', r.reason), h('td', r.requested_by_name), h('td', C.fmtTime(r.requested_at)),
              decisionCell(r, '/api/v1/admin/totp-resets/', loadResets));
          })));
      });
    }
    function roleBoxes(name) {
      return h('fieldset.roles', h('legend', C.t('admin.roles')), h('p.hint', C.t('admin.rolesHint')), C.ROLES.map(function (r) {
        var cb = h('input', { type: 'checkbox', name: name, value: r, id: C.id('role') });
        return h('label.check', { for: cb.id }, cb, ' ', C.label('role', r));
      }));
    }
    function checked(form, name) {
      return Array.prototype.slice.call(form.querySelectorAll('input[name=' + name + ']:checked')).map(function (c) { return c.value; });
    }
    function afterRoles(u) {
      var pending = u.pending_roles || [];
      return pending.length ? C.t('admin.pendingNote', { roles: roleList(pending) }) : '';
    }
    function newUserForm() {
      var f = {
        username: h('input', { name: 'username', required: true, autocomplete: 'off' }),
        display_name: h('input', { name: 'display_name' }),
        email: h('input', { name: 'email', type: 'email' }),
        region: h('input', { name: 'region', required: true, inputmode: 'numeric', maxlength: '6' }),
        password: h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' })
      };
      var err = h('p.error', { role: 'alert', hidden: true });
      var form = h('form.card#new-user-form', h('h2', C.t('admin.newUser')),
        C.field('admin.username', f.username), C.field('admin.displayName', f.display_name, null, true),
        C.field('admin.email', f.email, null, true), C.field('admin.region', f.region), roleBoxes('roles'),
        C.field('admin.password', f.password, 'admin.passwordHint'), err, h('button.btn.primary', { type: 'submit' }, C.t('submit')));
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        err.hidden = true;
        C.post('/api/v1/admin/users', {
          username: f.username.value.trim(), password: f.password.value, roles: checked(form, 'roles'), region: f.region.value.trim(),
          display_name: f.display_name.value.trim() || null, email: f.email.value.trim() || null, locale: C.lang
        }).then(function (u) {
          form.reset();
          C.flash(C.t('admin.created') + ' ' + afterRoles(u));
          return Promise.all([loadUsers(), loadGrants()]);
        }, function (e2) { err.textContent = C.errorText(e2); err.hidden = false; });
      });
      return form;
    }
    function rolesForm() {
      var who = h('input', { name: 'user', required: true });
      var err = h('p.error', { role: 'alert', hidden: true });
      var form = h('form.card#roles-form', h('h2', C.t('admin.changeRoles')), C.field('admin.rolesFor', who), roleBoxes('new_roles'), err,
        h('button.btn.primary', { type: 'submit' }, C.t('submit')));
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        var id = userIds[who.value.trim().toLowerCase()];
        if (!id) { err.textContent = C.t('notfound'); err.hidden = false; return; }
        C.post('/api/v1/admin/users/' + encodeURIComponent(id) + '/roles', { roles: checked(form, 'new_roles') }).then(function (u) {
          form.reset();
          err.hidden = true;
          C.flash(C.t('admin.rolesChanged') + ' ' + afterRoles(u));
          return Promise.all([loadUsers(), loadGrants()]);
        }, function (e2) { err.textContent = C.errorText(e2); err.hidden = false; });
      });
      return form;
    }
    function resetForm() {
      var who = h('input', { name: 'user', required: true });
      var reason = h('input', { name: 'reason', required: true });
      var err = h('p.error', { role: 'alert', hidden: true });
      var form = h('form.card#totp-reset-form', h('h2', C.t('admin.resetTotp')), h('p.hint', C.t('admin.resetLead')),
        C.field('admin.resetFor', who), C.field('admin.resetReason', reason), err,
        h('button.btn.primary', { type: 'submit' }, C.t('submit')));
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        var id = userIds[who.value.trim().toLowerCase()];
        if (!id) { err.textContent = C.t('notfound'); err.hidden = false; return; }
        C.post('/api/v1/admin/users/' + encodeURIComponent(id) + '/totp-reset', { reason: reason.value }).then(function () {
          form.reset();
          err.hidden = true;
          C.flash(C.t('admin.resetAsked'));
          return loadResets();
        }, function (e2) { err.textContent = C.errorText(e2); err.hidden = false; });
      });
      return form;
    }
    function conflictForm() {
      var who = h('input', { name: 'user', required: true });
      var inst = h('input', { name: 'institution', required: true });
      var note = h('input', { name: 'note' });
      var err = h('p.error', { role: 'alert', hidden: true });
      var form = h('form.card', h('h2', C.t('admin.conflict')), C.field('admin.conflictFor', who),
        C.field('account.institution', inst), C.field('account.note', note, null, true), err,
        h('button.btn.primary', { type: 'submit' }, C.t('submit')));
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        var id = userIds[who.value.trim().toLowerCase()];
        if (!id) { err.textContent = C.t('notfound'); err.hidden = false; return; }
        C.post('/api/v1/admin/users/' + encodeURIComponent(id) + '/conflicts', { institution: inst.value, note: note.value || null })
          .then(function () { form.reset(); err.hidden = true; C.flash(C.t('admin.conflictDone')); },
            function (e2) { err.textContent = C.errorText(e2); err.hidden = false; });
      });
      return form;
    }
    function loadChannels() {
      return C.get('/api/v1/admin/config').then(function (list) {
        C.clear(channels);
        channels.appendChild(h('h2', C.t('admin.channels')));
        var kv = function (o) {
          return h('dl.kv.small', Object.keys(o).map(function (k) {
            var v = o[k];
            return [h('dt', k), h('dd', v === null || v === undefined ? C.t('admin.notSet') : typeof v === 'object' ? JSON.stringify(v) : String(v))];
          }));
        };
        channels.appendChild(C.table(['admin.kind', 'admin.channelName', 'admin.endpoint', 'admin.public', 'admin.secrets'],
          list.map(function (c) {
            return h('tr', h('td', C.label('channel', c.kind)), h('td', c.name), h('td', h('code', c.endpoint)), h('td', kv(c.public)), h('td', kv(c.secrets)));
          })));
      });
    }
    function loadDead() {
      return C.get('/api/v1/admin/dead-letters').then(function (list) {
        C.clear(dead);
        dead.appendChild(h('h2', C.t('admin.dead')));
        if (!list.length) { dead.appendChild(h('p', C.t('empty'))); return; }
        dead.appendChild(C.table(['admin.kind', 'admin.target', 'admin.attempts', 'admin.lastError', 'admin.failedAt', ''], list.map(function (j) {
          var b = h('button.btn', { type: 'button' }, C.t('admin.retry'));
          b.addEventListener('click', function () {
            C.post('/api/v1/admin/dead-letters/' + j.id + '/retry').then(function () { C.flash(C.t('admin.retried')); loadDead(); },
              function (e) { C.flash(C.errorText(e), 'error'); });
          });
          return h('tr', h('td', j.kind), h('td', j.target || '—'), h('td', String(j.attempts)), h('td', j.last_error || '—'), h('td', C.fmtTime(j.failed_at)), h('td', b));
        })));
      });
    }
    return Promise.all([loadUsers(), loadGrants(), loadResets(), loadChannels(), loadDead()]);
  };

  // ---------- account ----------
  V.account = function (el) {
    var u = C.session.user;
    el.appendChild(title('account.title'));
    el.appendChild(h('dl.kv.card', h('dt', C.t('admin.username')), h('dd', u.username),
      h('dt', C.t('user.region')), h('dd', u.region),
      h('dt', C.t('user.roles')), h('dd', u.roles.map(function (r) { return C.label('role', r); }).join('、'))));
    var cur = h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password', required: true });
    var nw = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password', required: true, minlength: '10' });
    var nw2 = h('input', { type: 'password', name: 'new_password2', autocomplete: 'new-password', required: true });
    var err = h('p.error', { role: 'alert', hidden: true });
    var pw = h('form.card#password-form', h('h2', C.t('account.password')), C.field('account.current', cur), C.field('account.new', nw),
      C.field('account.new2', nw2), err, h('button.btn.primary', { type: 'submit' }, C.t('save')));
    pw.addEventListener('submit', function (e) {
      e.preventDefault();
      err.hidden = true;
      if (nw.value !== nw2.value) { err.textContent = C.t('account.mismatch'); err.hidden = false; nw2.focus(); return; }
      C.post('/api/v1/auth/password', { current_password: cur.value, new_password: nw.value }).then(function () {
        pw.reset();
        C.flash(C.t('account.changed'));
      }, function (e2) { err.textContent = C.errorText(e2); err.hidden = false; });
    });
    el.appendChild(pw);
    var totp = h('section.card', h('h2', C.t('account.totp')), h('p', C.t(u.totp_enabled ? 'account.totpOn' : 'account.totpOff')));
    if (!u.totp_enabled) {
      var start = h('button.btn', { type: 'button' }, C.t('enrol.start'));
      start.addEventListener('click', function () {
        start.replaceWith(C.enrolPanel(function () { C.get('/api/v1/me').then(function (me) { C.session.user = me; C.route(); }); }));
      });
      totp.appendChild(start);
    }
    el.appendChild(totp);
    var inst = h('input', { name: 'institution', required: true });
    var note = h('input', { name: 'note' });
    var cerr = h('p.error', { role: 'alert', hidden: true });
    var cf = h('form.card', h('h2', C.t('account.conflict')), h('p.hint', C.t('account.conflictLead')),
      C.field('account.institution', inst), C.field('account.note', note, null, true), cerr,
      h('button.btn', { type: 'submit' }, C.t('submit')));
    cf.addEventListener('submit', function (e) {
      e.preventDefault();
      C.post('/api/v1/me/conflicts', { institution: inst.value, note: note.value || null }).then(function () {
        cf.reset(); cerr.hidden = true; C.flash(C.t('account.conflictDone'));
      }, function (e2) { cerr.textContent = C.errorText(e2); cerr.hidden = false; });
    });
    if (!C.has('admin') || u.roles.length > 1) el.appendChild(cf);
  };

  // ---------- rewards and budgets ----------
  // GET /api/v1/rewards?status= (finance, supervisors, auditors of the region), each with a
  // link to its case page where the steps are taken; the budgets of the region with their
  // balance, and for finance the form that sets one (POST /api/v1/finance/budgets).
  V.rewards = function (el) {
    el.appendChild(title('rewards.title'));
    var status = C.select('status', 'rstatus', C.reward.STATUSES, { empty: 'inbox.all', value: lastRewardStatus });
    var form = h('form.filters#rewards-filter', { 'aria-label': C.t('inbox.filters') }, C.field('rewards.status', status),
      h('div.field.buttons', h('button.btn.primary', { type: 'submit' }, C.t('inbox.apply'))));
    var count = h('p.hint', { 'aria-live': 'polite' });
    var tbody = h('tbody');
    var heads = ['col.case', 'col.region', 'reward.status', 'reward.amount', 'reward.policy', 'rewards.proposedAt',
      'reward.approvedAt', 'reward.claimBy', 'rewards.paidAt'];
    function load() {
      lastRewardStatus = status.value;
      return C.get('/api/v1/rewards' + C.qs({ status: status.value })).then(function (list) {
        C.clear(tbody);
        list.forEach(function (r) {
          tbody.appendChild(h('tr', { 'data-case': r.case_id, 'data-reward-status': r.status },
            h('td', caseLink(r.case_id)), h('td', r.case_region),
            h('td', h('span.rstatus.r-' + r.status, C.label('rstatus', r.status))),
            h('td.num', C.fmtFen(r.amount_fen)), h('td', r.policy_id + ' · ' + C.t('reward.version', { v: r.policy_version })),
            h('td', C.fmtTime(r.proposed_at)), h('td', C.fmtTime(r.approved_at)), h('td', r.claim_by || '—'),
            h('td', C.fmtTime(r.paid_at))));
        });
        count.textContent = C.t('inbox.count', { n: list.length });
      });
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      load().catch(function (e2) { C.flash(C.errorText(e2), 'error'); });
    });
    el.appendChild(form);
    el.appendChild(count);
    el.appendChild(h('div.table-wrap', h('table.data#rewards-table',
      h('thead', h('tr', heads.map(function (k) { return h('th', { scope: 'col' }, C.t(k)); }))), tbody)));

    var budgets = h('section#budgets', { 'aria-labelledby': 'budgets-h' }, h('h2#budgets-h', C.t('budgets.title')), h('p.hint', C.t('budgets.lead')));
    var btbody = h('tbody');
    budgets.appendChild(h('div.table-wrap', h('table.data#budgets-table', h('thead', h('tr',
      ['budgets.year', 'col.region', 'budgets.amount', 'budgets.paid', 'budgets.committed', 'budgets.balance']
        .map(function (k) { return h('th', { scope: 'col' }, C.t(k)); }))), btbody)));
    var bempty = h('p', { hidden: true }, C.t('empty'));
    budgets.appendChild(bempty);
    function loadBudgets() {
      return C.get('/api/v1/finance/budgets').then(function (list) {
        C.clear(btbody);
        list.forEach(function (b) {
          btbody.appendChild(h('tr', { 'data-budget': b.year + '-' + b.region },
            h('td', String(b.year)), h('td', b.region), h('td.num', C.fmtFen(b.amount_fen)), h('td.num', C.fmtFen(b.paid_fen)),
            h('td.num', C.fmtFen(b.committed_fen)), h('td.num', h('strong', { class: b.balance_fen < 0 ? 'neg' : null }, C.fmtFen(b.balance_fen)))));
        });
        bempty.hidden = list.length > 0;
      });
    }
    el.appendChild(budgets);
    if (C.has('finance')) el.appendChild(budgetForm(loadBudgets));
    return Promise.all([load(), loadBudgets()]);
  };
  var lastRewardStatus = '';

  function budgetForm(onDone) {
    var u = C.session.user;
    var year = h('input', { name: 'year', inputmode: 'numeric', required: true, maxlength: '4', pattern: '[0-9]{4}', value: C.todayShanghai().slice(0, 4) });
    var region = h('input', { name: 'region', inputmode: 'numeric', required: true, maxlength: '6', pattern: '[0-9]{6}', value: u.region });
    var amount = h('input', { name: 'amount_yuan', inputmode: 'decimal', required: true, autocomplete: 'off' });
    var err = h('p.error', { role: 'alert', hidden: true, tabindex: '-1' });
    var btn = h('button.btn.primary', { type: 'submit' }, C.t('budgets.set'));
    var form = h('form.card#budget-form', { novalidate: true }, h('h2', C.t('budgets.setTitle')),
      C.field('budgets.year', year), C.field('budgets.region', region, 'budgets.regionHint'),
      C.field('budgets.amountYuan', amount, 'f.amountHint'), err, btn);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      err.hidden = true;
      var fen = C.parseYuan(amount.value, true);
      if (fen === null) { err.textContent = C.t('f.amountInvalid'); err.hidden = false; amount.focus(); return; }
      if (!/^\d{4}$/.test(year.value.trim())) { err.textContent = C.t('budgets.yearInvalid'); err.hidden = false; year.focus(); return; }
      btn.disabled = true;
      C.post('/api/v1/finance/budgets', { year: parseInt(year.value.trim(), 10), region: region.value.trim(), amount_fen: fen }).then(function () {
        amount.value = '';
        C.flash(C.t('budgets.saved'));
        return onDone();
      }, function (e2) {
        err.textContent = C.errorText(e2);
        err.hidden = false;
        var f = e2.body && e2.body.error && e2.body.error.field;
        (f === 'year' ? year : f === 'region' ? region : f === 'amount_fen' ? amount : err).focus();
      }).finally(function () { btn.disabled = false; });
    });
    return form;
  }
})();
