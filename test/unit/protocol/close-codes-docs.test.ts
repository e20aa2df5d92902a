/**
 * The close-code tables of the docs against protocol/close-codes.ts: every
 * code has a row in docs/PROTOCOL.md ("Close codes") and is named in
 * docs/CLIENT.md's "Resilience" table (what the browser and bots do).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../../protocol/close-codes.js';

const read = (name: string) =>
  readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');

/** The lines of the markdown section that starts with `heading`. */
function section(doc: string, heading: string): string[] {
  const lines = doc.split('\n');
  const start = lines.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i > start && /^#{1,3} /.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

describe('close codes in the docs', () => {
  it('docs/PROTOCOL.md has a row for every close code', () => {
    const rows = section(read('PROTOCOL.md'), '### Close codes');
    for (const [name, code] of Object.entries(CloseCode)) {
      expect(
        rows.some((row) => row.startsWith(`| ${code} |`) || row.startsWith(`| ${code}, `)),
        `${name} (${code})`,
      ).toBe(true);
    }
  });

  it("docs/CLIENT.md's resilience table says what clients do after every close code", () => {
    const rows = section(read('CLIENT.md'), '## Resilience').filter((line) =>
      line.startsWith('| '),
    );
    const table = rows.join('\n');
    for (const [name, code] of Object.entries(CloseCode)) {
      expect(new RegExp(`\\b${code}\\b`).test(table), `${name} (${code})`).toBe(true);
    }
  });
});
