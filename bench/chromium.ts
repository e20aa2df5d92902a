/**
 * How benchmarks and tests start a browser: Debian's Chromium (never a
 * downloaded one), headless, with the flags this closed network needs.
 * It lives in bench/ because bench/ may not import test support, while
 * test/ may import anything (docs/ARCHITECTURE.md, layering).
 */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
