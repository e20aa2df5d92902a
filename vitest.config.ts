import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets and a real tick loop share two cores: keep files from
    // starving each other's timers.
    fileParallelism: false,
    // The browser tests load the client from dist/client: build it once
    // first; and the wasm world kernel, when it is missing or stale.
    globalSetup: ['test/system/global-setup.ts', 'test/support/build-world-kernel.ts'],
  },
});
