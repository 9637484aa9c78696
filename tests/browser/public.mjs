// The public page (typical cases and figures, issue 19) in headless Chromium at 360 px, with a
// WeChat in-app-browser user agent. Run by tests/browser.rs against the real server with staff
// made by `jubao user add`; by hand:
//   JUBAO_BASE_URL=http://127.0.0.1:8080 JUBAO_STAFF_PASSWORD=… node tests/browser/public.mjs
// Through the API it files six named tips in 371502 (Liaocheng, Shandong) and one in Beijing, takes one
// tip to a substantiated decision and publishes a typical case of it (draft, legal review,
// supervisor's approval); then it opens /h5/, follows the link to the public page and checks
// what a citizen sees, in Chinese and in English. Exits non-zero on the first failed check.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checker, watcher } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(HERE, 'artifacts', 'public');
const BASE = (process.env.JUBAO_BASE_URL || '').replace(/\/+$/, '');
const PASSWORD = process.env.JUBAO_STAFF_PASSWORD || '';
if (!BASE || !PASSWORD) {
  console.error('JUBAO_BASE_URL and JUBAO_STAFF_PASSWORD must be set');
  process.exit(2);
}
const WECHAT_UA =
  'Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 ' +
  '(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560 ' +
  'Weixin NetType/WIFI Language/zh_CN';
fs.mkdirSync(ARTIFACTS, { recursive: true });

const { check, passed } = checker();

async function api(method, url, body, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(BASE + url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: res.status, json, text };
}

async function ok(method, url, body, token) {
  const r = await api(method, url, body, token);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${url}: ${r.status} ${r.text}`);
  return r.json;
}

async function login(username) {
  const r = await ok('POST', '/api/v1/auth/login', { username, password: PASSWORD });
  return r.access_token;
}

function tip(region, reporter) {
  return {
    target: { name: '聊城某民营医院', kind: 'hospital', region_code: region },
    categories: ['fake_patient'],
    description: '医院组织老人挂名住院，没有治疗，用医保卡结算。',
    reporter,
  };
}

const NAME = '孙丽娟';
const PHONE = '13577778888';
const TITLE = '聊城某民营医院虚构住院骗取医保基金案';

// ------------------------------------------------------------ data, through the API
const receipts = [];
for (let i = 0; i < 6; i++) {
  // Named, so that whichever of them is decided, its reporter's name is there to refuse.
  receipts.push(await ok('POST', '/api/v1/reports', tip('371502', { anonymous: false, name: NAME, phone: PHONE })));
}
await ok('POST', '/api/v1/reports', tip('110101', { anonymous: true }));

const intake = await login('intake1');
const handler = await login('handler1');
const legal = await login('legal1');
const sup = await login('supervisor1');
const inbox = await ok('GET', '/api/v1/cases?status=received', undefined, intake);
assert.equal(inbox.length, 6, JSON.stringify(inbox));
const caseId = inbox[0].id;
const step = (p) => `/api/v1/cases/${caseId}${p}`;
await ok('POST', step('/transitions'), { to: 'accepted', reason: '线索具体' }, intake);
await ok('POST', step('/transitions'), { to: 'checking', reason: '开始核查' }, handler);
await ok('POST', step('/party-notice'), { reason: '告知拟处理决定' }, handler);
await ok('POST', step('/statement'), { reason: '当事人书面陈述' }, handler);
await ok('POST', step('/transitions'), {
  to: 'decided', reason: '查实', outcome: 'substantiated', verified_fen: 1500000,
  recovered_fen: 1200000, penalties: [{ kind: 'fine', amount_fen: 2400000 }], reward_due: false,
}, handler);
const draft = {
  title: TITLE, institution_kind: '民营医院', region: '371500',
  summary: '经查，该医院组织参保老人挂名住院、虚构诊疗项目，骗取医保基金。',
  legal_basis: '《医疗保障基金使用监督管理条例》第四十条',
  penalty: '追回医保基金，处骗取金额两倍罚款，解除医保服务协议',
};
// The reporter's name in the text is refused (the check folds the spacing away).
const refused = await api('POST', step('/typical-cases'), { ...draft, summary: `举报人${NAME.split('').join(' ')}反映` }, handler);
assert.equal(refused.status, 422, refused.text);
assert.equal(refused.json.error.field, 'summary');
const made = await ok('POST', step('/typical-cases'), draft, handler);
await ok('POST', `/api/v1/typical-cases/${made.id}/legal-review`, { approve: true }, legal);
await ok('POST', `/api/v1/typical-cases/${made.id}/approve`, {}, sup);

// ------------------------------------------------------------ the page
const problems = [];
const watch = watcher(problems, new URL(BASE).origin);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
let exitCode = 0;
let page = null;
try {
  const ctx = await browser.newContext({
    viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    userAgent: WECHAT_UA, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
  });
  page = await ctx.newPage();
  watch(page, 'public');

  await check('the H5 start page links to the public page', async () => {
    await page.goto(`${BASE}/h5/`);
    const link = page.locator('#open-public');
    await link.waitFor();
    assert.equal(await link.innerText(), '看看典型案例和各地办理情况');
    await link.click();
    await page.waitForURL(`${BASE}/h5/public/`);
    await page.locator('body[data-loaded="true"]').waitFor();
  });

  await check('fits 360 px: no sideways scrolling', async () => {
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `page is ${w} px wide`);
    await page.screenshot({ path: path.join(ARTIFACTS, '01-zh.png'), fullPage: true });
  });

  await check('figures: Shandong listed, Beijing (one tip) not; under 5 withheld', async () => {
    const options = await page.locator('#stats-region option').allInnerTexts();
    assert.deepEqual(options, ['山东省'], options.join(','));
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' })
      .format(new Date()).slice(0, 7);
    const row = page.locator('#stats-rows tr', { has: page.locator(`th:text-is("${month}")`) });
    const cells = await row.locator('td').allInnerTexts();
    // Six received; one accepted, none closed, no reward: each under 5.
    assert.deepEqual(cells, ['6', '少于5', '少于5', '少于5']);
    assert.equal(await page.locator('#stats-rows tr').count(), 12);
  });

  await check('the chart: two bars a month, withheld ones outlined, described for screen readers', async () => {
    assert.equal(await page.locator('#stats-chart svg rect').count(), 24);
    assert.equal(await page.locator('#stats-chart svg rect.withheld').count(), 23);
    const label = await page.locator('#stats-chart').getAttribute('aria-label');
    assert.ok(label.includes('山东省'), label);
  });

  await check('the published typical case, without reporter data', async () => {
    const card = page.locator('.case-card');
    assert.equal(await card.count(), 1);
    assert.equal(await card.locator('h3').innerText(), TITLE);
    const body = await page.locator('body').innerText();
    assert.ok(body.includes('追回医保基金 12,000.00 元'), body);
    for (const secret of [NAME, PHONE, ...receipts.map((r) => r.tracking_code), 'handler1', 'supervisor1']) {
      assert.ok(!body.includes(secret), `the page shows ${secret}`);
    }
  });

  await check('English', async () => {
    await page.locator('#lang-toggle').click();
    assert.equal(await page.locator('#public-title').innerText(), 'Typical cases and figures');
    const cells = await page.locator('#stats-rows tr').first().locator('td').allInnerTexts();
    assert.ok(cells.every((c) => c === 'under 5' || /^\d+$/.test(c)), cells.join(','));
    assert.equal(await page.locator('#stats-region option').first().innerText(), 'Shandong');
    assert.ok((await page.locator('.case-card').innerText()).includes('12,000.00 yuan recovered'));
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `page is ${w} px wide`);
    await page.screenshot({ path: path.join(ARTIFACTS, '02-en.png'), fullPage: true });
  });

  await check('no console errors, CSP reports or failed requests', async () => {
    assert.deepEqual(problems, []);
  });
  console.log(`1..${passed()}`);
} catch (err) {
  exitCode = 1;
  console.error(err);
  if (page) await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
  if (problems.length) console.error(problems.join('\n'));
} finally {
  await browser.close();
}
process.exit(exitCode);
