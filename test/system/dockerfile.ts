/**
 * The Dockerfile without Docker (there is no daemon here): parses it, and
 * builds its stages in plain directories, one per stage, each standing for
 * that stage's filesystem. COPY copies exactly what Docker would copy (from
 * the build context less .dockerignore, or from an earlier stage), RUN runs
 * in the stage's WORKDIR with its ENV, and the last stage's CMD and
 * HEALTHCHECK are returned for the test to start. A file the build or the
 * server needs that no COPY brings in is missing here as it would be in the
 * image, so the test fails as the real build would.
 *
 * It knows the instructions our Dockerfile uses and throws on any other
 * (ARG, ENTRYPOINT, ADD, wildcards, `!` in .dockerignore...): teach it
 * before using one, so the emulation never silently differs from Docker.
 * What it cannot emulate: the base image itself (the machine's Node runs
 * everything) and the uid (the test runs CMD as an unprivileged user when
 * it can).
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';

export interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

export interface Healthcheck {
  options: Record<string, string>;
  command: string[];
}

export interface Stage {
  name: string | undefined;
  base: string;
  instructions: Instruction[];
}

/** What the last stage leaves for `docker run`. */
export interface Image {
  /** The directory that stands for the image's `/`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  cmd: string[];
  healthcheck: Healthcheck | undefined;
  stopSignal: string | undefined;
  /** Wall time of each RUN, for the test's log. */
  runs: Array<{ command: string; ms: number }>;
}

const KNOWN = new Set([
  'FROM',
  'WORKDIR',
  'COPY',
  'RUN',
  'ENV',
  'USER',
  'EXPOSE',
  'HEALTHCHECK',
  'STOPSIGNAL',
  'CMD',
  'LABEL',
]);

/** Instructions by stage; comments, blank lines and `\` continuations resolved. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  let start = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw.startsWith('#') || (raw === '' && pending === '')) continue;
    if (pending === '') start = i + 1;
    if (raw.endsWith('\\')) {
      pending += `${raw.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + raw).trim();
    pending = '';
    if (whole === '') continue;
    const space = whole.search(/\s/);
    const keyword = (space === -1 ? whole : whole.slice(0, space)).toUpperCase();
    const args = space === -1 ? '' : whole.slice(space).trim();
    if (!KNOWN.has(keyword)) {
      throw new Error(`Dockerfile:${start}: the emulation does not know ${keyword}: teach it`);
    }
    if (keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!match) throw new Error(`Dockerfile:${start}: FROM ${args}: not "image [AS name]"`);
      stages.push({ base: match[1], name: match[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile:${start}: ${keyword} before FROM`);
    stage.instructions.push({ line: start, keyword, args });
  }
  if (pending !== '') throw new Error('Dockerfile: ends inside a continuation');
  return stages;
}

/** A JSON array of strings (exec form), or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`not an exec form: ${args}`);
  }
  return parsed;
}

/** Leading `--name=value` flags of an instruction, and what follows them. */
function flags(args: string): { flags: Record<string, string>; rest: string } {
  const found: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const match = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
    if (!match) return { flags: found, rest };
    found[match[1]] = match[2];
    rest = rest.slice(match[0].length);
  }
}

export function parseCopy(args: string): Copy {
  const { flags: f, rest } = flags(args);
  for (const name of Object.keys(f)) {
    if (name !== 'from' && name !== 'chown' && name !== 'chmod') {
      throw new Error(`COPY --${name}: the emulation does not know it`);
    }
  }
  const parts = execForm(rest) ?? rest.split(/\s+/);
  if (parts.length < 2) throw new Error(`COPY ${args}: needs a source and a destination`);
  if (parts.some((part) => /[*?[]/.test(part))) {
    throw new Error(`COPY ${args}: wildcards are not emulated`);
  }
  return { from: f.from, sources: parts.slice(0, -1), dest: parts.at(-1) as string };
}

/** `K=V K2="v 2"`, or the legacy `K V`. */
export function parseEnv(args: string): Record<string, string> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [key, ...value] = args.split(/\s+/);
    return { [key]: value.join(' ') };
  }
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const value = match[2];
    env[match[1]] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
  }
  return env;
}

export function parseHealthcheck(args: string): Healthcheck | undefined {
  if (args.toUpperCase() === 'NONE') return undefined;
  const { flags: options, rest } = flags(args);
  const match = /^CMD\s+(.*)$/i.exec(rest);
  if (!match) throw new Error(`HEALTHCHECK ${args}: expected CMD`);
  return { options, command: execForm(match[1]) ?? ['/bin/sh', '-c', match[1]] };
}

/** .dockerignore as a predicate on context-relative POSIX paths (a path or any parent). */
export function dockerignore(contextDir: string): (path: string) => boolean {
  const file = join(contextDir, '.dockerignore');
  if (!existsSync(file)) return () => false;
  const patterns = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      if (line.startsWith('!'))
        throw new Error(`.dockerignore ${line}: exceptions are not emulated`);
      const glob = posix.normalize(line.replace(/^\/+/, '')).replace(/\/+$/, '');
      const source = glob
        .split(/(\*\*|\*|\?)/)
        .map((part) =>
          part === '**'
            ? '.*'
            : part === '*'
              ? '[^/]*'
              : part === '?'
                ? '[^/]'
                : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      return new RegExp(`^${source}$`);
    });
  return (path) => {
    const parts = path.split('/');
    for (let n = 1; n <= parts.length; n++) {
      const prefix = parts.slice(0, n).join('/');
      if (patterns.some((pattern) => pattern.test(prefix))) return true;
    }
    return false;
  };
}

export interface BuildOptions {
  /** The build context (the repository). */
  context: string;
  /** An empty directory to build the stages in. */
  workDir: string;
  /** The environment every RUN starts from (the image's own ENV goes on top). */
  env: Record<string, string>;
  /** Called with what is going on (for the test's log). */
  log?: (line: string) => void;
}

/** Builds every stage in order; returns the last. */
export async function buildStages(stages: Stage[], options: BuildOptions): Promise<Image> {
  const ignored = dockerignore(options.context);
  const built = new Map<string, string>();
  const runs: Image['runs'] = [];
  let image: Image | undefined;
  for (const [index, stage] of stages.entries()) {
    const root = join(options.workDir, `stage-${index}${stage.name ? `-${stage.name}` : ''}`);
    mkdirSync(root, { recursive: true });
    if (built.has(stage.base)) {
      throw new Error(`FROM ${stage.base}: a stage as a base is not emulated`);
    }
    const at = (path: string) => join(root, path);
    let workdir = '/';
    const env: Record<string, string> = {};
    image = {
      root,
      workdir,
      env,
      user: undefined,
      cmd: [],
      healthcheck: undefined,
      stopSignal: undefined,
      runs,
    };
    for (const instruction of stage.instructions) {
      const where = `Dockerfile:${instruction.line}`;
      switch (instruction.keyword) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, instruction.args);
          mkdirSync(at(workdir), { recursive: true });
          break;
        case 'ENV':
          Object.assign(env, parseEnv(instruction.args));
          break;
        case 'COPY': {
          const copy = parseCopy(instruction.args);
          const fromRoot = copy.from === undefined ? undefined : built.get(copy.from);
          if (copy.from !== undefined && fromRoot === undefined) {
            throw new Error(`${where}: COPY --from=${copy.from}: no such earlier stage`);
          }
          const dest = posix.resolve(workdir, copy.dest);
          const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
          for (const source of copy.sources) {
            copyOne({
              from: fromRoot ?? options.context,
              source: fromRoot ? posix.resolve('/', source) : posix.normalize(source),
              to: at(dest),
              intoDir,
              ignored: fromRoot ? () => false : ignored,
              where,
            });
          }
          break;
        }
        case 'RUN': {
          const argv = execForm(instruction.args) ?? ['/bin/sh', '-c', instruction.args];
          options.log?.(`RUN ${instruction.args}`);
          const began = Date.now();
          await run(argv, at(workdir), { ...options.env, ...env }, where);
          runs.push({ command: instruction.args, ms: Date.now() - began });
          break;
        }
        case 'USER':
          image.user = instruction.args;
          break;
        case 'CMD': {
          const cmd = execForm(instruction.args);
          if (!cmd) throw new Error(`${where}: CMD in shell form: node would not be PID 1`);
          image.cmd = cmd;
          break;
        }
        case 'HEALTHCHECK':
          image.healthcheck = parseHealthcheck(instruction.args);
          break;
        case 'STOPSIGNAL':
          image.stopSignal = instruction.args;
          break;
        default:
          // EXPOSE, LABEL: metadata, nothing to build.
          break;
      }
    }
    image.workdir = workdir;
    if (stage.name) built.set(stage.name, root);
    built.set(String(index), root);
  }
  if (!image) throw new Error('Dockerfile: no FROM');
  return image;
}

function copyOne(copy: {
  from: string;
  source: string;
  to: string;
  intoDir: boolean;
  ignored: (path: string) => boolean;
  where: string;
}): void {
  const relativeSource = copy.source.replace(/^\/+/, '');
  if (relativeSource.startsWith('..')) {
    throw new Error(`${copy.where}: COPY ${copy.source}: outside the context`);
  }
  const path = join(copy.from, relativeSource);
  // Docker reports an ignored or absent source the same way: not found.
  if (copy.ignored(relativeSource) || !existsSync(path)) {
    throw new Error(`${copy.where}: COPY ${copy.source}: not found (or in .dockerignore)`);
  }
  const options = {
    recursive: true,
    verbatimSymlinks: true,
    filter: (file: string) => !copy.ignored(relative(copy.from, file).split('\\').join('/')),
  };
  if (statSync(path).isDirectory()) {
    // A directory's contents go into the destination, never the directory itself.
    mkdirSync(copy.to, { recursive: true });
    cpSync(path, copy.to, options);
    return;
  }
  const target = copy.intoDir ? join(copy.to, basename(path)) : copy.to;
  mkdirSync(dirname(target), { recursive: true });
  cpSync(path, target, options);
}

function run(argv: string[], cwd: string, env: Record<string, string>, where: string) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new Error(`${where}: RUN ${argv.join(' ')} failed (${code ?? signal}):\n${output}`));
    });
  });
}
