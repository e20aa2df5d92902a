/**
 * The players of a load-balancer scenario: fleet players (fleet-player.ts)
 * in a fixed set of lobbies, all through one balancer port. It owns them and
 * answers what the scenario checks: where each lobby's players are, whether
 * every lobby sits on one instance with all its players, and what happened
 * to the players since a mark (closes other than the expected ones, sockets
 * refused before a welcome, ticks that went back, frame gaps).
 */
import { type FleetPlayer, fleetPlayer } from './fleet-player.js';

/** Per player: how far its records went when the mark was taken. */
export type Mark = Map<FleetPlayer, { connections: number; ticks: number; gaps: number }>;

export interface SinceMark {
  /** "lobby: what happened", one per unexpected event. */
  problems: string[];
  gaps: Array<{ code: number; ms: number }>;
}

export interface Crowd {
  readonly ids: readonly string[];
  join(id: string): FleetPlayer;
  /** Stops these players and forgets them. */
  leave(players: readonly FleetPlayer[]): void;
  all(): FleetPlayer[];
  /** The instance every player of `id` is on, or undefined if they are not all on one. */
  where(id: string): string | undefined;
  lobbiesOn(instance: string): string[];
  /** Every player is on an instance, all of a lobby's on the same one, each with a frame after `since`. */
  together(since: number): boolean;
  /** Every lobby runs on exactly one instance (per `placement`), the one all its players are on. */
  placed(placement: Map<string, string[]>): boolean;
  mark(): Mark;
  /**
   * What happened since `mark`: any close (after a welcome or before it: a
   * refusal) whose code is not in `allowed`, and any tick going back.
   */
  since(mark: Mark, allowed: readonly number[]): SinceMark;
  /** Each lobby's players: instance, frames, and every socket's close. */
  describe(): Record<string, unknown>;
  stopAll(): void;
}

export function lobbyCrowd(port: () => number, ids: readonly string[]): Crowd {
  const players = new Map<string, FleetPlayer[]>(ids.map((id) => [id, []]));
  const lobbyOf = new Map<FleetPlayer, string>();
  const all = () => [...players.values()].flat();
  const where = (id: string) => {
    const on = new Set((players.get(id) ?? []).map((p) => p.instance()));
    return on.size === 1 ? [...on][0] : undefined;
  };
  return {
    ids,
    join: (id) => {
      const player = fleetPlayer(port(), id);
      players.get(id)?.push(player);
      lobbyOf.set(player, id);
      return player;
    },
    leave: (gone) => {
      for (const player of gone) {
        player.stop();
        const id = lobbyOf.get(player) ?? '';
        players.set(
          id,
          (players.get(id) ?? []).filter((p) => p !== player),
        );
      }
    },
    all,
    where,
    lobbiesOn: (instance) => ids.filter((id) => where(id) === instance),
    together: (since) =>
      all().every((p) => p.instance() !== undefined && p.lastFrameAt() > since) &&
      ids.every((id) => where(id) !== undefined),
    placed: (placement) =>
      ids.every((id) => {
        const on = placement.get(id) ?? [];
        return on.length === 1 && where(id) === on[0];
      }),
    mark: () =>
      new Map(
        all().map((p) => {
          const open = p.client.connections.at(-1)?.closeCode === undefined ? 1 : 0;
          return [
            p,
            {
              connections: p.client.connections.length - open,
              ticks: p.tickWentBack.length,
              gaps: p.gaps.length,
            },
          ];
        }),
      ),
    since: (mark, allowed) => {
      const problems: string[] = [];
      const gaps: SinceMark['gaps'] = [];
      for (const player of all()) {
        const from = mark.get(player) ?? { connections: 0, ticks: 0, gaps: 0 };
        const id = lobbyOf.get(player);
        for (const c of player.client.connections.slice(from.connections)) {
          if (c.closeCode === undefined || allowed.includes(c.closeCode)) continue;
          const what = c.welcomed ? 'closed' : 'refused';
          problems.push(`${id}: ${what} ${c.closeCode} ${c.closeReason}`);
        }
        for (const [before, after] of player.tickWentBack.slice(from.ticks)) {
          problems.push(`${id}: tick went back from ${before} to ${after}`);
        }
        gaps.push(...player.gaps.slice(from.gaps));
      }
      return { problems, gaps };
    },
    describe: () =>
      Object.fromEntries(
        ids.map((id) => [
          id,
          (players.get(id) ?? []).map((p) => [
            p.instance(),
            p.frames(),
            p.client.connections.map((c) => `${c.closeCode}:${c.closeReason}`),
          ]),
        ]),
      ),
    stopAll: () => {
      for (const player of all()) player.stop();
    },
  };
}
