import { describe, expect, it } from '@jest/globals';
import { checkSudo, runStep, type AgentSession } from '../../../lib/agent/agent-session.js';
import { AgentInstallError } from '../../../lib/errors.js';
import type { ExecResult, SshSession } from '../../../lib/ssh/ssh-session.js';

/** A session whose commands give `result`; records each command line and what went to its stdin. */
function fakeAgent(user: string, result: Partial<ExecResult>, sudoInput: string | undefined = 'pw\n') {
  const calls: Array<{ command: string; stdin: string | undefined; timeoutMs: number }> = [];
  const session = {
    target: { host: '10.0.0.7', port: 22, username: user },
    exec: async (command: string, options: { timeoutMs: number; stdin?: string }) => {
      calls.push({ command, stdin: options.stdin, timeoutMs: options.timeoutMs });
      return { code: 0, signal: undefined, stdout: '', stderr: '', timedOut: false, ...result };
    },
  } as unknown as SshSession;
  const agent: AgentSession = { session, hostKeyFingerprint: undefined, hostKeyStatus: undefined, sudoInput };
  return { agent, calls };
}

describe('runStep', () => {
  it('sends the sudo password on stdin of privileged commands only, with the step timeout', async () => {
    const { agent, calls } = fakeAgent('ops', {});
    await runStep(agent, 'install', 'sudo -S true', { timeoutS: 7, privileged: true });
    await runStep(agent, 'command', 'echo hi', { timeoutS: 7, privileged: false });
    expect(calls).toEqual([
      { command: 'sudo -S true', stdin: 'pw\n', timeoutMs: 7000 },
      { command: 'echo hi', stdin: undefined, timeoutMs: 7000 },
    ]);
  });

  it.each([
    [{ timedOut: true, code: null, stdout: 'agent-step: wait-key\n' }, 'wait-key', 'Step wait-key on 10.0.0.7 timed out after 5 s'],
    [
      { code: 1, stdout: 'agent-step: start\n', stderr: 'agent-fail: salt-minion -c /etc/salt -d failed\n' },
      'start',
      'Step start on 10.0.0.7 failed (exit 1): salt-minion -c /etc/salt -d failed',
    ],
    [{ code: 2, stderr: 'boom' }, 'install', 'Step install on 10.0.0.7 failed (exit 2): boom'],
  ])('names the step reached and the host (%#)', async (result, step, message) => {
    const { agent } = fakeAgent('root', result);
    const error = await runStep(agent, 'install', 'x', { timeoutS: 5, privileged: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentInstallError);
    expect(error).toMatchObject({ step, host: '10.0.0.7', message });
  });
});

describe('checkSudo', () => {
  it('is a no-op as root', async () => {
    const { agent, calls } = fakeAgent('root', { code: 1 });
    await checkSudo(agent, 5);
    expect(calls).toEqual([]);
  });

  it('names the user, the host and sudo’s own words when sudo refuses', async () => {
    const { agent, calls } = fakeAgent('ops', { code: 1, stderr: 'ops is not in the sudoers file.\n' });
    await expect(checkSudo(agent, 5)).rejects.toThrow('sudo was refused for ops on 10.0.0.7: ops is not in the sudoers file.');
    expect(calls[0]).toMatchObject({ command: "sudo -S -p '' -- true", stdin: 'pw\n' });
  });
});
