import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../../src/config.js';

describe('docs/CONFIG.md', () => {
  const doc = readFileSync(new URL('../../../docs/CONFIG.md', import.meta.url), 'utf8');

  it('lists every setting with its default', () => {
    for (const setting of Object.values(SETTINGS)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${setting.env}\` |`));
      expect(row, setting.env).toBeDefined();
      const documented = (setting as { defaultDoc?: string }).defaultDoc;
      const shown = documented
        ? documented
        : Array.isArray(setting.default)
          ? setting.default.length === 0
            ? '(empty)'
            : setting.default.join(',')
          : setting.default === ''
            ? '(empty)'
            : String(setting.default);
      expect(row, setting.env).toContain(`\`${shown}\``);
    }
  });
});
