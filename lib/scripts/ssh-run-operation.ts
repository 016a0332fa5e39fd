import { z } from 'zod';
import { normaliseFingerprint } from '../ssh/host-key-policy.js';
import { EMPTY, looseString } from '../input/fields.js';
import { defineOperation, eachOutcome } from '../wecube/operation.js';
import { portField } from '../input/server-fields.js';
import { planRefinement, scriptFields, scriptOutput, stepsOf } from './host-script-run-operation.js';
import { runSshScripts, type SshRunDeps } from './ssh-run.js';

const output = scriptOutput.extend({
  hostKeyFingerprint: z.string().optional().describe('SHA256 fingerprint of the host key the server presented'),
  hostKeyStatus: z
    .enum(['pinned', 'known', 'recorded'])
    .optional()
    .describe('pinned: matched hostKeyFingerprint; known: matched the recorded key; recorded: first connection, the key was recorded now'),
});

/** host-script/ssh-run: the WeCube adapter of runSshScripts, whose schema plans each item's scripts. */
export const hostScriptSshRun = (deps: SshRunDeps) => {
  const input = z
    .object({
      ...scriptFields('ssh-run'),
      port: portField(22),
      password: looseString(),
      privateKey: looseString(),
      seed: looseString(),
      hostKeyFingerprint: looseString().transform((v, ctx) => {
        if (!v?.trim()) return undefined;
        const fp = normaliseFingerprint(v);
        if (!fp) ctx.addIssue({ code: 'custom', message: 'must be an OpenSSH SHA256 fingerprint (SHA256:<43 base64 characters>)' });
        return fp;
      }),
    })
    .superRefine((item, ctx) => {
      if (!item.password && !item.privateKey) ctx.addIssue({ code: 'custom', path: ['password'], message: EMPTY });
      planRefinement(item, ctx);
    });

  return defineOperation({
    plugin: 'host-script',
    action: 'ssh-run',
    summary: 'Run scripts over SSH on hosts without a minion (password or key; S3/inline scripts sent over SFTP; host key pinned or recorded on first use)',
    input,
    output,
    run: eachOutcome(async (item, ctx) => {
      const timeoutS = item.timeout ?? deps.settings.timeoutS; // the setting's default, read per call
      const steps = stepsOf(item);
      return runSshScripts(
        deps,
        {
          host: item.target,
          port: item.port,
          runAs: item.runAs.user,
          steps,
          timeoutS,
          guid: item.guid,
          seed: item.seed,
          password: item.password,
          privateKey: item.privateKey,
          hostKeyFingerprint: item.hostKeyFingerprint,
        },
        ctx,
      );
    }),
  });
};
