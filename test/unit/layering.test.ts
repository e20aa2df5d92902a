/**
 * The layering of docs/ARCHITECTURE.md as a check: every import and
 * export-from specifier (static, dynamic, type-only) of every .ts file in the
 * repository, resolved to a file or a package, against what its folder may
 * import. A failure lists each offending import as `file:line -> specifier`,
 * with the rule it breaks. The second check keeps each public surface
 * (protocol/index.ts, lobbies/index.ts, client/index.ts) down to what other
 * folders import from it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LATEST = ts.ScriptTarget.Latest;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'test-results', '.git']);

/** Public surfaces: other folders import protocol/, lobbies/ and client/ only here. */
const PROTOCOL = 'protocol/index.ts';
const LOBBIES = 'lobbies/index.ts';
const CLIENT = 'client/index.ts';
/** src/'s entry points for benchmarks and scripts: start a server, its settings, and
 * the one quantile estimate /status and the benchmarks share. */
const SRC_ENTRY_POINTS = [
  'src/app.ts',
  'src/config.ts',
  'src/histogram-quantile.ts',
  // bench:checkpoint times the fleet's checkpoint encoding as the server does it.
  'src/fleet/checkpoint-codec.ts',
  // The benchmarks start the compiled server with the flags production uses.
  'src/node-flags.ts',
];
/** Packages lobbies/ never imports: it knows nothing of HTTP, sockets or metrics. */
const SERVER_PACKAGES = /^(fastify|@fastify\/.*|ws|prom-client)$/;

interface Import {
  /** The importing file, relative to the root. */
  file: string;
  line: number;
  specifier: string;
  /** The file it resolves to (relative to the root, `.ts`), or null for a package. */
  target: string | null;
}

interface Rule {
  /** What the folder may import, in words (shown with each offence). */
  says: string;
  allows(from: Import): boolean;
}

const folderOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '');
const inside = (target: string, folder: string) => target.startsWith(`${folder}/`);
/** Inside its own folder, but never through its own index (that would make cycles). */
const own = (imp: Import) => {
  const folder = folderOf(imp.file);
  return imp.target !== null && inside(imp.target, folder) && imp.target !== `${folder}/index.ts`;
};

const RULES: Record<string, Rule> = {
  protocol: {
    says: 'protocol/ imports only protocol/ and msgpackr (it runs in Node, workers and browsers)',
    allows: (imp) => (imp.target === null ? imp.specifier === 'msgpackr' : own(imp)),
  },
  lobbies: {
    says: `lobbies/ imports only lobbies/ and ${PROTOCOL}, never fastify, ws or prom-client`,
    allows: (imp) =>
      imp.target === null
        ? !SERVER_PACKAGES.test(imp.specifier)
        : own(imp) || imp.target === PROTOCOL,
  },
  src: {
    says: `src/ imports src/, ${PROTOCOL} and ${LOBBIES}`,
    allows: (imp) =>
      imp.target === null || own(imp) || imp.target === PROTOCOL || imp.target === LOBBIES,
  },
  client: {
    says: `client/ imports only client/ and ${PROTOCOL}`,
    allows: (imp) => imp.target === null || own(imp) || imp.target === PROTOCOL,
  },
  bench: {
    says:
      `bench/ imports bench/, ${PROTOCOL}, ${LOBBIES}, ${CLIENT} and src/'s entry points ` +
      `(${SRC_ENTRY_POINTS.join(', ')}); not client/src/ or test/ (bench/fuzz*.ts: test/fuzz/ only)`,
    allows: (imp) =>
      imp.target === null ||
      own(imp) ||
      [PROTOCOL, LOBBIES, CLIENT, ...SRC_ENTRY_POINTS].includes(imp.target) ||
      // `npm run fuzz` is a long run of test/fuzz's property against server
      // processes: one property, kept with its test, so these two reach it.
      (/^bench\/fuzz(-server)?\.ts$/.test(imp.file) && inside(imp.target, 'test/fuzz')),
  },
  scripts: {
    says: `scripts/ imports scripts/, ${CLIENT} and src/'s entry points`,
    allows: (imp) =>
      imp.target === null || own(imp) || [CLIENT, ...SRC_ENTRY_POINTS].includes(imp.target),
  },
  test: { says: 'test/ may import anything', allows: () => true },
  // Root files (vitest.config.ts).
  '': { says: 'root files may import anything', allows: () => true },
};

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, LATEST);
  // Static imports, export-from, import type, dynamic import() and require().
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles.map(({ fileName: specifier, pos }) => ({
    file,
    line: source.getLineAndCharacterOfPosition(pos).line + 1,
    specifier,
    target: specifier.startsWith('.')
      ? relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts')
      : null,
  }));
}

const FILES = tsFiles('');
const IMPORTS = FILES.flatMap(importsOf);

describe('layering (docs/ARCHITECTURE.md)', () => {
  it('every folder with TypeScript has a rule', () => {
    const unruled = [...new Set(FILES.map(folderOf))].filter((folder) => !(folder in RULES));
    expect(unruled, 'folders without a layering rule').toEqual([]);
  });

  it('no import goes against the direction', () => {
    expect(IMPORTS.length).toBeGreaterThan(100);
    const offences = IMPORTS.filter((imp) => RULES[folderOf(imp.file)]?.allows(imp) === false).map(
      (imp) => `${imp.file}:${imp.line} -> ${imp.specifier}  (${RULES[folderOf(imp.file)].says})`,
    );
    expect(offences, 'imports against the layering').toEqual([]);
  });

  it('each public surface exports only what other folders (not test/) import from it', () => {
    const unused: string[] = [];
    for (const surface of [PROTOCOL, LOBBIES, CLIENT]) {
      const imported = new Set<string>();
      for (const file of FILES) {
        if (folderOf(file) === 'test' || folderOf(file) === folderOf(surface)) continue;
        const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), LATEST);
        for (const node of source.statements) {
          if (!ts.isImportDeclaration(node) || !ts.isStringLiteral(node.moduleSpecifier)) continue;
          const target = relative(ROOT, resolve(ROOT, dirname(file), node.moduleSpecifier.text));
          if (target.replace(/\.js$/, '.ts') !== surface) continue;
          const bindings = node.importClause?.namedBindings;
          if (bindings && ts.isNamedImports(bindings)) {
            for (const e of bindings.elements) imported.add((e.propertyName ?? e.name).text);
          }
        }
      }
      const source = ts.createSourceFile(
        surface,
        readFileSync(join(ROOT, surface), 'utf8'),
        LATEST,
      );
      for (const node of source.statements) {
        if (!ts.isExportDeclaration(node) || !node.exportClause) continue;
        if (!ts.isNamedExports(node.exportClause)) continue;
        for (const e of node.exportClause.elements) {
          if (!imported.has(e.name.text)) unused.push(`${surface}: ${e.name.text}`);
        }
      }
    }
    expect(unused, 'exports no other folder imports').toEqual([]);
  });
});
