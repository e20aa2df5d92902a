import { describe, expect, it } from 'vitest';
import { ParticleBudget } from '../../../lobbies/particle-budget.js';

describe('ParticleBudget', () => {
  it('admits lobbies while they fit, and refuses one that does not, reserving nothing', () => {
    const budget = new ParticleBudget(1000);
    expect(budget.tryReserve('a', 600)).toBe(true);
    expect(budget.tryReserve('b', 400)).toBe(true);
    expect(budget.used).toBe(1000);
    expect(budget.tryReserve('c', 1)).toBe(false);
    expect(budget.tryReserve('d', 0)).toBe(true);
    expect(budget).toMatchObject({ used: 1000, free: 0, lobbies: 3 });
    expect(budget.held('c')).toBe(0);
  });

  it('refuses a second reservation for an id that holds one', () => {
    const budget = new ParticleBudget(1000);
    expect(budget.tryReserve('a', 10)).toBe(true);
    expect(budget.tryReserve('a', 10)).toBe(false);
    expect(budget.used).toBe(10);
  });

  it('grows a lobby by spawns only within the limit of the whole thread', () => {
    const budget = new ParticleBudget(1000);
    budget.tryReserve('a', 500);
    budget.tryReserve('b', 300);
    expect(budget.tryGrow('a', 200)).toBe(true);
    expect(budget.tryGrow('b', 1)).toBe(false);
    expect(budget.held('a')).toBe(700);
    expect(budget.held('b')).toBe(300);
    expect(budget.used).toBe(1000);
  });

  it('holds an admitted lobby even past the limit, and then refuses every spawn', () => {
    const budget = new ParticleBudget(1000);
    budget.tryReserve('a', 900);
    budget.hold('b', 300);
    expect(budget.used).toBe(1200);
    expect(budget.free).toBe(0);
    expect(budget.tryGrow('a', 1)).toBe(false);
    expect(budget.tryGrow('b', 0)).toBe(false);
  });

  it('hold sets a reservation (a restart goes back to its initial particles)', () => {
    const budget = new ParticleBudget(1000);
    budget.tryReserve('a', 100);
    budget.tryGrow('a', 400);
    budget.hold('a', 100);
    expect(budget.used).toBe(100);
  });

  it('release frees a lobby once; releasing an unknown id changes nothing', () => {
    const budget = new ParticleBudget(1000);
    budget.tryReserve('a', 700);
    budget.release('a');
    budget.release('a');
    budget.release('never');
    expect(budget).toMatchObject({ used: 0, free: 1000, lobbies: 0 });
    expect(budget.tryReserve('a', 1000)).toBe(true);
  });

  it('refuses counts that are not non-negative integers, loudly', () => {
    const budget = new ParticleBudget(1000);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => budget.tryReserve('a', bad)).toThrow(RangeError);
      expect(() => budget.tryGrow('a', bad)).toThrow(RangeError);
      expect(() => budget.hold('a', bad)).toThrow(RangeError);
    }
    expect(budget.used).toBe(0);
    expect(() => new ParticleBudget(-1)).toThrow(RangeError);
  });
});
