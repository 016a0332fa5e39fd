import { run } from '../../../scripts/stack/proc.js';

describe('stack run()', () => {
  // CI on a fresh machine died of an unhandled EPIPE: ssh-keygen exited before run() closed its stdin.
  it('survives a program that exits without reading its input', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await run('true', [], { input: 'x'.repeat(1 << 20) });
      expect(r.code).toBe(0);
    }
  });

  it('survives a program that exits at once when given no input', async () => {
    for (let i = 0; i < 50; i++) expect((await run('true', [])).code).toBe(0);
  });

  it('reports a missing program as a failed run, not a crash', async () => {
    const r = await run('/nonexistent/stack-test-program', [], { input: 'x' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it('still hands its input to a program that reads it', async () => {
    const r = await run('cat', [], { input: 'hello\n' });
    expect(r).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
  });
});
