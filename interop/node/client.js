// The ws client's checks against Go echo servers: every endpoint with
// ws's default offer, and /takeover with each offer of ws's own, all with
// threshold 0 so that every message is compressed. Prints a few lines and
// one RESULT line per case; exits 1 if any failed. Each argument is a
// server, [NAME=]URL (see targets in cases.js): NAME in the RESULT lines
// (default go-server), and a path in URL prefixes every endpoint.
// Usage: node client.js ws://127.0.0.1:PORT [go-eventloop=ws://127.0.0.1:PORT2/http ...]
//        node client.js --mix-digest
'use strict';
const crypto = require('crypto');
const WebSocket = require('ws');
const { mix, runCase, summary, rowLines } = require('./mix');
const { GO_SERVER_VARIANTS, WS_CLIENT_OFFERS, targets } = require('./cases');

function digest() {
  const h = crypto.createHash('sha256');
  for (const s of mix(true)) {
    for (const m of s.msgs) {
      h.update(`${s.name}:${m.type}:${m.data.length}:${(m.chunks || []).join(',')}\n`);
      h.update(m.data);
    }
  }
  return h.digest('hex');
}

function open(url, pmd) {
  const ws = new WebSocket(url, { perMessageDeflate: pmd === false ? false : { threshold: 0, ...pmd } });
  let negotiated = '';
  ws.on('upgrade', (res) => { negotiated = res.headers['sec-websocket-extensions'] || ''; });
  return {
    ws,
    negotiated: () => negotiated,
    sendFragment: (data, isText, fin) => ws.send(data, { binary: !isText, fin }),
  };
}

async function main() {
  if (process.argv[2] === '--mix-digest') {
    console.log(digest());
    return;
  }
  const cases = [
    ...GO_SERVER_VARIANTS.map((v) => ({ ...v, pmd: {} })),
    ...WS_CLIENT_OFFERS,
  ];
  let failed = 0;
  for (const { server, base, prefix } of targets(process.argv.slice(2))) {
    for (const c of cases) {
      const url = base + c.path;
      const name = prefix + c.name;
      console.log(`ws-client ${server} ${name}: ${url}`);
      const res = await runCase(open(url, c.pmd), { expect: c.expect });
      for (const line of rowLines(res)) console.log(line);
      console.log(`  negotiated ${JSON.stringify(res.negotiated)} (server says ${JSON.stringify(res.greeting)})`);
      for (const f of res.failures) console.log(`  FAIL: ${f}`);
      console.log(`RESULT ws-client ${server} ${name} ${res.ok ? 'ok' : 'FAIL'} ${res.ok ? summary(res) : res.failures[0]}`);
      if (!res.ok) failed++;
    }
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exit(1); });
