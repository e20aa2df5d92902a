/**
 * lobbies/'s public surface: what src/ and bench/ use of the lobby actor and
 * what it runs on, and nothing more (test/unit/layering.test.ts fails on an
 * import that goes around this file, and on an export here nobody outside
 * lobbies/ uses). Files inside lobbies/ import each other directly, never
 * this file; worker-main.ts stays a worker entry of its own, loaded by path.
 */
export { Watch } from './channels/watch.js';
export type { Clock } from './clock.js';
export type { LobbyHandle, LobbyNotice } from './lobby-handle.js';
export { InlineLobbyHost, type LobbyHost, type ThreadCapacity } from './lobby-host.js';
export { lobbySteerIntervals } from './lobby-world-params.js';
export { FAULT_KINDS, type FaultKind, type LobbyCheckpoint } from './lobby-messages.js';
export type { PriorityRequest, ThreadPriority } from './thread-priority.js';
export { WorkerLobbyHost } from './worker-pool.js';
export { spawnWorker } from './spawn-worker.js';
// The particle world on its own, for bench/sim.ts and bench/world-profile.ts.
export { World } from './world/world.js';
export { type KernelSetting, loadWorldKernel } from './world-kernel-loader.js';
// Splits a world's step across threads (World `partitions`), for bench/sim.ts.
export { spawnPartitionThread } from './world-partitions.js';
