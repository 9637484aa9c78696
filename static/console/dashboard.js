/* jubao staff console — dashboard: GET /api/v1/stats/overview drawn with Apache ECharts
 * (vendored in /console/vendor/, loaded only on this page), each chart followed by its
 * figures as a table for screen readers and keyboard users. Tooltips use ECharts' rich-text
 * mode, so no inline style attributes are created (strict CSP). */
(function () {
  'use strict';
  var C = window.Console;
  var h = C.h;
  var loading = null;
  var charts = [];

  function loadECharts() {
    if (window.echarts) return Promise.resolve(window.echarts);
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = '/console/vendor/echarts.common.min.js';
      s.onload = function () { resolve(window.echarts); };
      s.onerror = function () { loading = null; reject({ status: 0 }); };
      document.head.appendChild(s);
    });
    return loading;
  }

  window.addEventListener('hashchange', function () {
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });

  var PALETTE = ['#0a58a8', '#d9730d', '#1d6b3a', '#8e3fa8', '#b3261e', '#00767a', '#6b5b00', '#4a5561', '#c2185b', '#2e7d32', '#5d4037', '#1565c0', '#ef6c00', '#455a64'];

  function base() {
    return {
      color: PALETTE,
      animation: false,
      textStyle: { fontFamily: 'system-ui, "PingFang SC", "Microsoft YaHei", sans-serif' },
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 48, right: 16, top: 24, bottom: 56 },
      aria: { enabled: true }
    };
  }

  /** Month × key matrix from [{month, key, count}]. */
  function matrix(months, rows) {
    var keys = [];
    var m = {};
    rows.forEach(function (r) {
      if (keys.indexOf(r.key) < 0) keys.push(r.key);
      m[r.key + '|' + r.month] = (m[r.key + '|' + r.month] || 0) + r.count;
    });
    return keys.map(function (k) {
      return { key: k, data: months.map(function (mo) { return m[k + '|' + mo] || 0; }) };
    });
  }

  function monthTable(months, series, prefix) {
    return h('details.figures', h('summary', C.t('dash.table')), monthTableInner(months, series, prefix));
  }
  function monthTableInner(months, series, prefix) {
    var t = h('table.data');
    t.appendChild(h('thead', h('tr', h('th', { scope: 'col' }, ''), months.map(function (m) { return h('th', { scope: 'col' }, m); }))));
    t.appendChild(h('tbody', series.map(function (s) {
      return h('tr', h('th', { scope: 'row' }, C.label(prefix, s.key)), s.data.map(function (n) { return h('td', String(n)); }));
    })));
    return h('div.table-wrap', t);
  }

  function chartCard(id, titleKey, extra) {
    var box = h('div.chart', { id: id, role: 'img', 'aria-label': C.t(titleKey) });
    var card = h('section.card.chart-card', { 'aria-labelledby': id + '-h' }, h('h2', { id: id + '-h' }, C.t(titleKey)), box, extra || null);
    return { card: card, box: box };
  }

  C.views.dashboard = function (el) {
    el.appendChild(h('h1#page-title', C.t('dash.title')));
    return C.get('/api/v1/stats/overview').then(function (s) {
      // Rewards paid in the same twelve months (payment days, Asia/Shanghai).
      return Promise.all([s, C.get('/api/v1/stats/rewards' + C.qs({ from: s.months[0] + '-01' })), loadECharts()]);
    }).then(function (res) {
      var s = res[0];
      var paidRows = res[1] || [];
      var echarts = res[2];
      el.appendChild(h('p.hint', C.t('dash.lead', { region: s.region, asOf: C.fmtTime(s.as_of) })));
      el.appendChild(h('p.kpi', h('span', C.t('dash.overdueOpen') + '：'), h('strong#overdue-open', String(s.overdue_open))));
      var grid = h('div.dash-grid');
      el.appendChild(grid);
      var months = s.months;

      var ch = matrix(months, s.tips_by_channel);
      var a = chartCard('chart-channel', 'dash.byChannel', monthTable(months, ch, 'channel'));
      var cat = matrix(months, s.tips_by_category);
      var b = chartCard('chart-category', 'dash.byCategory', monthTable(months, cat, 'cat'));
      var st = s.cases_by_status;
      var c = chartCard('chart-status', 'dash.byStatus', h('details.figures', h('summary', C.t('dash.table')),
        C.table(['col.status', ''], st.map(function (x) { return h('tr', h('th', { scope: 'row' }, C.label('status', x.key)), h('td', String(x.count))); }))));
      var rg = s.tips_by_region;
      var e = chartCard('chart-region', 'dash.byRegion', h('details.figures', h('summary', C.t('dash.table')),
        C.table(['col.region', ''], rg.map(function (x) { return h('tr', h('th', { scope: 'row' }, x.key), h('td', String(x.count))); }))));
      var dl = matrix(months, s.deadlines_by_month);
      var d = chartCard('chart-deadlines', 'dash.deadlines', monthTable(months, dl, 'dash'));
      // Rewards paid: integer fen per month and region (formatted as yuan only for display).
      var regions = [];
      paidRows.forEach(function (r) { if (regions.indexOf(r.region) < 0) regions.push(r.region); });
      var paidSeries = regions.map(function (rg2) {
        return { key: rg2, data: months.map(function (mo) {
          return paidRows.filter(function (r) { return r.region === rg2 && r.month === mo; })
            .reduce(function (n, r) { return n + r.amount_fen; }, 0);
        }) };
      });
      var paidTable = h('details.figures', h('summary', C.t('dash.table')),
        C.table(['col.month', 'col.region', 'dash.paidCount', 'dash.paidAmount'], paidRows.map(function (r) {
          return h('tr', { 'data-paid': r.month + '-' + r.region }, h('td', r.month), h('td', r.region), h('td', String(r.paid)), h('td', C.fmtFen(r.amount_fen)));
        })));
      var f = chartCard('chart-rewards', 'dash.rewardsPaid', paidTable);
      [a, b, e, c, d, f].forEach(function (x) { grid.appendChild(x.card); });

      // Draw after the view is in the document (ECharts needs the box's size).
      setTimeout(function () {
        var draw = function (box, opt) {
          var inst = echarts.init(box, null, { renderer: 'canvas', locale: C.lang === 'en' ? 'EN' : 'ZH' });
          inst.setOption(opt);
          charts.push(inst);
        };
        var o1 = base();
        o1.xAxis = { type: 'category', data: months };
        o1.yAxis = { type: 'value', minInterval: 1 };
        o1.series = ch.map(function (x) { return { name: C.label('channel', x.key), type: 'bar', stack: 'all', barMaxWidth: 36, data: x.data }; });
        draw(a.box, o1);
        var o2 = base();
        o2.xAxis = { type: 'category', data: months };
        o2.yAxis = { type: 'value', minInterval: 1 };
        o2.series = cat.map(function (x) { return { name: C.label('cat', x.key), type: 'line', data: x.data }; });
        draw(b.box, o2);
        var o3 = base();
        o3.tooltip = { trigger: 'item', renderMode: 'richText' };
        o3.series = [{ type: 'pie', radius: ['40%', '68%'], center: ['50%', '45%'],
          data: st.map(function (x) { return { name: C.label('status', x.key), value: x.count }; }) }];
        draw(c.box, o3);
        var o5 = base();
        o5.tooltip = { trigger: 'item', renderMode: 'richText' };
        o5.legend = { show: false };
        o5.grid = { left: 64, right: 16, top: 16, bottom: 32 };
        o5.xAxis = { type: 'value', minInterval: 1 };
        o5.yAxis = { type: 'category', data: rg.map(function (x) { return x.key; }) };
        o5.series = [{ name: C.t('dash.byRegion'), type: 'bar', barMaxWidth: 36, data: rg.map(function (x) { return x.count; }) }];
        draw(e.box, o5);
        var o4 = base();
        o4.color = ['#1d6b3a', '#b3261e'];
        o4.xAxis = { type: 'category', data: months };
        o4.yAxis = { type: 'value', minInterval: 1 };
        o4.series = ['met', 'missed'].map(function (k) {
          var row = dl.filter(function (x) { return x.key === k; })[0];
          return { name: C.t('dash.' + k), type: 'bar', stack: 'clocks', barMaxWidth: 36, data: row ? row.data : months.map(function () { return 0; }) };
        });
        draw(d.box, o4);
        var o6 = base();
        o6.tooltip = { trigger: 'axis', renderMode: 'richText', valueFormatter: function (v) { return C.fmtFen(v); } };
        o6.grid = { left: 96, right: 16, top: 24, bottom: 56 };
        o6.xAxis = { type: 'category', data: months };
        o6.yAxis = { type: 'value', minInterval: 100, axisLabel: { formatter: function (v) { return C.fmtFen(v); } } };
        o6.series = paidSeries.length ? paidSeries.map(function (x) {
          return { name: x.key, type: 'bar', stack: 'paid', barMaxWidth: 36, data: x.data };
        }) : [{ name: C.t('dash.rewardsPaid'), type: 'bar', data: months.map(function () { return 0; }) }];
        draw(f.box, o6);
        el.setAttribute('data-charts', String(charts.length));
      }, 0);
    });
  };
})();
