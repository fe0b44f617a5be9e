// The message mix and the check of one connection, shared by the ws client
// (client.js, in Node) and the browser check (browser.js injects this file
// into a page). The messages are those of interop/internal/check/mix.go,
// byte for byte, from the same seeds; run.sh compares the digests. A change
// here needs the same change there.
(function (root) {
  'use strict';

  // Thresholds on a segment's wire size over its payload size, as in
  // interop/internal/check/check.go.
  const COMPRESSIBLE_MAX = 0.5;
  const CHAT_TAKEOVER_MAX = 0.7;
  const CHAT_STANDALONE_MIN = 0.8;
  const INCOMPRESSIBLE_MAX = 1.02;

  // xorshift32; every step keeps the state an unsigned 32-bit integer.
  function rng(seed) {
    let s = seed >>> 0;
    return function next() {
      let x = s;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      s = x >>> 0;
      return s;
    };
  }

  const ROOMS = ['general', 'random', 'dev'];
  const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const PHRASES = [
    'hello everyone',
    'has anyone seen the build logs from last night?',
    'lunch at noon?',
    '¿Qué tal? 👋',
    'the deploy finished, all green ✅',
    'Grüße aus Köln',
    'ok',
    '東京は晴れです',
  ];
  const LEVELS = ['INFO', 'INFO', 'INFO', 'WARN', 'DEBUG', 'ERROR'];
  const PATHS = ['/api/v1/items', '/api/v1/users', '/static/app.js', '/healthz'];
  const STATUSES = [200, 200, 200, 201, 304, 404, 500];
  const UTF8_LINE = 'Grüße aus Köln — 東京の天気は晴れ — Привет, мир — 🎉🚀👩🏽‍💻 — ½ ∑ ∞ ≠ ok\n';

  const enc = new TextEncoder();

  function pad(n, width) {
    return String(n).padStart(width, '0');
  }

  function logText(next, n) {
    let s = '';
    for (let i = 0; s.length < n; i++) {
      const v = next();
      s += `2023-11-14T22:13:${pad(Math.floor(i / 1000) % 60, 2)}.${pad(i % 1000, 3)}Z ` +
        `${LEVELS[v % 6]} req=${pad(i, 6)} path=${PATHS[(v >>> 3) % 4]}/${(v >>> 5) % 1000} ` +
        `status=${STATUSES[(v >>> 15) % 7]} dur=${(v >>> 18) % 250}ms\n`;
    }
    return s.slice(0, n); // ASCII, so characters are bytes
  }

  function records(next, n) {
    const b = new Uint8Array(n + 32);
    const tail = enc.encode('temperature-c\0\0\0');
    let off = 0;
    for (let seq = 0; off < n; seq++) {
      const v = next();
      const value = 20000 + ((v >>> 8) % 64);
      b.set([seq & 255, (seq >>> 8) & 255, (seq >>> 16) & 255, (seq >>> 24) & 255,
        0x53, 0x45, 0x4e, 0x53, // SENS
        v % 8, 0, 0, 0,
        value & 255, (value >>> 8) & 255, (value >>> 16) & 255, (value >>> 24) & 255], off);
      b.set(tail, off + 16);
      off += 32;
    }
    return b.subarray(0, n);
  }

  function random(next, n) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = next();
      for (let j = 0; j < 4 && i + j < n; j++) b[i + j] = (v >>> (8 * j)) & 255;
    }
    return b;
  }

  const text = (s) => ({ type: 'text', text: s, data: enc.encode(s) });
  const binary = (b) => ({ type: 'binary', data: b });

  // mix returns the segments; without streamed, the one whose messages
  // are sent in many fragments is left out (a browser cannot do that).
  function mix(streamed) {
    const segs = [];
    let next = rng(1);
    const chat = { name: 'chat', kind: 'chat', msgs: [] };
    for (let i = 0; i < 300; i++) {
      chat.msgs.push(text(`{"type":"chat","seq":${i},"room":"${ROOMS[i % 3]}","user":"${USERS[i % 5]}",` +
        `"text":"${PHRASES[next() % PHRASES.length]}","ts":${1700000000000 + i * 1337}}`));
    }
    segs.push(chat);
    segs.push({ name: 'empty', kind: 'misc', msgs: [text(''), binary(new Uint8Array(0))] });
    segs.push({ name: 'utf8', kind: 'misc', msgs: [text('é'), text('€'), text('😀'), text(UTF8_LINE.repeat(40))] });

    next = rng(2);
    const log = text(logText(next, 150 << 10));
    segs.push({ name: 'text-150k', kind: 'compressible', msgs: [log, log] });

    next = rng(3);
    const bin = binary(records(next, (1 << 20) + 100000));
    segs.push({ name: 'binary-1.1m', kind: 'compressible', msgs: [bin, bin] });

    next = rng(4);
    const rnd = { name: 'random', kind: 'incompressible', msgs: [] };
    for (const n of [1, 125, 126, 127, 65535, 65536, 65537, 300 << 10]) rnd.msgs.push(binary(random(next, n)));
    rnd.msgs.push(rnd.msgs[rnd.msgs.length - 1]);
    segs.push(rnd);

    if (streamed) {
      const lineBytes = enc.encode(UTF8_LINE).length;
      const long = text(UTF8_LINE.repeat(Math.floor((64 << 10) / lineBytes) + 1));
      long.chunks = [];
      for (let left = long.data.length; left > 0; left -= 7) long.chunks.push(Math.min(7, left));
      next = rng(5);
      const data = binary(records(next, 512 << 10));
      data.chunks = [];
      for (let left = data.data.length; left > 0;) {
        const n = Math.min(left, 1 + (next() % 3000));
        data.chunks.push(n);
        left -= n;
      }
      segs.push({ name: 'streamed', kind: 'compressible', msgs: [long, data] });
    }
    return segs;
  }

  // normalize puts a Sec-WebSocket-Extensions value in the canonical form
  // of check.Normalize in Go.
  function normalize(v) {
    const exts = [];
    for (const e of (v || '').split(',')) {
      const parts = [];
      for (const p of e.split(';')) {
        const eq = p.indexOf('=');
        let t = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
        if (eq >= 0) t += '=' + p.slice(eq + 1).trim().replace(/^"+|"+$/g, '');
        if (t !== '') parts.push(t);
      }
      if (parts.length === 0) continue;
      exts.push([parts[0], ...parts.slice(1).sort()].join('; '));
    }
    return exts.join(', ');
  }

  function tokens(norm) {
    const set = new Set();
    for (const e of norm.split(', ')) for (const p of e.split('; ')) set.add(p.split('=')[0]);
    return set;
  }

  function firstDifference(want, got) {
    let i = 0;
    while (i < want.length && i < got.length && want[i] === got[i]) i++;
    const hex = (b) => Array.from(b.subarray(i, i + 16), (x) => x.toString(16).padStart(2, '0')).join('');
    return `${want.length} bytes sent, ${got.length} received, first difference at offset ${i} ` +
      `(sent ${hex(want)}, received ${hex(got)})`;
  }

  function withTimeout(promise, ms, what) {
    let timer;
    return Promise.race([
      promise,
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms); }),
    ]).finally(() => clearTimeout(timer));
  }

  // runCase checks one connection. conn is { ws, negotiated() } where ws
  // has the browser's WebSocket interface (ws's does too) and negotiated
  // returns the Sec-WebSocket-Extensions of the handshake response;
  // sendFragment(data, isText, fin), if given, sends a fragment. Returns
  // { ok, negotiated, greeting, rows, failures }.
  async function runCase(conn, opts) {
    const { ws } = conn;
    const timeoutMs = opts.timeoutMs || 30000;
    const res = { negotiated: '', greeting: '', rows: [], failures: [] };
    const inbox = [];
    let wake = null;
    let closed = null;
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (e) => { inbox.push(e.data); if (wake) wake(); };
    ws.onclose = (e) => { closed = e; if (wake) wake(); };
    ws.onerror = () => {};
    const receive = (what) => withTimeout(new Promise((resolve, reject) => {
      const poll = () => {
        if (inbox.length > 0) resolve(inbox.shift());
        else if (closed) reject(new Error(`connection closed with ${closed.code} ${closed.reason}`));
        else wake = poll;
      };
      poll();
    }), timeoutMs, what).finally(() => { wake = null; });
    const receiveText = async (what) => {
      const m = await receive(what);
      if (typeof m !== 'string') throw new Error(`${what}: got a binary message, want text`);
      return m;
    };
    const stats = async () => {
      ws.send('stats?');
      const s = await receiveText('waiting for stats');
      if (!s.startsWith('stats:')) throw new Error(`got ${JSON.stringify(s.slice(0, 60))}, want the stats: answer`);
      return JSON.parse(s.slice(6));
    };

    try {
      await withTimeout(new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onclose = (e) => reject(new Error(`handshake failed: close ${e.code} ${e.reason}`));
      }), timeoutMs, 'opening');
      ws.onclose = (e) => { closed = e; if (wake) wake(); };
      res.negotiated = conn.negotiated();
      const g = await receiveText('waiting for the greeting');
      if (!g.startsWith('negotiated:')) throw new Error(`the first message is ${JSON.stringify(g.slice(0, 60))}`);
      res.greeting = g.slice('negotiated:'.length);
      if (normalize(res.negotiated) !== normalize(opts.expect)) {
        res.failures.push(`negotiated "${normalize(res.negotiated)}", want "${normalize(opts.expect)}"`);
      }
      if (normalize(res.greeting) !== normalize(res.negotiated)) {
        res.failures.push(`the server says it agreed "${res.greeting}", the client "${res.negotiated}"`);
      }

      for (const seg of mix(!!conn.sendFragment)) {
        const before = await stats();
        const row = { segment: seg.name, kind: seg.kind, messages: seg.msgs.length, payload: 0 };
        for (let i = 0; i < seg.msgs.length; i++) {
          const m = seg.msgs[i];
          const what = `${seg.name} message ${i} (${m.type}, ${m.data.length} bytes)`;
          if (m.chunks) {
            let off = 0;
            for (let j = 0; j < m.chunks.length; j++) {
              conn.sendFragment(m.data.subarray(off, off + m.chunks[j]), m.type === 'text', j === m.chunks.length - 1);
              off += m.chunks[j];
            }
          } else {
            ws.send(m.type === 'text' ? m.text : m.data);
          }
          const got = await receive(`waiting for the echo of ${what}`);
          if (m.type === 'text') {
            if (typeof got !== 'string') throw new Error(`${what}: echo is binary`);
            if (got !== m.text) throw new Error(`${what}: echo differs: ${firstDifference(m.data, enc.encode(got))}`);
          } else {
            if (typeof got === 'string') throw new Error(`${what}: echo is text`);
            const g8 = new Uint8Array(got);
            let same = g8.length === m.data.length;
            for (let k = 0; same && k < g8.length; k++) same = g8[k] === m.data[k];
            if (!same) throw new Error(`${what}: echo differs: ${firstDifference(m.data, g8)}`);
          }
          row.payload += m.data.length;
        }
        const after = await stats();
        row.c2s = after.wireIn - before.wireIn;
        row.s2c = after.wireOut - before.wireOut;
        res.serverShortUncompressed = !!after.shortUncompressed;
        res.rows.push(row);
      }
      assert(res);

      ws.close(1000, 'done');
      await withTimeout(new Promise((resolve) => {
        const poll = () => { if (closed) resolve(); else wake = poll; };
        poll();
      }), timeoutMs, 'closing');
      if (closed.code !== 1000 || closed.wasClean === false) {
        res.failures.push(`closed with ${closed.code} "${closed.reason}" wasClean=${closed.wasClean}, want a clean 1000`);
      }
    } catch (e) {
      res.failures.push(String(e && e.message || e));
      try { ws.close(); } catch (_) { /* already closed */ }
    }
    res.ok = res.failures.length === 0;
    return res;
  }

  const ratio = (wire, payload) => (payload === 0 ? 0 : wire / payload);

  function assert(res) {
    const p = tokens(normalize(res.negotiated));
    const deflate = p.has('permessage-deflate');
    // The JavaScript clients compress every message; a server may send
    // short ones uncompressed, and then the chat segment's wire size says
    // nothing of context takeover.
    const dirs = [
      { name: 'client→server', takeover: !p.has('client_no_context_takeover'), short: false, wire: (r) => r.c2s },
      { name: 'server→client', takeover: !p.has('server_no_context_takeover'), short: res.serverShortUncompressed, wire: (r) => r.s2c },
    ];
    for (const row of res.rows) {
      for (const d of dirs) {
        const x = ratio(d.wire(row), row.payload);
        const f = (msg) => res.failures.push(`${row.segment} ${d.name}: ${x.toFixed(3)} of the payload on the wire ${msg}`);
        if (row.kind === 'misc') continue;
        if (!deflate) {
          if (x < 1) f('without compression');
        } else if (row.kind === 'chat' && d.short) {
          // no bound
        } else if (row.kind === 'compressible' && x > COMPRESSIBLE_MAX) {
          f(`, want at most ${COMPRESSIBLE_MAX}`);
        } else if (row.kind === 'incompressible' && x > INCOMPRESSIBLE_MAX) {
          f(`, want at most ${INCOMPRESSIBLE_MAX}`);
        } else if (row.kind === 'chat' && d.takeover && x > CHAT_TAKEOVER_MAX) {
          f(`with context takeover, want at most ${CHAT_TAKEOVER_MAX}`);
        } else if (row.kind === 'chat' && !d.takeover && x < CHAT_STANDALONE_MIN) {
          f(`without context takeover, want at least ${CHAT_STANDALONE_MIN}`);
        }
      }
    }
  }

  // summary is the one-line account of the ratios, as Result.Summary in Go.
  function summary(res) {
    return res.rows.filter((r) => r.segment === 'chat' || r.segment === 'binary-1.1m')
      .map((r) => `${r.segment} ${ratio(r.c2s, r.payload).toFixed(2)}/${ratio(r.s2c, r.payload).toFixed(2)}`).join(' ');
  }

  function rowLines(res) {
    return res.rows.map((r) => `  ${r.segment.padEnd(12)} ${String(r.messages).padStart(4)} msgs ${String(r.payload).padStart(9)} B` +
      `  c2s ${ratio(r.c2s, r.payload).toFixed(3)}  s2c ${ratio(r.s2c, r.payload).toFixed(3)}`);
  }

  const api = { mix, normalize, runCase, summary, rowLines };
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.interopMix = api;
})(typeof globalThis !== 'undefined' ? globalThis : this);
