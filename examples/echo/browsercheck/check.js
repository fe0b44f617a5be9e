// Drives examples/echo's page in headless Chromium the way a person would:
// wait for the /push welcome, send text, JSON and binary, check each echo
// and that permessage-deflate was agreed, close, and print the page's log.
//
// Usage: node check.js URL [PROTOCOL]
//
// PROTOCOL is what the welcome must say the WebSocket came over:
// "HTTP/1.1 (GET)" by default, or "HTTP/2.0 (CONNECT)" for a page served
// over HTTPS by a server that allows WebSockets over HTTP/2 (RFC 8441).
const { chromium } = require('playwright-core');
const [url, protocol = 'HTTP/1.1 (GET)'] = process.argv.slice(2);
(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--ignore-certificate-errors'],
  });
  const page = await browser.newPage({ ignoreHTTPSErrors: true });
  await page.goto(url);
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
  for (const want of [`welcome over ${protocol}`, '< hello, server', '< {"type":"chat"', '< binary [1, 2, 3, 250]', 'close 1000 bye clean=true']) {
    if (!log.includes(want)) throw new Error(`page log lacks ${want}`);
  }
  // Chromium offers permessage-deflate; the example accepts it.
  const extensions = await page.$eval('#extensions', e => e.textContent);
  console.log('extensions:', extensions);
  if (!extensions.startsWith('permessage-deflate')) throw new Error(`extensions ${extensions}, want permessage-deflate`);
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
