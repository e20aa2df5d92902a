import { describe, expect, it } from 'vitest';
import {
  BOID_DEFAULTS,
  BOID_LIMITS,
  neighbourBufferLength,
  resolveBoidParams,
  steerIntervalFor,
} from '../../../../lobbies/world/boids.js';

describe('resolveBoidParams', () => {
  it('returns the defaults, frozen', () => {
    const p = resolveBoidParams();
    expect(p).toEqual(BOID_DEFAULTS);
    expect(Object.isFrozen(p)).toBe(true);
  });

  it('keeps max speed within what the wire can carry per tick', () => {
    expect(BOID_DEFAULTS.maxSpeed).toBeLessThanOrEqual(BOID_LIMITS.maxSpeedCeiling);
    expect(BOID_LIMITS.maxSpeedCeiling).toBeLessThanOrEqual(60);
    expect(() => resolveBoidParams({ maxSpeed: 60.5 })).toThrow(/maxSpeed/);
    expect(resolveBoidParams({ maxSpeed: 60 }).maxSpeed).toBe(60);
  });

  it('applies overrides and leaves the rest at defaults', () => {
    const p = resolveBoidParams({ neighbourRadius: 20, minSpeed: 5 });
    expect(p.neighbourRadius).toBe(20);
    expect(p.minSpeed).toBe(5);
    expect(p.alignment).toBe(BOID_DEFAULTS.alignment);
  });

  it.each([
    [{ minSpeed: 51 }, /minSpeed/],
    [{ neighbourRadius: 0 }, /neighbourRadius/],
    [{ separationRadius: 17 }, /separationRadius/],
    [{ maxCandidates: 2.5 }, /maxCandidates/],
    [{ steerInterval: 0 }, /steerInterval/],
    [{ steerInterval: 9 }, /steerInterval/],
    [{ steerBudget: -1 }, /steerBudget/],
    [{ steerBudget: 0.5 }, /steerBudget/],
    [{ alignment: Number.NaN }, /alignment/],
    [{ forceStrength: -1 }, /forceStrength/],
    [{ forceRadius: Number.POSITIVE_INFINITY }, /forceRadius/],
  ])('refuses %o', (override, message) => {
    expect(() => resolveBoidParams(override)).toThrow(message);
  });

  it('sizes the candidate buffer by the cap, or by capacity when uncapped', () => {
    expect(neighbourBufferLength(resolveBoidParams({ maxCandidates: 32 }), 10_000)).toBe(32);
    expect(neighbourBufferLength(resolveBoidParams({ maxCandidates: 32 }), 10)).toBe(10);
    expect(neighbourBufferLength(resolveBoidParams({ maxCandidates: 0 }), 500)).toBe(500);
    expect(neighbourBufferLength(resolveBoidParams({ maxCandidates: 0 }), 0)).toBe(1);
  });
});

describe('steerIntervalFor', () => {
  it('keeps steerInterval while the budget holds, then stretches it up to the limit', () => {
    const p = resolveBoidParams();
    expect(steerIntervalFor(p, 10_000)).toBe(2);
    expect(steerIntervalFor(p, 20_000)).toBe(2);
    expect(steerIntervalFor(p, 20_001)).toBe(3);
    expect(steerIntervalFor(p, 50_000)).toBe(BOID_LIMITS.maxBudgetInterval);
    expect(steerIntervalFor(p, 1_000_000)).toBe(BOID_LIMITS.maxBudgetInterval);
  });

  it('never lowers a steerInterval set above the budgeted one, and 0 means no budget', () => {
    expect(steerIntervalFor(resolveBoidParams({ steerInterval: 6 }), 50_000)).toBe(6);
    expect(steerIntervalFor(resolveBoidParams({ steerBudget: 0 }), 1_000_000)).toBe(2);
  });
});
