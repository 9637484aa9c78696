/* jubao staff console — core: language, DOM building, amounts, the API client with tokens.
 *
 * Tokens: the access token lives in memory only; the refresh token in sessionStorage (this
 * tab, until it closes). Requests carry `Authorization: Bearer …` and no cookies, so there
 * is nothing for a cross-site request to ride on (CSRF). A 401 first tries one silent
 * refresh; if that fails, a sign-in dialog opens over the page (the form underneath keeps
 * what was typed) and the request is retried after sign-in. */
(function () {
  'use strict';

  var C = (window.Console = window.Console || {});
  var DICT = window.CONSOLE_I18N;
  var LANG_KEY = 'jubao.console.lang';
  var REFRESH_KEY = 'jubao.console.refresh';

  // ---------- language ----------
  function stored(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  C.lang = stored(LANG_KEY) === 'en' ? 'en' : 'zh-CN';
  C.t = function (key, vars) {
    var s = DICT[C.lang][key];
    if (s === undefined) s = DICT['zh-CN'][key];
    if (s === undefined) return key;
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, function (m, k) {
        return Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m;
      });
    }
    return s;
  };
  /** A code's label (`status.checking`), or the code itself when there is none. */
  C.label = function (prefix, code) {
    if (code === null || code === undefined || code === '') return '—';
    var k = prefix + '.' + code;
    var s = C.t(k);
    return s === k ? String(code) : s;
  };
  C.setLang = function (lang) {
    C.lang = lang === 'en' ? 'en' : 'zh-CN';
    try { window.localStorage.setItem(LANG_KEY, C.lang); } catch (e) { /* ignore */ }
    document.documentElement.lang = C.lang;
  };

  // ---------- DOM ----------
  /** h('tag.class#id', {attrs}, children…): text is always text, never HTML. */
  C.h = function (spec, attrs) {
    var tag = /^[a-z0-9]*/i.exec(spec)[0];
    var el = document.createElement(tag || 'div');
    var classes = [];
    (spec.slice(tag.length).match(/[.#][\w-]+/g) || []).forEach(function (tok) {
      if (tok[0] === '#') el.id = tok.slice(1);
      else classes.push(tok.slice(1));
    });
    if (classes.length) el.className = classes.join(' ');
    var kids = Array.prototype.slice.call(arguments, 2);
    if (attrs && (typeof attrs !== 'object' || attrs.nodeType || Array.isArray(attrs))) {
      kids.unshift(attrs);
      attrs = null;
    }
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k.slice(0, 2) === 'on' && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'text') el.textContent = v;
        else if (k === 'value') el.value = v;
        else if (k === 'checked') el.checked = !!v;
        else if (k === 'class') el.className = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      });
    }
    append(el, kids);
    return el;
  };
  function append(el, kids) {
    kids.forEach(function (k) {
      if (k === null || k === undefined || k === false) return;
      if (Array.isArray(k)) append(el, k);
      else el.appendChild(k.nodeType ? k : document.createTextNode(String(k)));
    });
  }
  C.clear = function (el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  };
  var uid = 0;
  C.id = function (p) { uid++; return (p || 'f') + '-' + uid; };

  /** A labelled field: field(labelKey, control, hintKey?). */
  C.field = function (labelKey, control, hint, optional) {
    if (!control.id) control.id = C.id('f');
    var hintEl = null;
    if (hint) {
      hintEl = C.h('p.hint', { id: control.id + '-hint' }, C.t(hint));
      control.setAttribute('aria-describedby', hintEl.id);
    }
    return C.h('div.field', C.h('label', { for: control.id }, C.t(labelKey), optional ? C.h('span.opt', C.t('optional')) : null), control, hintEl);
  };
  C.select = function (name, prefix, codes, opts) {
    opts = opts || {};
    var s = C.h('select', { name: name, required: opts.required ? true : null });
    if (opts.empty) s.appendChild(C.h('option', { value: '' }, C.t(opts.empty)));
    codes.forEach(function (c) {
      s.appendChild(C.h('option', { value: c }, C.label(prefix, c)));
    });
    if (opts.value !== undefined) s.value = opts.value;
    return s;
  };

  // ---------- time and money ----------
  C.fmtTime = function (s) {
    if (!s) return '—';
    var d = new Date(s);
    if (isNaN(d.getTime())) return s;
    var p = function (n) { return String(n).padStart(2, '0'); };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes());
  };
  /** Integer fen → "12,345.67" yuan, by integer arithmetic. */
  C.fmtFen = function (fen) {
    if (fen === null || fen === undefined) return '—';
    var neg = fen < 0;
    var a = Math.abs(fen);
    var yuan = String(Math.floor(a / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return (neg ? '-' : '') + '¥' + yuan + '.' + String(a % 100).padStart(2, '0');
  };
  /** "12345.6" → 1234560 fen, by string arithmetic: the digits of the yuan and the two
   * digits of the fen are joined as text and read as one integer (at most 15 digits, exact),
   * never through a float. Empty: 0, or null with `required`. null: invalid. */
  C.parseYuan = function (s, required) {
    s = String(s || '').trim().replace(/[,，\s]/g, '').replace(/^[¥￥]/, '');
    if (s === '') return required ? null : 0;
    var m = /^(\d{1,13})(?:\.(\d{0,2}))?$/.exec(s);
    if (!m) return null;
    var digits = (m[1] + (m[2] || '').padEnd(2, '0')).replace(/^0+(?=\d)/, '');
    return parseInt(digits, 10);
  };
  /** Basis points as a percentage written out by integer arithmetic: 150 → "1.5%". */
  C.fmtBp = function (bp) {
    if (bp === null || bp === undefined) return '—';
    var neg = bp < 0;
    var a = Math.abs(bp);
    var frac = String(a % 100).padStart(2, '0').replace(/0+$/, '');
    return (neg ? '-' : '') + Math.floor(a / 100) + (frac ? '.' + frac : '') + '%';
  };
  /** Today's date in Asia/Shanghai (YYYY-MM-DD), as the server counts days. */
  C.todayShanghai = function () {
    return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  };

  // ---------- deadline colour ----------
  /** green: more than 3 working days; amber: 0–3; red: late. */
  // A due date computed across a year whose holiday notice is not loaded yet (暂定).
  C.provisionalTag = function () {
    return C.h('span.tag.provisional', { title: C.t('due.provisionalHint') }, C.t('due.provisional'));
  };

  C.dueBadge = function (left, due) {
    if (left === null || left === undefined) return C.h('span.due.none', C.t('due.none'));
    var cls = left < 0 ? 'late' : left <= 3 ? 'soon' : 'ok';
    var text = left < 0 ? C.t('due.late', { n: -left }) : left === 0 ? C.t('due.today') : C.t('due.left', { n: left });
    return C.h('span.due.' + cls, { title: due || '' }, text);
  };

  // ---------- status line ----------
  C.flash = function (msg, kind) {
    var el = document.getElementById('flash');
    C.clear(el);
    el.className = 'flash ' + (kind || 'ok');
    el.textContent = msg;
    el.hidden = !msg;
  };
  C.errorText = function (err) {
    if (!err) return '';
    if (err.body && err.body.error && err.body.error.message) {
      // The message is already in the request's language; the field is named by the
      // console's own label for it when there is one.
      var f = err.body.error.field;
      var fl = f ? C.t('field.' + f) : '';
      if (fl === 'field.' + f) fl = f;
      return err.body.error.message + (fl && err.body.error.message.indexOf(fl) < 0 ? ' (' + fl + ')' : '');
    }
    if (err.status === 0) return C.t('error.network');
    return C.t('error.generic', { status: err.status });
  };

  // ---------- session ----------
  var S = (C.session = { access: null, expiresAt: 0, user: null, timer: null });

  function refreshToken() {
    try { return window.sessionStorage.getItem(REFRESH_KEY); } catch (e) { return null; }
  }
  function setRefresh(t) {
    try {
      if (t) window.sessionStorage.setItem(REFRESH_KEY, t);
      else window.sessionStorage.removeItem(REFRESH_KEY);
    } catch (e) { /* ignore */ }
  }
  C.hasRefresh = function () { return !!refreshToken(); };

  C.acceptPair = function (pair) {
    S.access = pair.access_token;
    S.expiresAt = Date.now() + pair.expires_in * 1000;
    setRefresh(pair.refresh_token);
    clearTimeout(S.timer);
    // Refresh silently a minute before the access token runs out.
    var wait = Math.max(5000, pair.expires_in * 1000 - 60000);
    S.timer = setTimeout(function () { C.refresh().catch(function () { /* the next call asks */ }); }, wait);
  };
  C.dropSession = function () {
    S.access = null;
    S.user = null;
    clearTimeout(S.timer);
    setRefresh(null);
  };

  var refreshing = null;
  /** One refresh at a time: a refresh token works once. */
  C.refresh = function () {
    if (refreshing) return refreshing;
    var t = refreshToken();
    if (!t) return Promise.reject({ status: 401 });
    setRefresh(null);
    refreshing = raw('POST', '/api/v1/auth/refresh', { refresh_token: t }, null)
      .then(function (pair) { C.acceptPair(pair); return pair; })
      .finally(function () { refreshing = null; });
    return refreshing;
  };

  function raw(method, path, body, token, asBlob) {
    var headers = { 'Accept-Language': C.lang, Accept: asBlob ? '*/*' : 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== null && body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, {
      method: method,
      headers: headers,
      body: body !== null && body !== undefined ? JSON.stringify(body) : undefined,
      credentials: 'omit',
      cache: 'no-store'
    }).then(function (res) {
      if (!res.ok) {
        return res.json().catch(function () { return null; }).then(function (b) {
          throw { status: res.status, body: b };
        });
      }
      if (asBlob) return res.blob();
      if (res.status === 204) return null;
      return res.json();
    }, function () {
      throw { status: 0 };
    });
  }
  C.raw = raw;

  function isAuthFailure(err) {
    if (!err || err.status !== 401) return false;
    var code = err.body && err.body.error && err.body.error.code;
    return code === 'token_expired' || code === 'invalid_token' || code === 'session_expired' || code === 'unauthenticated';
  }

  /** An authenticated call; on expiry: silent refresh, else the sign-in dialog, then retry. */
  C.api = function (method, path, body, opts) {
    opts = opts || {};
    var go = function () { return raw(method, path, body, S.access, opts.blob); };
    return go().catch(function (err) {
      if (!isAuthFailure(err)) throw err;
      return C.refresh().then(go, function () {
        return C.reauthenticate().then(go);
      });
    });
  };
  C.get = function (path) { return C.api('GET', path); };
  C.post = function (path, body) { return C.api('POST', path, body || {}); };

  /** Set by main.js: opens the sign-in dialog; resolves once signed in again. */
  C.reauthenticate = function () { return Promise.reject({ status: 401 }); };

  C.has = function (role) { return !!(S.user && S.user.roles.indexOf(role) >= 0); };
  C.hasAny = function (roles) { return roles.some(C.has); };

  C.qs = function (obj) {
    var parts = [];
    Object.keys(obj).forEach(function (k) {
      if (obj[k] !== '' && obj[k] !== null && obj[k] !== undefined) parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(obj[k]));
    });
    return parts.length ? '?' + parts.join('&') : '';
  };

  C.table = function (headKeys, rows, caption) {
    var t = C.h('table.data');
    if (caption) t.appendChild(C.h('caption', caption));
    t.appendChild(C.h('thead', C.h('tr', headKeys.map(function (k) { return C.h('th', { scope: 'col' }, C.t(k)); }))));
    t.appendChild(C.h('tbody', rows));
    return C.h('div.table-wrap', t);
  };

  C.CATEGORIES = ['fake_patient', 'fake_condition', 'fake_documents', 'fictitious_services', 'identity_misuse',
    'split_or_bed_hospitalization', 'excessive_treatment', 'overcharging', 'substitution', 'drug_resale',
    'out_of_scope_billing', 'duplicate_benefits', 'agency_misconduct', 'other'];
  C.STATUSES = ['received', 'accepted', 'not_accepted', 'transferred', 'merged', 'checking', 'decided', 'closed'];
  C.CHANNELS = ['h5', 'wechat', 'wecom', 'hotline', 'staff'];
  C.ROLES = ['intake', 'handler', 'supervisor', 'legal', 'finance', 'custodian', 'auditor', 'admin'];
})();
