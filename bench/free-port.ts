/**
 * A port for a process we start ourselves (a swarmhost instance, Redis,
 * nginx, HAProxy, Prometheus) that is free now and stays free until that
 * process binds it.
 *
 * Why not port 0's answer: a port the kernel hands out for `listen(0)` comes
 * from the ephemeral range, the same range every outgoing connection takes
 * its local port from. Between our probe closing and the child binding, a
 * client connecting anywhere (a test's WebSocket, nginx to an upstream) can
 * take that port, and the child dies with EADDRINUSE (seen in CI). A port
 * below the ephemeral range is never auto-assigned, so only another explicit
 * bind can take it; the probe rules that out for now and the random pick over
 * thousands of ports makes two of our own picks meeting rare.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Lowest port we pick: clear of the well-known and registered services commonly run locally. */
const LOWEST = 20_000;
/** Linux's default ephemeral range starts here; used when /proc cannot be read. */
const DEFAULT_EPHEMERAL_LOW = 32_768;
const ATTEMPTS = 50;

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return Number.isInteger(low) && low > LOWEST + 1000 ? low : DEFAULT_EPHEMERAL_LOW;
  } catch {
    return DEFAULT_EPHEMERAL_LOW;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that nobody holds and the kernel will not hand to an outgoing connection. */
export async function freePort(): Promise<number> {
  const low = LOWEST;
  const high = ephemeralLow();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${low}..${high - 1} after ${ATTEMPTS} tries`);
}
