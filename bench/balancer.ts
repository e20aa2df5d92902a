/**
 * What the nginx and HAProxy launchers share (test/support/nginx.ts,
 * bench/haproxy.ts): the shape of a server they balance over, and the two
 * socket waits (a free port, a port that accepts).
 */
import { connect } from 'node:net';

export { freePort } from './free-port.js';

/** One server of the balancer's list: the shipped config's `swarmhost-<i+1>`, at 127.0.0.1:port. */
export interface Upstream {
  name: string;
  port: number;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once 127.0.0.1:port accepts a connection; rejects if `exited` settles first or after `ms`. */
export async function untilListening(
  port: number,
  ms: number,
  exited: Promise<unknown>,
  output: () => string,
): Promise<void> {
  let gone = false;
  exited.then(() => {
    gone = true;
  });
  const deadline = performance.now() + ms;
  while (!(await accepts(port))) {
    if (gone) throw new Error(`exited before listening on ${port}: ${output()}`);
    if (performance.now() > deadline) throw new Error(`not listening on ${port} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
