import { execFileSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../lib/errors.js';
import { globToRegex, MAX_GLOB_ALTERNATIVES } from '../../../lib/files/glob-regex.js';

/**
 * Runs Python (what salt's file.find uses on the minion: `re.compile(regex).match(basename)`) on JSON
 * requests; no network. A regex that backtracks without end is cut by the timeout and fails the test.
 */
const PYTHON = String.raw`
import fnmatch, json, re, sys, time
req = json.load(sys.stdin)
if req["kind"] == "match":
    print(json.dumps([bool(re.compile(rx).match(name)) for rx, name in req["cases"]]))
elif req["kind"] == "fnmatch":
    print(json.dumps([any(fnmatch.fnmatchcase(name, g) for g in globs) for globs, name in req["cases"]]))
else:
    def best(rx, name):
        c = re.compile(rx)
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(20):
                c.match(name)
            runs.append(time.perf_counter() - t)
        return min(runs)
    print(json.dumps([best(rx, name) for rx, name in req["cases"]]))
`;
const python = <T>(request: unknown): T =>
  JSON.parse(execFileSync('python3', ['-c', PYTHON], { input: JSON.stringify(request), timeout: 60_000, encoding: 'utf8' })) as T;

describe('globToRegex', () => {
  it.each([
    ['*.log', '(?s).*\\.log\\Z'],
    ['app-?.txt', '(?s)app\\-.\\.txt\\Z'],
    ['[a-c]x', '(?s)[a-c]x\\Z'],
    ['[!0-9]*', '(?s)[^0-9].*\\Z'],
    ['{a,b}.conf', '(?s)(?:a\\.conf|b\\.conf)\\Z'],
    ['$(touch x)', '(?s)\\$\\(touch\\ x\\)\\Z'],
    ['é*', '(?s)é.*\\Z'],
    ['a*b*c', '(?s)a(?=(?P<g0>.*?b))(?P=g0).*c\\Z'],
    ['**x***y*', '(?s)(?=(?P<g0>.*?x))(?P=g0)(?=(?P<g1>.*?y))(?P=g1).*\\Z'],
  ])('turns %j into %j', (glob, regex) => {
    expect(globToRegex(glob)).toBe(regex);
  });

  // Globs fnmatch reads the same way (not `[^...]`, which fnmatch takes as a class holding `^`).
  const names = [
    'app.log',
    'app.log.1',
    'applog',
    'a+b.txt',
    'aab.txt',
    'x',
    'x|y',
    '$(id).sh',
    '[',
    '{a,b',
    'ba',
    'ab',
    'web-1.jar',
    'db-1.jar',
    'a\nb.log',
    'abcabc',
    'aXbYc',
    'acb',
    '',
    '.hidden',
    'a*b',
    'a?b',
    'a\\b',
    'é.log',
    'x.tar.gz',
  ];
  const globs = [
    '*.log',
    '*',
    '?',
    '??',
    'a+b.txt',
    'x|y',
    '$(id)*',
    '[',
    '[!a]?',
    '*a*b*c',
    'a*b*c',
    '*b*',
    'a?b',
    'a[*]b',
    'a[?]b',
    'a\\b',
    '*.tar.*',
    '[a-c]*',
    '[!a-c]*',
    '*[.]log',
    '.*',
    '*.*.*',
    'é*',
    '***',
    'a**b**c',
  ];
  it('matches exactly the names Python fnmatch matches, for every glob x name of a table', () => {
    const cases = globs.flatMap((glob) => names.map((name) => [glob, name] as const));
    const ours = python<boolean[]>({ kind: 'match', cases: cases.map(([glob, name]) => [globToRegex(glob), name]) });
    const theirs = python<boolean[]>({ kind: 'fnmatch', cases: cases.map(([glob, name]) => [[glob], name]) });
    const differ = cases.filter((_, i) => ours[i] !== theirs[i]);
    expect(differ).toEqual([]);
    expect(theirs.filter(Boolean).length).toBeGreaterThan(40); // the table is not trivially all-false
  });

  it.each([
    ['{app,web}-*.jar', ['app-*.jar', 'web-*.jar']],
    ['*{a,abcd}c*d', ['*ac*d', '*abcdc*d']],
    ['{x,y}{1,2}.log', ['x1.log', 'x2.log', 'y1.log', 'y2.log']],
    ['{a,b', ['{a,b']],
    ['[{]x}', ['[{]x}']],
    ['{*,?}', ['[*]', '[?]']],
  ])('reads the braces of %j as the patterns %j', (glob, expansion) => {
    const cases = names.concat(['abcdcd', 'zabcdcxd', 'x2.log', 'y1.log', 'app-1.jar', '{x}', '*', '?']).map((name) => [glob, name] as const);
    const ours = python<boolean[]>({ kind: 'match', cases: cases.map(([g, name]) => [globToRegex(g), name]) });
    const theirs = python<boolean[]>({ kind: 'fnmatch', cases: cases.map(([, name]) => [expansion, name]) });
    expect(cases.filter((_, i) => ours[i] !== theirs[i])).toEqual([]);
  });

  it(`refuses braces that expand to more than ${MAX_GLOB_ALTERNATIVES} patterns, naming the field`, () => {
    expect(() => globToRegex('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}.log')).toThrow(InputError);
    expect(() => globToRegex('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}.log')).toThrow(
      `Parameter filePattern validation failed: its {a,b} alternatives make more than ${MAX_GLOB_ALTERNATIVES} patterns`,
    );
    expect(() => globToRegex('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}.log')).not.toThrow();
  });

  it('matches a pathological glob in about the time of a benign one (Python re, as a ratio)', () => {
    // `.*a.*a.*a.*a.*a.*a.*a.*b` on 3,000 `a`s would backtrack for hours; the lookahead form scans each part once.
    const name = 'a'.repeat(3000);
    const [benign, ...hard] = python<number[]>({
      kind: 'time',
      cases: [
        ['*.log', name],
        ['*a*a*a*a*a*a*a*b', name],
        ['*?*?*?*?*?*?*?*b', name],
        ['*[ab]*[ab]*[ab]*[ab]*[ab]*c', name],
        ['{*a*a*a*b,*a*a*a*c}', name],
      ].map(([glob, n]) => [globToRegex(glob!), n]),
    });
    for (const t of hard) expect(t / benign!).toBeLessThan(50);
  });
});
