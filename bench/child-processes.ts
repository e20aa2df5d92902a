/**
 * The child processes a benchmark starts (servers, bot crowds) end with it,
 * on every path: `stopChild` stops one and waits for its exit (SIGTERM, so a
 * server drains, then SIGKILL after a grace); `killWithParent` makes sure a
 * child never outlives the bench, whether the bench returns, throws, calls
 * process.exit (runMain's backstop) or is sent SIGINT/SIGTERM. A SIGKILL to
 * the bench itself cannot be caught: bots.ts also exits when its stdin
 * (a pipe from the bench) closes.
 */
import type { ChildProcess } from 'node:child_process';

/** How long a stopped child may take to exit (a server drains first) before SIGKILL. */
export const STOP_GRACE_MS = 15_000;

const live = new Set<ChildProcess>();
let installed = false;

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

function killAll(): void {
  for (const child of live) if (running(child)) child.kill('SIGKILL');
}

/** SIGKILLs `child` when this process exits, if it is still running then. */
export function killWithParent(child: ChildProcess): ChildProcess {
  if (!installed) {
    installed = true;
    process.on('exit', killAll);
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Exits 130 on SIGINT, 143 on SIGTERM, so the exit handler above kills the children. */
export function exitOnSignals(): void {
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

/** Sends SIGTERM, waits for the exit, SIGKILL after `graceMs`. Resolves at once if it is gone. */
export async function stopChild(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(kill);
}
