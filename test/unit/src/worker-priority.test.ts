import { describe, expect, it } from 'vitest';
import { workerPriorityRequest } from '../../../src/worker-priority.js';

describe('workerPriorityRequest', () => {
  const defaults = { workers: 1, workerNice: -10, workerRealtime: 1 };

  it('asks for the configured nice value and realtime priority while a core is left over', () => {
    expect(workerPriorityRequest(defaults, 2, 'linux')).toEqual({
      request: { nice: -10, realtime: 1 },
    });
  });

  it('drops realtime, and says why, when workers would take every usable core', () => {
    const { request, note } = workerPriorityRequest({ ...defaults, workers: 2 }, 2, 'linux');
    expect(request).toEqual({ nice: -10, realtime: null });
    expect(note).toMatch(/2 workers on 2 usable cores/);
  });

  it('0 turns either lever off', () => {
    expect(
      workerPriorityRequest({ workers: 1, workerNice: 0, workerRealtime: 0 }, 4, 'linux'),
    ).toEqual({ request: { nice: null, realtime: null } });
  });

  it('asks for nothing where per-thread priority does not exist', () => {
    const { request, note } = workerPriorityRequest(defaults, 8, 'darwin');
    expect(request).toEqual({ nice: null, realtime: null });
    expect(note).toMatch(/needs Linux, this is darwin/);
  });
});
