/**
 * How many threads step one lobby's world (SWARMHOST_MAX_PARTITIONS), and
 * what each of them is charged against the particle budget.
 *
 * A lobby whose particles exceed one worker's budget is split into as few
 * partitions as fit: n = ceil(particles / budget), at most the setting and
 * at most the live workers (a pool is sized to the cores, and each
 * partition needs a core of its own to be worth having). Its world then
 * runs on n threads, the lobby's own and n - 1 partition threads it starts,
 * and its particles are charged 1/n on each of n pool workers: the one it
 * runs on, and n - 1 others whose cores its partition threads share. So
 * admission counts a split lobby on every worker it uses, and a worker
 * near its budget takes no part of a new split lobby.
 */

/** The partitions a lobby of `particles` needs, or undefined when no split fits. */
export function partitionsFor(
  particles: number,
  budget: number,
  maxPartitions: number,
  liveWorkers: number,
): number | undefined {
  if (particles <= budget) return 1;
  const needed = Math.ceil(particles / budget);
  return needed <= Math.min(maxPartitions, liveWorkers) ? needed : undefined;
}

/** What each of a split lobby's threads is charged: its share, rounded up. */
export function shareOf(particles: number, partitions: number): number {
  return Math.ceil(particles / partitions);
}
