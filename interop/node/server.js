// An echo server on Node's ws for the Go client to check against: one
// endpoint per permessage-deflate configuration (cases.js), speaking the
// protocol of interop/internal/echo: a "negotiated:" greeting, "stats?"
// answered with the TCP byte counts, and every other message echoed with
// its type, even-numbered ones whole and odd ones in fragments.
// Usage: node server.js PORT (0 for a free one)
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');
const { WS_SERVER_VARIANTS } = require('./cases');

const port = Number(process.argv[2] || 18101);
const CHUNKS = [1, 13, 500, 4096, 70000, 7];
const log = (...a) => console.log(new Date().toISOString(), ...a);

const servers = new Map();
for (const [name, opts] of Object.entries(WS_SERVER_VARIANTS)) {
  const wss = new WebSocketServer({
    noServer: true,
    // threshold 0: compress every message, however short.
    perMessageDeflate: opts === false ? false : { threshold: 0, ...opts },
  });
  // The response's Sec-WebSocket-Extensions, which ws keeps to itself.
  wss.on('headers', (headers, req) => {
    const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
    req.negotiated = line ? line.slice(line.indexOf(':') + 1).trim() : '';
  });
  wss.on('connection', (ws, req) => serve(name, ws, req));
  servers.set('/' + name, wss);
}

function serve(name, ws, req) {
  const who = `/${name} ${req.socket.remotePort}`;
  const sock = req.socket;
  let echoed = 0;
  log(who, 'connected, extensions', JSON.stringify(req.negotiated));
  ws.send('negotiated:' + req.negotiated);
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.length === 6 && data.toString() === 'stats?') {
      ws.send('stats:' + JSON.stringify({ wireIn: sock.bytesRead, wireOut: sock.bytesWritten, echoed }));
      return;
    }
    if (echoed % 2 === 0) {
      ws.send(data, { binary: isBinary });
    } else {
      let off = 0;
      for (let i = 0; ; i++) {
        const end = Math.min(data.length, off + CHUNKS[i % CHUNKS.length]);
        ws.send(data.subarray(off, end), { binary: isBinary, fin: end === data.length });
        off = end;
        if (off === data.length) break;
      }
    }
    echoed++;
  });
  ws.on('error', (e) => log(who, 'error after', echoed, 'echoes:', e.message, e.code || ''));
  ws.on('close', (code, reason) => log(who, 'closed with', code, JSON.stringify(reason.toString()), 'after', echoed, 'echoes'));
}

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
server.on('upgrade', (req, socket, head) => {
  const wss = servers.get(new URL(req.url, 'http://x').pathname);
  if (!wss) {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
// The address logged is the one bound: PORT 0 picks a free port, which
// cmd/ws's test reads from this line.
server.listen(port, '127.0.0.1', () => log(`ws ${require('ws/package.json').version} echo server on 127.0.0.1:${server.address().port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
