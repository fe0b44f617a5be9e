// Opens the wasmtest page in headless Chromium and prints the page's
// console lines until the Go program says "wasmtest: DONE", or 60 s pass.
//
// Usage: node driver.js URL   (with playwright-core in NODE_PATH)
const { chromium } = require('playwright-core');
const url = process.argv[2];
(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const done = new Promise((resolve) => {
      page.on('console', (m) => {
        const text = m.text();
        console.log(text);
        if (text.includes('wasmtest: DONE')) resolve();
      });
      page.on('pageerror', (e) => {
        console.log(`wasmtest: FAIL page error: ${e}`);
        resolve();
      });
    });
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('no "wasmtest: DONE" within 60 s')), 60000);
    });
    await page.goto(url);
    await Promise.race([done, timeout]);
    clearTimeout(timer);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
