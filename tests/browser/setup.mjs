// The console's first-time setup page (#/setup) in headless Chromium, on a fresh server with
// no admin. Run by tests/browser.rs, which reads the one-time setup code from the server's
// output and passes it here, or by hand:
//   JUBAO_BASE_URL=http://127.0.0.1:8080 JUBAO_SETUP_CODE=ABCD-… node tests/browser/setup.mjs
// A wrong code is refused with the localized message (Chinese, then English) and nothing
// typed is lost; the right code creates the admin, who lands in TOTP enrolment and then on
// the admin page; the admin creates a user (auditor waits for a second admin, handler is
// given), who at first sign-in sets their own password before anything else; the used code
// is refused. Any console error, page error, CSP violation or
// unexpected HTTP error fails the run. Screenshots go to tests/browser/artifacts/setup/.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, checker, screenshots, totp, watcher } from './common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(HERE, 'artifacts', 'setup');
const BASE = (process.env.JUBAO_BASE_URL || '').replace(/\/+$/, '');
const CODE = process.env.JUBAO_SETUP_CODE || '';
if (!BASE || !CODE) {
  console.error('JUBAO_BASE_URL and JUBAO_SETUP_CODE must be set');
  process.exit(2);
}
const ORIGIN = new URL(BASE).origin;
const PASSWORD = 'Setup-Admin-Pass-2026';

const { check, passed } = checker();
const snap = screenshots(ARTIFACTS);
const problems = [];
const watch = watcher(problems, ORIGIN);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
const page = await context.newPage();
const w = watch(page, 'setup');
let exitCode = 0;
try {
  // A wrong code is one the server did not print: change its first character.
  const wrong = (CODE[0] === 'A' ? 'B' : 'A') + CODE.slice(1);

  await check('the sign-in page links to the first-time setup page', async () => {
    await page.goto(`${BASE}/console/`);
    await page.waitForSelector('form.login');
    await page.getByRole('link', { name: '首次设置' }).click();
    await page.waitForSelector('#setup-form');
    assert.equal(new URL(page.url()).hash, '#/setup');
    assert.match(await page.locator('h1').innerText(), /首次设置/);
    // Every control has its label.
    for (const label of ['初始化码', '用户名', '姓名', '电子邮箱', '新密码（至少 10 个字符）', '再次输入新密码']) {
      assert.equal(await page.getByLabel(label, { exact: false }).count() >= 1, true, label);
    }
  });

  await check('mismatched passwords are caught before anything is sent', async () => {
    const f = page.locator('#setup-form');
    await f.getByLabel('初始化码').fill(wrong);
    await f.getByLabel('用户名').fill('admin1');
    await f.getByLabel('姓名').fill('系统管理员');
    await f.getByLabel('新密码（至少 10 个字符）').fill(PASSWORD);
    await f.getByLabel('再次输入新密码').fill(PASSWORD + 'x');
    let sent = false;
    const onReq = (r) => { if (r.url().includes('/auth/setup')) sent = true; };
    page.on('request', onReq);
    await f.getByRole('button', { name: '创建管理员' }).click();
    await page.waitForSelector('#setup-error:not([hidden])');
    assert.match(await page.locator('#setup-error').innerText(), /两次输入的新密码不一致/);
    page.off('request', onReq);
    assert.equal(sent, false);
    await f.getByLabel('再次输入新密码').fill(PASSWORD);
  });

  await check('a wrong code is refused in Chinese, with everything typed kept', async () => {
    const f = page.locator('#setup-form');
    w.allowStatus(401);
    await f.getByRole('button', { name: '创建管理员' }).click();
    await page.waitForSelector('#setup-error:has-text("初始化码不正确或已使用")');
    assert.equal(await f.getByLabel('用户名').inputValue(), 'admin1');
    assert.equal(await f.getByLabel('新密码（至少 10 个字符）').inputValue(), PASSWORD);
    assert.equal(await page.evaluate(() => document.activeElement.name), 'setup_code');
    await snap(page, 'setup-wrong-code');
  });

  await check('in English the same refusal reads in English', async () => {
    await page.locator('#lang-toggle').click();
    await page.waitForSelector('h1:has-text("First-time setup")');
    const f = page.locator('#setup-form');
    assert.equal(await f.getByLabel('Username').inputValue(), 'admin1', 'typed values survive the switch');
    w.allowStatus(401);
    await f.getByRole('button', { name: 'Create the administrator' }).click();
    await page.waitForSelector('#setup-error:has-text("The setup code is wrong or already used.")');
    const text = await page.locator('main').innerText();
    assert.ok(!/[\u4e00-\u9fff]/.test(text.replace('系统管理员', '')), 'no Chinese left on the English page');
    await page.locator('#lang-toggle').click();
    await page.waitForSelector('h1:has-text("首次设置")');
  });

  let secret;
  await check('the printed code creates the admin, who lands in TOTP enrolment', async () => {
    const f = page.locator('#setup-form');
    await f.getByLabel('初始化码').fill(CODE.toLowerCase());
    const req = page.waitForRequest((r) => r.url().endsWith('/api/v1/auth/setup'));
    await f.getByRole('button', { name: '创建管理员' }).click();
    const body = JSON.parse((await req).postData());
    assert.deepEqual(Object.keys(body).sort(), ['display_name', 'email', 'password', 'setup_code', 'username']);
    assert.equal(body.display_name, '系统管理员');
    assert.equal(body.email, null);
    await page.waitForSelector('#totp-secret:not(:empty)');
    assert.match(await page.locator('#totp-uri').innerText(), /^otpauth:\/\/totp\/jubao:admin1\?secret=/);
    assert.equal(await page.locator('#nav').isHidden(), true);
    assert.equal(new URL(page.url()).hash, '#/');
    secret = (await page.locator('#totp-secret').innerText()).replace(/\s+/g, '');
    await snap(page, 'setup-enrol');
  });

  await check('after enrolment the admin is in the console, national, admin only', async () => {
    await page.getByLabel('验证码', { exact: true }).fill(totp(secret));
    await page.getByRole('button', { name: '确认并继续' }).click();
    await page.waitForSelector('#nav:not([hidden])');
    await page.waitForSelector('[data-users]');
    assert.equal(new URL(page.url()).hash, '#/admin');
    assert.match(await page.locator('#who-region').innerText(), /000000/);
    assert.match(await page.locator('#who-roles').innerText(), /管理员/);
    assert.equal(await page.locator('[data-users]').getAttribute('data-users'), 'admin1');
  });

  await check('an admin-made user: auditor waits for a second admin; handler is given', async () => {
    const f = page.locator('#new-user-form');
    await f.getByLabel('用户名').fill('handler7');
    await f.getByLabel('区划代码（6 位）').fill('371502');
    await f.locator('input[name="roles"][value="handler"]').check();
    await f.locator('input[name="roles"][value="auditor"]').check();
    await f.getByLabel('初始密码（至少 10 个字符）').fill('Initial-Pass-2026');
    await f.getByRole('button', { name: '提交' }).click();
    await page.waitForSelector('#role-grants tr[data-grant="handler7:auditor"]');
    assert.match(await page.locator('#flash').innerText(), /以下角色须经另一名管理员批准后才生效：审计/);
    // The admin who asked sees it waiting, with no approve button of their own.
    const row = page.locator('#role-grants tr[data-grant="handler7:auditor"]');
    assert.match(await row.innerText(), /等待另一名管理员审批/);
    assert.equal(await row.getByRole('button', { name: '批准' }).count(), 0);
    assert.match(await page.locator('[data-users]').getAttribute('data-users'), /handler7/);
    await snap(page, 'admin-pending-grant');
  });

  await check('at first sign-in the user sets their own password, then works normally', async () => {
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForSelector('form.login');
    await page.getByLabel('用户名').fill('handler7');
    await page.getByLabel('密码', { exact: true }).fill('Initial-Pass-2026');
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForSelector('#first-password-form');
    assert.match(await page.locator('h1').innerText(), /设置您自己的密码/);
    assert.equal(await page.locator('#nav').isHidden(), true);
    await page.getByLabel('新密码（至少 10 个字符）').fill('Handler-Own-Pass-2026');
    await page.getByLabel('再次输入新密码').fill('Handler-Own-Pass-2026');
    await snap(page, 'first-password');
    await page.getByRole('button', { name: '设置密码并继续' }).click();
    await page.waitForSelector('#nav:not([hidden])');
    assert.equal(new URL(page.url()).hash, '#/inbox');
    assert.match(await page.locator('#who-roles').innerText(), /承办/);
    assert.doesNotMatch(await page.locator('#who-roles').innerText(), /审计/);
  });

  await check('the code works once: used again it is refused', async () => {
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForSelector('form.login');
    await page.goto(`${BASE}/console/#/setup`);
    await page.waitForSelector('#setup-form');
    const f = page.locator('#setup-form');
    await f.getByLabel('初始化码').fill(CODE);
    await f.getByLabel('用户名').fill('admin2');
    await f.getByLabel('新密码（至少 10 个字符）').fill(PASSWORD);
    await f.getByLabel('再次输入新密码').fill(PASSWORD);
    w.allowStatus(401);
    await f.getByRole('button', { name: '创建管理员' }).click();
    await page.waitForSelector('#setup-error:has-text("初始化码不正确或已使用")');
  });

  await check('no console errors, CSP violations or failed requests', async () => {
    assert.deepEqual(problems, [], 'console errors, CSP violations, page errors or failed requests');
  });
  console.log(`# ${passed()} checks passed`);
} catch (err) {
  exitCode = 1;
  console.error(err);
  try { await snap(page, 'failure'); } catch (e) { /* ignore */ }
  if (problems.length) console.error('problems seen:\n  ' + problems.join('\n  '));
} finally {
  await browser.close();
}
process.exit(exitCode);
