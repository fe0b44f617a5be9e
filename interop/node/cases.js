// The cases the Node checkers run, in one place.
'use strict';

// The Go server's endpoints (interop/internal/echo's Variants) and what
// each must agree to the offer that Chromium and ws make by default,
// "permessage-deflate; client_max_window_bits".
const GO_SERVER_VARIANTS = [
  ['off', ''],
  ['takeover', 'permessage-deflate'],
  ['no-server-takeover', 'permessage-deflate; server_no_context_takeover'],
  ['no-client-takeover', 'permessage-deflate; client_no_context_takeover'],
  ['no-takeover', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
  ['server-window-9', 'permessage-deflate; server_max_window_bits=9'],
  ['client-window-10', 'permessage-deflate; client_max_window_bits=10'],
  ['window-8', 'permessage-deflate; server_max_window_bits=8; client_max_window_bits=8'],
  ['no-takeover-window-9', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; ' +
    'server_max_window_bits=9; client_max_window_bits=9'],
  ['level-1', 'permessage-deflate'],
  ['level-9', 'permessage-deflate'],
  // The library's default threshold: short messages go uncompressed
  // between compressed ones.
  ['default-threshold', 'permessage-deflate'],
  ['default-threshold-no-takeover', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
].map(([name, expect]) => ({ name, path: '/' + name, expect }));

// Offers the ws client makes to the Go server's /takeover, which has no
// wishes of its own, so the answer is the offer's.
const WS_CLIENT_OFFERS = [
  ['offer-none', false, ''],
  ['offer-no-server-takeover', { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover'],
  ['offer-no-client-takeover', { clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover'],
  ['offer-no-takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true },
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
  ['offer-server-window-9', { serverMaxWindowBits: 9 }, 'permessage-deflate; server_max_window_bits=9'],
  ['offer-client-window-10', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
  ['offer-window-8', { serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
    'permessage-deflate; server_max_window_bits=8; client_max_window_bits=8'],
].map(([name, pmd, expect]) => ({ name, path: '/takeover', pmd, expect }));

// The ws server's endpoints (server.js): ws's perMessageDeflate options
// for each, or false for none. The Go client's cases in run.sh name them.
const WS_SERVER_VARIANTS = {
  'off': false,
  'takeover': {},
  'no-server-takeover': { serverNoContextTakeover: true },
  'no-client-takeover': { clientNoContextTakeover: true },
  'no-takeover': { serverNoContextTakeover: true, clientNoContextTakeover: true },
  'server-window-9': { serverMaxWindowBits: 9 },
  'client-window-10': { clientMaxWindowBits: 10 },
  'window-8': { serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
  'no-takeover-window-9': { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
};

// targets reads a checker's arguments, one per server: [NAME=]URL, the
// server's name for the RESULT lines (go-server if none) and its base URL,
// whose path, if any, prefixes every endpoint (echo.EventLoop serves its
// variants through net/http under /http). The variants' names get the
// same prefix, so that /http/takeover is "http/takeover" in the table.
function targets(args) {
  return args.map((arg) => {
    const m = /^([\w.+-]+)=(.*)$/.exec(arg);
    const base = (m ? m[2] : arg).replace(/\/+$/, '');
    const path = new URL(base).pathname.replace(/^\/+/, '');
    return { server: m ? m[1] : 'go-server', base, prefix: path ? path + '/' : '' };
  });
}

module.exports = { GO_SERVER_VARIANTS, WS_CLIENT_OFFERS, WS_SERVER_VARIANTS, targets };
