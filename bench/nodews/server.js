'use strict';

// An echo server on Node's ws for bench/cmd/serverbench, which starts it
// as `node --expose-gc server.js` and speaks to it over stdin and stdout:
//
//   - once listening on 127.0.0.1 (a port of the system's choice), it
//     prints "ready HOST:PORT {json}", the JSON naming the versions and
//     the masking code in use;
//   - to each line "mem" on stdin it answers, after two collections,
//     "mem {json}" with process.memoryUsage();
//   - it exits when stdin ends, so that it never outlives the harness.
//
// Each message is sent back with its type, as ws's README echoes, with
// permessage-deflate off (the harness's client never offers it anyway).

const fs = require('fs');
const http = require('http');
const path = require('path');
const readline = require('readline');
const { WebSocketServer } = require('ws');

function version(pkg) {
  try {
    const file = path.join(__dirname, 'node_modules', pkg, 'package.json');
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return 'absent';
  }
}

// masking names what unmasks the client's frames: ws uses Node's own
// http.websocketUnmask where Node has it, else bufferutil unless
// WS_NO_BUFFER_UTIL is set, else its JavaScript loop. bufferutil itself
// falls back to JavaScript when its native addon does not load.
function masking() {
  if (typeof http.websocketUnmask === 'function') return 'node:http';
  if (process.env.WS_NO_BUFFER_UTIL) return 'javascript';
  try {
    const { unmask } = require('bufferutil');
    return /\[native code\]/.test(String(unmask)) ? 'bufferutil (native)' : 'bufferutil (JavaScript fallback)';
  } catch {
    return 'javascript';
  }
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
});

wss.on('connection', (ws) => {
  ws.on('error', () => {}); // a reset connection; 'close' follows
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

wss.on('listening', () => {
  const { address, port } = wss.address();
  const info = {
    runtime: `node ${process.version}`,
    ws: version('ws'),
    bufferutil: version('bufferutil'),
    masking: masking(),
  };
  process.stdout.write(`ready ${address}:${port} ${JSON.stringify(info)}\n`);
});

const control = readline.createInterface({ input: process.stdin });
control.on('line', (line) => {
  if (line.trim() !== 'mem') return;
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  const report = { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
  process.stdout.write(`mem ${JSON.stringify(report)}\n`);
});
control.on('close', () => process.exit(0));
