/**
 * A crowd of minimal clients in their own process, so their work does not
 * land on the server's threads: each says hello and counts what arrives
 * (no decoding). Prints one JSON line with frames and bytes per client.
 *
 *   tsx bench/bots.ts <ws-url> <clients> <seconds>
 *
 * It exits after <seconds>, or as soon as its stdin closes if that is a
 * pipe: the bench that started it (bench:jitter) gives it one, so a bench
 * that ends early, on any path, does not leave a crowd behind.
 */
import { fstatSync } from 'node:fs';
import WebSocket from 'ws';
import { encodeMessage, PROTOCOL_VERSION } from '../protocol/index.js';

const [url, clientsArg = '100', secondsArg = '10'] = process.argv.slice(2);
const clients = Number(clientsArg);
if (!url || !Number.isInteger(clients) || clients < 1 || !(Number(secondsArg) > 0)) {
  console.error('usage: bots.ts <ws-url> <clients: 1 or more> <seconds: more than 0>');
  process.exit(2);
}
// Only a pipe says anything about the parent (a terminal or /dev/null does
// not); node's child_process 'pipe' is a socket pair, a shell's a FIFO.
const stdin = fstatSync(0);
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
const messages = new Array<number>(clients).fill(0);
const bytes = new Array<number>(clients).fill(0);
const sockets: WebSocket[] = [];
for (let i = 0; i < clients; i++) {
  const socket = new WebSocket(url);
  socket.on('open', () => socket.send(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION })));
  socket.on('message', (data: Buffer) => {
    messages[i]++;
    bytes[i] += data.byteLength;
  });
  socket.on('error', () => {});
  sockets.push(socket);
}
setTimeout(() => {
  for (const socket of sockets) socket.terminate();
  process.stdout.write(`${JSON.stringify({ messages, bytes })}\n`);
  process.exit(0);
}, Number(secondsArg) * 1000);
