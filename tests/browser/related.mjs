// Related tips, independent reporters and triage in the staff console (issue 18), in
// headless Chromium. Run by tests/browser.rs against the real server after it created
// intake1 (intake, 371502) and supervisor1 (supervisor, 371500) with `jubao user add`:
//   JUBAO_BASE_URL=http://127.0.0.1:8080 JUBAO_STAFF_PASSWORD=… node tests/browser/related.mjs
// Three reporters tell the same facts about one hospital in other words (two on H5, one at
// the bureau's window), and one tip is about something else. The case page of the last tip
// lists the two earlier ones with their reasons and not the unrelated one, explains its
// priority (the factors add up to the score shown), and merges it into the earliest valid
// tip; the inbox sorts by priority; the supervisor's page counts three distinct reporters
// by channel. No name or phone number is on any page. Screenshots go to
// tests/browser/artifacts/related/.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, checker, screenshots, watcher } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(HERE, 'artifacts', 'related');
const BASE = (process.env.JUBAO_BASE_URL || '').replace(/\/+$/, '');
const PASSWORD = process.env.JUBAO_STAFF_PASSWORD || 'Console-Test-Pass-2026';
if (!BASE) {
  console.error('JUBAO_BASE_URL is not set (e.g. http://127.0.0.1:8080)');
  process.exit(2);
}
const ORIGIN = new URL(BASE).origin;

const TARGET = '聊城康泰医院';
// The same facts in three wordings (the first pair of crates/rules/src/similar/table.rs).
const FACTS = [
  '康泰医院组织村里老人挂名住院，实际没有治疗，用医保卡结算，每人给200元。',
  '康泰医院把村里的老年人拉去挂床住院，人没有治疗，拿社保卡结算，每个人返现200元。',
  '有人反映康泰医院把村里老人拉去挂床住院，没有治疗却用社保卡结算，每人返现200元。',
];
const OTHER = '民生诊所伪造检查报告和住院病历，虚构病人骗取统筹基金。';
const SECRETS = ['张秀英', '13905351111', '李建国', '13905352222'];

const { check, passed } = checker();
const snap = screenshots(ARTIFACTS);
const problems = [];
const watch = watcher(problems, ORIGIN);

async function api(method, p, body, token) {
  const res = await fetch(BASE + p, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function tip(description, reporter, target = TARGET) {
  return {
    target: { name: target, kind: 'hospital', region_code: '371502' },
    categories: ['split_or_bed_hospitalization'],
    description,
    reporter,
  };
}

/** The page's whole text must hold none of the reporters' names or numbers. */
async function assertNoIdentity(page) {
  const text = await page.locator('body').innerText();
  for (const s of SECRETS) assert.ok(!text.includes(s), `${s} on the page`);
}

async function until(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
const contextOptions = { viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };

async function signIn(username) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  watch(page, username);
  await page.goto(`${BASE}/console/`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForSelector('#nav:not([hidden])', { timeout: 15000 });
  // The first page after sign-in (the inbox) is drawn once its list arrives: wait for it,
  // so that it does not replace the page the test goes to next.
  await page.waitForSelector('#inbox-table');
  await page.waitForLoadState('networkidle');
  return page;
}

let exitCode = 0;
let current = null;
try {
  const ids = {};
  let token;
  await check('four tips: three reporters on the same facts through two channels, one unrelated', async () => {
    const login = await api('POST', '/api/v1/auth/login', { username: 'intake1', password: PASSWORD });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    token = login.body.access_token;
    const file = async (body) => {
      const res = await api('POST', '/api/v1/reports', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const found = await api('GET', '/api/v1/cases?limit=50', null, token);
      return found.body.find((c) => c.received_at && !Object.values(ids).includes(c.id)).id;
    };
    ids.first = await file(tip(FACTS[0], { anonymous: false, name: SECRETS[0], phone: SECRETS[1], relation: 'patient' }));
    ids.other = await file(tip(OTHER, { anonymous: true }, '民生诊所'));
    const visit = { ...tip(FACTS[2], { anonymous: true }), medium: 'visit' };
    const res = await api('POST', '/api/v1/staff/reports', visit, token);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids.visit = res.body.case_id;
    ids.last = await file(tip(FACTS[1], { anonymous: false, name: SECRETS[2], phone: SECRETS[3], relation: 'relative' }));
    assert.equal(new Set(Object.values(ids)).size, 4, JSON.stringify(ids));
    await until('the related tips of the last tip', async () => {
      const r = await api('GET', `/api/v1/cases/${ids.last}/related`, null, token);
      return r.status === 200 && r.body.length >= 2;
    });
  });

  const intake = await signIn('intake1');
  current = intake;
  await check('the case page lists the related tips with their reasons, not the unrelated one', async () => {
    await intake.goto(`${BASE}/console/#/cases/${ids.last}`);
    await intake.waitForSelector('#related tr[data-related]');
    const rows = await intake.locator('#related tr[data-related]').evaluateAll((els) => els.map((e) => e.dataset.related));
    assert.deepEqual(rows.sort(), [ids.first, ids.visit].sort());
    const first = await intake.locator(`#related tr[data-related="${ids.first}"]`).innerText();
    assert.match(first, /同一被举报对象/);
    assert.match(first, /内容相似/);
    assert.match(first, /\d+/);
    await assertNoIdentity(intake);
    await snap(intake, 'related-list');
  });

  await check('the priority panel shows every factor, and the points add up to the score', async () => {
    await intake.waitForSelector('#triage-score');
    const score = Number(await intake.locator('#triage-score').innerText());
    const points = await intake.locator('#triage tr[data-factor] td:last-child').allInnerTexts();
    assert.equal(points.length, 8);
    assert.equal(points.reduce((s, p) => s + Number(p), 0), score);
    // The relative is not an insider; three reporters on the target: the two others count.
    const independent = await intake.locator('#triage tr[data-factor="independent_reporters"] td').allInnerTexts();
    assert.equal(independent[1], '2', `${independent}`);
    assert.match(await intake.locator('#triage').innerText(), /default@1/);
  });

  const sup = await signIn('supervisor1');
  current = sup;
  await check('the supervisor sees three distinct reporters on the hospital, by channel, never who', async () => {
    await sup.goto(`${BASE}/console/#/targets`);
    await sup.waitForSelector('#page-title:has-text("多名举报人举报的对象")');
    const row = sup.locator(`tr[data-target="${TARGET}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[2], '3', `${cells}`);
    assert.equal(cells[3], '3', `${cells}`);
    assert.match(cells[4], /网页\(H5\) 2/);
    assert.match(cells[4], /窗口\/来信\/来访 1/);
    assert.equal(await sup.locator('tr[data-target="民生诊所"]').count(), 0, 'one reporter is not several');
    await assertNoIdentity(sup);
    await snap(sup, 'targets');
  });

  current = intake;
  await check('the merge from the related list goes into the earliest valid tip', async () => {
    const form = intake.locator('#related-merge');
    assert.equal(await form.getAttribute('data-into'), ids.first);
    await form.getByLabel('理由').fill('同一医院同一事实，由较早的举报人保留优先权。');
    await form.locator('button[type="submit"]').click();
    await until('the merge', async () => {
      const c = await api('GET', `/api/v1/cases/${ids.last}`, null, token);
      return c.body.status === 'merged' && c.body.merged_into === ids.first;
    });
    const first = await api('GET', `/api/v1/cases/${ids.first}`, null, token);
    assert.equal(first.body.status, 'received', 'the earliest tip keeps its place');
    await intake.waitForSelector('[data-status="merged"]');
    await snap(intake, 'merged');
  });

  await check('the inbox sorts by priority', async () => {
    await intake.goto(`${BASE}/console/#/inbox`);
    await intake.waitForSelector('#inbox-table tbody tr');
    await intake.locator('select[name="status"]').selectOption('');
    await intake.locator('select[name="sort"]').selectOption('priority');
    // Read the table only once the sorted list has come back and been drawn.
    const sorted = intake.waitForResponse((r) => r.url().includes('/api/v1/cases?') && r.url().includes('sort=priority'));
    await intake.getByRole('button', { name: '查询' }).click();
    await sorted;
    await intake.waitForLoadState('networkidle');
    await until('the sorted inbox', async () => {
      const p = await intake.locator('#inbox-table tbody tr td[data-priority]').evaluateAll((els) => els.map((e) => e.dataset.priority));
      return p.length >= 3 && p.every((x) => x !== '');
    });
    const priorities = (await intake.locator('#inbox-table tbody tr td[data-priority]').evaluateAll((els) => els.map((e) => Number(e.dataset.priority))));
    for (let i = 1; i < priorities.length; i++) assert.ok(priorities[i - 1] >= priorities[i], `${priorities}`);
    await assertNoIdentity(intake);
  });

  await check('no console errors, CSP violations or failed requests anywhere', async () => {
    assert.deepEqual(problems, []);
  });
  console.log(`# ${passed()} checks passed`);
} catch (err) {
  exitCode = 1;
  console.error(err);
  if (current) {
    try { await snap(current, 'failure'); } catch (e) { /* ignore */ }
  }
  if (problems.length) console.error('problems seen:\n  ' + problems.join('\n  '));
} finally {
  await browser.close();
}
process.exit(exitCode);
