/**
 * Every production start of the server passes SERVER_NODE_FLAGS, the same
 * ones: `npm start`, the image's CMD and the commands docs/DEPLOY.md gives
 * (its plain command and its systemd unit). One that drifts would run the
 * server with another memory profile than the one measured.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../../src/node-flags.js';
import { execForm, parseDockerfile } from '../../system/dockerfile.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');
const START = ['node', ...SERVER_NODE_FLAGS, 'dist/src/main.js'];

describe('the server node flags', () => {
  it('are what npm start runs', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe(`exec ${START.join(' ')}`);
  });

  it("are what the image's CMD runs", () => {
    const stages = parseDockerfile(read('Dockerfile'));
    const cmd = stages
      .at(-1)
      ?.instructions.filter((i) => i.keyword === 'CMD')
      .at(-1);
    expect(execForm(cmd?.args ?? '')).toEqual(START);
  });

  it('are in every command docs/DEPLOY.md gives to start node on the server', () => {
    const commands = read('docs/DEPLOY.md')
      .split('\n')
      .filter((line) => /\bnode\b.*dist\/src\/main\.js/.test(line) && !line.includes('CMD ['));
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const line of commands) {
      for (const flag of SERVER_NODE_FLAGS) expect(line, line).toContain(flag);
    }
  });
});
