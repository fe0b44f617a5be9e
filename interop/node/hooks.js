// Real peers for the Go test of the OnOpen/OnClose hooks and Stats
// (interop/internal/check/hooks_test.go).
//
//   node hooks.js client URL ENDING    Node's ws as a client of the Go server
//   node hooks.js browser URL ENDING   headless Chromium's WebSocket, same
//   node hooks.js server               Node's ws as a server; prints its port
//
// A client sends "hello" (text; ws sends it uncompressed), 2000 bytes of
// binary (ws compresses it) and a ping (ws only), waits for the echoes (and
// the pong), and ends as ENDING says: "code" closes with 4000 "bye",
// "nocode" closes with no code, "terminate" cuts the TCP connection (ws
// only). It prints one JSON line: the close code its
// WebSocket reported. The server echoes the first message of each
// connection and closes it with 4001, then exits.
'use strict';
const WebSocket = require('ws');

const [, , mode, url, ending] = process.argv;
const TIMEOUT_MS = 20000;
setTimeout(() => { console.error('hooks.js: timed out'); process.exit(2); }, TIMEOUT_MS).unref();

function runClient() {
  const ws = new WebSocket(url, { perMessageDeflate: true });
  let echoes = 0;
  let ponged = false;
  const maybeEnd = () => {
    if (echoes < 2 || !ponged) return;
    if (ending === 'code') ws.close(4000, 'bye');
    else if (ending === 'nocode') ws.close();
    else ws.terminate();
  };
  ws.on('open', () => {
    ws.send('hello', { compress: false });
    ws.send(Buffer.alloc(2000, 'a'), { compress: true });
    ws.ping('p');
  });
  ws.on('message', () => { echoes++; maybeEnd(); });
  ws.on('pong', () => { ponged = true; maybeEnd(); });
  ws.on('close', (code) => { console.log(JSON.stringify({ code })); process.exit(0); });
  ws.on('error', (e) => { console.error(String(e)); process.exit(1); });
}

async function runBrowser() {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
  try {
    const page = await browser.newPage();
    await page.goto(url.replace(/^ws/, 'http').replace(/\/ws$/, '/'), { timeout: 10000 });
    const code = await page.evaluate(({ url, ending }) => new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      let echoes = 0;
      ws.onopen = () => {
        ws.send('hello');
        ws.send(new Uint8Array(2000).fill(97));
      };
      ws.onmessage = () => {
        if (++echoes < 2) return;
        if (ending === 'code') ws.close(4000, 'bye');
        else ws.close();
      };
      ws.onclose = (e) => resolve(e.code);
      ws.onerror = () => reject(new Error('WebSocket error'));
    }), { url, ending });
    console.log(JSON.stringify({ code }));
  } finally {
    await browser.close();
  }
}

function runServer() {
  const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true }, () => {
    console.log(JSON.stringify({ port: wss.address().port }));
  });
  wss.on('connection', (ws) => {
    ws.once('message', (data, isBinary) => {
      ws.send(data, { binary: isBinary });
      ws.close(4001, 'from ws');
    });
    ws.on('close', () => wss.close());
  });
}

if (mode === 'client') runClient();
else if (mode === 'browser') runBrowser().catch((e) => { console.error(String(e)); process.exit(1); });
else if (mode === 'server') runServer();
else { console.error('usage: node hooks.js client|browser URL ENDING, or node hooks.js server'); process.exit(2); }
