// Headless Chromium's checks against Go echo servers: in a page the
// server serves (so that the connections are same-origin), for each
// endpoint, the browser's own WebSocket sends the message mix of mix.js
// (text, JSON, ArrayBuffer binary up to 1.1 MiB), verifies every echo,
// and closes with 1000. Prints a few lines and one RESULT line per case;
// exits 1 if any failed. Each argument is a server, [NAME=]URL (see
// targets in cases.js): NAME in the RESULT lines (default go-server), and
// a path in URL prefixes the page and every endpoint. One browser serves
// them all, a page each.
// Usage: node browser.js http://127.0.0.1:PORT [go-eventloop=http://127.0.0.1:PORT2 ...]
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');
const { summary, rowLines } = require('./mix');
const { GO_SERVER_VARIANTS, targets } = require('./cases');

const CASE_TIMEOUT_MS = 60000;

function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
  let failed = 0;
  try {
    console.log(`chromium ${browser.version()}`);
    for (const { server, base, prefix } of targets(process.argv.slice(2))) {
      const page = await browser.newPage();
      page.on('console', (m) => console.log(`  [page] ${m.text()}`));
      await page.goto(base + '/', { timeout: 10000 });
      await page.addScriptTag({ path: path.join(__dirname, 'mix.js') });
      for (const c of GO_SERVER_VARIANTS) {
        const url = base.replace(/^http/, 'ws') + c.path;
        const name = prefix + c.name;
        console.log(`chromium ${server} ${name}: ${url}`);
        let res;
        try {
          res = await within(CASE_TIMEOUT_MS, page.evaluate(async ({ url, expect }) => {
            const ws = new WebSocket(url);
            return globalThis.interopMix.runCase({ ws, negotiated: () => ws.extensions }, { expect });
          }, { url, expect: c.expect }), c.name);
        } catch (e) {
          res = { ok: false, negotiated: '', greeting: '', rows: [], failures: [String(e.message || e)] };
        }
        for (const line of rowLines(res)) console.log(line);
        console.log(`  negotiated ${JSON.stringify(res.negotiated)} (server says ${JSON.stringify(res.greeting)})`);
        for (const f of res.failures) console.log(`  FAIL: ${f}`);
        console.log(`RESULT chromium ${server} ${name} ${res.ok ? 'ok' : 'FAIL'} ${res.ok ? summary(res) : res.failures[0]}`);
        if (!res.ok) failed++;
      }
      await page.close();
    }
  } finally {
    await browser.close();
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exit(1); });
