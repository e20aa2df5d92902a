/**
 * The clients of bench:compression's permessage-deflate runs, in a process
 * of their own so the server's CPU (process.cpuUsage) holds no client work,
 * and so their own CPU (the inflate) can be reported apart.
 *
 * Usage (started by socket-bench.ts, not by hand):
 *   node --import tsx bench/compression/socket-clients.ts <ws url> <clients>
 * Protocol, one line each: we print `ready` once every client is open; on
 * `mark <total>` we wait until every client has received <total> messages
 * in all, then print one JSON line for the window since the previous mark
 * ({messages, bytes, cpuUs}: all clients together) and start a new window.
 * We exit when stdin closes, so we never outlive the bench.
 */
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!url || !Number.isInteger(count) || count < 1) {
  console.error('usage: socket-clients.ts <ws url> <clients>');
  process.exit(2);
}

// A browser always offers permessage-deflate; ws's client does by default too.
const sockets = Array.from(
  { length: count },
  () => new WebSocket(url, { perMessageDeflate: true }),
);
const received = sockets.map(() => 0);
/** The window since the last mark. */
let messages = 0;
let bytes = 0;
let cpuStart = process.cpuUsage();
/** Marks asked for and not yet answered, oldest first. */
const marks: number[] = [];

sockets.forEach((socket, i) => {
  socket.binaryType = 'nodebuffer';
  socket.on('message', (data: Buffer) => {
    received[i]++;
    messages++;
    bytes += data.byteLength;
    answerMarks();
  });
  socket.on('error', (error) => {
    console.error(`socket-clients: ${error.message}`);
    process.exit(1);
  });
});

Promise.all(
  sockets.map((s) => new Promise<void>((resolve) => s.once('open', () => resolve()))),
).then(() => console.log('ready'));

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const [command, arg] = line.trim().split(' ');
    if (command === 'mark') {
      marks.push(Number(arg));
      answerMarks();
    }
  })
  .on('close', () => {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  });

function answerMarks(): void {
  while (marks.length > 0 && received.every((n) => n >= marks[0])) {
    marks.shift();
    const cpu = process.cpuUsage(cpuStart);
    console.log(JSON.stringify({ messages, bytes, cpuUs: cpu.user + cpu.system }));
    messages = 0;
    bytes = 0;
    cpuStart = process.cpuUsage();
  }
}
