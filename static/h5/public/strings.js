/* jubao public page — its strings, added to the H5 dictionaries (/h5/i18n.js, whose
 * province names it shares). */
(function () {
  'use strict';

  var D = window.JUBAO_I18N;
  function add(lang, strings) {
    Object.keys(strings).forEach(function (k) {
      D[lang][k] = strings[k];
    });
  }

  add('zh-CN', {
    'public.title': '典型案例与办理情况',
    'public.lead': '这里公开经查实的典型案例和各地举报办理的数字。页面上没有任何举报人的信息。',
    'public.back': '返回举报首页',
    'public.error': '暂时无法读取，请稍后刷新页面再试。',
    'stats.title': '近 12 个月办理情况',
    'stats.hint': '少于 5 件的数字不公布，显示为“少于5”，以免推断出具体的人。',
    'stats.region': '地区',
    'stats.table': '按月统计的举报办理数字',
    'stats.month': '月份',
    'stats.received': '收到举报',
    'stats.accepted': '受理',
    'stats.closedOnTime': '按期办结',
    'stats.rewardsPaid': '发放奖励',
    'stats.fewer': '少于5',
    'stats.empty': '暂无可公布的数字。',
    'stats.chart': '{region}近 12 个月每月收到的举报和按期办结的件数',
    'cases.title': '典型案例',
    'cases.empty': '暂无公布的典型案例。',
    'cases.kind': '机构类型：{kind}',
    'cases.basis': '依据',
    'cases.penalty': '处理结果',
    'cases.recovered': '追回医保基金 {amount} 元',
    'cases.published': '{date} 公布'
  });

  add('en', {
    'public.title': 'Typical cases and figures',
    'public.lead': 'Substantiated typical cases and the figures of how tips are handled. Nothing on this page identifies a reporter.',
    'public.back': 'Back to the reporting page',
    'public.error': 'This could not be loaded. Please reload the page later.',
    'stats.title': 'The last 12 months',
    'stats.hint': 'Counts under 5 are not published (shown as “under 5”), so that no one can be singled out.',
    'stats.region': 'Region',
    'stats.table': 'Tips handled per month',
    'stats.month': 'Month',
    'stats.received': 'Tips received',
    'stats.accepted': 'Accepted',
    'stats.closedOnTime': 'Closed on time',
    'stats.rewardsPaid': 'Rewards paid',
    'stats.fewer': 'under 5',
    'stats.empty': 'No figures can be published yet.',
    'stats.chart': '{region}: tips received and cases closed on time, per month, over the last 12 months',
    'cases.title': 'Typical cases',
    'cases.empty': 'No typical case has been published yet.',
    'cases.kind': 'Kind of institution: {kind}',
    'cases.basis': 'Legal basis',
    'cases.penalty': 'Outcome',
    'cases.recovered': '{amount} yuan recovered for the fund',
    'cases.published': 'Published {date}'
  });
})();
