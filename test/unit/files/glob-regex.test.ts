import { describe, expect, it } from '@jest/globals';
import { globToRegex } from '../../../lib/files/glob-regex.js';

/** JavaScript's RegExp reads these patterns the way Python's re does (no flags, ASCII escapes only). */
const matches = (glob: string, name: string) => new RegExp(`^${globToRegex(glob).replace(/\\Z$/, '$')}`).test(name);

describe('globToRegex', () => {
  it.each([
    ['*.log', '.*\\.log\\Z'],
    ['app-?.txt', 'app\\-.\\.txt\\Z'],
    ['[a-c]x', '[a-c]x\\Z'],
    ['[!0-9]*', '[^0-9].*\\Z'],
    ['{a,b}.conf', '(?:a|b)\\.conf\\Z'],
    ['$(touch x)', '\\$\\(touch\\ x\\)\\Z'],
    ['é*', 'é.*\\Z'],
  ])('turns %j into %j', (glob, regex) => {
    expect(globToRegex(glob)).toBe(regex);
  });

  it.each([
    ['*.log', 'app.log', true],
    ['*.log', 'app.log.1', false],
    ['*.log', 'applog', false],
    ['a+b.txt', 'a+b.txt', true],
    ['a+b.txt', 'aab.txt', false],
    ['x|y', 'x', false],
    ['x|y', 'x|y', true],
    ['$(id)*', '$(id).sh', true],
    ['[', '[', true],
    ['{a,b', '{a,b', true],
    ['[!a]?', 'ba', true],
    ['[!a]?', 'ab', false],
    ['{app,web}-*.jar', 'web-1.jar', true],
    ['{app,web}-*.jar', 'db-1.jar', false],
  ])('%j matches %j: %s', (glob, name, expected) => {
    expect(matches(glob, name)).toBe(expected);
  });
});
