/**
 * The import graph of lib/ has no cycle, and no dynamic import anywhere in lib/ or functions/ hides its
 * target from the bundler. A regex over the sources (not the TypeScript resolver): `import ... from`,
 * `export ... from`, `import '...'` and `import('...')`, type-only imports included, so that a cycle made of
 * types alone is refused too (it is still two modules that cannot be understood one without the other).
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const sourcesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });

/** The source without its comments (a comment may quote an import; `//` inside a URL string is kept). */
const withoutComments = (source: string): string => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

const STATIC = /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g;
const BARE = /\bimport\s*['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module specifier a source names. */
function specifiers(source: string): string[] {
  const code = withoutComments(source);
  return [STATIC, BARE, DYNAMIC].flatMap((re) => [...code.matchAll(re)].map((m) => m[1]!));
}

/** The `import(` calls whose argument is not a string literal (the bundler cannot see their target). */
function nonLiteralImports(source: string): string[] {
  return [...withoutComments(source).matchAll(/\bimport\s*\(\s*([^)\s]{0,40})/g)].filter((m) => !/^['"]/.test(m[1]!)).map((m) => m[0]);
}

/** A relative specifier resolved to the .ts file it names (ESM `.js` specifiers name `.ts` sources). */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c));
}

/** The first cycle of a graph (depth-first), as the list of its files with the first repeated at the end. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

const libFiles = sourcesUnder(join(ROOT, 'lib'));
const graph = new Map(
  libFiles.map((file) => [
    file,
    specifiers(readFileSync(file, 'utf8'))
      .map((s) => resolveSpecifier(file, s))
      .filter((target): target is string => !!target && target.startsWith(join(ROOT, 'lib'))),
  ]),
);
const rel = (file: string) => relative(ROOT, file);

describe('the import graph of lib/', () => {
  it('reads the imports of lib/ (the regex finds edges)', () => {
    expect(libFiles.length).toBeGreaterThan(50);
    expect([...graph.values()].reduce((n, edges) => n + edges.length, 0)).toBeGreaterThan(libFiles.length);
  });

  it('has no cycle', () => {
    const cycle = findCycle(graph);
    expect(cycle?.map(rel).join(' -> ') ?? 'no cycle').toBe('no cycle');
  });

  it('the typed cores deploy and releases call (lib/deploy/host-steps.ts and all it imports) reach no lib/wecube module', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const next of graph.get(file) ?? []) visit(next);
    };
    visit(join(ROOT, 'lib', 'deploy', 'host-steps.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect([...seen].map(rel).filter((f) => f.startsWith('lib/wecube/'))).toEqual([]);
  });

  /** Every lib/ file reachable from `start` (itself included). */
  const reach = (start: string): Set<string> => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const next of graph.get(file) ?? []) visit(next);
    };
    visit(start);
    return seen;
  };

  it("the release state machine's tasks (lib/releases/release-tasks.ts and all it imports) reach no lib/wecube module", () => {
    const seen = reach(join(ROOT, 'lib', 'releases', 'release-tasks.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect([...seen].map(rel).filter((f) => f.startsWith('lib/wecube/'))).toEqual([]);
  });

  it('outside lib/wecube, only WeCube adapters (files that define operations) and the HTTP layer (router, server) import it', () => {
    const importers = libFiles.filter((f) => !rel(f).startsWith('lib/wecube/') && (graph.get(f) ?? []).some((t) => rel(t).startsWith('lib/wecube/'))).map(rel);
    expect(importers.length).toBeGreaterThan(10);
    const notAdapters = importers.filter(
      (f) => !f.startsWith('lib/router/') && !f.startsWith('lib/server/') && !/\bdefineOperation\(/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    // field schemas, input validation and the typed cores import lib/input, never lib/wecube
    expect(notAdapters).toEqual([]);
  });

  it.each([...libFiles, ...sourcesUnder(join(ROOT, 'functions'))].map((f) => [rel(f)]))('%s has no non-literal import()', (file) => {
    expect(nonLiteralImports(readFileSync(join(ROOT, file), 'utf8'))).toEqual([]);
  });
});

describe('the import scanner itself', () => {
  it('finds static, type, re-export, bare and dynamic imports, not the ones in comments', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export type { D } from './d.js';",
      "import './e.js';",
      "const f = await import('./f.js');",
      "type G = typeof import('./g.js');",
      "// import { x } from './commented.js';",
      "/* await import('./blocked.js') */",
      "const url = 'http://example/import(x)';",
    ].join('\n');
    expect(specifiers(source).sort()).toEqual(['../b.js', './a.js', './c.js', './d.js', './e.js', './f.js', './g.js']);
  });

  it.each([
    ['const m = await import(name);', ['import(name']],
    ['const m = await import(`./x.js`);', ['import(`./x.js`']],
    ["const m = await import('./x.js');", []],
    ['// await import(name)', []],
  ])('nonLiteralImports(%j)', (source, expected) => {
    expect(nonLiteralImports(source)).toEqual(expected);
  });

  it('finds a cycle and names its files in order', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(findCycle(g)).toEqual(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toBeUndefined();
  });
});
