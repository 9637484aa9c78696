/* jubao H5 — shared helpers: language, formatting, validation, HTTP.
 * Plain ES2017 (no modules, no optional chaining) so older in-app browsers run it. */
(function () {
  'use strict';

  var J = (window.Jubao = window.Jubao || {});
  var DICT = window.JUBAO_I18N;
  var LANG_KEY = 'jubao.lang';
  var langListeners = [];

  // ---------- language ----------

  function storedLang() {
    try {
      return window.localStorage.getItem(LANG_KEY);
    } catch (e) {
      return null; // storage blocked (private mode): fall back to the default
    }
  }

  J.lang = storedLang() === 'en' ? 'en' : 'zh-CN';

  J.t = function (key, vars) {
    var s = DICT[J.lang][key];
    if (s === undefined) s = DICT['zh-CN'][key];
    if (s === undefined) return key;
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
      });
    }
    return s;
  };

  J.has = function (key) {
    return DICT[J.lang][key] !== undefined || DICT['zh-CN'][key] !== undefined;
  };

  /** Fill every [data-i18n] element and [data-i18n-attr="attr:key;attr:key"] attribute. */
  J.applyI18n = function (root) {
    root = root || document;
    var els = root.querySelectorAll('[data-i18n]');
    for (var i = 0; i < els.length; i++) {
      els[i].textContent = J.t(els[i].getAttribute('data-i18n'));
    }
    var attrEls = root.querySelectorAll('[data-i18n-attr]');
    for (var j = 0; j < attrEls.length; j++) {
      var pairs = attrEls[j].getAttribute('data-i18n-attr').split(';');
      for (var k = 0; k < pairs.length; k++) {
        var p = pairs[k].split(':');
        if (p.length === 2) attrEls[j].setAttribute(p[0].trim(), J.t(p[1].trim()));
      }
    }
  };

  J.setLang = function (lang) {
    J.lang = lang === 'en' ? 'en' : 'zh-CN';
    try {
      window.localStorage.setItem(LANG_KEY, J.lang);
    } catch (e) { /* ignore */ }
    document.documentElement.lang = J.lang;
    J.applyI18n(document);
    for (var i = 0; i < langListeners.length; i++) langListeners[i](J.lang);
  };

  J.onLangChange = function (fn) {
    langListeners.push(fn);
  };

  // ---------- small DOM helpers ----------

  J.$ = function (id) {
    return document.getElementById(id);
  };

  /** el('p', {class: 'x', text: '…'}, [children]) */
  J.el = function (tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') e.textContent = v;
        else if (k === 'class') e.className = v;
        else e.setAttribute(k, v === true ? '' : v);
      });
    }
    if (children) {
      children.forEach(function (c) {
        if (c === null || c === undefined) return;
        e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
      });
    }
    return e;
  };

  J.clear = function (node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  };

  var liveTimer = null;
  /** Say something to screen-reader users (polite live region). */
  J.announce = function (msg) {
    var live = J.$('live');
    if (!live) return;
    live.textContent = '';
    clearTimeout(liveTimer);
    liveTimer = setTimeout(function () {
      live.textContent = msg;
    }, 50);
  };

  // ---------- text normalisation ----------

  /** Full-width digits, letters and punctuation (common with Chinese IMEs) to ASCII. */
  J.toHalfWidth = function (s) {
    return String(s || '')
      .replace(/[\uFF01-\uFF5E]/g, function (c) {
        return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
      })
      .replace(/\u3000/g, ' ')
      .replace(/\u3002/g, '.'); // 。 typed as a decimal point
  };

  /** Characters as the server counts them: Unicode code points, not UTF-16 units. */
  J.charCount = function (s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
      n++;
    }
    return n;
  };

  // ---------- money: yuan string <-> integer fen, exactly ----------

  /**
   * Parse an amount in yuan typed by a person ("1280.5", "1,280.50", "１２８０．５").
   * Returns {empty: true}, {ok: true, fen: <integer>} or {ok: false}.
   * Works on the decimal string, never on floating point.
   */
  J.parseYuanToFen = function (input) {
    var s = J.toHalfWidth(input).replace(/[\s,，]/g, '').replace(/元$/, '');
    if (s === '') return { empty: true };
    var m = /^(\d{0,12})(?:\.(\d{0,2}))?$/.exec(s);
    if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) return { ok: false };
    var whole = m[1].replace(/^0+/, '');
    var frac = ((m[2] || '') + '00').slice(0, 2);
    var digits = (whole + frac).replace(/^0+/, '') || '0';
    var fen = parseInt(digits, 10); // at most 14 digits: exact in a double
    if (!Number.isSafeInteger(fen)) return { ok: false };
    return { ok: true, fen: fen };
  };

  /** Integer fen to "1,280.50" (exact: integer arithmetic and string padding only). */
  J.formatFen = function (fen) {
    var n = Number(fen);
    if (!Number.isSafeInteger(n)) return String(fen);
    var neg = n < 0;
    if (neg) n = -n;
    var yuan = Math.floor(n / 100);
    var cents = n % 100;
    var y = String(yuan).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return (neg ? '-' : '') + y + '.' + (cents < 10 ? '0' : '') + cents;
  };

  // ---------- identity checks ----------

  var ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var ID_CHECK = '10X98765432';

  J.normalizeId = function (s) {
    return J.toHalfWidth(s).replace(/\s/g, '').toUpperCase();
  };

  /** 'ok' | 'length' | 'checksum' for an 18-character resident ID number (GB 11643). */
  J.checkIdNumber = function (raw) {
    var s = J.normalizeId(raw);
    if (!/^\d{17}[\dX]$/.test(s)) return 'length';
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += Number(s.charAt(i)) * ID_WEIGHTS[i];
    if (ID_CHECK.charAt(sum % 11) !== s.charAt(17)) return 'checksum';
    var y = Number(s.substr(6, 4));
    var mo = Number(s.substr(10, 2));
    var d = Number(s.substr(12, 2));
    var dt = new Date(Date.UTC(y, mo - 1, d));
    if (y < 1900 || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return 'checksum';
    return 'ok';
  };

  J.normalizePhone = function (s) {
    return J.toHalfWidth(s).replace(/[\s-]/g, '').replace(/^\+?86/, '');
  };

  J.validPhone = function (s) {
    return /^1\d{10}$/.test(J.normalizePhone(s));
  };

  J.validEmail = function (s) {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim());
  };

  // ---------- codes ----------

  /** What a person typed for a tracking code or passcode, without spaces or dashes. */
  J.normalizeCode = function (s) {
    return J.toHalfWidth(s).replace(/[\s\-\u2010-\u2015\u2212_]/g, '');
  };

  /** Groups of 4 for reading aloud / copying by hand: "1234 5678 90". */
  J.groupCode = function (s) {
    var c = String(s);
    return c.replace(/(.{4})(?=.)/g, '$1 ');
  };

  // ---------- dates ----------

  var EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
    'September', 'October', 'November', 'December'];

  function pad2(n) {
    return (n < 10 ? '0' : '') + n;
  }

  /** "2026-01-31" (a calendar date, no time zone) for display. */
  J.formatDay = function (ymd) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(ymd || ''));
    if (!m) return String(ymd || '');
    var y = Number(m[1]);
    var mo = Number(m[2]);
    var d = Number(m[3]);
    if (J.lang === 'en') return d + ' ' + EN_MONTHS[mo - 1] + ' ' + y;
    return y + '年' + mo + '月' + d + '日';
  };

  /** An RFC 3339 instant in the phone's local time. */
  J.formatInstant = function (iso) {
    var dt = new Date(iso);
    if (isNaN(dt.getTime())) return String(iso || '');
    var hm = pad2(dt.getHours()) + ':' + pad2(dt.getMinutes());
    if (J.lang === 'en') {
      return dt.getDate() + ' ' + EN_MONTHS[dt.getMonth()].slice(0, 3) + ' ' + dt.getFullYear() + ', ' + hm;
    }
    return dt.getFullYear() + '年' + (dt.getMonth() + 1) + '月' + dt.getDate() + '日 ' + hm;
  };

  /** Today as YYYY-MM-DD in local time. */
  J.today = function () {
    var d = new Date();
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate());
  };

  J.formatBytes = function (n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return Math.round(n / 1024) + ' KB';
    return (n / 1024 / 1024).toFixed(1) + ' MB';
  };

  // ---------- randomness ----------

  J.uuid = function () {
    var c = window.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    var b = new Uint8Array(16);
    c.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = '';
    for (var i = 0; i < 16; i++) {
      h += (b[i] < 16 ? '0' : '') + b[i].toString(16);
      if (i === 3 || i === 5 || i === 7 || i === 9) h += '-';
    }
    return h;
  };

  // ---------- HTTP ----------

  /**
   * XMLHttpRequest wrapped in a promise that always resolves:
   * {status, body (parsed JSON or null), network: bool}.
   * opts: {method, url, json, form, headers, onProgress(fraction), onUploaded()}
   */
  J.request = function (opts) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open(opts.method || 'GET', opts.url, true);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.setRequestHeader('Accept-Language', J.lang === 'en' ? 'en' : 'zh-CN');
      var headers = opts.headers || {};
      Object.keys(headers).forEach(function (k) {
        xhr.setRequestHeader(k, headers[k]);
      });
      if (xhr.upload && opts.onProgress) {
        xhr.upload.onprogress = function (e) {
          if (e.lengthComputable && e.total > 0) opts.onProgress(e.loaded / e.total);
        };
        xhr.upload.onload = function () {
          if (opts.onUploaded) opts.onUploaded();
        };
      }
      xhr.onload = function () {
        var body = null;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch (e) {
          body = null;
        }
        resolve({ status: xhr.status, body: body, network: false });
      };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () {
        resolve({ status: 0, body: null, network: true });
      };
      xhr.timeout = opts.timeout || 300000;
      var payload = null;
      if (opts.form) {
        payload = opts.form;
      } else if (opts.json !== undefined) {
        xhr.setRequestHeader('Content-Type', 'application/json');
        payload = JSON.stringify(opts.json);
      }
      xhr.send(payload);
    });
  };

  /** The {error: {code, message, field}} of a response, or null. */
  J.apiError = function (res) {
    var b = res && res.body;
    if (b && b.error && typeof b.error === 'object') return b.error;
    return null;
  };

  // ---------- field errors ----------

  /**
   * Show an error next to a field. `key` is a dictionary key (re-translated when the
   * language changes) or null when `text` came from the server already localized.
   */
  J.setFieldError = function (fieldId, key, text) {
    var wrap = J.$('w-' + fieldId);
    var err = J.$('e-' + fieldId);
    var input = J.$(fieldId);
    if (!err) return;
    var msg = key ? J.t(key) : text;
    err.textContent = msg;
    err.hidden = false;
    if (key) err.setAttribute('data-err-key', key);
    else err.removeAttribute('data-err-key');
    if (wrap) wrap.classList.add('has-error');
    if (input && input.tagName !== 'FIELDSET') input.setAttribute('aria-invalid', 'true');
  };

  // Disable a button while its request runs, and say so (visibly and to screen readers).
  J.setBusy = function (buttonId, on, busyKey, idleKey) {
    var btn = document.getElementById(buttonId);
    btn.disabled = on;
    btn.setAttribute('aria-busy', on ? 'true' : 'false');
    btn.textContent = J.t(on ? busyKey : idleKey);
  };

  J.clearFieldError = function (fieldId) {
    var wrap = J.$('w-' + fieldId);
    var err = J.$('e-' + fieldId);
    var input = J.$(fieldId);
    if (err) {
      err.textContent = '';
      err.hidden = true;
      err.removeAttribute('data-err-key');
    }
    if (wrap) wrap.classList.remove('has-error');
    if (input) input.removeAttribute('aria-invalid');
  };

  J.onLangChange(function () {
    var errs = document.querySelectorAll('[data-err-key]');
    for (var i = 0; i < errs.length; i++) errs[i].textContent = J.t(errs[i].getAttribute('data-err-key'));
  });
})();
