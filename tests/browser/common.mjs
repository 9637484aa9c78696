// Helpers shared by the console browser tests (console.mjs, setup.mjs).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s) from a base32 secret, `offset` steps ahead. */
export function totp(base32, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of base32.replace(/[\s=]/g, '').toUpperCase()) {
    bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', key).update(msg).digest();
  const o = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(o) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, '0');
}

/**
 * `watch(page, label)` records into `problems` every console error, CSP report, page error,
 * failed request and HTTP error (≥ 400) of `origin`, except those announced beforehand with
 * `allowStatus(...)` (one response and its console line each).
 */
export function watcher(problems, origin) {
  return function watch(page, label) {
    const allowed = [];
    page.on('console', (msg) => {
      if (msg.type() !== 'error' && !/Content Security Policy/i.test(msg.text())) return;
      const text = msg.text();
      const idx = allowed.findIndex((a) => !a.consoleSeen && a.console.test(text));
      if (idx !== -1) {
        allowed[idx].consoleSeen = true;
        return;
      }
      problems.push(`[${label}] console: ${text} (${msg.location().url || ''})`);
    });
    page.on('pageerror', (err) => problems.push(`[${label}] page error: ${err.message}`));
    page.on('requestfailed', (req) => {
      if (!req.url().startsWith(origin)) return;
      problems.push(`[${label}] request failed: ${req.method()} ${req.url()} ${(req.failure() || {}).errorText || ''}`);
    });
    page.on('response', (res) => {
      if (!res.url().startsWith(origin) || res.status() < 400) return;
      const idx = allowed.findIndex((a) => a.status.includes(res.status()) && !a.responseSeen);
      if (idx !== -1) {
        allowed[idx].responseSeen = true;
        return;
      }
      problems.push(`[${label}] HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
    });
    return {
      allowStatus(...statuses) {
        allowed.push({ status: statuses, console: new RegExp(`status of (${statuses.join('|')})\\b`) });
      },
    };
  };
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `check(name, fn)` runs one named check and prints `ok N - name` or `not ok - name` (then
 * rethrows); `passed()` is how many passed. */
export function checker() {
  let n = 0;
  return {
    async check(name, fn) {
      try {
        await fn();
      } catch (err) {
        console.log(`not ok - ${name}`);
        throw err;
      }
      n++;
      console.log(`ok ${n} - ${name}`);
    },
    passed: () => n,
  };
}

/** Screenshots into `dir` (its earlier `.png` files removed unless `keep`): `snap(page, name)`
 * writes `NN-name.png`, numbered in order, or `prefix-name.png` when a prefix is given. */
export function screenshots(dir, { keep = false, prefix = null } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  if (!keep) {
    for (const f of fs.readdirSync(dir)) {
      if (f.endsWith('.png')) fs.rmSync(path.join(dir, f));
    }
  }
  let shot = 0;
  return async function snap(target, name, options = { fullPage: true }) {
    shot++;
    const file = prefix ? `${prefix}-${name}.png` : `${String(shot).padStart(2, '0')}-${name}.png`;
    await target.screenshot({ path: path.join(dir, file), ...options });
  };
}
