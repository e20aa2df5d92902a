/**
 * client/'s public surface for Node-side code (bench/, scripts/): building
 * the bundle, and the shape of the read-only `window.__swarmhost` snapshot
 * the running page exposes. Nothing here runs in the browser; bench/ and
 * scripts/ never import client/src/ directly (test/unit/layering.test.ts).
 */
export { buildClient, CLIENT_OUT_DIR, watchClient } from './build.js';
export type { DebugSnapshot } from './src/debug.js';
