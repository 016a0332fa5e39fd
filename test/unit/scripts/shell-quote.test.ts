import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { shellJoin, shellQuote, shellWords, splitShellWords } from '../../../lib/scripts/shell-quote.js';

/** The words a real /bin/sh makes of a command line (printed NUL-terminated, so newlines survive). */
const shellSplit = (line: string): string[] =>
  execFileSync('/bin/sh', ['-c', `printf '%s\\000' ${line}`], { encoding: 'utf8' })
    .split('\0')
    .slice(0, -1);

const tricky = [
  'plain',
  'two words',
  '',
  "it's",
  '"double"',
  'a;b',
  '$(touch /tmp/should-not-exist)',
  '`id`',
  'new\nline',
  'tab\there',
  '$HOME',
  '*',
  '\\back\\slash',
  'mixed \' " ` $ ; | & < > ( ) { } [ ] ! # ~ %',
  'ünïcödé 中文',
];

describe('shellQuote', () => {
  it.each(tricky)('round-trips %j through a real /bin/sh', (word) => {
    expect(shellSplit(shellQuote(word))).toEqual([word]);
  });

  it('round-trips a whole argv joined into one line', () => {
    expect(shellSplit(shellJoin(tricky))).toEqual(tricky);
  });

  it.each([
    ['abc', 'abc'],
    ['/opt/app/start.sh', '/opt/app/start.sh'],
    ['--port=8080', '--port=8080'],
    ['a b', "'a b'"],
    ["it's", `'it'"'"'s'`],
    ['', "''"],
  ])('quotes %j as %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  it('refuses a NUL byte', () => {
    expect(() => shellQuote('a\0b')).toThrow('NUL');
  });
});

describe('splitShellWords', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    [`one 'two words' three`, ['one', 'two words', 'three']],
    [`"double quoted" x`, ['double quoted', 'x']],
    [`'a;b' "c|d" 'e&f' '$(x)' '\`y\`'`, ['a;b', 'c|d', 'e&f', '$(x)', '`y`']],
    [`it\\'s a\\ b`, ["it's", 'a b']],
    [`"say \\"hi\\"" "back\\\\slash" "keep\\n"`, ['say "hi"', 'back\\slash', 'keep\\n']],
    [`'multi\nline'`, ['multi\nline']],
    [`*.log ~/x #hash`, ['*.log', '~/x', '#hash']],
    [`pre'fix'"post"`, ['prefixpost']],
    [`''`, ['']],
    [`   `, []],
  ])('splits %j into %j', (text, words) => {
    expect(splitShellWords(text, 'args')).toEqual(words);
  });

  it.each([
    ['a;b', "unquoted ';'"],
    ['a && b', "unquoted '&'"],
    ['a | b', "unquoted '|'"],
    ['a > /etc/passwd', "unquoted '>'"],
    ['$(touch /tmp/x)', "unquoted '$'"],
    ['`id`', "unquoted '`'"],
    ['a\nb', 'unquoted newline'],
    ['"$HOME"', "'$' inside double quotes"],
    ['"`id`"', "'`' inside double quotes"],
    ["'open", 'unterminated single quote'],
    ['"open', 'unterminated double quote'],
    ['trailing\\', 'lone backslash'],
    ['a\0b', 'NUL'],
  ])('refuses %j (%s)', (text, why) => {
    expect(() => splitShellWords(text, 'args')).toThrow(`Parameter args validation failed: `);
    expect(shellWords(text)).toContain(why);
  });

  it('gives back what a shell gives for every accepted line', () => {
    const line = `a 'b c' "d'e" f\\ g 'h;i' "j|k"`;
    expect(splitShellWords(line, 'args')).toEqual(shellSplit(line));
  });
});
