/**
 * A crowd of minimal clients in their own process, so their work does not
 * land on the server's threads: each says hello and counts what arrives
 * (no decoding). Prints one JSON line with frames and bytes per client.
 *
 *   tsx bench/bots.ts <ws-url> <clients> <seconds>
 */
import WebSocket from 'ws';
import { encodeMessage, PROTOCOL_VERSION } from '../protocol/index.js';

const [url, clientsArg = '100', secondsArg = '10'] = process.argv.slice(2);
if (!url) throw new Error('usage: bots.ts <ws-url> <clients> <seconds>');
const clients = Number(clientsArg);
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
