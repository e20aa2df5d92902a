/**
 * How tests and benchmarks start a browser: Debian's Chromium (never a
 * downloaded one), headless, with the flags this closed network needs.
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
