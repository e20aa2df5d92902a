import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HTTP_ERRORS } from '../../../src/http-errors.js';

describe('docs/PROTOCOL.md', () => {
  const doc = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');

  it('lists every HTTP error code with its status', () => {
    for (const [code, { status }] of Object.entries(HTTP_ERRORS)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, code).toBeDefined();
      expect(row, code).toContain(`| ${status} |`);
    }
  });
});
