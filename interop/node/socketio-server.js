// A Socket.IO server (Engine.IO protocol 4 over WebSocket only) for the
// Go client in interop/socketio: on connection it emits "hello", echoes
// every "echo" event back as an event and, when the client asks for one,
// an acknowledgement. Heartbeats every 200 ms, each to be answered within
// 500 ms, so that a check of a second sees several and a client that
// stops answering is dropped within it. It stops by itself after the
// given seconds.
// Usage: node socketio-server.js PORT SECONDS
'use strict';
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 18102);
const seconds = Number(process.argv[3] || 180);
const io = new Server(port, {
  transports: ['websocket'],
  pingInterval: 200,
  pingTimeout: 500,
  // threshold 0: compress every message, however short.
  perMessageDeflate: { threshold: 0 },
});
io.on('connection', (socket) => {
  socket.emit('hello', 'welcome');
  socket.on('echo', (msg, ack) => {
    socket.emit('echo', msg);
    if (typeof ack === 'function') ack('acked:' + msg);
  });
});
console.log(new Date().toISOString(), 'socket.io', require('socket.io/package.json').version, 'on', port);
setTimeout(() => process.exit(0), seconds * 1000).unref();
