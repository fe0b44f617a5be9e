// Drives examples/echo's page in headless Chromium the way a person would:
// wait for the /push welcome, send text, JSON and binary, check each echo
// and that permessage-deflate was agreed, close, and print the page's log. Usage: node check.js http://127.0.0.1:PORT/
const { chromium } = require('playwright-core');
(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = await browser.newPage();
  await page.goto(process.argv[2]);
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('welcome'), null, { timeout: 5000 });
  await page.click('#send');
  await page.click('#json');
  await page.click('#binary');
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('< binary'), null, { timeout: 5000 });
  await page.click('#close');
  await page.waitForFunction(() => document.getElementById('log').textContent.includes('close 1000'), null, { timeout: 5000 });
  console.log(await page.$eval('#log', e => e.innerText));
  console.log('readyState:', await page.$eval('#state', e => e.textContent));
  const log = await page.$eval('#log', e => e.innerText);
  for (const want of ['< hello, server', '< {"type":"chat"', '< binary [1, 2, 3, 250]', 'close 1000 bye clean=true']) {
    if (!log.includes(want)) throw new Error(`page log lacks ${want}`);
  }
  // Chromium offers permessage-deflate; the example accepts it.
  const extensions = await page.$eval('#extensions', e => e.textContent);
  console.log('extensions:', extensions);
  if (!extensions.startsWith('permessage-deflate')) throw new Error(`extensions ${extensions}, want permessage-deflate`);
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
