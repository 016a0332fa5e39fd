import { describe, expect, it } from '@jest/globals';
import { clearPaths, parseAppUser, parseInstallDir, scriptPaths, signFilePath } from '../../../lib/deploy/deploy-plan.js';
import { InputError } from '../../../lib/errors.js';

const dir = parseInstallDir('/data/app');

/** The InputError message a call throws (fails the test if it does not throw one). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('parseAppUser', () => {
  it.each([
    ['app', { user: 'app', group: 'app' }],
    ['app:web', { user: 'app', group: 'web' }],
    [' app:web ', { user: 'app', group: 'web' }],
    ['app:', { user: 'app', group: 'app' }],
    ['_svc.x-1', { user: '_svc.x-1', group: '_svc.x-1' }],
  ])('%j is %j (a bare user is its own group, as upstream)', (text, expected) => {
    expect(parseAppUser(text)).toEqual(expected);
  });

  it.each([['a:b:c'], ['app;id'], ['1app'], ['$(id)'], [':web'], ['app:we b']])('refuses %j naming userName', (text) => {
    expect(refusal(() => parseAppUser(text))).toMatch(/^Parameter userName validation failed: /);
  });
});

describe('parseInstallDir', () => {
  it('normalises, keeps a trailing-/ form for upstream joins, and puts the snapshot next to the directory', () => {
    expect(parseInstallDir('/data/app')).toEqual({ given: '/data/app/', path: '/data/app', snapshot: '/data/app.saltstack-previous' });
    expect(parseInstallDir(' /data//./app/ ')).toEqual({ given: '/data/app/', path: '/data/app', snapshot: '/data/app.saltstack-previous' });
    expect(parseInstallDir('/tmp/my app').path).toBe('/tmp/my app');
  });

  it.each([
    ['/', 'is too close to /'],
    ['/srv', 'is too close to /'],
    ['/srv/', 'is too close to /'],
    ['//srv/./', 'is too close to /'],
    ['data/app', 'must be an absolute path'],
    ['', 'must be an absolute path'],
    ['/data/../etc', 'must not contain ..'],
    ['/data/app/..', 'must not contain ..'],
    ['/data/app\n/x', 'contains a control character'],
    ['/data/app;touch /tmp/x', 'may only contain letters, digits, spaces'],
    ['/data/$(touch /tmp/x)', 'may only contain letters, digits, spaces'],
    ['/data/`id`', 'may only contain letters, digits, spaces'],
    ["/data/it's", 'may only contain letters, digits, spaces'],
    ['/data/a,b', 'must not contain , or |'],
  ])('refuses %j (%s)', (path, why) => {
    const message = refusal(() => parseInstallDir(path));
    expect(message).toMatch(/^Parameter destinationPath validation failed: /);
    expect(message).toContain(why);
  });

  it('names the field it was given', () => {
    expect(refusal(() => parseInstallDir('/srv', 'dest'))).toMatch(/^Parameter dest validation failed/);
  });
});

describe('scriptPaths (upstream §16.4 step 2)', () => {
  it.each([
    ['bin/start.sh', '/data/app/bin/start.sh'],
    ['/bin/start.sh', '/data/app/bin/start.sh'],
    ['start.sh', '/data/app/start.sh'],
    // a `,` / `|` list: each piece prefixed, one leading / dropped, re-joined with ,
    ['bin/a.sh,/bin/b.sh|c.sh', '/data/app/bin/a.sh,/data/app/bin/b.sh,/data/app/c.sh'],
    [' bin/a.sh , bin/b.sh ', '/data/app/bin/a.sh,/data/app/bin/b.sh'],
    // already prefixed with destinationPath: taken as it is
    ['/data/app/bin/start.sh', '/data/app/bin/start.sh'],
    ['/data/app/bin/a.sh,/data/app/bin/b.sh', '/data/app/bin/a.sh,/data/app/bin/b.sh'],
    ['/data/app/bin/./x.sh', '/data/app/bin/x.sh'],
    // not prefixed with destinationPath + "/": relative to it, as upstream did with a trailing-/ destination
    ['/data/appx/start.sh', '/data/app/data/appx/start.sh'],
    ['//x.sh', '/data/app/x.sh'],
  ])('%j -> %j', (script, expected) => {
    expect(scriptPaths(script, dir, 'startScript')).toBe(expected);
  });

  it('keeps arguments after the path, shell-quoted, never evaluated', () => {
    expect(scriptPaths("bin/start.sh --port 8080 'a b'", dir, 'startScript')).toBe("/data/app/bin/start.sh --port 8080 'a b'");
    expect(scriptPaths("bin/start.sh '$(id)'", dir, 'startScript')).toBe("/data/app/bin/start.sh '$(id)'");
  });

  it('quotes an install directory with a space so that the path stays one word', () => {
    const spaced = parseInstallDir('/tmp/my app');
    expect(scriptPaths('bin/start.sh', spaced, 'startScript')).toBe("'/tmp/my app/bin/start.sh'");
    expect(scriptPaths('/tmp/my app/bin/start.sh x', spaced, 'startScript')).toBe("'/tmp/my app/bin/start.sh' x");
  });

  it.each([
    ['', 'Parameter startScript can not empty.'],
    [' , |', 'Parameter startScript can not empty.'],
    ['../x.sh', 'must not contain ..'],
    ['bin/../../etc/x.sh', 'must not contain ..'],
    ['/data/app/../etc/x.sh', 'must not contain ..'],
    ['/data/app/bin/a.sh,/etc/init.d/x', 'is not a script inside /data/app'],
    ['bin/', 'is not a script inside /data/app'],
    ['bin/start.sh; touch /tmp/x', "unquoted ';' would be interpreted by a shell"],
    ['bin/start.sh $(touch /tmp/x)', "unquoted '$' would be interpreted by a shell"],
    ['bin/start.sh `id`', "unquoted '`' would be interpreted by a shell"],
    ["bin/'unterminated", 'unterminated single quote'],
    ["'bin/x;y.sh'", 'may only contain letters, digits, spaces'],
  ])('refuses %j: %s', (script, why) => {
    const message = refusal(() => scriptPaths(script, dir, 'startScript'));
    expect(message).toContain(why);
    expect(message).toMatch(/^Parameter startScript /);
  });

  it('reports the field it is given (update: startScriptPath / stopScriptPath)', () => {
    expect(refusal(() => scriptPaths('../x', dir, 'stopScriptPath'))).toMatch(/^Parameter stopScriptPath validation failed: /);
  });
});

describe('clearPaths', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['logs/', ['logs/']],
    ['cache', ['cache']],
    ['logs/,cache|tmp/x.pid', ['logs/', 'cache', 'tmp/x.pid']],
    ['/logs/', ['logs/']],
    ['/data/app/cache', ['cache']],
    ['a//b/./c/', ['a/b/c/']],
    ['logs//', ['logs/']],
    // characters a shell would act on are plain name characters here: the paths reach bash as argv
    ['odd;$(touch x)`id`"q\'s', ['odd;$(touch x)`id`"q\'s']],
  ])('%j -> %j (relative to the install directory; a trailing / empties and keeps a directory)', (text, expected) => {
    expect(clearPaths(text, dir)).toEqual(expected);
  });

  it.each([
    ['../other', 'must not contain ..'],
    ['logs/../../etc', 'must not contain ..'],
    ['/data/app/../etc', 'must not contain ..'],
    ['/', 'names the install directory itself'],
    ['/data/app/', 'names the install directory itself'],
    ['.', 'names the install directory itself'],
    ['a\nb', 'contains a control character'],
  ])('refuses %j: %s', (text, why) => {
    const message = refusal(() => clearPaths(text, dir));
    expect(message).toMatch(/^Parameter clearPath validation failed: /);
    expect(message).toContain(why);
  });
});

describe('signFilePath (upstream §16.4 step 6)', () => {
  it.each([
    ['sign/app.sig', '/data/app/sign/app.sig'],
    ['app.sig', '/data/app/app.sig'],
    ['/etc/app/app.sig', '/etc/app/app.sig'],
    ['/data/x//y.sig', '/data/x/y.sig'],
  ])('%j -> %j (relative to the install directory, or absolute)', (dst, expected) => {
    expect(signFilePath(dst, dir)).toBe(expected);
  });

  it.each([['/app.sig'], ['//app.sig'], ['/./app.sig']])('refuses %j with upstream text (its directory is /)', (dst) => {
    expect(refusal(() => signFilePath(dst, dir))).toBe(`SignFileDst:${dst} illegal`);
  });

  it('refuses .. naming the field', () => {
    expect(refusal(() => signFilePath('../x.sig', dir))).toBe('Parameter signFileDst validation failed: must not contain ..');
  });
});
