// Drives examples/chat's page in headless Chromium: one browser, a context
// (its own cookies and connection) per page, pages on two chat nodes in one
// room. Each page joins through the form, types EACH messages into the
// page's input and sends them; every page must then show every message,
// its own, the other pages' and the Go client's, exactly once and in order
// per sender, and say that permessage-deflate was agreed.
//
// Usage: node check.js ROOM EACH GONAME URL...   (one page per URL)
const { chromium } = require('playwright-core');
const [room, each, goName, ...urls] = process.argv.slice(2);
const n = Number(each);
const timeout = 20000;

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const pages = [];
    for (const [i, url] of urls.entries()) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', e => console.error(`page${i + 1}: ${e}`));
      await page.goto(url);
      await page.fill('#room', room);
      await page.fill('#name', `page${i + 1}`);
      await page.click('#joinbtn');
      await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('open'), null, { timeout });
      pages.push({ page, name: `page${i + 1}`, url });
    }
    // Every page types at once.
    await Promise.all(pages.map(async ({ page, name }) => {
      for (let k = 1; k <= n; k++) {
        await page.fill('#text', `${name} #${k}`);
        await page.press('#text', 'Enter');
      }
    }));
    const senders = [...pages.map(p => p.name), goName];
    const total = senders.length * n;
    for (const { page, name, url } of pages) {
      await page.waitForFunction(t => document.querySelectorAll('#log .msg').length >= t, total, { timeout })
        .catch(async e => { throw new Error(`${name}: ${e.message}\n${await page.$eval('#log', l => l.innerText)}`); });
      // Give a duplicate a moment to show up before counting.
      await page.waitForTimeout(300);
      const shown = await page.$$eval('#log .msg', els => els.map(e => [e.querySelector('.name').textContent, e.querySelector('.text').textContent]));
      const status = await page.$eval('#status', e => e.textContent);
      console.log(`${name} on ${url}: ${shown.length} messages, ${status}`);
      if (shown.length !== total) throw new Error(`${name} shows ${shown.length} messages, want ${total}:\n${shown.join('\n')}`);
      for (const s of senders) {
        const texts = shown.filter(([from]) => from === s).map(([, text]) => text);
        const want = Array.from({ length: n }, (_, k) => `${s} #${k + 1}`);
        if (JSON.stringify(texts) !== JSON.stringify(want)) {
          throw new Error(`${name} shows from ${s} ${JSON.stringify(texts)}, want ${JSON.stringify(want)}`);
        }
      }
      if (!status.includes('permessage-deflate')) throw new Error(`${name}: status ${status}, want permessage-deflate agreed`);
    }
    // Presence: the first page saw the others join.
    const presence = await pages[0].page.$$eval('#log .presence', els => els.map(e => e.textContent));
    for (const { name } of pages) {
      if (!presence.includes(`${name} joined`)) throw new Error(`page1 did not see ${name} join: ${presence}`);
    }
    console.log(`every page shows all ${total} messages once, in order per sender`);
  } finally {
    await browser.close();
  }
})().catch(e => { console.error(e); process.exit(1); });
