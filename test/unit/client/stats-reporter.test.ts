import { describe, expect, it } from 'vitest';
import { type ReporterTimers, StatsReporter } from '../../../client/src/stats-reporter.js';
import { STATS_REPORT_INTERVAL_MS, type StatsReport } from '../../../protocol/messages.js';

/** Hand-run interval timers, a report that numbers itself, and a link that may be down. */
function harness() {
  let now = 0;
  const intervals = new Map<number, { every: number; next: number; run: () => void }>();
  let ids = 0;
  const timers: ReporterTimers = {
    setInterval: (run, every) => {
      intervals.set(++ids, { every, next: now + every, run });
      return ids;
    },
    clearInterval: (id) => intervals.delete(id as number),
  };
  const link = { live: true };
  const sent: StatsReport[] = [];
  let windows = 0;
  const reporter = new StatsReporter({
    report: () => ({ fps: 60, received: ++windows, skipped: 0, decodeMs: 0.1 }),
    send: (report) => {
      if (!link.live) return false;
      sent.push(report);
      return true;
    },
    timers,
  });
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...intervals.values()].sort((a, b) => a.next - b.next)[0];
      if (!due || due.next > end) break;
      now = due.next;
      due.next += due.every;
      due.run();
    }
    now = end;
  };
  return { reporter, sent, link, advance, intervals };
}

describe('StatsReporter', () => {
  it('reports every STATS_REPORT_INTERVAL_MS from the welcome on, and remembers the last', () => {
    const { reporter, sent, advance } = harness();
    advance(10 * STATS_REPORT_INTERVAL_MS);
    expect(sent).toHaveLength(0);
    reporter.start();
    advance(STATS_REPORT_INTERVAL_MS - 1);
    expect(sent).toHaveLength(0);
    advance(1);
    expect(sent).toHaveLength(1);
    advance(2 * STATS_REPORT_INTERVAL_MS);
    expect(sent.map((r) => r.received)).toEqual([1, 2, 3]);
    expect(reporter.sent).toBe(3);
    expect(reporter.last).toBe(sent[2]);
  });

  it('sends nothing between sockets, and starts a full interval after the next welcome', () => {
    const { reporter, sent, advance, intervals } = harness();
    reporter.start();
    advance(STATS_REPORT_INTERVAL_MS + 500);
    reporter.stop();
    expect(reporter.running).toBe(false);
    advance(5 * STATS_REPORT_INTERVAL_MS);
    expect(sent).toHaveLength(1);
    reporter.start();
    // A second welcome without a stop in between still runs one timer, not two.
    reporter.start();
    expect(intervals.size).toBe(1);
    advance(STATS_REPORT_INTERVAL_MS - 1);
    expect(sent).toHaveLength(1);
    advance(1);
    expect(sent).toHaveLength(2);
  });

  it('counts only reports that went out', () => {
    const { reporter, sent, link, advance } = harness();
    reporter.start();
    advance(STATS_REPORT_INTERVAL_MS);
    link.live = false;
    advance(STATS_REPORT_INTERVAL_MS);
    expect(sent).toHaveLength(1);
    expect(reporter.sent).toBe(1);
    expect(reporter.last).toBe(sent[0]);
  });
});
