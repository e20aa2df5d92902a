import { describe, expect, it } from 'vitest';
import { workerPriorityRequest } from '../../../src/worker-priority.js';

describe('workerPriorityRequest', () => {
  it('asks for the configured nice value and realtime priority while a core is left over', () => {
    expect(workerPriorityRequest({ workers: 1, workerNice: -10, workerRealtime: 1 }, 2)).toEqual({
      request: { nice: -10, realtime: 1 },
    });
  });

  it('drops realtime, with a warning, when workers would take every core', () => {
    const { request, warning } = workerPriorityRequest(
      { workers: 2, workerNice: -10, workerRealtime: 1 },
      2,
    );
    expect(request).toEqual({ nice: -10, realtime: null });
    expect(warning).toMatch(/SWARMHOST_WORKER_REALTIME ignored: 2 workers on 2 cores/);
  });

  it('0 turns either lever off', () => {
    expect(workerPriorityRequest({ workers: 1, workerNice: 0, workerRealtime: 0 }, 4)).toEqual({
      request: { nice: null, realtime: null },
    });
  });
});
