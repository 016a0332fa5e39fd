/**
 * The README and docs/ kept true to the tree: the README stays a newcomer's page (small, with the two
 * commands), every relative link and `#anchor` in README.md and docs/**\/*.md lands on a file and a heading
 * that exist, and the release diagram names exactly the states of state-machines/release.asl.json.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = join(ROOT, 'README.md');
const RELEASES_DOC = join(ROOT, 'docs', 'operations', 'releases.md');
const ASL = join(ROOT, 'state-machines', 'release.asl.json');

// ---- markdown helpers (GitHub's rendering rules, as far as links and headings need them) ----

/** The text outside fenced code blocks and HTML comments, line numbers kept (blanked lines stay). */
function prose(markdown: string): string {
  let fence: string | undefined;
  const lines = markdown.replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, '')).split('\n');
  return lines
    .map((line) => {
      const open = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
      if (fence) {
        if (open && open[1]![0] === fence[0] && open[1]!.length >= fence.length && line.trim() === open[1]) fence = undefined;
        return '';
      }
      if (open) {
        fence = open[1];
        return '';
      }
      return line;
    })
    .join('\n');
}

/** GitHub's heading anchor: lower case, punctuation dropped (but `-` and `_`), spaces to `-`. */
function slug(heading: string): string {
  const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a markdown file has, with GitHub's `-1`, `-2` suffixes for repeated headings. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of prose(markdown).split('\n')) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The `[text](target)` links of a markdown text, outside code (fenced blocks and inline spans). */
function linksOf(markdown: string): string[] {
  const text = prose(markdown).replace(/(`+)[\s\S]*?\1/g, '');
  return [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

/** What is wrong with the relative links of one file: a missing file, or an anchor with no heading. */
function linkProblems(file: string, markdown: string, read: (path: string) => string | undefined): string[] {
  const problems: string[] = [];
  for (const link of linksOf(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto: are not ours to check
    const [pathPart, anchor] = link.split('#', 2) as [string, string | undefined];
    const target = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    const where = `${relative(ROOT, file)}: (${link})`;
    const content = pathPart === '' ? markdown : read(target);
    if (content === undefined) {
      problems.push(`${where} points to a missing file`);
      continue;
    }
    if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(content).has(anchor.toLowerCase())) {
      problems.push(`${where} names no heading of ${relative(ROOT, target)}`);
    }
  }
  return problems;
}

const readIfExists = (path: string): string | undefined => {
  if (!existsSync(path)) return undefined;
  return statSync(path).isDirectory() ? '' : readFileSync(path, 'utf8');
};

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** The lines of a `## <title>` section (up to the next `## `). */
function section(markdown: string, title: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${title}`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

// ---- the release diagram against the ASL ----

interface AslState {
  Type: string;
  Error?: string;
  Choices?: Array<Record<string, unknown>>;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[] }>;
  ItemProcessor?: AslMachine;
  Iterator?: AslMachine;
  Branches?: AslMachine[];
}
interface AslMachine {
  States: Record<string, AslState>;
}

/** The words of an ASL definition a diagram may use: state names, and the vocabulary around them. */
function aslWords(machine: AslMachine) {
  const states = new Set<string>();
  const vocabulary = new Set<string>(); // state types (Map, Fail...), the errors Fail states raise or Retry/Catch name
  const compared = new Set<string>(); // the values Choice states compare with (SUCCEEDED, ROLLED_BACK...)
  const walk = (m: AslMachine) => {
    for (const [name, state] of Object.entries(m.States)) {
      states.add(name);
      vocabulary.add(state.Type);
      if (state.Error) vocabulary.add(state.Error);
      for (const r of [...(state.Retry ?? []), ...(state.Catch ?? [])]) r.ErrorEquals.forEach((e) => vocabulary.add(e));
      for (const choice of state.Choices ?? []) if (typeof choice['StringEquals'] === 'string') compared.add(choice['StringEquals']);
      for (const inner of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (inner) walk(inner);
    }
  };
  walk(machine);
  return { states, vocabulary, compared };
}

/** The code block right after the `<!-- release-diagram` marker of the releases page. */
function releaseDiagram(markdown: string): string | undefined {
  const marker = markdown.indexOf('<!-- release-diagram');
  if (marker < 0) return undefined;
  const block = /^```[^\n]*\n([\s\S]*?)^```$/m.exec(markdown.slice(marker));
  return block?.[1];
}

/**
 * What the diagram says that the ASL does not: a capitalised word (`EnsureUser`) that is neither a state nor
 * a type or error of the ASL, an upper-case word (`ROLLED_BACK`) no Choice compares with, and every state
 * the diagram leaves out. A renamed state therefore shows twice: its old name unknown, its new one missing.
 */
function diagramProblems(diagram: string, machine: AslMachine): string[] {
  const { states, vocabulary, compared } = aslWords(machine);
  const words = new Set(diagram.match(/\b[A-Z][a-z][A-Za-z]*\b/g) ?? []);
  const constants = new Set(diagram.match(/\b[A-Z][A-Z_]{3,}\b/g) ?? []);
  return [
    ...[...words].filter((w) => !states.has(w) && !vocabulary.has(w)).map((w) => `${w} is not a state of the ASL`),
    ...[...constants].filter((c) => !compared.has(c)).map((c) => `${c} is no value a Choice of the ASL compares with`),
    ...[...states].filter((s) => !words.has(s)).map((s) => `state ${s} is missing from the diagram`),
  ];
}

// ---- the tests ----

describe('README.md', () => {
  const readme = readFileSync(README, 'utf8');

  it('is a newcomer page: under 20,000 bytes', () => {
    expect(statSync(README).size).toBeLessThan(20_000);
  });

  it('gives exactly the two commands, npm start and npm test, in "The two commands"', () => {
    const lines = section(readme, 'The two commands');
    const commands = lines.filter((l) => /^npm /.test(l)).map((l) => l.replace(/#.*$/, '').trim());
    expect(commands).toEqual(['npm start', 'npm test']);
  });

  it.each(['The two commands', 'API', 'Configuration', 'Architecture', 'Deploying', 'Security model'])('keeps its "## %s" section', (title) => {
    expect(section(readme, title).join('\n').trim()).not.toBe('');
  });

  it('links every operation group of the API table to its page under docs/operations/', () => {
    const pages = readdirSync(join(ROOT, 'docs', 'operations')).filter((f) => f.endsWith('.md'));
    const api = section(readme, 'API').join('\n');
    for (const page of pages) expect(api).toContain(`](docs/operations/${page})`);
  });
});

describe('relative links of README.md and docs/**/*.md', () => {
  const files = [README, ...markdownFiles(join(ROOT, 'docs'))];

  it('covers the docs pages and finds their links', () => {
    expect(files.length).toBeGreaterThan(5);
    expect(linksOf(readFileSync(README, 'utf8'))).toEqual(
      expect.arrayContaining(['#security-model', 'docs/operations/releases.md', 'docs/load.md#benchmarks']),
    );
    expect(linksOf(readFileSync(join(ROOT, 'docs', 'operations', 'hosts.md'), 'utf8'))).toContain('../security.md');
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('%s: every link lands on an existing file and heading', (_name, file) => {
    expect(linkProblems(file, readFileSync(file, 'utf8'), readIfExists)).toEqual([]);
  });

  it.each([
    ['a missing file', '[x](no-such-file.md)', /missing file/],
    ['a missing heading of another file', '[x](b.md#nope)', /names no heading of/],
    ['a missing heading of the same file', '# Top\n\n[x](#not-top)', /names no heading of/],
  ])('reports %s', (_what, markdown, problem) => {
    const file = join(ROOT, 'docs', 'a.md');
    const read = (path: string) => (path === join(ROOT, 'docs', 'b.md') ? '# Some: `heading` (here)\n' : undefined);
    expect(linkProblems(file, markdown, read)).toEqual([expect.stringMatching(problem)]);
  });

  it.each([
    ['Releases: `release` (the state machine)', 'releases-release-the-state-machine'],
    ['Files, users, disks: `host-file`, `host-user`, `disk`', 'files-users-disks-host-file-host-user-disk'],
    ['The local stack and what stands in for AWS', 'the-local-stack-and-what-stands-in-for-aws'],
    ['snake_case and A-B', 'snake_case-and-a-b'],
  ])('slugs %j as GitHub does: %s', (heading, anchor) => {
    expect(slug(heading)).toBe(anchor);
  });

  it('accepts a link to a repeated heading with its -1 suffix, and links inside code are not links', () => {
    const file = join(ROOT, 'docs', 'a.md');
    expect(linkProblems(file, '# Same\n## Same\n[x](#same-1) `[y](gone.md)`\n```\n[z](gone.md)\n```\n', () => undefined)).toEqual([]);
  });
});

describe('the release diagram (docs/operations/releases.md)', () => {
  const machine = JSON.parse(readFileSync(ASL, 'utf8')) as AslMachine;
  const diagram = releaseDiagram(readFileSync(RELEASES_DOC, 'utf8'));

  it('is found after its marker', () => {
    expect(diagram).toContain('Prepare');
  });

  it('names every state of release.asl.json and nothing that is not one', () => {
    expect(diagramProblems(diagram!, machine)).toEqual([]);
  });

  it('fails for a state renamed in the ASL (old name unknown, new name missing)', () => {
    const renamed = JSON.parse(JSON.stringify(machine).replaceAll('"Commit"', '"CommitHost"')) as AslMachine;
    expect(diagramProblems(diagram!, renamed)).toEqual(
      expect.arrayContaining(['Commit is not a state of the ASL', 'state CommitHost is missing from the diagram']),
    );
  });

  it('fails for a status the Outcome choice no longer compares with', () => {
    const changed = JSON.parse(JSON.stringify(machine).replaceAll('"ROLLED_BACK"', '"REVERTED"')) as AslMachine;
    expect(diagramProblems(diagram!, changed)).toContain('ROLLED_BACK is no value a Choice of the ASL compares with');
  });
});
