/**
 * `npm run loadtest`: finds the load at which a server (or a fleet behind a
 * load balancer) stops holding its limits, and writes what it saw to
 * result.json and report.html. `--help` lists the options; the parts are
 * in bench/loadtest/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { runMain, UsageError } from './cli-options.js';
import { parseLoadtestOptions, USAGE } from './loadtest/options.js';
import { ProgressLine } from './loadtest/progress.js';
import { renderReport } from './loadtest/report-html.js';
import { runLoadtest } from './loadtest/runner.js';
import { openTarget } from './loadtest/target.js';

runMain('loadtest', async () => {
  const options = parseLoadtestOptions(
    process.argv.slice(2),
    process.env,
    availableParallelism(),
    new Date(),
  );
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.ramp && options.settleS + 1 >= options.ramp.everyS)
    throw new UsageError(
      `--settle ${options.settleS} leaves nothing to measure in a ${options.ramp.everyS} s ramp step: make the step at least ${options.settleS + 2} s`,
    );
  if (!options.ramp && options.settleS + 2 > options.durationS)
    throw new UsageError(`--duration must be at least --settle + 2 s (${options.settleS + 2})`);
  const out = resolve(options.out);
  await mkdir(out, { recursive: true });
  const target = await openTarget(options);
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = new ProgressLine();
  progress.note(
    `loadtest: ${target.url}${target.local ? ' (started for this run)' : ''}, ${options.lobbies} lobb${options.lobbies === 1 ? 'y' : 'ies'} × ${options.clients} clients, ${options.workers} bot threads`,
  );
  let result: Awaited<ReturnType<typeof runLoadtest>>;
  try {
    result = await runLoadtest(options, target, progress, interrupt.signal);
  } finally {
    await target.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const json = resolve(out, 'result.json');
  const html = resolve(out, 'report.html');
  await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(html, renderReport(result));
  const { ceiling } = result;
  const held = ceiling.held
    ? `${ceiling.held.clients} clients in ${ceiling.held.lobbies} lobbies`
    : 'none';
  console.log(
    ceiling.reached
      ? `ceiling: ${held} held; ${ceiling.broke?.clients} clients in ${ceiling.broke?.lobbies} lobb${ceiling.broke?.lobbies === 1 ? 'y' : 'ies'} broke ${ceiling.broke?.limits.join(', ')}`
      : `no limit broke (${result.stoppedBy}); highest load held: ${held}`,
  );
  if (result.halfCeiling)
    console.log(
      `at half load (${result.halfCeiling.clients} clients): latency p50 ${result.halfCeiling.measures.latency_p50.toFixed(1)} ms, p99 ${result.halfCeiling.measures.latency_p99.toFixed(1)} ms`,
    );
  console.log(`result: ${json}\nreport: ${html}`);
  if (result.error) {
    console.error(`loadtest: stopped by an error: ${result.error}`);
    return 1;
  }
  return 0;
});
