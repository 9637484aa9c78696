// End-to-end test of the staff console (/console/) in headless Chromium. Run by
// tests/browser.rs against the real server after it created the staff accounts below with
// `jubao user add`, or by hand against a server that has them:
//   JUBAO_BASE_URL=http://127.0.0.1:8080 JUBAO_STAFF_PASSWORD=… node tests/browser/console.mjs
// A tip is filed through the API and walked from intake to closed through the UI by several
// people; a handler of another region must neither see nor open it. Any console error, page
// error, CSP violation or unexpected HTTP error fails the run. Then the reward: the handler
// proposes it, finance (another person) sets the budget, approves, tells the reporter and,
// once the reporter has claimed it (through the API), records the payment in yuan; the
// rewards list and the budget balance follow. Screenshots go to
// tests/browser/artifacts/console/.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, totp, watcher } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(HERE, 'artifacts', 'console');
const BASE = (process.env.JUBAO_BASE_URL || '').replace(/\/+$/, '');
const PASSWORD = process.env.JUBAO_STAFF_PASSWORD || 'Console-Test-Pass-2026';
if (!BASE) {
  console.error('JUBAO_BASE_URL is not set (e.g. http://127.0.0.1:8080)');
  process.exit(2);
}
const ORIGIN = new URL(BASE).origin;
const PAGE_WEIGHT_LIMIT = 500 * 1024;

fs.mkdirSync(ARTIFACTS, { recursive: true });
for (const f of fs.readdirSync(ARTIFACTS)) {
  if (f.endsWith('.png')) fs.rmSync(path.join(ARTIFACTS, f));
}

// ---------------------------------------------------------------- helpers

let passed = 0;
let shot = 0;
const problems = [];

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok ${passed} - ${name}`);
  } catch (err) {
    console.log(`not ok - ${name}`);
    throw err;
  }
}

async function snap(page, name) {
  shot++;
  await page.screenshot({ path: path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** A screenshot of one element (e.g. the reward panel). */
async function snapElement(locator, name) {
  shot++;
  await locator.screenshot({ path: path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`) });
}

/** A valid 18-digit resident ID (GB 11643 checksum). */
function residentId(base17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...base17].reduce((s, d, i) => s + Number(d) * w[i], 0);
  return base17 + '10X98765432'[sum % 11];
}

const watch = watcher(problems, ORIGIN);

function assertNoProblems() {
  assert.deepEqual(problems, [], 'console errors, CSP violations, page errors or failed requests');
}

async function api(method, p, body, token) {
  const res = await fetch(BASE + p, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// ---------------------------------------------------------------- the run

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: CHROMIUM_ARGS,
});
const contextOptions = { viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };

/** A fresh browser context signed in as `username` (TOTP enrolment done when asked). */
async function signIn(username, label) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const w = watch(page, label || username);
  await page.goto(`${BASE}/console/`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForSelector('#nav:not([hidden]), #totp-secret:not(:empty)', { timeout: 15000 });
  return { context, page, w };
}

let exitCode = 0;
let current = null;
try {
  // ============ 0. A tip filed through the API, and the console's weight ============
  let caseId;
  let tracking;
  let passcode;
  const idNumber = residentId('37150219800101123');
  await check('a real-name tip with a photo is filed through the API', async () => {
    const report = {
      target: { name: '聊城市某某中医医院', kind: 'hospital', region_code: '371502', address: '东昌府区某路 1 号' },
      categories: ['fake_patient', 'overcharging'],
      description: '该医院组织“免费体检”拉人住院，用参保人的医保卡虚构住院天数和检查项目，结算后返给病人少量现金。',
      occurred_from: '2026-09-01',
      amount_estimate_fen: 5000000,
      reporter: { anonymous: false, name: '王晓明', id_number: idNumber, phone: '13905350000', relation: 'patient' },
    };
    const form = new FormData();
    form.append('report', JSON.stringify(report));
    form.append('evidence', new Blob([fs.readFileSync(path.join(HERE, 'fixtures', 'receipt.jpg'))], { type: 'image/jpeg' }), 'receipt.jpg');
    const res = await fetch(`${BASE}/api/v1/reports`, { method: 'POST', body: form });
    const body = await res.json();
    assert.equal(res.status, 201, JSON.stringify(body));
    tracking = body.tracking_code;
    passcode = body.passcode;
    assert.ok(tracking && passcode);
  });

  await check('the console shell loads under the CSP with its page weight reported', async () => {
    const context = await browser.newContext(contextOptions);
    const page = await context.newPage();
    current = page;
    watch(page, 'weight');
    const sizes = new Map();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    cdp.on('Network.loadingFinished', (e) => sizes.set(e.requestId, e.encodedDataLength));
    const res = await page.goto(`${BASE}/console/`);
    assert.match(res.headers()['content-security-policy'] || '', /script-src 'self'/);
    await page.waitForSelector('form.login');
    await page.evaluate(() => new Promise((r) => {
      const s = document.createElement('script');
      s.src = '/console/vendor/echarts.common.min.js';
      s.onload = r;
      document.head.appendChild(s);
    }));
    await page.waitForTimeout(300);
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    console.log(`# console page weight with ECharts, transferred: ${(total / 1024).toFixed(1)} KB over ${sizes.size} requests`);
    assert.ok(total < PAGE_WEIGHT_LIMIT, `page weight ${total} bytes`);
    const redirect = await fetch(`${BASE}/console`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    await context.close();
  });

  // ============ 1. Intake accepts ============
  const intake = await signIn('intake1', 'intake');
  current = intake.page;
  await check('intake sees region and roles, and finds the tip in the inbox', async () => {
    const p = intake.page;
    await p.waitForSelector('#inbox-table tbody tr');
    assert.match(await p.locator('#who-region').innerText(), /371502/);
    assert.match(await p.locator('#who-roles').innerText(), /受理/);
    const row = p.locator('#inbox-table tbody tr').first();
    assert.match(await row.innerText(), /聊城市某某中医医院/);
    assert.match(await row.innerText(), /已收到/);
    assert.match(await row.innerText(), /剩 \d+ 个工作日/);
    // The server's acceptance rule is 400 working days (tests/browser.rs): provisional.
    assert.match(await row.innerText(), /暂定/);
    caseId = await row.getAttribute('data-case');
    assert.ok(caseId);
    await snap(p, 'inbox-intake');
  });

  await check('the case page shows the tip as written and the reporter by pseudonym only', async () => {
    const p = intake.page;
    await p.locator(`#inbox-table tbody tr[data-case="${caseId}"] a`).click();
    await p.waitForSelector('#tip-text');
    assert.match(await p.locator('#tip-text').innerText(), /免费体检/);
    const rep = await p.locator('#reporter').innerText();
    assert.match(rep, /R-[0-9A-F]{6}/);
    assert.ok(!rep.includes('王晓明') && !rep.includes('13905350000'), 'no identity on the case page');
    const body = await p.locator('main').innerText();
    assert.ok(!body.includes('王晓明') && !body.includes('13905350000'));
    // The evidence preview: the sanitized working copy, fetched with the bearer token.
    const img = p.locator('#evidence img');
    await img.waitFor();
    await p.waitForFunction(() => { const i = document.querySelector('#evidence img'); return i && i.complete && i.naturalWidth > 0; });
    assert.match(await img.getAttribute('src'), /^blob:/);
    // Exactly the actions the API lists: intake may accept, not accept, merge; nothing else.
    const actions = await p.locator('details.action').evaluateAll((els) => els.map((e) => e.dataset.action));
    assert.deepEqual(actions.sort(), ['accept', 'merge', 'not_accept']);
    // The acceptance deadline: marked provisional, with the rule it was computed under.
    const accept = p.locator('#clocks tr[data-clock="accept"]');
    assert.equal(await accept.getAttribute('data-provisional'), '1');
    assert.match(await accept.innerText(), /暂定/);
    assert.match(await accept.innerText(), /national@1/);
  });

  await check('intake accepts the tip with a reason, using only the keyboard', async () => {
    const p = intake.page;
    await p.locator('details[data-action="accept"] > summary').focus();
    await p.keyboard.press('Enter');
    await p.keyboard.press('Tab');
    assert.equal(await p.evaluate(() => document.activeElement.name), 'reason');
    await p.keyboard.type('对象明确，线索具体，予以受理。');
    await p.keyboard.press('Tab');
    assert.equal(await p.evaluate(() => document.activeElement.type), 'submit');
    await p.keyboard.press('Enter');
    await p.waitForSelector('[data-status="accepted"]');
    assert.match(await p.locator('#timeline').innerText(), /已受理/);
    assert.match(await p.locator('#clocks').innerText(), /办理完成/);
  });

  await check('intake does not accept a second tip, naming the ground', async () => {
    const p = intake.page;
    const r = await api('POST', '/api/v1/reports', {
      target: { name: '某某大药房', kind: 'pharmacy', region_code: '371502' },
      categories: ['other'],
      description: '听说这家药房可能有问题，但我不清楚具体情况，也说不出时间。',
      reporter: { anonymous: true },
    });
    assert.equal(r.status, 201);
    await p.goto(`${BASE}/console/#/inbox`);
    await p.locator('select[name="status"]').selectOption('received');
    await p.getByRole('button', { name: '查询' }).click();
    const row = p.locator('#inbox-table tbody tr', { hasText: '某某大药房' });
    await row.waitFor();
    await row.locator('a').click();
    await p.locator('details[data-action="not_accept"] > summary').click();
    const f = p.locator('form[data-action="not_accept"]');
    await f.locator('select[name="ground"]').selectOption('no_clear_target');
    await f.locator('textarea[name="reason"]').fill('无明确违法事实和具体线索。');
    await f.locator('button[type="submit"]').click();
    await p.waitForSelector('[data-status="not_accepted"]');
    assert.match(await p.locator('#timeline').innerText(), /无明确对象或具体线索/);
    assert.equal(await p.locator('details.action').count(), 0);
  });

  // ============ 2. Handler starts the check, records a finding, party notice, statement ============
  const handler = await signIn('handler1', 'handler');
  current = handler.page;
  await check('the handler has the case in the inbox (auto-assigned) and starts the check', async () => {
    const p = handler.page;
    await p.waitForSelector(`#inbox-table tbody tr[data-case="${caseId}"]`);
    await p.goto(`${BASE}/console/#/cases/${caseId}`);
    await p.waitForSelector('[data-status="accepted"]');
    await p.locator('details[data-action="start_check"] > summary').click();
    await p.locator('form[data-action="start_check"] textarea[name="reason"]').fill('开始核查，调取住院病历与结算数据。');
    await p.locator('form[data-action="start_check"] button[type="submit"]').click();
    await p.waitForSelector('[data-status="checking"]');
  });

  await check('the handler records a finding with evidence kinds and two inspectors (after a silent token refresh)', async () => {
    const p = handler.page;
    // The access token has expired but the refresh token is good: the console refreshes
    // silently and sends the form again, with no dialog.
    handler.w.allowStatus(401);
    await p.evaluate(() => { window.Console.session.access = 'expired'; });
    await p.locator('details[data-action="finding"] > summary').click();
    const f = p.locator('form[data-action="finding"]');
    await f.locator('textarea[name="summary"]').fill('现场检查发现 12 名住院病人不在床，病历记载的检查未实际进行。');
    await f.locator('select[name="evidence_kind"]').first().selectOption('documentary');
    await f.locator('input[name="evidence_description"]').first().fill('住院病历 12 份');
    await f.getByRole('button', { name: '增加一项证据' }).click();
    await f.locator('select[name="evidence_kind"]').nth(1).selectOption('inspection_record');
    await f.locator('input[name="evidence_description"]').nth(1).fill('现场检查笔录');
    await f.getByLabel('现场检查', { exact: true }).check();
    await f.locator('textarea[name="inspectors"]').fill('李明\n赵强');
    await f.locator('button[type="submit"]').click();
    await p.waitForSelector('#timeline li[data-event="finding"]');
    assert.match(await p.locator('#timeline').innerText(), /现场检查笔录/);
    assert.equal(await p.locator('dialog#relogin').isVisible(), false);
  });

  await check('the handler notifies the party and records the statement', async () => {
    const p = handler.page;
    for (const [action, text] of [['party_notice', '已送达陈述申辩告知书。'], ['statement', '当事人书面陈述，对事实无异议。']]) {
      await p.locator(`details[data-action="${action}"] > summary`).click();
      await p.locator(`form[data-action="${action}"] textarea[name="reason"]`).fill(text);
      await p.locator(`form[data-action="${action}"] button[type="submit"]`).click();
      await p.waitForSelector(`#timeline li[data-event="${action}"]`);
    }
  });

  await check('the handler asks for an extension (complex case)', async () => {
    const p = handler.page;
    await p.locator('details[data-action="request_extension"] > summary').click();
    const f = p.locator('form[data-action="request_extension"]');
    await f.locator('select[name="kind"]').selectOption('complex');
    await f.locator('textarea[name="reason"]').fill('涉及多家药店，需调取三个月的结算数据。');
    await f.locator('button[type="submit"]').click();
    await p.waitForSelector('#timeline li[data-event="extension_request"]');
  });

  // ============ 3. The supervisor writes to the reporter while the check runs ============
  const sup = await signIn('supervisor1', 'supervisor');
  current = sup.page;
  await check('the supervisor messages the reporter; an expired session keeps the text and sends it after sign-in', async () => {
    const p = sup.page;
    await p.waitForSelector(`#inbox-table tbody tr[data-case="${caseId}"]`);
    await p.goto(`${BASE}/console/#/cases/${caseId}`);
    await p.waitForSelector('[data-status="checking"]');
    const actions = await p.locator('details.action').evaluateAll((els) => els.map((e) => e.dataset.action));
    assert.ok(actions.includes('assign') && actions.includes('message'), actions.join(','));
    assert.ok(!actions.includes('decide') && !actions.includes('finding'), 'a supervisor does not decide');
    // Before the decision a supervisor may mark the case for a quick or heavy reward; no
    // other reward step exists yet.
    const rewardActs = await p.locator('#reward details.reward-action').evaluateAll((els) => els.map((e) => e.dataset.rewardAction));
    assert.deepEqual(rewardActs, ['flags']);
    // Retention (issue 19): a case in progress has not ended; a supervisor may place a hold.
    await p.waitForSelector('#retention form#hold-place');
    assert.ok((await p.locator('#retention').innerText()).includes('尚未办结'));
    await p.locator('details[data-action="message"] > summary').click();
    await p.locator('form[data-action="message"] textarea[name="body"]').fill('您反映的问题正在核查中，感谢您的支持。');
    // The session ends while the form is filled in (access token and refresh token gone):
    // the sign-in dialog opens over the form, and after sign-in the message is sent.
    sup.w.allowStatus(401);
    await p.evaluate(() => { window.Console.session.access = 'expired'; sessionStorage.clear(); });
    await p.locator('form[data-action="message"] button[type="submit"]').click();
    const dlg = p.locator('dialog#relogin');
    await dlg.waitFor();
    assert.equal(await dlg.locator('input[name="username"]').inputValue(), 'supervisor1');
    await dlg.locator('input[name="password"]').fill(PASSWORD);
    await dlg.getByRole('button', { name: '登录' }).click();
    await p.waitForSelector('#messages li.msg.staff');
    assert.equal(await dlg.isVisible(), false);
  });

  await check('the supervisor approves the extension; the handling deadline moves', async () => {
    const p = sup.page;
    const before = await p.locator('#clocks tr[data-clock="handle"] td').nth(2).innerText();
    await p.locator('details[data-action="decide_extension"] > summary').click();
    const f = p.locator('form[data-action="decide_extension"]');
    assert.match(await f.locator('select[name="request"]').innerText(), /handler1/);
    await f.locator('select[name="approve"]').selectOption('true');
    await f.locator('textarea[name="reason"]').fill('同意延长至三个月。');
    await f.locator('button[type="submit"]').click();
    await p.waitForSelector('#timeline li[data-event="extension"]');
    const after = await p.locator('#clocks tr[data-clock="handle"] td').nth(2).innerText();
    assert.ok(after > before, `${before} → ${after}`);
    assert.equal(await p.locator('details[data-action="decide_extension"]').count(), 0, 'nothing left to decide');
  });

  // ============ 4. Handler decides (yuan → fen) and requests the identity ============
  await check('the handler decides; amounts typed in yuan are sent as integer fen', async () => {
    const p = handler.page;
    current = p;
    await p.reload();
    await p.waitForSelector('[data-status="checking"]');
    await p.locator('details[data-action="decide"] > summary').click();
    const f = p.locator('form[data-action="decide"]');
    await f.locator('select[name="outcome"]').selectOption('substantiated');
    await f.locator('input[name="verified_yuan"]').fill('12,345.6');
    await f.locator('input[name="recovered_yuan"]').fill('12345.67');
    await f.locator('textarea[name="penalties"]').fill('罚款 24691.34\n暂停医保服务协议');
    await f.getByLabel('符合奖励条件').check();
    await f.locator('textarea[name="reason"]').fill('经核查举报属实，依法追回并处罚。');
    const req = p.waitForRequest((r) => r.url().endsWith(`/cases/${caseId}/transitions`) && r.method() === 'POST');
    await f.locator('button[type="submit"]').click();
    const body = JSON.parse((await req).postData());
    assert.equal(body.verified_fen, 1234560);
    assert.equal(body.recovered_fen, 1234567);
    assert.deepEqual(body.penalties, [{ kind: '罚款', amount_fen: 2469134 }, { kind: '暂停医保服务协议' }]);
    await p.waitForSelector('[data-status="decided"]');
    assert.match(await p.locator('#decision').innerText(), /¥12,345\.67/);
  });

  await check('the handler requests the reporter’s identity with a reason', async () => {
    const p = handler.page;
    await p.locator('details[data-action="request_identity"] > summary').click();
    await p.locator('form[data-action="request_identity"] textarea[name="reason"]').fill('需当面核实举报人提供的票据原件。');
    await p.locator('form[data-action="request_identity"] button[type="submit"]').click();
    await p.waitForSelector('#flash:not([hidden])');
  });

  // ============ 5. Custodian: mandatory TOTP enrolment, then approves ============
  const cust = await signIn('custodian1', 'custodian');
  current = cust.page;
  await check('the custodian must set up TOTP first: secret and otpauth URI shown', async () => {
    const p = cust.page;
    await p.waitForSelector('#totp-secret:not(:empty)');
    const secret = (await p.locator('#totp-secret').innerText()).replace(/\s+/g, '');
    assert.match(await p.locator('#totp-uri').innerText(), /^otpauth:\/\/totp\/jubao:custodian1\?secret=/);
    assert.equal(await p.locator('#nav').isHidden(), true);
    await p.getByLabel('验证码', { exact: true }).fill(totp(secret));
    await p.getByRole('button', { name: '确认并继续' }).click();
    await p.waitForSelector('#nav:not([hidden])');
  });

  await check('the custodian approves the request from the queue', async () => {
    const p = cust.page;
    await p.goto(`${BASE}/console/#/identity`);
    const card = p.locator(`article.request[data-case="${caseId}"]`);
    await card.waitFor();
    assert.match(await card.innerText(), /需当面核实/);
    await card.locator('textarea[name="reason"]').fill('理由充分，同意查阅一次。');
    await card.locator('button[data-decide="approve"]').click();
    await p.waitForSelector(`tr[data-request] .i-approved`);
  });

  // ============ 6. Handler turns on TOTP, reveals once, then closes ============
  await check('without a second factor the reveal is refused, with where to turn it on', async () => {
    const p = handler.page;
    current = p;
    await p.goto(`${BASE}/console/#/identity`);
    const btn = p.locator('button[data-reveal]');
    await btn.waitFor();
    handler.w.allowStatus(403);
    await btn.click();
    await p.waitForSelector('#flash:not([hidden])');
    assert.match(await p.locator('#flash').innerText(), /我的账号.*动态验证码/);
  });

  await check('the handler turns on TOTP on the account page', async () => {
    const p = handler.page;
    await p.goto(`${BASE}/console/#/account`);
    await p.getByRole('button', { name: '开始设置' }).click();
    await p.waitForSelector('#totp-secret:not(:empty)');
    const secret = (await p.locator('#totp-secret').innerText()).replace(/\s+/g, '');
    await p.getByLabel('验证码', { exact: true }).fill(totp(secret));
    await p.getByRole('button', { name: '确认并继续' }).click();
    await p.waitForSelector('text=动态验证码已启用。');
  });

  await check('the handler reveals the identity once; the button is gone afterwards', async () => {
    const p = handler.page;
    await p.goto(`${BASE}/console/#/identity`);
    const btn = p.locator('button[data-reveal]');
    await btn.waitFor();
    await btn.click();
    await p.waitForSelector('#revealed');
    const shown = await p.locator('#revealed').innerText();
    assert.match(shown, /王晓明/);
    assert.match(shown, /13905350000/);
    await p.getByRole('button', { name: '关闭' }).click();
    await p.waitForSelector('#revealed', { state: 'detached' });
    await p.waitForSelector('.i-revealed');
    assert.equal(await p.locator('button[data-reveal]').count(), 0);
    assert.ok(!(await p.locator('body').innerText()).includes('王晓明'), 'the identity is gone once closed');
  });

  await check('the handler closes the case with feedback for the reporter', async () => {
    const p = handler.page;
    await p.goto(`${BASE}/console/#/cases/${caseId}`);
    await p.waitForSelector('[data-status="decided"]');
    await p.locator('details[data-action="close"] > summary').click();
    await p.locator('form[data-action="close"] textarea[name="feedback"]').fill('您举报的问题经查属实，已依法追回医保基金并作出处理。感谢您的监督。');
    await p.locator('form[data-action="close"] textarea[name="reason"]').fill('处理决定已执行，办结。');
    await p.locator('form[data-action="close"] button[type="submit"]').click();
    await p.waitForSelector('[data-status="closed"]');
    await snap(p, 'case-closed');
    assert.equal(await p.locator('details.action').evaluateAll((els) => els.map((e) => e.dataset.action).join(',')), 'request_identity');
  });

  // ============ 6b. The reward: proposed, approved, notified, claimed, paid ============
  // 12,345.60 yuan verified under the national default policy (5% of the first 50,000
  // yuan): 617.28 yuan, above the 200-yuan floor, under the cap and the supervisor threshold.
  const REWARD_FEN = 61728;
  const YEAR = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 4);
  const fin = await signIn('finance1', 'finance');
  current = fin.page;
  await check('finance must set up TOTP first, then sets the year’s budget for the city in yuan', async () => {
    const p = fin.page;
    await p.waitForSelector('#totp-secret:not(:empty)');
    const secret = (await p.locator('#totp-secret').innerText()).replace(/\s+/g, '');
    await p.getByLabel('验证码', { exact: true }).fill(totp(secret));
    await p.getByRole('button', { name: '确认并继续' }).click();
    await p.waitForSelector('#nav:not([hidden])');
    const nav = await p.locator('#nav').innerText();
    assert.match(nav, /奖励/);
    await p.goto(`${BASE}/console/#/rewards`);
    await p.waitForSelector('#budget-form');
    assert.equal(await p.locator('#rewards-table tbody tr').count(), 0);
    const f = p.locator('#budget-form');
    assert.equal(await f.locator('input[name="year"]').inputValue(), YEAR);
    assert.equal(await f.locator('input[name="region"]').inputValue(), '371500');
    await f.getByLabel('预算金额（元）').fill('100,000');
    const req = p.waitForRequest((r) => r.url().endsWith('/api/v1/finance/budgets') && r.method() === 'POST');
    await f.getByRole('button', { name: '保存预算' }).click();
    assert.deepEqual(JSON.parse((await req).postData()), { year: Number(YEAR), region: '371500', amount_fen: 10000000 });
    const row = p.locator(`#budgets-table tr[data-budget="${YEAR}-371500"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /¥100,000\.00/);
  });

  await check('the case page explains the reward before a proposal: policy, bracket line, floor and cap', async () => {
    const p = handler.page;
    current = p;
    await p.reload();
    await p.waitForSelector('#reward #reward-computation .computation');
    const panel = p.locator('#reward');
    assert.equal(await panel.getAttribute('data-reward-status'), 'none');
    const comp = panel.locator('#reward-computation');
    assert.equal(await comp.locator('.computation').getAttribute('data-amount-fen'), String(REWARD_FEN));
    assert.match(await comp.locator('[data-k="policy"]').innerText(), /default · 第 1 版/);
    const line = comp.locator('tr[data-line="marginal_bracket"]');
    assert.equal(await line.count(), 1);
    assert.match(await line.innerText(), /分段比例\s+¥0\.00 – ¥50,000\.00\s+¥12,345\.60\s+5%\s+¥617\.28/);
    assert.match(await comp.locator('[data-k="floor"]').innerText(), /¥200\.00 · 未适用/);
    assert.match(await comp.locator('[data-k="cap"]').innerText(), /¥100,000\.00 · 未适用/);
    assert.match(await comp.locator('[data-k="amount"]').innerText(), /¥617\.28/);
    // The handler may propose; nothing else.
    const acts = await panel.locator('details.reward-action').evaluateAll((els) => els.map((e) => e.dataset.rewardAction));
    assert.deepEqual(acts, ['propose']);
  });

  await check('yuan typed as text become integer fen without floating point, and back', async () => {
    const r = await handler.page.evaluate(() => {
      const C = window.Console;
      return [C.parseYuan('0.29'), C.parseYuan('1.15'), C.parseYuan('617.2'), C.parseYuan('¥9,007,199,254,740.99'),
        C.parseYuan('0.1.2'), C.parseYuan('1.234'), C.parseYuan('-5'), C.parseYuan(''), C.parseYuan(' ', true),
        C.fmtFen(61728), C.fmtFen(123456789012345), C.fmtFen(5), C.fmtBp(150), C.fmtBp(500)];
    });
    assert.deepEqual(r, [29, 115, 61720, 900719925474099, null, null, null, 0, null,
      '¥617.28', '¥1,234,567,890,123.45', '¥0.05', '1.5%', '5%']);
  });

  await check('the handler proposes the reward in the browser', async () => {
    const p = handler.page;
    await p.locator('details[data-reward-action="propose"] > summary').click();
    const f = p.locator('form[data-reward-action="propose"]');
    assert.equal(await f.locator('select[name="excluded_kind"]').inputValue(), '');
    assert.equal(await f.locator('input[name="facts_already_known"]').isChecked(), false);
    await f.locator('textarea[name="reason"]').fill('举报线索具体，查实违法金额 12,345.60 元，按默认办法计算。');
    const req = p.waitForRequest((r) => r.url().endsWith(`/cases/${caseId}/reward`) && r.method() === 'POST');
    await f.getByRole('button', { name: '提出奖励' }).click();
    const body = JSON.parse((await req).postData());
    assert.equal(body.facts_already_known, false);
    assert.deepEqual(body.excluded_merged, []);
    assert.equal(body.excluded_kind, undefined);
    await p.waitForSelector('#reward[data-reward-status="proposed"]');
    assert.match(await p.locator('#reward-amount').innerText(), /¥617\.28/);
    assert.match(await p.locator('#reward-history').innerText(), /提出奖励/);
  });

  await check('the proposer sees no enabled approve, return or payment control', async () => {
    const p = handler.page;
    const enabled = await p.locator('#reward [data-reward-action] button:not([disabled]), #reward [data-reward-action] summary')
      .evaluateAll((els) => els.map((e) => e.closest('[data-reward-action]').dataset.rewardAction));
    assert.ok(!enabled.includes('approve') && !enabled.includes('return') && !enabled.includes('payment'), enabled.join(','));
    assert.equal(await p.locator('#reward [data-reward-action]').count(), 0);
    // The rule itself: a proposer who also holds the finance and supervisor roles (as one
    // person may) is still offered neither approval, return nor payment.
    const offered = await p.evaluate(async (id) => {
      const C = window.Console;
      const c = await C.get('/api/v1/cases/' + id);
      const r = await C.get('/api/v1/cases/' + id + '/reward');
      const me = { id: r.proposed_by, username: c.assignee, roles: ['handler', 'finance', 'supervisor'] };
      const other = { id: 'someone-else', username: 'finance9', roles: ['finance'] };
      return { me: C.reward.actions(c, r, me), other: C.reward.actions(c, r, other) };
    }, caseId);
    assert.deepEqual(offered.me, []);
    assert.deepEqual(offered.other, ['approve', 'return']);
  });

  await check('finance (another person) approves the reward; the budget counts it as committed', async () => {
    const p = fin.page;
    current = p;
    await p.reload();
    await p.waitForSelector('#budgets-table');
    const row = p.locator(`#rewards-table tr[data-case="${caseId}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-reward-status'), 'proposed');
    await row.locator('a').click();
    await p.waitForSelector('#reward[data-reward-status="proposed"]');
    const acts = await p.locator('#reward details.reward-action').evaluateAll((els) => els.map((e) => e.dataset.rewardAction));
    assert.deepEqual(acts, ['approve', 'return']);
    assert.match(await p.locator('#reward').innerText(), /handler1/);
    await p.locator('details[data-reward-action="approve"] > summary').click();
    const f = p.locator('form[data-reward-action="approve"]');
    assert.match(await f.innerText(), /¥617\.28/);
    await f.locator('textarea[name="reason"]').fill('计算无误，同意。');
    await f.getByRole('button', { name: '批准奖励' }).click();
    await p.waitForSelector('#reward[data-reward-status="approved"]');
    assert.match(await p.locator('#reward-history').innerText(), /奖励审批/);
    await p.goto(`${BASE}/console/#/rewards`);
    const b = p.locator(`#budgets-table tr[data-budget="${YEAR}-371500"]`);
    await b.waitFor();
    assert.match(await b.innerText(), /¥100,000\.00\s+¥0\.00\s+¥617\.28\s+¥99,382\.72/);
  });

  await check('finance tells the reporter; the claim window opens', async () => {
    const p = fin.page;
    await p.goto(`${BASE}/console/#/cases/${caseId}`);
    await p.waitForSelector('#reward[data-reward-status="approved"]');
    await p.locator('details[data-reward-action="notice"] > summary').click();
    await p.locator('form[data-reward-action="notice"]').getByRole('button', { name: '告知举报人领奖' }).click();
    await p.waitForSelector('#reward[data-reward-status="notified"]');
    assert.match(await p.locator('#reward-claim').innerText(), /领取截止 \d{4}-\d{2}-\d{2}，尚未申领/);
    assert.match(await p.locator('#clocks').innerText(), /奖励领取期/);
    // Nothing to pay before the claim.
    assert.equal(await p.locator('[data-reward-action="payment"]').count(), 0);
  });

  await check('the reporter claims the reward on the H5 status page with a bank account', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', isMobile: true, hasTouch: true });
    const p = await context.newPage();
    current = p;
    const w = watch(p, 'reporter');
    await p.goto(`${BASE}/h5/#status`, { waitUntil: 'networkidle' });
    await p.getByLabel('查询编号', { exact: true }).fill(tracking);
    await p.getByLabel('查询密码', { exact: true }).fill(passcode);
    await p.getByRole('button', { name: '查询', exact: true }).click();
    await p.locator('#claim-form:not([hidden])').waitFor();
    assert.match(await p.locator('#reward-amount').innerText(), /617\.28/);
    assert.match(await p.locator('#reward-claim').innerText(), /请在 .* 前申请领取/);
    const f = p.locator('#claim-form');
    // Nothing typed: the card number is asked for first, nothing is sent.
    await f.getByRole('button', { name: '提交领取申请' }).click();
    assert.equal((await p.locator('#e-claim_bank_account').innerText()).trim(), '请填写银行卡号，或选择现场领取');
    await f.getByLabel('银行卡号').fill('6222 0212 3456 7890 123');
    // Wrong ID digits: refused by the server in Chinese, the card number kept.
    const wrong = idNumber.slice(-6) === '000000' ? '111111' : '000000';
    await f.getByLabel('身份证后 6 位').fill(wrong);
    w.allowStatus(422);
    await f.getByRole('button', { name: '提交领取申请' }).click();
    await p.locator('#e-claim_id_last6:not([hidden])').waitFor();
    assert.equal(await f.getByLabel('银行卡号').inputValue(), '6222 0212 3456 7890 123');
    await f.getByLabel('身份证后 6 位').fill(idNumber.slice(-6));
    const req = p.waitForRequest((r) => r.url().endsWith('/api/v1/reports/reward/claim') && r.method() === 'POST');
    await f.getByRole('button', { name: '提交领取申请' }).click();
    const body = JSON.parse((await req).postData());
    assert.equal(body.bank_account, '6222 0212 3456 7890 123');
    assert.equal(body.id_last6, idNumber.slice(-6));
    await p.waitForFunction(() => document.getElementById('claim-ok').textContent.includes('已收到'));
    assert.equal(await p.locator('#claim-form').isHidden(), true);
    assert.match(await p.locator('#reward-state').innerText(), /已申请领取/);
    // The timeline names the reward steps in words, never by their codes.
    const tl = await p.locator('#case-timeline').innerText();
    assert.match(tl, /获得举报奖励[\s\S]*/);
    assert.match(tl, /已申请领取奖励/);
    assert.doesNotMatch(tl, /reward_/);
    await snap(p, 'h5-reward-claimed');
    await context.close();
  });

  await check('finance records the payment: a wrong amount is refused in Chinese with the input kept, then paid in fen', async () => {
    const p = fin.page;
    await p.reload();
    await p.waitForSelector('#reward[data-reward-status="claimed"]');
    assert.match(await p.locator('#reward-claim').innerText(), /举报人已于 .* 申领，方式：银行转账/);
    await p.locator('details[data-reward-action="payment"] > summary').click();
    const f = p.locator('form[data-reward-action="payment"]');
    assert.equal(await f.locator('select[name="method"]').inputValue(), 'bank_transfer');
    assert.equal(await f.locator('input[name="id_last6"]').count(), 0);
    // The payee account only here, on request, masked to its last four digits (audited).
    assert.doesNotMatch(await p.locator('#reward').innerText(), /\*\*\*\* 0123|6222 ?0212/);
    await f.getByRole('button', { name: '查看收款账户（尾号）' }).click();
    await p.waitForFunction(() => document.getElementById('reward-account').textContent === '**** 0123');
    await f.getByLabel('凭证号').fill('BT-2026-000123');
    await f.getByLabel('支付金额（元）').fill('617.2');
    fin.w.allowStatus(422);
    await f.getByRole('button', { name: '登记发放' }).click();
    const err = f.locator('p.error');
    await err.waitFor();
    assert.match(await err.innerText(), /支付金额须等于核定的奖励金额 617\.28 元/);
    assert.equal(await f.locator('input[name="reference"]').inputValue(), 'BT-2026-000123');
    assert.equal(await p.evaluate(() => document.activeElement.name), 'amount_yuan');
    await f.getByLabel('支付金额（元）').fill('617.28');
    // The access token has run out meanwhile: refreshed silently, the form sent again.
    fin.w.allowStatus(401);
    await p.evaluate(() => { window.Console.session.access = 'expired'; });
    const req = p.waitForRequest((r) => r.url().endsWith(`/cases/${caseId}/reward/payment`) && r.method() === 'POST');
    await f.getByRole('button', { name: '登记发放' }).click();
    const body = JSON.parse((await req).postData());
    assert.deepEqual(body, { method: 'bank_transfer', reference: 'BT-2026-000123', amount_fen: REWARD_FEN, paid_on: null });
    assert.equal(typeof body.amount_fen, 'number');
    await p.waitForSelector('#reward[data-reward-status="paid"]');
    const pay = await p.locator('#reward-payment').innerText();
    assert.match(pay, /BT-2026-000123/);
    assert.match(pay, /银行转账/);
    assert.match(pay, /¥617\.28/);
    await p.waitForTimeout(100);
    await snapElement(p.locator('#reward'), 'reward-panel');
  });

  await check('a reward shared by co-reporters: shares listed by case, a claimed share offered for payment by its share id', async () => {
    const p = fin.page;
    // The panel drawn from the real case and reward, with the reward as the API returns a
    // reward split 2:1 between this tip and a merged one, the first share claimed.
    const out = await p.evaluate(async ([id, code]) => {
      const C = window.Console;
      const c = await C.get('/api/v1/cases/' + encodeURIComponent(id));
      const r = await C.get('/api/v1/cases/' + encodeURIComponent(id) + '/reward');
      const shared = Object.assign({}, r, { status: 'notified', paid_at: null, amount_fen: 60001, shares: [
        { share_id: r.shares[0].share_id, case_id: id, weight: 2, amount_fen: 40001, status: 'claimed' },
        { share_id: 'share-2', case_id: 'case-00000x', weight: 1, amount_fen: 20000, status: 'notified' }] });
      const me = Object.assign({}, C.session.user, { id: 'someone-else' });
      const acts = C.reward.actions(c, shared, me);
      const panel = C.reward.panel(c, { reward: shared }, function () {});
      panel.id = 'shared-probe';
      document.body.appendChild(panel);
      return { acts, share: r.shares[0].share_id, rows: Array.from(panel.querySelectorAll('#reward-shares tbody tr')).map((tr) => tr.innerText.replace(/\s+/g, ' ')) };
    }, [caseId, tracking]);
    assert.ok(out.acts.includes('payment'), `payment offered for a claimed share: ${out.acts}`);
    assert.equal(out.rows.length, 2);
    assert.match(out.rows[0], new RegExp(`案件 …${caseId.slice(-6)} 的份额 2 ¥400\\.01 已申领`));
    assert.match(out.rows[1], /案件 …00000x 的份额 1 ¥200\.00 已告知/);
    assert.ok(!out.rows.join(' ').includes(tracking), 'no tracking code on the staff screen');
    const probe = p.locator('#shared-probe');
    await probe.locator('details[data-reward-action="payment"] > summary').click();
    const f = probe.locator('form[data-reward-action="payment"]');
    // Only the claimed share can be paid; the hint names its amount.
    assert.deepEqual(await f.locator('select[name="tip"] option').evaluateAll((os) => os.map((o) => o.value)), [out.share]);
    assert.match(await f.locator('p.hint').filter({ hasText: '须等于' }).innerText(), /¥400\.01/);
    await f.getByLabel('凭证号').fill('BT-SHARE-1');
    await f.getByLabel('支付金额（元）').fill('400.01');
    fin.w.allowStatus(409);
    const req = p.waitForRequest((r) => r.url().endsWith(`/cases/${caseId}/reward/payment`) && r.method() === 'POST');
    await f.getByRole('button', { name: '登记发放' }).click();
    const body = JSON.parse((await req).postData());
    assert.deepEqual(body, { method: 'bank_transfer', reference: 'BT-SHARE-1', amount_fen: 40001, paid_on: null, tip: out.share });
    // The real reward is already paid: the server refuses, and the form shows why.
    await f.locator('p.error:not([hidden])').waitFor();
    await p.evaluate(() => document.getElementById('shared-probe').remove());
  });

  await check('the rewards list and the budget balance reflect the payment', async () => {
    const p = fin.page;
    await p.goto(`${BASE}/console/#/rewards`);
    await p.locator('#rewards-filter select[name="status"]').selectOption('paid');
    await p.locator('#rewards-filter').getByRole('button', { name: '查询' }).click();
    await p.waitForSelector(`#rewards-table tr[data-case="${caseId}"][data-reward-status="paid"]`);
    const row = await p.locator(`#rewards-table tr[data-case="${caseId}"]`).innerText();
    assert.match(row, /已发放/);
    assert.match(row, /¥617\.28/);
    await snap(p, 'rewards-list');
    await p.locator('#rewards-filter select[name="status"]').selectOption('proposed');
    await p.locator('#rewards-filter').getByRole('button', { name: '查询' }).click();
    await p.waitForFunction(() => document.querySelectorAll('#rewards-table tbody tr').length === 0);
    const b = p.locator(`#budgets-table tr[data-budget="${YEAR}-371500"]`);
    assert.match(await b.innerText(), /¥100,000\.00\s+¥617\.28\s+¥0\.00\s+¥99,382\.72/);
    await fin.context.close();
  });

  // ============ 7. The supervisor's dashboard and overdue board ============
  await check('the supervisor’s dashboard draws six charts from /stats/overview', async () => {
    const p = sup.page;
    current = p;
    await p.goto(`${BASE}/console/#/dashboard`);
    await p.waitForSelector('[data-charts="6"]', { timeout: 20000 });
    assert.ok(await p.locator('#chart-status canvas').count() > 0);
    // The reward paid above, in this month, for the county, in yuan from integer fen.
    assert.ok(await p.locator('#chart-rewards canvas').count() > 0);
    const paidRow = p.locator('tr[data-paid]');
    assert.equal(await paidRow.count(), 1);
    assert.match(await paidRow.getAttribute('data-paid'), /^\d{4}-\d{2}-371502$/);
    assert.match(await paidRow.evaluate((tr) => tr.textContent), /371502\s*1\s*¥617\.28/);
    await p.waitForTimeout(300);
    await snap(p, 'dashboard');
    await p.goto(`${BASE}/console/#/overdue`);
    await p.waitForSelector('h1');
  });

  // ============ 8. A handler of another region can neither see nor open the case ============
  await check('a handler of another region neither sees nor opens the case; changes their password', async () => {
    const other = await signIn('handler2', 'other-region');
    current = other.page;
    const p = other.page;
    await p.waitForSelector('#inbox-table');
    assert.equal(await p.locator(`tr[data-case="${caseId}"]`).count(), 0);
    other.w.allowStatus(403);
    await p.goto(`${BASE}/console/#/cases/${caseId}`);
    await p.waitForSelector('h1:has-text("您无权查看此页面")');
    assert.ok(!(await p.locator('main').innerText()).includes('免费体检'));
    // Password change from "my account", then sign-in with the new password.
    await p.goto(`${BASE}/console/#/account`);
    await p.getByLabel('当前密码').fill(PASSWORD);
    await p.getByLabel('新密码（至少 10 个字符）').fill('Changed-Pass-2026!');
    await p.getByLabel('再次输入新密码').fill('Changed-Pass-2026!');
    await p.locator('#password-form button[type="submit"]').click();
    await p.waitForSelector('#flash:has-text("密码已修改")');
    await p.getByRole('button', { name: '退出登录' }).click();
    await p.getByLabel('用户名').fill('handler2');
    await p.getByLabel('密码', { exact: true }).fill('Changed-Pass-2026!');
    await p.getByRole('button', { name: '登录' }).click();
    await p.waitForSelector('#inbox-table');
    await other.context.close();
  });

  // ============ 9. The auditor sees the reveal and verifies the chain ============
  await check('the auditor finds the reveal in the audit log and the chain verifies', async () => {
    const aud = await signIn('auditor1', 'auditor');
    current = aud.page;
    const p = aud.page;
    await p.goto(`${BASE}/console/#/audit`);
    await p.getByLabel('操作', { exact: true }).fill('identity.reveal');
    await p.getByRole('button', { name: '查询' }).click();
    // Two entries: the reveal refused without a second factor, and the one reveal.
    await p.waitForFunction(() => document.querySelectorAll('#audit-table tbody tr').length === 2);
    assert.ok(!(await p.locator('#audit-table').innerText()).includes('王晓明'));
    await p.locator('#audit-verify').click();
    await p.waitForSelector('#verify-result.ok-text');
    await aud.context.close();
  });

  await check('English switch and sign-out', async () => {
    const p = intake.page;
    current = p;
    await p.goto(`${BASE}/console/#/inbox`);
    await p.locator('#lang-toggle').click();
    await p.waitForSelector('h1:has-text("Inbox")');
    assert.equal(await p.evaluate(() => document.documentElement.lang), 'en');
    await p.goto(`${BASE}/console/#/cases/${caseId}`);
    await p.waitForSelector('[data-status="closed"]');
    const text = await p.locator('body').innerText();
    assert.match(text, /Timeline/);
    const raw = text.match(/\b(app|nav|case|f|action|status|cat|col|dash|clock|event|identity|ek|kind|relation|reward|rstatus|line|pay|grade|excluded|budgets|rewards|field)\.[a-zA-Z_]+\b/g);
    assert.equal(raw, null, `untranslated keys: ${raw}`);
    assert.ok(!/[\u4e00-\u9fff]/.test(await p.locator('#clocks').innerText()), 'English labels');
    const reward = await p.locator('#reward').innerText();
    assert.match(reward, /Reward status\s+Paid/);
    assert.match(reward, /Bracket\s+¥0\.00 – ¥50,000\.00/);
    assert.match(reward, /bank transfer/);
    await snap(p, 'case-english');
    await p.goto(`${BASE}/console/#/inbox`);
    await p.waitForSelector('h1:has-text("Inbox")');
    await p.locator('#lang-toggle').click();
    await p.getByRole('button', { name: '退出登录' }).click();
    await p.waitForSelector('form.login');
    assert.equal(await p.evaluate(() => sessionStorage.length), 0);
  });

  await check('no console errors, CSP violations or failed requests anywhere', async () => {
    assertNoProblems();
  });
  console.log(`# ${passed} checks passed`);
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
