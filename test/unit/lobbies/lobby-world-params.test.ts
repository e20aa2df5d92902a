/**
 * A lobby's steering interval by world size (lobby-world-params.ts): the
 * boid params are resolved once for the settings, not again for every
 * lobby /status asks about, and the intervals are the world's own.
 */
import { describe, expect, it, vi } from 'vitest';
import { lobbySteerIntervals } from '../../../lobbies/lobby-world-params.js';
import { resolveBoidParams, steerIntervalFor } from '../../../lobbies/world/boids.js';

// The real boids.ts, with resolveBoidParams watched so the test can count its calls.
vi.mock('../../../lobbies/world/boids.js', async (importOriginal) => {
  const boids = await importOriginal<typeof import('../../../lobbies/world/boids.js')>();
  return { ...boids, resolveBoidParams: vi.fn(boids.resolveBoidParams) };
});

describe('lobbySteerIntervals', () => {
  it('resolves the params once, however many lobby sizes it is asked about', () => {
    const resolve = vi.mocked(resolveBoidParams);
    resolve.mockClear();
    const steerInterval = lobbySteerIntervals({ steerBudget: 100 });
    const sizes = [0, 150, 500, 100_000];
    const intervals = sizes.map(steerInterval);
    expect(resolve).toHaveBeenCalledTimes(1);
    const params = resolve.mock.results[0].value as ReturnType<typeof resolveBoidParams>;
    expect(intervals).toEqual(sizes.map((n) => steerIntervalFor(params, n)));
    expect(intervals).toEqual([2, 2, 4, 4]);
  });
});
