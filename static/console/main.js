/* jubao staff console — shell: sign-in, the first sign-in's own password, TOTP enrolment, the
 * re-login dialog, navigation and hash routes (#/inbox, #/cases/{id}, …; reminder emails link
 * to #/cases/{id}). */
(function () {
  'use strict';
  var C = window.Console;
  var h = C.h;
  var S = C.session;
  var main = document.getElementById('main');

  // Routes: [pattern, view, roles allowed (null: everyone signed in)].
  var READERS = ['intake', 'handler', 'supervisor', 'legal', 'finance', 'custodian', 'auditor'];
  var NAV = [
    ['#/inbox', 'nav.inbox', READERS],
    ['#/overdue', 'nav.overdue', ['supervisor', 'auditor', 'intake', 'legal']],
    ['#/targets', 'nav.targets', ['supervisor']],
    ['#/identity', 'nav.identity', ['custodian', 'auditor', 'handler', 'supervisor']],
    ['#/dashboard', 'nav.dashboard', ['auditor', 'supervisor', 'finance']],
    ['#/rewards', 'nav.rewards', ['finance', 'supervisor', 'auditor']],
    ['#/typical', 'nav.typical', ['handler', 'supervisor', 'legal']],
    ['#/audit', 'nav.audit', ['auditor']],
    ['#/admin', 'nav.admin', ['admin']],
    ['#/account', 'nav.account', null]
  ];

  function home() {
    for (var i = 0; i < NAV.length; i++) {
      if (!NAV[i][2] || C.hasAny(NAV[i][2])) return NAV[i][0];
    }
    return '#/account';
  }

  // ---------- static text ----------
  function applyShell() {
    document.documentElement.lang = C.lang;
    document.title = C.t('app.name');
    document.getElementById('brand').textContent = C.t('app.name');
    document.getElementById('skip-link').textContent = C.t('app.skip');
    var lt = document.getElementById('lang-toggle');
    lt.textContent = C.t('lang.toggle');
    lt.setAttribute('lang', C.lang === 'en' ? 'zh-CN' : 'en');
    lt.setAttribute('aria-label', C.t('lang.label'));
    document.getElementById('signout').textContent = C.t('signout');
    var nav = document.getElementById('nav');
    nav.setAttribute('aria-label', C.t('nav.label'));
    var u = S.user;
    var who = document.getElementById('who');
    who.hidden = !u;
    nav.hidden = !u || !S.access;
    document.getElementById('signout').hidden = !u;
    if (!u) return;
    document.getElementById('who-name').textContent = u.display_name + ' (' + u.username + ')';
    document.getElementById('who-region').textContent = C.t('user.region') + ' ' + u.region;
    document.getElementById('who-roles').textContent = C.t('user.roles') + ' ' + u.roles.map(function (r) { return C.label('role', r); }).join('、');
    C.clear(nav);
    var ul = h('ul');
    NAV.forEach(function (n) {
      if (n[2] && !C.hasAny(n[2])) return;
      ul.appendChild(h('li', h('a', { href: n[0], 'data-nav': n[0].slice(2) }, C.t(n[1]))));
    });
    nav.appendChild(ul);
    markNav();
  }
  function markNav() {
    var cur = location.hash.split('/')[1] || '';
    var links = document.querySelectorAll('#nav a');
    for (var i = 0; i < links.length; i++) {
      var on = links[i].getAttribute('data-nav') === cur || (cur === 'cases' && links[i].getAttribute('data-nav') === 'inbox');
      if (on) links[i].setAttribute('aria-current', 'page');
      else links[i].removeAttribute('aria-current');
    }
  }

  document.getElementById('lang-toggle').addEventListener('click', function () {
    C.setLang(C.lang === 'en' ? 'zh-CN' : 'en');
    applyShell();
    if (S.user && S.access) route();
    else if (!S.access) showLogin();
  });
  document.getElementById('signout').addEventListener('click', function () {
    var done = function () {
      C.dropSession();
      applyShell();
      location.hash = '#/';
      showLogin();
    };
    if (S.access) C.raw('POST', '/api/v1/auth/logout', null, S.access).then(done, done);
    else done();
  });

  // ---------- sign-in ----------
  /** The sign-in form; `onDone(pair, typed)` after a successful login (`typed`: the username
   * and password, kept in memory only for a first sign-in's password change). */
  function loginForm(onDone, presetUser) {
    var user = h('input', { name: 'username', autocomplete: 'username', required: true, value: presetUser || '' });
    var pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    var totp = h('input', { name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9 ]{6,7}', maxlength: '7' });
    var err = h('p.error', { role: 'alert', hidden: true });
    var btn = h('button.btn.primary', { type: 'submit' }, C.t('login.submit'));
    var form = h('form.card.login', { novalidate: true },
      C.field('login.username', user),
      C.field('login.password', pass),
      C.field('login.totp', totp, 'login.totpHint', true),
      err, btn);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      err.hidden = true;
      btn.disabled = true;
      C.raw('POST', '/api/v1/auth/login', {
        username: user.value.trim(), password: pass.value, totp: totp.value.trim() || null
      }, null).then(function (pair) {
        var typed = { username: user.value.trim(), password: pass.value };
        pass.value = '';
        totp.value = '';
        onDone(pair, typed);
      }, function (e2) {
        var code = e2.body && e2.body.error && e2.body.error.code;
        err.textContent = code === 'totp_required' ? C.t('login.totpNeeded') : C.errorText(e2);
        err.hidden = false;
        (code === 'totp_required' || code === 'invalid_totp' ? totp : pass).focus();
      }).finally(function () { btn.disabled = false; });
    });
    return { form: form, focus: function () { (presetUser ? pass : user).focus(); } };
  }

  function showLogin() {
    if (location.hash === SETUP_ROUTE) { showSetup(); return; }
    C.clear(main);
    var lf = loginForm(function (pair, typed) { startSession(pair, typed); });
    main.appendChild(h('section.narrow', h('h1#page-title', { tabindex: '-1' }, C.t('login.title')), lf.form,
      h('p.hint', C.t('login.firstTime'), ' ', h('a#setup-link', { href: SETUP_ROUTE }, C.t('setup.link')))));
    lf.focus();
  }

  // ---------- first-admin setup (POST /api/v1/auth/setup with the code printed at start-up) ----------
  var SETUP_ROUTE = '#/setup';
  var setupValues = {};
  function showSetup() {
    C.clear(main);
    var f = {
      setup_code: h('input', { name: 'setup_code', required: true, autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', maxlength: '40' }),
      username: h('input', { name: 'username', required: true, autocomplete: 'username', maxlength: '64' }),
      display_name: h('input', { name: 'display_name', autocomplete: 'name', maxlength: '100' }),
      email: h('input', { name: 'email', type: 'email', autocomplete: 'email', maxlength: '200' }),
      password: h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', minlength: '10' }),
      password2: h('input', { name: 'password2', type: 'password', required: true, autocomplete: 'new-password' })
    };
    // What was typed survives a language switch (the page is drawn again).
    Object.keys(f).forEach(function (k) {
      if (setupValues[k]) f[k].value = setupValues[k];
      f[k].addEventListener('input', function () { setupValues[k] = f[k].value; });
    });
    var err = h('p.error#setup-error', { role: 'alert', hidden: true, tabindex: '-1' });
    var btn = h('button.btn.primary', { type: 'submit' }, C.t('setup.submit'));
    var form = h('form.card#setup-form', { novalidate: true },
      h('p', C.t('setup.lead')),
      C.field('setup.code', f.setup_code, 'setup.codeHint'),
      C.field('login.username', f.username, 'setup.usernameHint'),
      C.field('admin.displayName', f.display_name, null, true),
      C.field('admin.email', f.email, null, true),
      h('p.hint', C.t('setup.region')),
      C.field('account.new', f.password),
      C.field('account.new2', f.password2),
      err, btn);
    var fail = function (msg, field) {
      err.textContent = msg;
      err.hidden = false;
      (field || err).focus();
    };
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      err.hidden = true;
      if (!f.setup_code.value.trim()) return fail(C.t('setup.codeMissing'), f.setup_code);
      if (!f.username.value.trim()) return fail(C.t('setup.usernameMissing'), f.username);
      if (f.password.value !== f.password2.value) return fail(C.t('account.mismatch'), f.password2);
      btn.disabled = true;
      var username = f.username.value.trim();
      var password = f.password.value;
      C.raw('POST', '/api/v1/auth/setup', {
        setup_code: f.setup_code.value.trim(), username: username, password: password,
        display_name: f.display_name.value.trim() || null, email: f.email.value.trim() || null
      }, null).then(function () {
        setupValues = {};
        // Signed in with the new account: admins must set up TOTP before anything else.
        return C.raw('POST', '/api/v1/auth/login', { username: username, password: password, totp: null }, null).then(function (pair) {
          C.flash(C.t('setup.done'));
          history.replaceState(null, '', location.pathname + location.search + '#/');
          return startSession(pair);
        });
      }).catch(function (e2) {
        var field = e2.body && e2.body.error && e2.body.error.field;
        fail(C.errorText(e2), field && f[field] ? f[field] : null);
      }).finally(function () { btn.disabled = false; });
    });
    main.appendChild(h('section.narrow', h('h1#page-title', { tabindex: '-1' }, C.t('setup.title')), form,
      h('p', h('a', { href: '#/' }, '← ' + C.t('setup.back')))));
    f.setup_code.focus();
  }

  function startSession(pair, typed) {
    C.acceptPair(pair);
    if (pair.password_change_required) return showPasswordChange(typed);
    return C.get('/api/v1/me').then(function (me) {
      S.user = me;
      if (pair.totp_enrollment_required) return showEnrol();
      applyShell();
      if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = home();
      else route();
    });
  }

  // ---------- first sign-in: the password an admin chose is replaced (CONTRACT §8) ----------
  /** The sign-in's token serves only POST /api/v1/auth/password; after the change that
   * sign-in is over and the new password signs in normally. `typed` (from the sign-in form)
   * spares retyping the admin's password; after a page reload it is asked again. */
  function showPasswordChange(typed) {
    applyShell();
    document.getElementById('nav').hidden = true;
    C.clear(main);
    var cur = h('input', { type: 'password', name: 'current_password', autocomplete: 'current-password', required: true });
    var nw = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password', required: true, minlength: '10' });
    var nw2 = h('input', { type: 'password', name: 'new_password2', autocomplete: 'new-password', required: true });
    var err = h('p.error#first-password-error', { role: 'alert', hidden: true, tabindex: '-1' });
    var btn = h('button.btn.primary', { type: 'submit' }, C.t('firstpw.submit'));
    var back = h('button.btn', { type: 'button' }, C.t('signout'));
    var form = h('form.card#first-password-form', { novalidate: true },
      h('p', C.t('firstpw.lead')),
      typed ? null : C.field('firstpw.current', cur),
      C.field('account.new', nw),
      C.field('account.new2', nw2),
      err, btn, ' ', back);
    var fail = function (msg, field) {
      err.textContent = msg;
      err.hidden = false;
      (field || err).focus();
    };
    back.addEventListener('click', function () {
      C.dropSession();
      applyShell();
      showLogin();
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      err.hidden = true;
      if (nw.value !== nw2.value) return fail(C.t('account.mismatch'), nw2);
      btn.disabled = true;
      var current = typed ? typed.password : cur.value;
      var fresh = nw.value;
      C.raw('POST', '/api/v1/auth/password', { current_password: current, new_password: fresh }, C.session.access).then(function () {
        C.dropSession();
        typed = typed && { username: typed.username, password: '' };
        if (!typed) { showLogin(); C.flash(C.t('firstpw.signInAgain')); return null; }
        return C.raw('POST', '/api/v1/auth/login', { username: typed.username, password: fresh, totp: null }, null).then(function (pair) {
          C.flash(C.t('firstpw.done'));
          return startSession(pair);
        }, function () { showLogin(); C.flash(C.t('firstpw.signInAgain')); });
      }, function (e2) {
        var field = e2.body && e2.body.error && e2.body.error.field;
        fail(C.errorText(e2), field === 'new_password' ? nw : field === 'current_password' && !typed ? cur : null);
      }).finally(function () { btn.disabled = false; nw.value = ''; nw2.value = ''; });
    });
    main.appendChild(h('section.narrow', h('h1#page-title', { tabindex: '-1' }, C.t('firstpw.title')), form));
    (typed ? nw : cur).focus();
  }

  // ---------- TOTP enrolment (custodian, finance, admin must; others may) ----------
  function enrolPanel(onDone) {
    var box = h('div.card.enrol');
    var code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '7' });
    var err = h('p.error', { role: 'alert', hidden: true });
    var secretEl = h('code#totp-secret.secret');
    var uriEl = h('code#totp-uri.secret');
    var form = h('form', { novalidate: true },
      h('p', C.t('enrol.lead')),
      h('dl.kv', h('dt', C.t('enrol.secret')), h('dd', secretEl), h('dt', C.t('enrol.uri')), h('dd', uriEl)),
      C.field('enrol.code', code), err,
      h('button.btn.primary', { type: 'submit' }, C.t('enrol.confirm')));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      err.hidden = true;
      C.post('/api/v1/auth/totp/confirm', { code: code.value.trim() }).then(function () {
        C.flash(C.t('enrol.done'));
        onDone();
      }, function (e2) { err.textContent = C.errorText(e2); err.hidden = false; code.focus(); });
    });
    C.post('/api/v1/auth/totp/setup').then(function (s) {
      secretEl.textContent = s.secret.replace(/(.{4})/g, '$1 ').trim();
      uriEl.textContent = s.otpauth_uri;
      box.appendChild(form);
      code.focus();
    }, function (e2) { box.appendChild(h('p.error', { role: 'alert' }, C.errorText(e2))); });
    return box;
  }
  C.enrolPanel = enrolPanel;

  function showEnrol() {
    applyShell();
    document.getElementById('nav').hidden = true;
    C.clear(main);
    main.appendChild(h('section.narrow', h('h1#page-title', { tabindex: '-1' }, C.t('enrol.title')), enrolPanel(function () {
      return C.get('/api/v1/me').then(function (me) {
        S.user = me;
        applyShell();
        location.hash = home();
        route();
      });
    })));
  }

  // ---------- the re-login dialog ----------
  var pendingLogin = null;
  C.reauthenticate = function () {
    if (pendingLogin) return pendingLogin;
    var dlg = document.getElementById('relogin');
    pendingLogin = new Promise(function (resolve, reject) {
      C.clear(dlg);
      var lf = loginForm(function (pair) {
        C.acceptPair(pair);
        C.get('/api/v1/me').then(function (me) {
          // A different account signing in here must not inherit the page.
          if (S.user && me.id !== S.user.id) { location.reload(); return; }
          S.user = me;
          pendingLogin = null;
          dlg.close();
          resolve();
        }, function (e) { pendingLogin = null; dlg.close(); reject(e); });
      }, S.user ? S.user.username : '');
      var cancel = h('button.btn', { type: 'button' }, C.t('cancel'));
      cancel.addEventListener('click', function () { dlg.close(); });
      dlg.appendChild(h('h2#relogin-title', C.t('relogin.title')));
      dlg.appendChild(h('p', C.t('relogin.lead')));
      dlg.appendChild(lf.form);
      dlg.appendChild(cancel);
      dlg.onclose = function () {
        if (pendingLogin) { pendingLogin = null; reject({ status: 401 }); }
      };
      dlg.showModal();
      lf.focus();
    });
    return pendingLogin;
  };

  // ---------- routing ----------
  function route() {
    if (!S.user || !S.access) return;
    markNav();
    C.flash('');
    var parts = location.hash.replace(/^#\/?/, '').split('/');
    var name = parts[0] || '';
    var views = C.views;
    var view = null;
    var allowed = null;
    NAV.forEach(function (n) { if (n[0] === '#/' + name) allowed = n[2]; });
    if (name === 'cases' && parts[1]) { view = function (el) { return C.casePage(el, decodeURIComponent(parts[1])); }; allowed = READERS; }
    else if (views[name]) view = views[name];
    if (!name) { location.hash = home(); return; }
    C.clear(main);
    if (!view) { main.appendChild(h('h1#page-title', { tabindex: '-1' }, C.t('notfound'))); return; }
    if (allowed && !C.hasAny(allowed)) { main.appendChild(h('h1#page-title', { tabindex: '-1' }, C.t('forbidden'))); return; }
    main.appendChild(h('p.loading', C.t('loading')));
    var el = h('div.view');
    Promise.resolve(view(el, parts.slice(1))).then(function () {
      C.clear(main);
      main.appendChild(el);
      var title = main.querySelector('h1');
      if (title) { title.setAttribute('tabindex', '-1'); title.focus(); }
    }, function (err) {
      C.clear(main);
      main.appendChild(h('h1#page-title', { tabindex: '-1' }, err && err.status === 403 ? C.t('forbidden') : err && err.status === 404 ? C.t('notfound') : C.errorText(err)));
      main.querySelector('h1').focus();
    });
  }
  C.route = route;
  window.addEventListener('hashchange', function () {
    if (S.user && S.access) route();
    else if (!S.access && !document.getElementById('relogin').open) showLogin();
  });

  // ---------- start ----------
  applyShell();
  if (C.hasRefresh()) {
    C.refresh().then(startSession, function () { C.dropSession(); showLogin(); });
  } else {
    showLogin();
  }
})();
