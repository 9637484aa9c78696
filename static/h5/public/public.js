/* jubao public page: GET /api/v1/public/stats (a small SVG bar chart and a table per
 * region; a withheld count is "under 5") and GET /api/v1/public/typical-cases. Plain
 * ES2017, no library: the chart is drawn with SVG elements (no inline style, for the CSP). */
(function () {
  'use strict';

  var J = window.Jubao;
  var $ = J.$;
  var SVG = 'http://www.w3.org/2000/svg';
  var stats = null;
  var cases = [];

  function regionName(code) {
    var list = window.JUBAO_I18N.provinces;
    var prov = code.slice(0, 2) + '0000';
    for (var i = 0; i < list.length; i++) {
      if (list[i][0] === prov) {
        var name = J.lang === 'en' ? list[i][2] : list[i][1];
        return code === prov ? name : name + ' ' + code;
      }
    }
    return code;
  }

  function shown(n) {
    return n === null || n === undefined ? J.t('stats.fewer') : String(n);
  }

  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) {
      e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** Bars of `received` and `closed_on_time` per month; a withheld count is an outline. */
  function chart(cells, region) {
    var box = $('stats-chart');
    J.clear(box);
    box.setAttribute('aria-label', J.t('stats.chart', { region: regionName(region) }));
    var W = 320;
    var H = 180;
    var top = 12;
    var bottom = 28;
    var left = 28;
    var max = 5;
    cells.forEach(function (c) {
      max = Math.max(max, c.received || 0, c.closed_on_time || 0);
    });
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'bars', focusable: 'false', 'aria-hidden': 'true' });
    var slot = (W - left) / cells.length;
    var bw = Math.max(3, slot / 2 - 2);
    var y = function (n) {
      return top + (H - top - bottom) * (1 - n / max);
    };
    s.appendChild(svg('line', { x1: left, x2: W, y1: y(0), y2: y(0), class: 'axis' }));
    s.appendChild(svg('text', { x: left - 4, y: y(max) + 4, class: 'tick', 'text-anchor': 'end' }, String(max)));
    s.appendChild(svg('text', { x: left - 4, y: y(0), class: 'tick', 'text-anchor': 'end' }, '0'));
    cells.forEach(function (c, i) {
      var x = left + i * slot + 1;
      [['received', 'bar-received'], ['closed_on_time', 'bar-closed']].forEach(function (m, k) {
        var v = c[m[0]];
        var bx = x + k * (bw + 1);
        if (v === null || v === undefined) {
          s.appendChild(svg('rect', { x: bx, y: y(4), width: bw, height: y(0) - y(4), class: m[1] + ' withheld' }));
        } else {
          s.appendChild(svg('rect', { x: bx, y: y(v), width: bw, height: Math.max(0, y(0) - y(v)), class: m[1] }));
        }
      });
      if (i % 2 === 0) {
        s.appendChild(svg('text', { x: x + bw, y: H - 10, class: 'tick', 'text-anchor': 'middle' }, c.month.slice(2)));
      }
    });
    box.appendChild(s);
    var legend = $('stats-legend');
    J.clear(legend);
    [['bar-received', 'stats.received'], ['bar-closed', 'stats.closedOnTime'], ['withheld', 'stats.fewer']].forEach(function (l) {
      legend.appendChild(J.el('span', { class: 'key ' + l[0] }, [J.t(l[1])]));
    });
  }

  function renderStats() {
    var sel = $('stats-region');
    var regions = [];
    (stats ? stats.cells : []).forEach(function (c) {
      if (regions.indexOf(c.region) < 0) regions.push(c.region);
    });
    var current = sel.value || regions[0] || '';
    J.clear(sel);
    regions.forEach(function (r) {
      sel.appendChild(J.el('option', { value: r, text: regionName(r) }));
    });
    sel.value = current;
    $('stats-empty').hidden = regions.length > 0;
    $('stats-figure').hidden = regions.length === 0;
    $('stats-table').hidden = regions.length === 0;
    if (!regions.length) return;
    var cells = stats.cells.filter(function (c) {
      return c.region === sel.value;
    });
    chart(cells, sel.value);
    var rows = $('stats-rows');
    J.clear(rows);
    cells.forEach(function (c) {
      rows.appendChild(J.el('tr', null, [
        J.el('th', { scope: 'row', text: c.month }),
        J.el('td', { text: shown(c.received) }),
        J.el('td', { text: shown(c.accepted) }),
        J.el('td', { text: shown(c.closed_on_time) }),
        J.el('td', { text: shown(c.rewards_paid) })
      ]));
    });
  }

  function renderCases() {
    var list = $('cases-list');
    J.clear(list);
    $('cases-empty').hidden = cases.length > 0;
    cases.forEach(function (c) {
      list.appendChild(J.el('li', { class: 'case-card' }, [
        J.el('h3', { text: c.title }),
        J.el('p', { class: 'hint', text: regionName(c.region) + ' · ' + J.t('cases.kind', { kind: c.institution_kind }) }),
        J.el('p', { text: c.summary }),
        J.el('p', null, [J.el('strong', { text: J.t('cases.basis') + '：' }), c.legal_basis]),
        J.el('p', null, [J.el('strong', { text: J.t('cases.penalty') + '：' }), c.penalty]),
        c.recovered_fen > 0 ? J.el('p', { class: 'amount', text: J.t('cases.recovered', { amount: J.formatFen(c.recovered_fen) }) }) : null,
        c.published_at ? J.el('p', { class: 'hint', text: J.t('cases.published', { date: c.published_at.slice(0, 10) }) }) : null
      ]));
    });
  }

  function render() {
    J.applyI18n(document);
    document.title = J.t('public.title');
    renderStats();
    renderCases();
  }

  function init() {
    document.documentElement.lang = J.lang;
    $('lang-toggle').setAttribute('lang', J.lang === 'en' ? 'zh-CN' : 'en');
    $('lang-toggle').addEventListener('click', function () {
      J.setLang(J.lang === 'en' ? 'zh-CN' : 'en');
      $('lang-toggle').setAttribute('lang', J.lang === 'en' ? 'zh-CN' : 'en');
      render();
    });
    $('stats-region').addEventListener('change', renderStats);
    render();
    Promise.all([
      J.request({ url: '/api/v1/public/stats' }),
      J.request({ url: '/api/v1/public/typical-cases' })
    ]).then(function (r) {
      var failed = r[0].status !== 200 || r[1].status !== 200;
      $('public-error').hidden = !failed;
      if (failed) $('public-error').textContent = J.t('public.error');
      if (r[0].status === 200) stats = r[0].body;
      if (r[1].status === 200) cases = r[1].body || [];
      render();
      document.body.setAttribute('data-loaded', 'true');
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
