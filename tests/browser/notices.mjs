// How the reporter is told, end to end in headless Chromium (issue 17): the H5 form's "how to
// be told" choice, the console's delivery view on a case (each notice: how and when it went
// out, or that it waits and why) and the console's list of notices waiting longer than the
// feedback deadline. Run by tests/browser.rs in two phases against one server without
// `[sms]`, with the staff account below made by `jubao user add`:
//   JUBAO_NOTICES_PHASE=report  — tips filed (one on the H5 page choosing SMS), accepted in
//                                 the console, their notices checked on the case pages;
//   (tests/browser.rs then dates the waiting notice back, as if weeks had passed)
//   JUBAO_NOTICES_PHASE=overdue — the waiting notice is on the overdue board's list.
// Any console error, page error, CSP violation or unexpected HTTP error fails the run.
// Screenshots go to tests/browser/artifacts/notices/.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, checker, screenshots, watcher } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(HERE, 'artifacts', 'notices');
const BASE = (process.env.JUBAO_BASE_URL || '').replace(/\/+$/, '');
const PASSWORD = process.env.JUBAO_STAFF_PASSWORD || 'Console-Test-Pass-2026';
const PHASE = process.env.JUBAO_NOTICES_PHASE || 'report';
const STATE = process.env.JUBAO_NOTICES_STATE; // a file: the case ids, from phase to phase
if (!BASE || !STATE) {
  console.error('JUBAO_BASE_URL and JUBAO_NOTICES_STATE must be set');
  process.exit(2);
}
const ORIGIN = new URL(BASE).origin;
const PHONE = '13905351234';

const { check, passed } = checker();
const snap = screenshots(ARTIFACTS, { keep: PHASE !== 'report', prefix: PHASE });
const problems = [];
const watch = watcher(problems, ORIGIN);

/** A valid 18-digit resident ID (GB 11643 checksum). */
function residentId(base17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...base17].reduce((s, d, i) => s + Number(d) * w[i], 0);
  return base17 + '10X98765432'[sum % 11];
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: CHROMIUM_ARGS,
});
const phone = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };
const desk = { viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };

async function signIn(username) {
  const context = await browser.newContext(desk);
  const page = await context.newPage();
  watch(page, username);
  await page.goto(`${BASE}/console/`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForSelector('#nav:not([hidden])', { timeout: 15000 });
  return { context, page };
}

/** Reload the case page until its notices table has a row in `state` (the outbox works
 *  in the background); the row. */
async function noticeRow(page, caseId, state) {
  await page.goto(`${BASE}/console/#/cases/${caseId}`);
  for (let i = 0; i < 60; i++) {
    // A reload: going to the URL the page is already on would not render it again.
    if (i) await page.reload();
    await page.waitForSelector('#notices');
    const row = page.locator(`#notices tr[data-notice="${state}"]`);
    if (await row.count()) return row.first();
    await page.waitForTimeout(250);
  }
  throw new Error(`no ${state} notice on case ${caseId}: ${await page.locator('#notices').innerText()}`);
}

let exitCode = 0;
let current = null;
try {
  if (PHASE === 'report') {
    // ============ The H5 form: the choice, refused without a phone, then kept ============
    const ctx = await browser.newContext(phone);
    const page = await ctx.newPage();
    current = page;
    const w = watch(page, 'h5');
    let tracking;
    await check('H5: a tip up to the reporter step', async () => {
      await page.goto(`${BASE}/h5/`);
      await page.getByRole('link', { name: '我要举报' }).click();
      await page.getByText('多收费、重复收费', { exact: true }).click();
      await page.getByLabel('请具体说说情况').fill('这家药店刷医保卡的时候每次都多收一笔“服务费”，小票上写的是药品名称。');
      await page.getByRole('button', { name: '下一步' }).click();
      await page.getByLabel('被举报的单位或个人名称').fill('某某大药房');
      await page.getByText('药店', { exact: true }).click();
      await page.getByLabel('在哪个省份（选填）').selectOption({ label: '山东省' });
      await page.getByRole('button', { name: '下一步' }).click();
      await page.locator('#step-3-title').waitFor();
      await page.getByRole('button', { name: '下一步' }).click();
      await page.locator('#step-4-title').waitFor();
    });

    await check('H5: "how to be told" offers the channel, SMS, email and the status page only', async () => {
      const select = page.getByLabel('有进展时怎样告诉您');
      const labels = await select.locator('option').allInnerTexts();
      assert.equal(labels.length, 4, labels.join(' | '));
      assert.match(labels[0], /默认/);
      assert.match(labels[1], /短信/);
      assert.match(labels[2], /电子邮件/);
      assert.match(labels[3], /只在查询页面显示/);
      assert.match(await page.locator('#rep_notify-hint').innerText(), /随时在“查询进度”页面/);
    });
    await snap(page, 'h5-choice');

    await check('H5: SMS chosen without a mobile number is explained next to the choice, nothing stored', async () => {
      await page.getByLabel('有进展时怎样告诉您').selectOption('sms');
      await page.getByRole('button', { name: '下一步' }).click();
      await page.locator('#step-5-title').waitFor();
      assert.match(await page.locator('#review').innerText(), /短信/);
      const resP = page.waitForResponse((r) => r.url() === `${ORIGIN}/api/v1/reports`);
      w.allowStatus(422);
      await page.locator('#submit-report').click();
      const res = await resP;
      assert.equal(res.status(), 422);
      const body = await res.json();
      assert.equal(body.error.field, 'reporter.notify_by');
      await page.locator('#step-4-title').waitFor();
      const err = page.locator('#e-rep_notify');
      await err.waitFor();
      assert.equal((await err.innerText()).trim(), body.error.message);
      assert.match(body.error.message, /手机/);
    });
    await snap(page, 'h5-sms-needs-phone');

    await check('H5: a named reporter with a mobile number keeps SMS; the review says so; filed', async () => {
      await page.getByText('实名举报', { exact: true }).click();
      await page.getByLabel('您的姓名').fill('赵秀兰');
      await page.getByLabel('身份证号码').fill(residentId('37150219560101002'));
      await page.getByLabel('手机号码').fill(PHONE);
      assert.equal(await page.locator('#rep_notify').inputValue(), 'sms', 'the choice is kept');
      await page.getByRole('button', { name: '回到核对页' }).click();
      await page.locator('#step-5-title').waitFor();
      const review = await page.locator('#review').innerText();
      assert.match(review, /有进展时怎样告诉您\s*短信/);
      const reqP = page.waitForRequest((r) => r.url() === `${ORIGIN}/api/v1/reports` && r.method() === 'POST');
      await page.locator('#submit-report').click();
      const req = await reqP;
      const form = req.postData() || '';
      assert.match(form, /"notify_by":"sms"/);
      const res = await req.response();
      assert.equal(res.status(), 201);
      tracking = (await res.json()).tracking_code;
      assert.ok(tracking);
    });
    await ctx.close();

    // A second tip, only for the status page, through the API.
    const res = await fetch(`${BASE}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        target: { name: '某某诊所', kind: 'clinic', region_code: '370000' },
        categories: ['fictitious_services'],
        description: '诊所给没来看病的人开处方刷医保卡，病人根本没拿到药。',
        reporter: { anonymous: true, notify_by: 'page' },
      }),
    });
    assert.equal(res.status, 201, await res.text());

    // ============ The console: accept both, then each case's notices ============
    const intake = await signIn('intake9');
    current = intake.page;
    const p = intake.page;
    const cases = {};
    await check('console: intake finds both tips and accepts them', async () => {
      await p.waitForSelector('#inbox-table tbody tr');
      for (const name of ['某某大药房', '某某诊所']) {
        await p.goto(`${BASE}/console/#/inbox`);
        const row = p.locator('#inbox-table tbody tr', { hasText: name }).first();
        await row.waitFor();
        const id = await row.getAttribute('data-case');
        cases[name] = id;
        await p.goto(`${BASE}/console/#/cases/${id}`);
        await p.locator('details[data-action="accept"] > summary').click();
        await p.locator('details[data-action="accept"] textarea[name="reason"]').fill('线索具体，予以受理。');
        await p.locator('details[data-action="accept"] [type="submit"]').click();
        await p.waitForSelector('[data-status="accepted"]');
      }
    });

    await check('console: the SMS notice waits, and the case says why (no SMS service configured)', async () => {
      const row = await noticeRow(p, cases['某某大药房'], 'waiting');
      const text = await row.innerText();
      assert.match(text, /已受理/);
      assert.match(text, /等待中/);
      assert.match(text, /举报人选择短信，但未配置短信服务/);
      const all = await p.locator('main').innerText();
      assert.ok(!all.includes(PHONE) && !all.includes('赵秀兰'), 'no identity on the case page');
    });
    await snap(p, 'case-waiting');

    await check('console: the status-page notice is delivered there, with its time', async () => {
      const row = await noticeRow(p, cases['某某诊所'], 'sent');
      const text = await row.innerText();
      assert.match(text, /已受理/);
      assert.match(text, /已送达/);
      assert.match(text, /仅查询页面 · \d{4}-\d{2}-\d{2}/);
      assert.equal(await p.locator('#notices tr[data-notice="waiting"]').count(), 0);
    });
    await snap(p, 'case-sent');

    await check('console: a notice waiting less than the feedback deadline is not listed yet', async () => {
      await p.goto(`${BASE}/console/#/overdue`);
      const sec = p.locator('#waiting-notices');
      await sec.waitFor();
      assert.equal(await sec.locator('tr[data-case]').count(), 0, await sec.innerText());
    });
    fs.writeFileSync(STATE, JSON.stringify(cases));
  } else {
    const cases = JSON.parse(fs.readFileSync(STATE, 'utf8'));
    const intake = await signIn('intake9');
    current = intake.page;
    const p = intake.page;
    await check('console: the notice waiting longer than the feedback deadline is listed, with why', async () => {
      await p.goto(`${BASE}/console/#/overdue`);
      const sec = p.locator('#waiting-notices');
      await sec.waitFor();
      assert.match(await sec.locator('h2').innerText(), /超过反馈时限仍未能告知的举报人/);
      const rows = sec.locator('tr[data-case]');
      assert.equal(await rows.count(), 1, await sec.innerText());
      const row = rows.first();
      assert.equal(await row.getAttribute('data-case'), cases['某某大药房']);
      const text = await row.innerText();
      assert.match(text, /370000/);
      assert.match(text, /网页\(H5\)/);
      assert.match(text, /举报人选择短信，但未配置短信服务/);
      const days = Number((await row.locator('td').nth(4).innerText()).trim());
      assert.ok(days > 5, `working days waited: ${days}`);
      // The case link opens the case, whose notice still waits.
      await row.locator('a').first().click();
      await p.waitForSelector('#notices tr[data-notice="waiting"]');
    });
    await snap(p, 'overdue-waiting');
  }

  await check('no console errors, CSP violations or failed requests', async () => {
    assert.deepEqual(problems, [], 'console errors, CSP violations, page errors or failed requests');
  });
} catch (err) {
  exitCode = 1;
  console.error(err);
  if (problems.length) console.error(problems.join('\n'));
  if (current) {
    try { await snap(current, 'failure'); } catch { /* the page may be gone */ }
  }
} finally {
  await browser.close();
}
process.exit(exitCode);
