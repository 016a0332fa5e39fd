import { describe, expect, it } from '@jest/globals';
import { classifyScriptResult } from '../../../lib/scripts/classify-script-result.js';
import { normaliseHostReturn } from '../../../lib/salt/normalise-result.js';

const host = '10.0.0.1';
const classify = (value: unknown, timeoutS = 30) => classifyScriptResult(normaliseHostReturn(host, value), '/opt/x.sh', 'app', timeoutS);
const cmd = (retcode: number, stdout: string, stderr = '') => ({ ret: { pid: 1, retcode, stdout, stderr }, retcode, jid: 'j' });

describe('classifyScriptResult', () => {
  it('returns stdout then stderr and exit code 0 on success', () => {
    expect(classify(cmd(0, 'out', 'err'))).toEqual({ ok: true, retCode: 0, output: 'out\nerr' });
  });

  it('keeps a non-zero exit code and says which script on which host', () => {
    const r = classify(cmd(3, 'partial', 'boom'));
    expect(r).toMatchObject({ ok: false, retCode: 3, output: 'partial\nboom' });
    expect(r.error).toMatchObject({ name: 'JobFailedError', message: 'Script run retCode=3 on target 10.0.0.1 (/opt/x.sh): partial boom' });
  });

  it('reports a kill by the timeout kwarg as 124 without salt’s command echo', () => {
    const r = classify({ ret: { pid: 1, retcode: 1, stdout: "['/tmp/__salt.tmp.x.sh'] : Timed out after 2 seconds", stderr: '' }, retcode: 0 }, 2);
    expect(r).toMatchObject({ ok: false, retCode: 124, output: 'killed after its 2 s timeout (salt keeps no output of a killed command)' });
  });

  it('turns cmd.script’s silent {} (exec failure) into a failure, not a success', () => {
    expect(classify({ ret: {}, retcode: 0 })).toMatchObject({ ok: false, retCode: 126 });
  });

  it.each([
    ['Passed invalid arguments to cmd.script: uid should be integer, not str\n\n    Download a script...', 'user app not exist'],
    ["ERROR: User 'app' is not available", 'user app not exist'],
    ["ERROR: Specified cwd '/nope' either not absolute or does not exist", 'workDir /nope does not exist'],
    [
      'The minion function caused an exception: Traceback...\nsalt.exceptions.MinionError: Error: HTTP 404: Not Found reading /b/x.sh',
      'the host could not download the script (HTTP 404 Not Found)',
    ],
    [
      `ERROR: Unable to run command '['/x']' with the context '{'env': {'SECRET': 'leak'}}', reason: [Errno 13] Permission denied: '/x'`,
      "[Errno 13] Permission denied: '/x'",
    ],
  ])('explains the salt error %j without the noise', (text, why) => {
    const r = classify({ ret: text, retcode: 1 });
    expect(r.ok).toBe(false);
    expect(r.output).toBe(why);
    expect(r.error!.message).toBe(`Script /opt/x.sh failed on target 10.0.0.1: ${why}`);
    expect(r.error!.message).not.toContain('leak');
  });

  it('is NO_RETURN (TargetNoReturnError) for a minion that did not answer', () => {
    const r = classify(false);
    expect(r.error).toMatchObject({ name: 'TargetNoReturnError' });
    expect(r.error!.message).toMatch(/^Cannot connect to target 10\.0\.0\.1\./);
  });

  it('never passes VALUE_TRIMMED off as output', () => {
    expect(classify(cmd(0, 'VALUE_TRIMMED'))).toMatchObject({ ok: true, retCode: 0, output: expect.stringContaining('max_event_size') });
    expect(classify(cmd(2, 'VALUE_TRIMMED'))).toMatchObject({ ok: false, retCode: 2 });
  });
});
